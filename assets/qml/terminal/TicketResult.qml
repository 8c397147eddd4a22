import QtQuick
import "../components"

// A ticket on screen: the number large, service, people ahead, wait, time, windows, and its QR.
// Shown after every ticket, and the only ticket the person gets when the printer fails.
Rectangle {
    id: result
    required property Item term
    property var ticket: ({})
    property string printed: ""       // "", "yes", "no"
    property var printNote: ({})
    property bool printing: false
    property string titleKey: "ticket_done_title"
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    radius: theme.radius
    color: theme.surface
    border.color: theme.line
    border.width: theme.border

    Row {
        id: main
        anchors { top: parent.top; horizontalCenter: parent.horizontalCenter; topMargin: theme.pad }
        spacing: theme.pad * 2
        height: parent.height - bottom.height - theme.pad * 3
        Column {
            anchors.verticalCenter: parent.verticalCenter
            spacing: theme.gap * 0.6
            width: Math.min(result.width * 0.5, theme.touch * 7)
            Text {
                text: result.s[result.titleKey]
                font.pixelSize: theme.title
                font.bold: true
                color: theme.ok
            }
            Text {
                text: result.s.ticket_number
                font.pixelSize: theme.body
                color: theme.muted
            }
            Text {
                objectName: "ticket_number"
                text: result.ticket.number || ""
                font.pixelSize: theme.huge
                font.bold: true
                color: theme.primary
            }
            Text {
                objectName: "ticket_service"
                width: parent.width
                text: result.term.tr(result.ticket.serviceName)
                font.pixelSize: theme.large
                font.bold: true
                color: theme.text
                wrapMode: Text.WordWrap
            }
            Text {
                objectName: "ticket_ahead"
                text: result.s.ticket_ahead.arg(result.ticket.ahead !== undefined ? result.ticket.ahead : 0)
                font.pixelSize: theme.large
                color: theme.text
            }
            Text {
                text: result.s.ticket_est_wait.arg(result.term.tr(result.ticket.waitText))
                font.pixelSize: theme.body
                color: theme.text
            }
            Text {
                width: parent.width
                visible: result.term.tr(result.ticket.windows) !== ""
                text: result.s.ticket_windows.arg(result.term.tr(result.ticket.windows))
                font.pixelSize: theme.body
                color: theme.text
                wrapMode: Text.WordWrap
            }
            Text {
                text: result.s.ticket_issued_at.arg((result.ticket.issuedDate || "") + " " + (result.ticket.issuedAt || ""))
                font.pixelSize: theme.small
                color: theme.muted
            }
        }
        Column {
            anchors.verticalCenter: parent.verticalCenter
            spacing: theme.gap
            QrCode {
                objectName: "ticket_qr"
                text: result.ticket.trackUrl || ""
                size: Math.min(main.height * 0.8, theme.touch * 3.6)
                anchors.horizontalCenter: parent.horizontalCenter
            }
            Text {
                width: theme.touch * 3.6
                text: result.s.ticket_scan_hint
                font.pixelSize: theme.small
                color: theme.muted
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.WordWrap
            }
        }
    }

    Column {
        id: bottom
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom; margins: theme.pad }
        spacing: theme.gap
        MessageBand {
            objectName: "print_note"
            theme: result.theme
            width: parent.width
            error: result.printed === "no"
            text: result.printing ? result.s.printing
                : result.printed === "yes" ? result.s.ticket_printed
                : result.term.tr(result.printNote)
        }
        BigButton {
            objectName: "ticket_done"
            theme: result.theme
            primary: true
            anchors.horizontalCenter: parent.horizontalCenter
            width: theme.touch * 4
            text: result.s.ticket_done_button
            onClicked: result.term.vm.reset()
        }
    }
}
