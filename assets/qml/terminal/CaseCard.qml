import QtQuick
import "../components"

// One case: item, status, deadline in plain words, the progress timeline, how to collect, pickup ticket.
Rectangle {
    id: card
    required property Item term
    required property var c
    property bool showPickup: true
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    readonly property color statusColor: c.status === "done" || c.status === "delivered" ? theme.ok
        : c.status === "correction_needed" || c.status === "rejected" ? theme.accent : theme.primary
    readonly property color deadlineColor: c.warning === "overdue" ? theme.accent
        : (c.warning === "urgent" || c.warning === "warn") ? theme.warn : theme.text
    width: parent ? parent.width : 600
    height: col.implicitHeight + theme.pad * 1.4
    radius: theme.radius
    color: theme.surface
    border.color: theme.line
    border.width: theme.border

    Column {
        id: col
        anchors { left: parent.left; right: parent.right; top: parent.top; margins: theme.pad * 0.7 }
        spacing: theme.gap * 0.6
        Item {
            width: parent.width
            height: Math.max(itemName.implicitHeight + (officialNote.visible ? officialNote.implicitHeight : 0), chip.height)
            Text {
                textFormat: Text.PlainText
                id: itemName
                anchors { left: parent.left; right: chip.left; rightMargin: theme.gap; top: parent.top }
                text: card.c.item
                font.pixelSize: theme.large
                font.bold: true
                color: theme.text
                wrapMode: Text.WordWrap
            }
            // the records name the matter in Chinese only: in English it is labelled as the official name
            Text {
                textFormat: Text.PlainText
                id: officialNote
                objectName: "case_official_" + card.c.caseNo
                anchors { left: parent.left; right: chip.left; rightMargin: theme.gap; top: itemName.bottom }
                visible: card.term.shell.language === "en"
                text: card.s.official_name_zh
                font.pixelSize: theme.small
                font.italic: true
                color: theme.muted
            }
            Rectangle {
                id: chip
                objectName: "case_status_" + card.c.caseNo
                anchors { right: parent.right; verticalCenter: parent.verticalCenter }
                height: chipText.implicitHeight + theme.gap * 0.6
                width: chipText.implicitWidth + theme.pad
                radius: height / 2
                color: card.statusColor
                Text { textFormat: Text.PlainText; id: chipText; anchors.centerIn: parent; text: card.term.tr(card.c.statusText); color: "white"; font.pixelSize: theme.body; font.bold: true }
            }
        }
        Text {
            textFormat: Text.PlainText
            text: card.s.cases_case_no + "  " + card.c.caseNo + "    " + card.c.applicant + (card.c.acceptedAt ? "    " + card.s.cases_accepted.arg(card.c.acceptedAt) : "")
            font.pixelSize: theme.body
            color: theme.muted
        }
        Text {
            textFormat: Text.PlainText
            objectName: "case_deadline_" + card.c.caseNo
            width: parent.width
            text: card.term.tr(card.c.deadlineText)
            font.pixelSize: theme.large
            font.bold: card.c.warning !== "none"
            color: card.deadlineColor
            wrapMode: Text.WordWrap
        }
        // progress timeline
        Row {
            width: parent.width
            spacing: 0
            Repeater {
                model: card.c.timeline
                Item {
                    width: card.c.timeline.length ? (col.width / Math.max(card.c.timeline.length, 3)) : 0
                    height: dot.height + 4 + stepCol.implicitHeight
                    Rectangle {
                        visible: index > 0
                        anchors { right: dot.left; verticalCenter: dot.verticalCenter }
                        width: parent.width / 2 - dot.width / 2
                        height: 4
                        color: theme.ok
                    }
                    Rectangle {
                        visible: index < card.c.timeline.length - 1
                        anchors { left: dot.right; verticalCenter: dot.verticalCenter }
                        width: parent.width / 2 - dot.width / 2
                        height: 4
                        color: theme.ok
                    }
                    Rectangle {
                        id: dot
                        anchors.horizontalCenter: parent.horizontalCenter
                        y: 0
                        width: theme.body
                        height: width
                        radius: width / 2
                        color: index === card.c.timeline.length - 1 ? card.statusColor : theme.ok
                    }
                    Column {
                        id: stepCol
                        anchors { top: dot.bottom; topMargin: 4; left: parent.left; right: parent.right }
                        Text { textFormat: Text.PlainText; width: parent.width; text: card.term.tr(modelData.node); font.pixelSize: theme.body; font.bold: true; color: theme.text; horizontalAlignment: Text.AlignHCenter; elide: Text.ElideRight }
                        Text { textFormat: Text.PlainText; width: parent.width; text: modelData.at; font.pixelSize: theme.small; color: theme.muted; horizontalAlignment: Text.AlignHCenter; elide: Text.ElideRight }
                        Text { textFormat: Text.PlainText; width: parent.width; visible: modelData.opinion !== ""; text: modelData.opinion; font.pixelSize: theme.small; color: theme.muted; horizontalAlignment: Text.AlignHCenter; wrapMode: Text.WordWrap; maximumLineCount: 2; elide: Text.ElideRight }
                    }
                }
            }
        }
        Row {
            width: parent.width
            spacing: theme.gap
            Text {
                textFormat: Text.PlainText
                anchors.verticalCenter: parent.verticalCenter
                width: parent.width - (pickup.visible ? pickup.width + theme.gap : 0)
                objectName: "case_collect_" + card.c.caseNo
                visible: card.term.tr(card.c.result) !== "" || card.c.pickupWindow !== ""
                text: card.s.cases_collect_line.arg(card.term.tr(card.c.pickupWindowName)
                      ? card.s.cases_collect_window.arg(card.term.tr(card.c.result)).arg(card.term.tr(card.c.pickupWindowName))
                      : card.term.tr(card.c.result))
                font.pixelSize: theme.body
                color: theme.text
                wrapMode: Text.WordWrap
            }
            BigButton {
                id: pickup
                objectName: "pickup_" + card.c.caseNo
                theme: card.theme
                primary: true
                visible: card.showPickup && card.c.canTakeTicket
                text: card.s.cases_pickup.arg(card.term.tr(card.c.pickupWindowName))
                onClicked: card.term.vm.pickupTicket(card.c.caseNo)
            }
        }
    }
}
