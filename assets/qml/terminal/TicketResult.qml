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

    Column {
        id: left
        anchors { left: parent.left; top: parent.top; bottom: parent.bottom; margins: theme.pad }
        width: parent.width * 0.5 - theme.pad * 1.5
        spacing: theme.gap * 0.4
        // the number takes what the other lines leave, so the last line (取号时间) stays inside the card
        readonly property real others: ticketTitle.height + numberLabel.height + service.height + ahead.height
                                       + (channelNote.visible ? channelNote.height + spacing : 0)
                                       + (windowsLine.visible ? windowsLine.height + spacing : 0) + issued.height + spacing * 5
        // A ticket the printer could not print is taken all the same, but "成功" in green over a red
        // failure box would contradict it: the title says the number is yours and the paper is not.
        Text {
            textFormat: Text.PlainText
            id: ticketTitle
            objectName: "ticket_title"
            width: parent.width
            text: result.printed === "no" ? result.s.ticket_not_printed_title : result.s[result.titleKey]
            font.pixelSize: theme.title
            font.bold: true
            color: result.printed === "no" ? theme.warn : theme.ok
            wrapMode: Text.WordWrap
        }
        Text {
            textFormat: Text.PlainText
            id: numberLabel
            text: result.s.ticket_number
            font.pixelSize: theme.body
            color: theme.muted
        }
        Text {
            textFormat: Text.PlainText
            objectName: "ticket_number"
            text: result.ticket.number || ""
            // a line of text is about 1.45 times its pixel size high in the hall's fonts
            font.pixelSize: Math.max(theme.title, Math.min(theme.huge, result.height * 0.24, (left.height - left.others) / 1.45))
            font.bold: true
            color: Qt.darker(theme.primary, 1.2)  // the hall's blue is 6.99:1 on white; a number needs 7:1 (issue 16 item 7)
        }
        Text {
            textFormat: Text.PlainText
            id: service
            objectName: "ticket_service"
            width: parent.width
            text: result.term.tr(result.ticket.serviceName)
            font.pixelSize: theme.large
            font.bold: true
            color: theme.text
            wrapMode: Text.WordWrap
        }
        // 绿色通道: a priority ticket says so in words, not by colour alone
        Text {
            textFormat: Text.PlainText
            id: channelNote
            objectName: "ticket_channel_note"
            width: parent.width
            visible: text !== ""
            text: result.term.tr(result.ticket.channelNote)
            font.pixelSize: theme.large
            font.bold: true
            color: theme.ok
            wrapMode: Text.WordWrap
        }
        Text {
            textFormat: Text.PlainText
            id: ahead
            objectName: "ticket_ahead"
            width: parent.width
            text: result.s.ticket_ahead.arg(result.ticket.ahead !== undefined ? result.ticket.ahead : 0)
                  + "  ·  " + result.term.tr(result.ticket.waitText)
            font.pixelSize: theme.large
            color: theme.text
            wrapMode: Text.WordWrap
        }
        Text {
            textFormat: Text.PlainText
            id: windowsLine
            width: parent.width
            visible: result.term.tr(result.ticket.windows) !== ""
            text: result.s.ticket_windows.arg(result.term.tr(result.ticket.windows))
            font.pixelSize: theme.body
            color: theme.text
            wrapMode: Text.WordWrap
            maximumLineCount: 2
            elide: Text.ElideRight
        }
        Text {
            textFormat: Text.PlainText
            id: issued
            objectName: "ticket_issued"
            text: result.s.ticket_issued_at.arg((result.ticket.issuedDate || "") + " " + (result.ticket.issuedAt || ""))
            font.pixelSize: theme.small
            color: theme.muted
        }
    }

    Column {
        id: right
        anchors { right: parent.right; top: parent.top; margins: theme.pad }
        width: parent.width * 0.5 - theme.pad * 1.5
        spacing: theme.gap * 0.6
        QrCode {
            objectName: "ticket_qr"
            anchors.horizontalCenter: parent.horizontalCenter
            text: result.ticket.trackUrl || ""
            size: Math.max(160, Math.min(right.width * 0.6, result.height - theme.pad * 2 - hint.height - note.height - done.height - right.spacing * 3))
        }
        Text {
            textFormat: Text.PlainText
            id: hint
            objectName: "ticket_hint"
            width: parent.width
            // with 到号短信提醒 taken: the number, masked as the controller gave it back
            text: result.s.ticket_scan_hint
                  + (result.ticket.notifyPhone ? "\n" + result.s.phone_will_text.arg(result.ticket.notifyPhone) : "")
            font.pixelSize: theme.small
            color: theme.muted
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        MessageBand {
            id: note
            objectName: "print_note"
            theme: result.theme
            width: parent.width
            error: result.printed === "no"
            text: result.printing ? result.s.printing
                : result.printed === "yes" ? result.s.ticket_printed
                : result.term.tr(result.printNote)
        }
        BigButton {
            id: done
            objectName: "ticket_done"
            theme: result.theme
            primary: true
            width: parent.width
            text: result.s.ticket_done_button
            onClicked: result.term.vm.reset()
        }
    }
}
