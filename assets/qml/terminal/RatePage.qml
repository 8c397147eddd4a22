import QtQuick
import "../components"

// Rate a finished matter (一事一评): find the case, five levels (none pre-selected), reasons for a bad one, thanks.
Item {
    id: page
    required property Item term
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    readonly property var flow: term.vm.rate

    Item {
        anchors.fill: parent
        visible: page.flow.step === "case"
        Text { textFormat: Text.PlainText; id: caseTitle; text: page.s.rate_case_title; font.pixelSize: theme.title; font.bold: true; color: theme.text }
        Text { textFormat: Text.PlainText; id: caseBody; anchors.top: caseTitle.bottom; text: page.s.rate_case_body; font.pixelSize: theme.body; color: theme.muted }
        CaseEntry {
            anchors { top: caseBody.bottom; topMargin: theme.pad; left: parent.left; right: parent.right; bottom: parent.bottom }
            term: page.term
            flow: page.flow
            submitText: page.s.rate_find
            onFocusField: (name) => page.term.vm.rateField(name)
            onKey: (name) => page.term.vm.rateKey(name)
            onSubmit: page.term.vm.rateSubmitCase()
        }
    }

    // Only finished cases are offered, one compact row each (no timeline), so all fit above the fold;
    // the ones still being handled are named with why they cannot be rated yet.
    Item {
        anchors.fill: parent
        visible: page.flow.step === "pick"
        Text { textFormat: Text.PlainText; id: pickTitle; width: parent.width; text: page.s.rate_pick_title; font.pixelSize: theme.title; font.bold: true; color: theme.text; wrapMode: Text.WordWrap }
        MessageBand {
            id: notYet
            objectName: "rate_not_yet"
            theme: page.theme
            anchors { top: pickTitle.bottom; topMargin: theme.gap; left: parent.left; right: parent.right }
            error: false
            text: page.term.tr(page.flow.notYet)
        }
        ListView {
            id: pickList
            objectName: "rate_pick_list"
            anchors { top: notYet.visible ? notYet.bottom : pickTitle.bottom; topMargin: theme.gap; left: parent.left; right: parent.right; bottom: pickHint.top }
            clip: true
            spacing: theme.gap
            boundsBehavior: Flickable.StopAtBounds
            model: page.flow.cases
            delegate: Rectangle {
                objectName: "rate_pick_" + modelData.caseNo
                width: ListView.view.width
                height: Math.max(theme.touch * 1.2, pickCol.implicitHeight + theme.gap * 1.5)
                radius: theme.radius
                color: pickArea.pressed ? "#dbe7f6" : theme.surface
                border.color: theme.line
                border.width: theme.border
                Column {
                    id: pickCol
                    anchors { left: parent.left; right: pickGo.left; verticalCenter: parent.verticalCenter; leftMargin: theme.pad; rightMargin: theme.gap }
                    spacing: 4
                    Text { textFormat: Text.PlainText; width: parent.width; text: modelData.item; font.pixelSize: theme.large; font.bold: true; color: theme.text; wrapMode: Text.WordWrap }
                    Text {
                        textFormat: Text.PlainText
                        width: parent.width
                        text: page.s.cases_case_no + " " + modelData.caseNo + "    " + page.term.tr(modelData.statusText)
                              + (modelData.finishedAt ? "    " + page.s.rate_pick_finished.arg(modelData.finishedAt) : "")
                        font.pixelSize: theme.body
                        color: theme.muted
                        wrapMode: Text.WordWrap
                    }
                }
                Text {
                    textFormat: Text.PlainText
                    id: pickGo
                    anchors { right: parent.right; rightMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    text: page.s.rate_pick_go
                    font.pixelSize: theme.large
                    font.bold: true
                    color: theme.primary
                }
                MouseArea { id: pickArea; anchors.fill: parent; onClicked: page.term.vm.ratePick(modelData.caseNo) }
            }
        }
        ScrollHint { id: pickHint; target: pickList; theme: page.theme; text: page.s.scroll_more }
    }

    Column {
        anchors.centerIn: parent
        width: parent.width
        visible: page.flow.step === "level"
        spacing: theme.pad
        Text { textFormat: Text.PlainText; width: parent.width; text: page.s.rate_level_title; font.pixelSize: theme.title; font.bold: true; color: theme.text; horizontalAlignment: Text.AlignHCenter }
        Text { textFormat: Text.PlainText; width: parent.width; text: (page.flow.chosen.item || "") + "  " + (page.flow.chosen.caseNo || ""); font.pixelSize: theme.large; color: theme.muted; horizontalAlignment: Text.AlignHCenter }
        Grid {
            anchors.horizontalCenter: parent.horizontalCenter
            columns: 5  // one row in large print too: a second row made every card shorter
            spacing: theme.gap
            Repeater {
                model: page.flow.levels
                Rectangle {
                    objectName: "rate_level_" + modelData.level
                    width: Math.min(theme.touch * 3, (page.width - theme.gap * 4) / 5)
                    height: Math.min(theme.touch * (theme.elderly ? 2.5 : 2.2), page.height - theme.title * 4 - theme.gap)
                    radius: theme.radius
                    color: levelArea.pressed ? "#dbe7f6" : theme.surface
                    border.color: theme.line
                    border.width: theme.border
                    Column {
                        anchors.centerIn: parent
                        spacing: theme.gap * 0.5
                        RatingFace { anchors.horizontalCenter: parent.horizontalCenter; level: modelData.level; width: theme.large * 2.2; height: width }
                        Text { textFormat: Text.PlainText; anchors.horizontalCenter: parent.horizontalCenter; text: page.term.tr(modelData.text); font.pixelSize: theme.large; font.bold: true; color: theme.text }
                    }
                    MouseArea { id: levelArea; anchors.fill: parent; onClicked: page.term.vm.rateLevel(modelData.level) }
                }
            }
        }
    }

    Item {
        anchors.fill: parent
        visible: page.flow.step === "reasons"
        Text {
            textFormat: Text.PlainText
            id: reasonsTitle
            anchors { left: parent.left; right: sendButton.left; rightMargin: theme.gap; verticalCenter: sendButton.verticalCenter }
            text: page.s.rate_reasons_title
            font.pixelSize: theme.title
            font.bold: true
            color: theme.text
            wrapMode: Text.WordWrap
        }
        BigButton {
            id: sendButton
            objectName: "rate_send"
            anchors { right: parent.right; top: parent.top }
            theme: page.theme
            primary: true
            width: theme.touch * 3
            height: theme.touch  // one line of text: as high in large print, leaving the reasons their height
            text: page.s.rate_send
            onClicked: page.term.vm.rateSend()
        }
        MessageBand {
            id: reasonsError
            theme: page.theme
            anchors { left: parent.left; right: parent.right; top: sendButton.bottom; topMargin: theme.gap }
            text: page.term.tr(page.flow.error)
        }
        Grid {
            id: reasonsGrid
            objectName: "rate_reasons_grid"
            anchors { left: parent.left; right: parent.right; top: reasonsError.visible ? reasonsError.bottom : sendButton.bottom; topMargin: theme.gap; bottom: commentBox.top; bottomMargin: theme.gap }
            columns: 4  // large print too: a third row of 3 ran under the comment box; a long reason wraps instead
            spacing: theme.gap
            readonly property int rowsN: Math.ceil(page.flow.reasonList.length / columns)
            Repeater {
                model: page.flow.reasonList
                Rectangle {
                    readonly property bool on: page.flow.reasons.indexOf(modelData.code) >= 0
                    objectName: "rate_reason_" + modelData.code
                    width: (reasonsGrid.width - reasonsGrid.spacing * (reasonsGrid.columns - 1)) / reasonsGrid.columns
                    height: Math.max(theme.touch, Math.min(theme.touch * 1.4, (reasonsGrid.height - reasonsGrid.spacing * (reasonsGrid.rowsN - 1)) / reasonsGrid.rowsN))
                    radius: theme.radius
                    color: on ? theme.primary : theme.surface
                    border.color: theme.line
                    border.width: theme.border
                    Text {
                        textFormat: Text.PlainText
                        anchors.centerIn: parent
                        width: parent.width - theme.gap
                        text: (parent.on ? "✓ " : "") + page.term.tr(modelData.text)
                        font.pixelSize: theme.large
                        color: parent.on ? "white" : theme.text
                        horizontalAlignment: Text.AlignHCenter
                        wrapMode: Text.WordWrap
                    }
                    MouseArea { anchors.fill: parent; onClicked: page.term.vm.rateReason(modelData.code) }
                }
            }
        }

        // the same comment as on the tablet: optional, needed with "other" (hallbus.schemas.rating)
        Rectangle {
            id: commentBox
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            height: theme.touch
            radius: theme.radius * 0.6
            color: theme.surface
            border.color: commentInput.activeFocus || page.flow.commentNeeded ? theme.primary : theme.line
            border.width: page.flow.commentNeeded ? theme.border * 2 : theme.border
            Text {
                textFormat: Text.PlainText
                anchors { left: parent.left; right: parent.right; margins: theme.gap; verticalCenter: parent.verticalCenter }
                visible: commentInput.text === ""
                text: page.s.rating_comment_hint
                font.pixelSize: theme.body
                color: theme.muted
                elide: Text.ElideRight
            }
            TextInput {
                id: commentInput
                objectName: "rate_comment"
                anchors { fill: parent; leftMargin: theme.gap; rightMargin: theme.gap }  // the whole box takes the tap
                verticalAlignment: TextInput.AlignVCenter
                font.pixelSize: theme.body
                color: theme.text
                maximumLength: page.flow.commentMax || 200
                text: page.flow.comment
                onTextEdited: page.term.vm.rateComment(text)
            }
        }
    }

    Column {
        anchors.centerIn: parent
        width: parent.width * 0.7
        visible: page.flow.step === "thanks"
        spacing: theme.pad
        Text { textFormat: Text.PlainText; objectName: "rate_thanks"; width: parent.width; text: page.s.rate_thanks_title; font.pixelSize: theme.title; font.bold: true; color: theme.ok; horizontalAlignment: Text.AlignHCenter }
        Text { textFormat: Text.PlainText; width: parent.width; objectName: "rate_thanks_text"; text: page.term.tr(page.flow.thanks); font.pixelSize: theme.large; color: theme.text; horizontalAlignment: Text.AlignHCenter; wrapMode: Text.WordWrap }
        BigButton { anchors.horizontalCenter: parent.horizontalCenter; theme: page.theme; primary: true; width: theme.touch * 4; text: page.s.ticket_done_button; onClicked: page.term.vm.reset() }
    }
}
