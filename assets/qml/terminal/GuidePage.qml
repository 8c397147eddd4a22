import QtQuick
import "../components"

// Service guide: pinyin initials keyboard and categories on the left, results on the right;
// an item in full (materials, steps, time limits, fees, window, FAQ) with a print button.
Item {
    id: page
    required property Item term
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    readonly property var flow: term.vm.guide
    readonly property bool detail: flow.item && flow.item.item !== undefined

    // search
    Item {
        anchors.fill: parent
        visible: !page.detail
        Column {
            id: left
            anchors { left: parent.left; top: parent.top; bottom: parent.bottom }
            width: parent.width * 0.57  // ten keys a row at least 60 px (15 mm) wide
            spacing: theme.gap
            Rectangle {
                objectName: "guide_query"
                width: parent.width
                height: theme.touch
                radius: theme.radius * 0.6
                color: theme.surface
                border.color: theme.primary
                border.width: theme.border + 1
                // the hint wraps (and shrinks if it must) rather than cutting off the example it exists to show
                Text {
                    textFormat: Text.PlainText
                    objectName: "guide_query_text"
                    anchors { fill: parent; leftMargin: theme.gap; rightMargin: theme.gap; topMargin: 4; bottomMargin: 4 }
                    text: page.flow.query !== "" ? page.flow.query + "▏" : page.s.guide_search_hint
                    font.pixelSize: page.flow.query !== "" ? theme.title : theme.body
                    fontSizeMode: Text.Fit
                    minimumPixelSize: theme.small
                    wrapMode: Text.WordWrap
                    verticalAlignment: Text.AlignVCenter
                    color: page.flow.query !== "" ? theme.text : theme.muted
                }
            }
            Keypad {
                objectName: "guide_keypad"
                theme: page.theme
                keyWidth: Math.min(theme.touch, (left.width - spacing * 9) / 10)  // ten widths a row (the last: 7 + two 1.5)
                prefix: "gkey_"
                rows: [["Q","W","E","R","T","Y","U","I","O","P"], ["A","S","D","F","G","H","J","K","L"], ["Z","X","C","V","B","N","M","back","clear"]]
                backText: "⌫"
                clearText: page.s.clear
                onKey: (name) => page.term.vm.guideKey(name)
            }
            // the categories scroll sideways (twelve do not fit): a button at the row's end says so and
            // scrolls on ("›"), and back to the start ("‹") once the last one is in view
            Item {
                width: parent.width
                height: theme.touch * 0.8
                ListView {
                    id: cats
                    objectName: "guide_categories"
                    anchors { left: parent.left; top: parent.top; bottom: parent.bottom; right: catsMore.left; rightMargin: theme.gap * 0.6 }
                    orientation: ListView.Horizontal
                    spacing: theme.gap * 0.6
                    clip: true
                    boundsBehavior: Flickable.StopAtBounds
                    model: [""].concat(page.flow.categories)
                    delegate: Rectangle {
                        objectName: "category_" + modelData
                        height: theme.touch * 0.8
                        width: Math.max(catText.implicitWidth + theme.pad, Math.round(theme.touch * 2 / 3))  // "All": still 15 mm
                        radius: height / 2
                        color: page.flow.category === modelData ? theme.primary : theme.surface
                        border.color: theme.line
                        border.width: theme.border
                        Text {
                            textFormat: Text.PlainText
                            id: catText
                            anchors.centerIn: parent
                            text: modelData === "" ? page.s.guide_all : modelData
                            font.pixelSize: theme.body
                            color: page.flow.category === modelData ? "white" : theme.text
                        }
                        MouseArea { anchors.fill: parent; onClicked: page.term.vm.guideCategory(modelData) }
                    }
                }
                Rectangle {
                    id: catsMore
                    readonly property Flickable target: cats
                    readonly property bool overflow: cats.contentWidth > cats.width + 1
                    objectName: overflow && !cats.atXEnd ? "scroll_hint_right" : "scroll_back"
                    anchors { right: parent.right; top: parent.top; bottom: parent.bottom }
                    width: Math.round(theme.touch * 2 / 3)  // at least 15 mm: a touch target like any other
                    visible: overflow
                    radius: height / 2
                    color: theme.primary
                    Text {
                        textFormat: Text.PlainText
                        anchors.centerIn: parent
                        text: cats.atXEnd ? "‹" : "›"
                        font.pixelSize: theme.title
                        font.bold: true
                        color: theme.primaryText
                    }
                    MouseArea {
                        anchors.fill: parent
                        onClicked: cats.contentX = cats.atXEnd ? 0 : Math.min(cats.contentX + cats.width * 0.8, cats.contentWidth - cats.width)
                    }
                }
            }
        }
        Item {
            anchors { left: left.right; leftMargin: theme.pad; right: parent.right; top: parent.top; bottom: parent.bottom }
            Text {
                textFormat: Text.PlainText
                id: count
                objectName: "guide_count"
                text: page.flow.loading ? page.s.loading : page.s.guide_results.arg(page.flow.items.length)
                font.pixelSize: theme.body
                color: theme.muted
            }
            MessageBand {
                id: guideError
                theme: page.theme
                anchors { top: count.bottom; topMargin: theme.gap; left: parent.left; right: parent.right }
                text: page.term.tr(page.flow.error)
            }
            ListView {
                id: results
                objectName: "guide_results"
                anchors { top: guideError.visible ? guideError.bottom : count.bottom; topMargin: theme.gap; left: parent.left; right: parent.right; bottom: resultsHint.top }
                clip: true
                spacing: theme.gap * 0.6
                boundsBehavior: Flickable.StopAtBounds
                model: page.flow.items
                delegate: Rectangle {
                    objectName: "guide_item_" + modelData.item
                    width: ListView.view.width
                    height: Math.max(theme.touch, itemCol.implicitHeight + theme.gap)
                    radius: theme.radius * 0.6
                    color: itemArea.pressed ? "#dbe7f6" : theme.surface
                    border.color: theme.line
                    border.width: theme.border
                    Column {
                        id: itemCol
                        anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
                        Text { textFormat: Text.PlainText; width: parent.width; text: modelData.name; font.pixelSize: theme.large; font.bold: true; color: theme.text; wrapMode: Text.WordWrap }
                        Text {
                            textFormat: Text.PlainText
                            width: parent.width
                            text: modelData.department + (modelData.oneTrip ? "  ·  " + page.s.guide_one_trip : "")
                            font.pixelSize: theme.small
                            color: theme.muted
                            elide: Text.ElideRight
                        }
                    }
                    MouseArea { id: itemArea; anchors.fill: parent; onClicked: page.term.vm.guideOpen(modelData.item) }
                }
            }
            ScrollHint { id: resultsHint; target: results; theme: page.theme; text: page.s.scroll_more }
        }
    }

    // one item in full: the name and the print button on one line at the top, everything else
    // below in one scrolling page (conditions first) that says when it goes on below the fold
    Item {
        anchors.fill: parent
        visible: page.detail
        readonly property var it: page.flow.item || ({})
        BigButton {
            id: printButton
            objectName: "guide_print"
            anchors { right: parent.right; top: parent.top }
            theme: page.theme
            primary: true
            text: page.s.print_notice_button
            onClicked: page.term.vm.guidePrint()
        }
        Column {
            id: detailHead
            anchors { left: parent.left; right: printButton.left; rightMargin: theme.gap; top: parent.top }
            Text { textFormat: Text.PlainText; objectName: "guide_title"; width: parent.width; text: parent.parent.it.name || ""; font.pixelSize: theme.title; font.bold: true; color: theme.text; wrapMode: Text.WordWrap }
            Text {
                textFormat: Text.PlainText
                width: parent.width
                text: (parent.parent.it.department || "") + (parent.parent.it.oneTrip ? "   ·   " + page.s.guide_one_trip : "")
                font.pixelSize: theme.body; color: theme.primary; wrapMode: Text.WordWrap
            }
        }
        MessageBand {
            id: printNote
            objectName: "guide_print_note"
            theme: page.theme
            anchors { left: parent.left; right: parent.right; top: headBottom.bottom; topMargin: theme.gap }
            error: false
            text: page.term.tr(page.flow.printNote)
        }
        Item {
            id: headBottom
            anchors.top: detailHead.height > printButton.height ? detailHead.bottom : printButton.bottom
            width: 1
            height: 0
        }
        Flickable {
            id: flick
            anchors { left: parent.left; right: parent.right; top: printNote.visible ? printNote.bottom : headBottom.bottom; topMargin: theme.gap; bottom: flickHint.top }
            contentHeight: detailCol.implicitHeight
            clip: true
            boundsBehavior: Flickable.StopAtBounds
            Column {
                id: detailCol
                width: flick.width
                spacing: theme.gap
                readonly property var it: page.flow.item || ({})
                GuideSection { objectName: "guide_conditions"; theme: page.theme; title: page.s.guide_conditions; lines: detailCol.it.conditions || []; visible: lines.length > 0 }
                GuideSection { objectName: "guide_materials"; theme: page.theme; title: page.s.guide_materials; visible: (detailCol.it.materials || []).length > 0
                    lines: (detailCol.it.materials || []).map(function (m, i) {
                        var counts = []
                        if (m.originals) counts.push(page.s.guide_originals.arg(m.originals))
                        if (m.copies) counts.push(page.s.guide_copies.arg(m.copies))
                        return (i + 1) + ". " + m.name + (counts.length ? page.s.guide_counts.arg(counts.join(page.s.list_sep)) : "") + (m.note ? " — " + m.note : "")
                    }) }
                GuideSection { theme: page.theme; title: page.s.guide_steps; visible: lines.length > 0
                    lines: (detailCol.it.steps || []).map(function (st, i) { return (i + 1) + ". " + st }) }
                GuideSection { theme: page.theme; title: page.s.guide_time
                    lines: [ (detailCol.it.promisedDays === 0 ? page.s.guide_immediate : (detailCol.it.promisedDays > 0 ? page.s.guide_promised.arg(detailCol.it.promisedDays) : "—"))
                             + (detailCol.it.legalDays > 0 ? page.s.list_sep + page.s.guide_legal.arg(detailCol.it.legalDays) : "") ] }
                GuideSection { theme: page.theme; title: page.s.guide_fees; lines: [detailCol.it.fees || "—"] }
                GuideSection { theme: page.theme; title: page.s.guide_window; lines: [detailCol.it.window || "—"] }
                GuideSection { theme: page.theme; title: page.s.guide_faq; visible: lines.length > 0
                    lines: (detailCol.it.faq || []).map(function (f) { return page.s.guide_q.arg(f.q) + "\n" + page.s.guide_a.arg(f.a) }) }
                GuideSection { theme: page.theme; title: page.s.guide_mistakes; lines: detailCol.it.mistakes || []; visible: lines.length > 0 }
            }
        }
        ScrollHint { id: flickHint; target: flick; theme: page.theme; text: page.s.scroll_more }
    }
}
