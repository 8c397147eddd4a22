import QtQuick
import "../components"

// Case status: by ID card, receipt QR or case number + last 6 of the ID number; then the cases.
Item {
    id: page
    required property Item term
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    readonly property var flow: term.vm.cases

    // 1. how to look it up (the card and the QR work by themselves on this screen)
    Column {
        anchors.fill: parent
        visible: page.flow.step === "method"
        spacing: theme.pad
        Text { textFormat: Text.PlainText; text: page.s.cases_method_title; font.pixelSize: theme.title; font.bold: true; color: theme.text }
        MessageBand { objectName: "cases_error"; theme: page.theme; width: parent.width; text: page.term.tr(page.flow.error) }
        Row {
            spacing: theme.pad
            Repeater {
                model: [
                    { key: "card", title: "cases_by_card", body: "cases_by_card_body", glyph: "证" },
                    { key: "qr", title: "cases_by_qr", body: "cases_by_qr_body", glyph: "码" },
                    { key: "number", title: "cases_by_number", body: "cases_by_number_body", glyph: "号" }
                ]
                Rectangle {
                    objectName: "case_method_" + modelData.key
                    width: (page.width - theme.pad * 2) / 3
                    height: Math.min(page.height * 0.62, width * 1.0)
                    radius: theme.radius
                    color: modelData.key === "number" ? theme.primary : theme.surface
                    border.color: theme.line
                    border.width: theme.border
                    Column {
                        anchors.centerIn: parent
                        width: parent.width - theme.pad * 2
                        spacing: theme.gap
                        Text {
                            textFormat: Text.PlainText
                            anchors.horizontalCenter: parent.horizontalCenter
                            text: modelData.glyph
                            font.pixelSize: theme.huge * 0.6
                            font.bold: true
                            color: modelData.key === "number" ? "white" : theme.primary
                        }
                        Text {
                            textFormat: Text.PlainText
                            width: parent.width
                            text: page.s[modelData.title]
                            font.pixelSize: theme.title
                            font.bold: true
                            color: modelData.key === "number" ? "white" : theme.text
                            horizontalAlignment: Text.AlignHCenter
                            wrapMode: Text.WordWrap
                        }
                        Text {
                            textFormat: Text.PlainText
                            width: parent.width
                            text: page.s[modelData.body]
                            font.pixelSize: theme.body
                            color: modelData.key === "number" ? "#eef3fb" : theme.muted
                            horizontalAlignment: Text.AlignHCenter
                            wrapMode: Text.WordWrap
                        }
                    }
                    MouseArea {
                        anchors.fill: parent
                        enabled: modelData.key === "number"
                        onClicked: page.term.vm.caseKeypad()
                    }
                }
            }
        }
    }

    // 2. typing
    CaseEntry {
        anchors.fill: parent
        visible: page.flow.step === "keypad"
        term: page.term
        flow: page.flow
        submitText: page.s.cases_search
        onFocusField: (name) => page.term.vm.caseField(name)
        onKey: (name) => page.term.vm.caseKey(name)
        onSubmit: page.term.vm.caseSubmit()
    }

    Text {
        textFormat: Text.PlainText
        anchors.centerIn: parent
        visible: page.flow.step === "loading"
        text: page.s.loading
        font.pixelSize: theme.title
        color: theme.muted
    }

    // 3. the cases
    Item {
        anchors.fill: parent
        visible: page.flow.step === "list"
        Text {
            textFormat: Text.PlainText
            id: listTitle
            objectName: "cases_count"
            text: page.s.cases_list_title.arg(page.flow.items.length)
            font.pixelSize: theme.title
            font.bold: true
            color: theme.text
        }
        MessageBand {
            id: listError
            theme: page.theme
            anchors { top: listTitle.bottom; topMargin: theme.gap; left: parent.left; right: parent.right }
            text: page.term.tr(page.flow.error)
        }
        ListView {
            id: casesList
            objectName: "cases_list"
            anchors { top: listError.visible ? listError.bottom : listTitle.bottom; topMargin: theme.gap; left: parent.left; right: parent.right; bottom: casesHint.top }
            clip: true
            spacing: theme.gap
            model: page.flow.items
            boundsBehavior: Flickable.StopAtBounds
            delegate: Item {
                width: ListView.view.width
                height: caseCard.height
                CaseCard { id: caseCard; term: page.term; c: modelData; width: parent.width }
            }
        }
        ScrollHint { id: casesHint; target: casesList; theme: page.theme; text: page.s.scroll_more }
    }
}
