import QtQuick
import "../components"

// Take a ticket: services by department (waiting, estimated wait), ID card when real-name, confirm, result.
Item {
    id: page
    required property Item term
    readonly property QtObject theme: term ? term.theme : null
    readonly property var s: term ? term.s : ({})
    readonly property var flow: term.vm.ticket
    property int pageNo: 0

    // services flattened in department order, each knowing its department
    readonly property var services: {
        var out = []
        var groups = term.vm.services
        for (var g = 0; g < groups.length; g++)
            for (var i = 0; i < groups[g].services.length; i++) {
                var svc = groups[g].services[i]
                out.push({ svc: svc, department: groups[g].department })
            }
        return out
    }
    readonly property int pages: Math.max(1, Math.ceil(services.length / theme.pageSize))
    readonly property var shown: services.slice(Math.min(pageNo, pages - 1) * theme.pageSize, Math.min(pageNo, pages - 1) * theme.pageSize + theme.pageSize)

    // 1. choose a service
    Item {
        anchors.fill: parent
        visible: page.flow.step === "choose"
        Text {
            textFormat: Text.PlainText
            id: chooseTitle
            text: page.s.ticket_choose
            font.pixelSize: theme.title
            font.bold: true
            color: theme.text
        }
        Grid {
            id: grid
            anchors { top: chooseTitle.bottom; topMargin: theme.gap; left: parent.left; right: parent.right; bottom: pager.top; bottomMargin: theme.gap }
            columns: theme.columns
            spacing: theme.gap
            readonly property int rowsN: Math.ceil(theme.pageSize / columns)
            readonly property real cellW: (width - spacing * (columns - 1)) / columns
            readonly property real cellH: (height - spacing * (rowsN - 1)) / rowsN
            Repeater {
                model: page.shown
                Rectangle {
                    objectName: "service_" + modelData.svc.code
                    width: grid.cellW
                    height: grid.cellH
                    radius: theme.radius
                    // a service a manager closed for today stays in its place, greyed (a touch says why)
                    opacity: modelData.svc.closedToday ? 0.5 : 1
                    color: svcArea.pressed ? "#dbe7f6" : theme.surface
                    border.color: theme.line
                    border.width: theme.border
                    Rectangle {
                        id: letter
                        anchors { left: parent.left; leftMargin: theme.gap; verticalCenter: parent.verticalCenter }
                        width: Math.min(parent.height * 0.6, theme.touch * 1.1)
                        height: width
                        radius: theme.radius * 0.6
                        color: modelData.svc.closedToday ? theme.muted : theme.primary
                        Text {
                            textFormat: Text.PlainText
                            anchors.centerIn: parent
                            text: modelData.svc.code
                            color: "white"
                            font.pixelSize: parent.width * 0.55
                            font.bold: true
                        }
                    }
                    // Everything stays inside the card: the department and the ID-card mark share the top
                    // line, the name takes the height left and shrinks to it (a long English name). The
                    // department, in Chinese only, is left out in English, where it overprinted the line below.
                    Column {
                        id: svcCol
                        objectName: "service_text_" + modelData.svc.code
                        anchors { left: letter.right; leftMargin: theme.gap; right: parent.right; rightMargin: theme.gap; verticalCenter: parent.verticalCenter }
                        spacing: 2
                        readonly property real room: grid.cellH - theme.gap - theme.border * 2
                        Row {
                            id: topLine
                            width: parent.width
                            spacing: theme.gap * 0.6
                            visible: deptLine.visible || realLine.visible
                            Text {
                                textFormat: Text.PlainText
                                id: deptLine
                                width: Math.min(implicitWidth, topLine.width - (realLine.visible ? realLine.implicitWidth + topLine.spacing : 0))
                                visible: !theme.elderly && page.term.shell.language !== "en"  // large print: fewer lines per card
                                text: page.term.tr(modelData.department)
                                font.pixelSize: theme.small
                                fontSizeMode: Text.HorizontalFit  // a long department shrinks a little beside the ID-card mark
                                minimumPixelSize: Math.round(theme.small * 0.75)
                                color: theme.muted
                            }
                            Text {
                                textFormat: Text.PlainText
                                id: realLine
                                objectName: "real_name_" + modelData.svc.code
                                visible: modelData.svc.realName
                                text: "▣ " + page.s.ticket_real_name
                                font.pixelSize: theme.small
                                font.bold: true
                                color: theme.warn
                            }
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "service_name_" + modelData.svc.code
                            width: parent.width
                            height: Math.min(Math.ceil(theme.large * 1.5) * 2,
                                             svcCol.room - (topLine.visible ? topLine.height + 2 : 0) - waitLine.height - 2)
                            text: page.term.tr(modelData.svc.name)
                            font.pixelSize: theme.large
                            fontSizeMode: Text.Fit
                            minimumPixelSize: theme.small
                            verticalAlignment: Text.AlignVCenter
                            font.bold: true
                            color: theme.text
                            wrapMode: Text.WordWrap
                            maximumLineCount: 2
                        }
                        Text {
                            textFormat: Text.PlainText
                            id: waitLine
                            objectName: "waiting_" + modelData.svc.code
                            width: parent.width
                            text: modelData.svc.waiting < 0 ? page.s.ticket_no_queue
                                : page.s.ticket_waiting.arg(modelData.svc.waiting) + " · " + page.term.tr(modelData.svc.waitText)
                            font.pixelSize: theme.body
                            color: modelData.svc.closedToday ? theme.warn : theme.primary
                            // "0 waiting · No window open" is about a card's width in English: the line
                            // shrinks a little to fit rather than lose its end (the name above keeps its room)
                            fontSizeMode: Text.HorizontalFit
                            minimumPixelSize: theme.small
                            elide: Text.ElideRight
                        }
                    }
                    MouseArea {
                        id: svcArea
                        anchors.fill: parent
                        onClicked: page.term.vm.chooseService(modelData.svc.code)
                    }
                }
            }
        }
        Row {
            id: pager
            visible: page.pages > 1
            anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter }
            spacing: theme.pad
            height: visible ? theme.touch : 0
            BigButton { objectName: "page_prev"; theme: page.theme; text: "‹"; active: page.pageNo > 0; onClicked: page.pageNo-- }
            Text { textFormat: Text.PlainText; anchors.verticalCenter: parent.verticalCenter; text: (page.pageNo + 1) + " / " + page.pages; font.pixelSize: theme.large; color: theme.text }
            BigButton { objectName: "page_next"; theme: page.theme; text: "›"; active: page.pageNo < page.pages - 1; onClicked: page.pageNo++ }
        }
    }

    // 2. swipe the ID card (real-name service)
    Column {
        anchors.centerIn: parent
        width: parent.width * 0.8
        visible: page.flow.step === "card"
        spacing: theme.pad
        Text {
            textFormat: Text.PlainText
            width: parent.width
            text: page.s.ticket_card_title
            font.pixelSize: theme.title
            font.bold: true
            color: theme.text
            horizontalAlignment: Text.AlignHCenter
        }
        CardPicture { theme: page.theme; anchors.horizontalCenter: parent.horizontalCenter }
        Text {
            textFormat: Text.PlainText
            width: parent.width
            text: page.s.ticket_card_body.arg(page.term.tr(page.flow.serviceName))
            font.pixelSize: theme.large
            color: theme.text
            wrapMode: Text.WordWrap
            horizontalAlignment: Text.AlignHCenter
        }
        MessageBand { theme: page.theme; width: parent.width; text: page.term.tr(page.flow.error) }
    }

    // 3. confirm
    Column {
        anchors.centerIn: parent
        width: Math.min(parent.width * 0.7, theme.touch * 10)
        visible: page.flow.step === "confirm" || page.flow.step === "issuing"
        spacing: theme.pad
        Text {
            textFormat: Text.PlainText
            text: page.s.ticket_confirm_title
            font.pixelSize: theme.title
            font.bold: true
            color: theme.text
        }
        Grid {
            columns: 2
            columnSpacing: theme.pad
            rowSpacing: theme.gap
            Text { textFormat: Text.PlainText; text: page.s.ticket_confirm_service; font.pixelSize: theme.large; color: theme.muted }
            Text { textFormat: Text.PlainText; objectName: "confirm_service"; text: page.term.tr(page.flow.serviceName); font.pixelSize: theme.large; font.bold: true; color: theme.text }
            Text { textFormat: Text.PlainText; visible: page.term.vm.person.present; text: page.s.ticket_confirm_person; font.pixelSize: theme.large; color: theme.muted }
            Text { textFormat: Text.PlainText; objectName: "confirm_person"; visible: page.term.vm.person.present; text: page.term.vm.person.name + "  " + page.term.vm.person.id; font.pixelSize: theme.large; font.bold: true; color: theme.text }
        }
        MessageBand { objectName: "ticket_error"; theme: page.theme; width: parent.width; text: page.term.tr(page.flow.error) }
        BigButton {
            objectName: "confirm_ticket"
            theme: page.theme
            primary: true
            width: parent.width
            active: page.flow.step === "confirm"
            text: page.flow.step === "issuing" ? page.s.ticket_issuing : page.s.ticket_confirm_button
            onClicked: page.term.vm.confirmTicket()
        }
    }

    // 3b. 到号短信提醒 (only when the hall notifies): type a mobile number, or skip
    Item {
        id: phoneStep
        anchors.fill: parent
        visible: page.flow.step === "phone"
        readonly property var entry: page.flow.phone || ({})
        Column {
            id: phoneText
            anchors { left: parent.left; top: parent.top }
            width: parent.width * 0.54
            spacing: theme.gap
            Text {
                textFormat: Text.PlainText
                id: phoneTitle
                objectName: "phone_title"
                width: parent.width
                text: page.s.phone_title
                font.pixelSize: theme.title
                font.bold: true
                color: theme.text
                wrapMode: Text.WordWrap
            }
            Text {
                textFormat: Text.PlainText
                // what the number is for; in large print, or beside an error, it shrinks to the room left
                width: parent.width
                height: Math.min(implicitHeight, phoneStep.height - phoneButtons.height - phoneTitle.height
                                 - phoneField.height - phoneError.height - parent.spacing * 4)
                text: page.s.phone_body.arg(page.flow.notifyAhead)
                font.pixelSize: theme.body
                fontSizeMode: Text.Fit
                minimumPixelSize: Math.round(theme.body * 0.6)
                color: theme.text
                wrapMode: Text.WordWrap
            }
            Rectangle {
                id: phoneField
                width: parent.width
                height: phoneDigits.implicitHeight + theme.gap * 2
                radius: theme.radius * 0.6
                color: theme.surface
                border.color: theme.primary
                border.width: theme.border * 2
                Text {
                    textFormat: Text.PlainText
                    anchors { left: parent.left; leftMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    visible: phoneDigits.text === ""
                    text: page.s.phone_field
                    font.pixelSize: theme.large
                    color: theme.muted
                }
                Text {
                    textFormat: Text.PlainText
                    id: phoneDigits
                    objectName: "phone_digits"
                    anchors { left: parent.left; leftMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    text: phoneStep.entry.digits || ""
                    font.pixelSize: theme.title
                    font.bold: true
                    color: theme.text
                }
            }
            MessageBand {
                id: phoneError
                objectName: "phone_error"
                theme: page.theme
                width: parent.width
                error: true
                text: page.term.tr(phoneStep.entry.error) || page.term.tr(page.flow.error)
            }
        }
        Row {
            id: phoneButtons
            anchors { left: parent.left; bottom: parent.bottom }
            width: phoneText.width
            spacing: theme.gap
            BigButton {
                objectName: "phone_skip"
                theme: page.theme
                width: (parent.width - parent.spacing) / 2
                text: page.s.phone_skip
                onClicked: page.term.vm.phoneSkip()
            }
            BigButton {
                objectName: "phone_submit"
                theme: page.theme
                primary: true
                width: (parent.width - parent.spacing) / 2
                active: phoneStep.entry.complete === true
                text: page.s.phone_submit
                onClicked: page.term.vm.phoneSubmit()
            }
        }
        Keypad {
            id: phonePad
            objectName: "phone_keypad"
            theme: page.theme
            // the widest row (清空 0 ⌫) is four keys wide: it stays right of the text column
            readonly property real room: phoneStep.width - phoneText.width - theme.pad * 2
            anchors { right: parent.right; verticalCenter: parent.verticalCenter }
            keyWidth: Math.min(theme.touch * 1.5, (room - spacing * 2) / 4)
            keyHeight: Math.min(theme.touch * 1.2, (phoneStep.height - spacing * 3) / 4)
            prefix: "pkey_"
            clearText: page.s.clear
            rows: [["1","2","3"], ["4","5","6"], ["7","8","9"], ["clear","0","back"]]
            onKey: (name) => page.term.vm.phoneKey(name)
        }
    }

    // 4. the ticket
    TicketResult {
        anchors.fill: parent
        visible: page.flow.step === "done"
        term: page.term
        ticket: page.flow.result
        printed: page.flow.printed
        printNote: page.flow.printNote
        printing: page.flow.printing
    }
}
