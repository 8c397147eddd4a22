import QtQuick
import "../components"

// Appointment check-in: scan the appointment QR or swipe the ID card; a priority ticket or a reason.
Item {
    id: page
    required property Item term
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    readonly property var flow: term.vm.checkin

    // After a failed check-in the pictures give way to the reason and the walk-in button, so all of
    // it fits on the screen in large print too.
    readonly property bool failed: page.term.tr(page.flow.error) !== ""
    Column {
        objectName: "checkin_wait"
        anchors { horizontalCenter: parent.horizontalCenter; verticalCenter: page.failed ? undefined : parent.verticalCenter; top: page.failed ? parent.top : undefined }
        width: parent.width * 0.8
        visible: page.flow.step !== "done"
        spacing: theme.pad
        Text {
            textFormat: Text.PlainText
            width: parent.width
            text: page.flow.step === "loading" ? page.s.loading : page.s.checkin_wait_title
            font.pixelSize: theme.title
            font.bold: true
            color: theme.text
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Row {
            anchors.horizontalCenter: parent.horizontalCenter
            visible: !page.failed
            spacing: theme.pad * 2
            CardPicture { theme: page.theme }
            Rectangle {
                width: theme.touch * 2.3
                height: width
                radius: theme.radius
                color: theme.surface
                border.color: theme.primary
                border.width: theme.border + 1
                Text { textFormat: Text.PlainText; anchors.centerIn: parent; text: "码"; font.pixelSize: parent.width * 0.5; font.bold: true; color: theme.primary }
            }
        }
        Text {
            textFormat: Text.PlainText
            width: parent.width
            text: page.s.checkin_wait_body
            font.pixelSize: theme.large
            color: theme.text
            wrapMode: Text.WordWrap
            horizontalAlignment: Text.AlignHCenter
        }
        MessageBand { objectName: "checkin_error"; theme: page.theme; width: parent.width; text: page.term.tr(page.flow.error) }
        // The citizen is standing at the ticket machine: a failed check-in offers the walk-in ticket here.
        BigButton {
            objectName: "checkin_walk_in"
            anchors.horizontalCenter: parent.horizontalCenter
            visible: page.failed
            theme: page.theme
            primary: true
            width: Math.max(implicitWidth, theme.touch * 4)
            text: page.s.checkin_walk_in
            onClicked: page.term.vm.go("ticket")
        }
    }

    TicketResult {
        anchors.fill: parent
        visible: page.flow.step === "done"
        term: page.term
        titleKey: "checkin_done_title"
        ticket: page.flow.result
        printed: page.flow.printed
        printNote: page.flow.printNote
    }
}
