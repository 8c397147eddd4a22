import QtQuick
import "../components"

// The self-service terminal: home tiles, or one flow with a header (back, title, home).
Item {
    id: root
    required property QtObject shell
    required property QtObject theme
    required property QtObject vm
    readonly property var s: shell ? shell.strings : ({})
    function tr(t) { return t && shell ? (t[shell.language] || t["zh_CN"] || "") : "" }

    readonly property var titles: ({ ticket: "ticket_title", cases: "cases_title", checkin: "checkin_title", guide: "guide_title", rate: "rate_title" })

    // Built only once every property is set, so no binding ever sees a null view-model.
    readonly property bool ready: shell !== null && theme !== null && vm !== null
    Loader {
        anchors.fill: parent
        active: root.ready
        sourceComponent: body
    }

    Component {
        id: body
        Item {
            Rectangle {
                id: header
                visible: root.vm.screen !== "home"
                anchors { left: parent.left; right: parent.right; top: parent.top }
                height: visible ? theme.touch + theme.gap * 2 : 0
                color: theme.surface
                border.color: theme.line
                border.width: 1
                BigButton {
                    id: backButton
                    objectName: "back"
                    theme: root.theme
                    anchors { left: parent.left; leftMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    text: "‹ " + root.s.back
                    onClicked: root.vm.back()
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "screen_title"
                    anchors { left: backButton.right; leftMargin: theme.pad; right: headerRight.left; rightMargin: theme.gap; verticalCenter: parent.verticalCenter }
                    text: root.s[root.titles[root.vm.screen] || "home"] || ""
                    font.pixelSize: theme.title
                    font.bold: true
                    color: theme.text
                    elide: Text.ElideRight
                }
                Row {
                    id: headerRight
                    anchors { right: parent.right; rightMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    spacing: theme.gap
                    Rectangle {
                        objectName: "person_chip"
                        visible: root.vm.person.present
                        anchors.verticalCenter: parent.verticalCenter
                        height: theme.touch * 0.8
                        width: personText.implicitWidth + theme.pad
                        radius: height / 2
                        color: root.vm.person.expired ? theme.errorBg : "#e6f0fb"
                        border.color: root.vm.person.expired ? theme.accent : theme.primary
                        border.width: theme.border
                        Text {
                            textFormat: Text.PlainText
                            id: personText
                            objectName: "person_name"
                            anchors.centerIn: parent
                            text: root.vm.person.name + "  " + root.vm.person.id
                            font.pixelSize: theme.body
                            color: theme.text
                        }
                    }
                    BigButton {
                        objectName: "home"
                        theme: root.theme
                        text: "⌂ " + root.s.home
                        onClicked: root.vm.reset()
                    }
                }
            }

            MessageBand {
                id: message
                objectName: "message"
                theme: root.theme
                anchors { left: parent.left; right: parent.right; top: header.bottom; margins: theme.gap }
                text: root.tr(root.vm.message.text)
                error: root.vm.message.level === "error"
                MouseArea { anchors.fill: parent; onClicked: root.vm.dismissMessage() }
            }

            // One page per screen, created with `term` already set (no null bindings on the way in).
            Component { id: homePage; HomePage { term: root } }
            Component { id: ticketPage; TicketPage { term: root } }
            Component { id: casesPage; CasesPage { term: root } }
            Component { id: checkinPage; CheckinPage { term: root } }
            Component { id: guidePage; GuidePage { term: root } }
            Component { id: ratePage; RatePage { term: root } }

            Loader {
                id: content
                        objectName: "screen_" + root.vm.screen
                anchors { left: parent.left; right: parent.right; top: message.visible ? message.bottom : header.bottom; bottom: parent.bottom; margins: theme.pad }
                sourceComponent: ({ home: homePage, ticket: ticketPage, cases: casesPage, checkin: checkinPage, guide: guidePage, rate: ratePage })[root.vm.screen] || homePage
            }
        }
    }
}
