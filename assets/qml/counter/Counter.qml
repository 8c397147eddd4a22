import QtQuick
import "../components"

// The counter terminal (窗口叫号终端): login by badge or staff id + password, then the current
// ticket, one button per counter action (with its F-key), waiting counts, held tickets and
// today's own figures. Every decision is the view-model's; this file only lays it out.
Item {
    id: root
    required property QtObject shell
    required property QtObject theme
    required property QtObject vm
    readonly property var s: shell ? shell.strings : ({})
    function tr(t) { return t && shell ? (t[shell.language] || t["zh_CN"] || "") : "" }
    readonly property bool ready: shell !== null && theme !== null && vm !== null
    // staff words for the shell's offline banner (what happened, what to do), not the citizens' text
    readonly property string offlineText: s.counter_offline || ""

    focus: true
    Component.onCompleted: forceActiveFocus()

    // F-keys for staff who never touch the mouse; typing goes to the login form.
    Keys.onPressed: function(event) {
        if (!root.ready) return
        var fmap = {}
        fmap[Qt.Key_F1] = "call_next"; fmap[Qt.Key_F2] = "recall"; fmap[Qt.Key_F3] = "no_show"
        fmap[Qt.Key_F4] = "hold"; fmap[Qt.Key_F5] = "call_back"; fmap[Qt.Key_F6] = "transfer"
        fmap[Qt.Key_F7] = "finish"; fmap[Qt.Key_F8] = "pause"
        if (root.vm.login.loggedIn) {
            if (fmap[event.key] !== undefined && root.vm.dialog.name === "") {
                root.vm.act(fmap[event.key]); event.accepted = true
            }
            return
        }
        if (event.key === Qt.Key_Backspace) { root.vm.loginKey("back"); event.accepted = true }
        else if (event.key === Qt.Key_Return || event.key === Qt.Key_Enter) { root.vm.loginKey("enter"); event.accepted = true }
        else if (event.key === Qt.Key_Tab) { root.vm.loginField(root.vm.login.focus === "staff" ? "password" : "staff"); event.accepted = true }
        else if (event.text !== "") { root.vm.loginKey(event.text); event.accepted = true }
    }

    Loader {
        anchors.fill: parent
        active: root.ready
        sourceComponent: root.ready && root.vm.login.loggedIn ? desk : loginPage
    }

    // Controller or broker gone: a clear band; the buttons are disabled by the view-model.
    Rectangle {
        objectName: "counter_offline"
        visible: root.ready && !root.vm.link.connected && !root.shell.offline  // broker loss: the shell's banner says it
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: visible ? offlineText.implicitHeight + theme.gap * 1.5 : 0
        color: "#fff3cd"
        border.color: "#b35c00"
        border.width: theme.border
        Text {
            textFormat: Text.PlainText
            id: offlineText
            anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.pad }
            text: "⚠ " + root.s.counter_offline
            wrapMode: Text.WordWrap
            font.pixelSize: theme.body
            font.bold: true
            color: "#6b3500"
        }
    }

    // --- login ----------------------------------------------------------------------------
    Component {
        id: loginPage
        Item {
            id: loginItem
            // While the controller says why a login did not work, its sentence takes the room
            // of the title and the drawn badge: in large print it needs all of it.
            readonly property bool saying: root.tr(root.vm.login.error) !== ""
            Column {
                id: who
                anchors { left: parent.left; top: parent.top; margins: theme.pad }
                width: parent.width * 0.38
                spacing: theme.gap
                Text {
                    textFormat: Text.PlainText
                    objectName: "counter_window_name"
                    text: root.tr(root.vm.window.name)
                    font.pixelSize: theme.huge * 0.8
                    font.bold: true
                    color: theme.primary
                    width: parent.width
                    fontSizeMode: Text.HorizontalFit
                }
                Text {
                    textFormat: Text.PlainText
                    visible: !loginItem.saying
                    text: root.s.counter_login_title
                    font.pixelSize: theme.title
                    font.bold: true
                    color: theme.text
                }
                MessageBand {
                    objectName: "counter_login_error"
                    theme: root.theme
                    width: parent.width
                    text: root.tr(root.vm.login.error)
                }
                Rectangle {
                    width: parent.width
                    height: badgeCol.implicitHeight + theme.pad * 2
                    radius: theme.radius
                    color: "#e6f0fb"
                    border.color: theme.primary
                    border.width: theme.border
                    Column {
                        id: badgeCol
                        anchors.centerIn: parent
                        width: parent.width - theme.pad * 2
                        spacing: theme.gap
                        Rectangle {  // a badge on a reader, drawn (no emoji font on kiosks)
                            visible: !loginItem.saying
                            anchors.horizontalCenter: parent.horizontalCenter
                            width: theme.touch * 1.5
                            height: theme.touch
                            radius: theme.radius * 0.6
                            color: theme.primary
                            Rectangle {
                                x: parent.width * 0.12; y: parent.height * 0.3
                                width: parent.width * 0.22; height: parent.height * 0.32
                                radius: 4
                                color: "#f2c94c"
                            }
                            Text {
                                textFormat: Text.PlainText
                                anchors { right: parent.right; rightMargin: parent.width * 0.1; verticalCenter: parent.verticalCenter }
                                text: root.s.counter_staff_id
                                font.pixelSize: theme.body
                                font.bold: true
                                color: "white"
                            }
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "counter_badge_hint"
                            width: parent.width
                            text: root.s.counter_login_badge
                            font.pixelSize: theme.large
                            font.bold: true
                            color: theme.primary
                            wrapMode: Text.WordWrap
                            horizontalAlignment: Text.AlignHCenter
                        }
                    }
                }
            }
            Column {
                anchors { right: parent.right; top: parent.top; margins: theme.pad }
                width: parent.width * 0.56  // ten keys of at least 15 mm on a 1280-wide counter
                spacing: theme.gap
                Text {
                    textFormat: Text.PlainText
                    text: root.s.counter_login_or
                    font.pixelSize: theme.large
                    color: theme.muted
                }
                Row {
                  width: parent.width
                  spacing: theme.gap
                  Column {
                    id: fields
                    width: parent.width * 0.68
                    spacing: theme.gap * 0.6
                    Repeater {
                    model: [{ name: "staff", label: root.s.counter_staff_id }, { name: "password", label: root.s.counter_password }]
                    Rectangle {
                        objectName: "login_field_" + modelData.name
                        width: parent.width
                        height: theme.touch * 0.75
                        radius: theme.radius * 0.6
                        color: theme.surface
                        border.width: root.vm.login.focus === modelData.name ? theme.border * 2 : theme.border
                        border.color: root.vm.login.focus === modelData.name ? theme.primary : theme.line
                        Text {
                            textFormat: Text.PlainText
                            anchors { left: parent.left; leftMargin: theme.gap; verticalCenter: parent.verticalCenter }
                            text: modelData.label
                            font.pixelSize: theme.body
                            color: theme.muted
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "login_value_" + modelData.name
                            anchors { right: parent.right; rightMargin: theme.gap; verticalCenter: parent.verticalCenter }
                            text: root.vm.login[modelData.name]
                            font.pixelSize: theme.large
                            font.bold: true
                            color: theme.text
                        }
                        MouseArea { anchors.fill: parent; onClicked: root.vm.loginField(modelData.name) }
                    }
                    }
                  }
                  BigButton {
                    objectName: "login_submit"
                    theme: root.theme
                    primary: true
                    width: parent.width - fields.width - parent.spacing
                    height: fields.height
                    active: root.vm.login.canSubmit
                    text: root.vm.login.busy ? root.s.counter_login_busy : root.s.counter_login_submit
                    onClicked: root.vm.submitLogin()
                  }
                }
                Keypad {
                    objectName: "login_keys"
                    theme: root.theme
                    anchors.horizontalCenter: parent.horizontalCenter
                    prefix: "login_key_"
                    keyWidth: Math.min(theme.touch * 0.82, (parent.width - theme.gap * 0.6 * 9) / 10)
                    rows: [["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
                           ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"],
                           ["a", "s", "d", "f", "g", "h", "j", "k", "l"],
                           ["z", "x", "c", "v", "b", "n", "m", "back"]]
                    onKey: function(name) { root.vm.loginKey(name) }
                }
            }
        }
    }

    // --- logged in ------------------------------------------------------------------------
    Component {
        id: desk
        Item {
            id: deskItem
            readonly property real leftW: width * 0.62
            FontMetrics { id: bodyFont; font.pixelSize: theme.body; font.bold: true }
            FontMetrics { id: largeFont; font.pixelSize: theme.large; font.bold: true }
            // header: window, staff, status, logout
            Rectangle {
                id: head
                anchors { left: parent.left; right: parent.right; top: parent.top }
                height: theme.touch + theme.gap
                color: theme.surface
                border.color: theme.line
                border.width: 1
                Row {
                    anchors { left: parent.left; leftMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    spacing: theme.pad
                    Text {
                        textFormat: Text.PlainText
                        objectName: "counter_window_name"
                        anchors.verticalCenter: parent.verticalCenter
                        text: root.tr(root.vm.window.name)
                        font.pixelSize: theme.title * 1.3
                        font.bold: true
                        color: theme.primary
                    }
                    Text {
                        textFormat: Text.PlainText
                        objectName: "counter_staff"
                        anchors.verticalCenter: parent.verticalCenter
                        // name, title (English where the rank is known) and id, in the language's punctuation
                        readonly property bool en: root.shell !== null && root.shell.language === "en"
                        readonly property string title: root.tr(root.vm.window.staffTitle)
                        text: root.vm.window.staffName + (title !== "" ? (en ? ", " : " ") + title : "")
                              + (en ? " (" + root.vm.window.staffId + ")" : "（" + root.vm.window.staffId + "）")
                        font.pixelSize: theme.large
                        color: theme.text
                    }
                    Rectangle {
                        anchors.verticalCenter: parent.verticalCenter
                        height: statusText.implicitHeight + theme.gap
                        width: statusText.implicitWidth + theme.pad
                        radius: height / 2
                        color: root.vm.window.status === "paused" ? theme.warn : (root.vm.window.status === "serving" ? theme.ok : theme.primary)
                        Text {
                            textFormat: Text.PlainText
                            id: statusText
                            objectName: "counter_status"
                            anchors.centerIn: parent
                            text: root.tr(root.vm.window.statusText) + (root.vm.window.pauseReason ? "：" + root.vm.window.pauseReason : "")
                            font.pixelSize: theme.body
                            font.bold: true
                            color: "white"
                        }
                    }
                }
                BigButton {
                    objectName: "counter_logout"
                    theme: root.theme
                    anchors { right: parent.right; rightMargin: theme.pad; verticalCenter: parent.verticalCenter }
                    height: theme.touch * 0.85
                    active: root.vm.window.canLogout && root.vm.link.connected && root.vm.link.pending === ""
                    text: root.s.counter_logout
                    onClicked: root.vm.logout()
                }
            }

            // current ticket
            Rectangle {
                id: current
                // what the buttons and the message leave: the number shrinks before anything is cut
                anchors { left: parent.left; top: head.bottom; bottom: actions.top; margins: theme.pad; bottomMargin: theme.gap }
                width: deskItem.leftW - theme.pad * 1.5
                radius: theme.radius
                color: theme.surface
                border.color: root.vm.ticket.present && root.vm.ticket.priority ? theme.accent : theme.line
                border.width: theme.border * (root.vm.ticket.present && root.vm.ticket.priority ? 2 : 1)
                Text {
                    textFormat: Text.PlainText
                    id: currentLabel
                    anchors { left: parent.left; top: parent.top; margins: theme.gap }
                    text: root.s.counter_current
                    font.pixelSize: theme.body
                    color: theme.muted
                }
                Item {
                    visible: !root.vm.ticket.present
                    anchors { left: parent.left; right: parent.right; top: currentLabel.bottom; bottom: parent.bottom }
                    Column {
                        anchors.centerIn: parent
                        spacing: theme.gap
                        Text {
                            textFormat: Text.PlainText
                            objectName: "counter_no_ticket"
                            anchors.horizontalCenter: parent.horizontalCenter
                            text: root.vm.window.status === "paused" ? root.s.counter_paused_hint : root.s.counter_no_ticket
                            font.pixelSize: theme.title
                            font.bold: true
                            color: theme.muted
                        }
                        Text {
                            textFormat: Text.PlainText
                            anchors.horizontalCenter: parent.horizontalCenter
                            text: root.vm.window.status === "paused" ? "" : root.s.counter_no_ticket_hint
                            font.pixelSize: theme.body
                            color: theme.muted
                        }
                    }
                }
                Row {  // below the panel's label, never over it
                    visible: root.vm.ticket.present
                    anchors { left: parent.left; right: parent.right; top: currentLabel.bottom; bottom: parent.bottom; leftMargin: theme.pad; rightMargin: theme.pad }
                    spacing: theme.pad
                    Text {
                        textFormat: Text.PlainText
                        objectName: "counter_ticket_number"
                        anchors.verticalCenter: parent.verticalCenter
                        text: root.vm.ticket.number || ""
                        font.pixelSize: Math.min(theme.huge, parent.height * 0.8)
                        font.bold: true
                        color: Qt.darker(theme.primary, 1.25)  // at least 7:1 on white for the number (issue 16)
                    }
                    Column {
                        anchors.verticalCenter: parent.verticalCenter
                        spacing: theme.gap * 0.5
                        Row {
                            spacing: theme.gap
                            Text {
                                textFormat: Text.PlainText
                                objectName: "counter_ticket_service"
                                text: root.tr(root.vm.ticket.serviceName)
                                font.pixelSize: theme.title
                                font.bold: true
                                color: theme.text
                            }
                            Rectangle {
                                objectName: "counter_ticket_channel"
                                visible: root.vm.ticket.priority === true
                                anchors.verticalCenter: parent.verticalCenter
                                height: channelText.implicitHeight + theme.gap * 0.6
                                width: channelText.implicitWidth + theme.gap * 1.5
                                radius: theme.radius * 0.5
                                color: theme.accent
                                Text {
                                    textFormat: Text.PlainText
                                    id: channelText
                                    anchors.centerIn: parent
                                    text: root.tr(root.vm.ticket.channelText)
                                    font.pixelSize: theme.body
                                    font.bold: true
                                    color: "white"
                                }
                            }
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "counter_ticket_name"
                            visible: root.vm.ticket.realName === true
                            text: root.s.counter_applicant + "：" + (root.vm.ticket.name || "")
                            font.pixelSize: theme.large
                            color: theme.text
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "counter_ticket_waited"
                            text: root.tr(root.vm.ticket.waitedText) + "    " + root.s.counter_called_at + " " + (root.vm.ticket.calledAt || "")
                            font.pixelSize: theme.body
                            color: theme.muted
                        }
                        Text {
                            textFormat: Text.PlainText
                            visible: (root.vm.ticket.attempt || 0) > 1
                            text: root.tr(root.vm.ticket.attemptText)
                            font.pixelSize: theme.body
                            font.bold: true
                            color: theme.warn
                        }
                    }
                }
            }

            // actions: two rows of four
            Grid {
                id: actions
                anchors { left: parent.left; bottom: message.top; leftMargin: theme.pad; bottomMargin: message.visible ? theme.gap : 0 }
                width: current.width
                columns: 4
                spacing: theme.gap
                Repeater {
                    model: 8  // fixed buttons, bound to the view-model: they are never rebuilt under a finger
                    BigButton {
                        readonly property var a: root.vm.actions[index]
                        objectName: "action_" + a.id
                        theme: root.theme
                        width: (actions.width - actions.spacing * 3) / 4
                        height: Math.max(theme.touch, (deskItem.height - head.height) * 0.16)
                        primary: a.id === "call_next" || a.id === "finish"
                        active: a.enabled
                        text: a.busy ? "…" : root.tr(a.text)
                        sub: a.shortcut
                        onClicked: root.vm.act(a.id)
                    }
                }
            }
            MessageBand {
                id: message
                objectName: "counter_message"
                theme: root.theme
                height: visible ? Math.max(implicitHeight, theme.touch * 0.65) : 0  // a tap dismisses it: a target
                anchors { left: parent.left; bottom: parent.bottom; leftMargin: theme.pad; bottomMargin: theme.pad }
                width: current.width
                text: root.tr(root.vm.message.text)
                error: root.vm.message.level === "error"
                MouseArea { anchors.fill: parent; onClicked: root.vm.dismissMessage() }
            }

            // right column: waiting, next, held, figures (the figures only where they fit: large print
            // on a 1080-line screen has no room for them, and words are never cut)
            Column {
                id: rightCol
                anchors { right: parent.right; top: head.bottom; margins: theme.pad }
                width: parent.width - deskItem.leftW - theme.pad
                spacing: theme.gap * 0.6
                Panel {
                    id: waitingPanel
                    title: root.s.counter_waiting_title
                    Repeater {
                        model: root.vm.queue
                        Row {
                            objectName: "waiting_" + modelData.code
                            width: parent.width
                            Text {
                                textFormat: Text.PlainText
                                width: parent.width * 0.55
                                text: modelData.code + " " + root.tr(modelData.name)
                                font.pixelSize: theme.body
                                color: theme.text
                                elide: Text.ElideRight
                            }
                            Text {
                                textFormat: Text.PlainText
                                objectName: "waiting_count_" + modelData.code
                                width: parent.width * 0.2
                                text: modelData.waiting < 0 ? "—" : root.s.counter_people.arg(modelData.waiting)
                                font.pixelSize: theme.body
                                font.bold: true
                                color: theme.primary
                                horizontalAlignment: Text.AlignRight
                            }
                            Text {
                                textFormat: Text.PlainText
                                objectName: "waiting_text_" + modelData.code
                                width: parent.width * 0.25
                                anchors.verticalCenter: parent.verticalCenter
                                text: root.tr(modelData.waitText)
                                font.pixelSize: theme.small
                                fontSizeMode: Text.HorizontalFit
                                minimumPixelSize: 12
                                color: theme.muted
                                horizontalAlignment: Text.AlignRight
                            }
                        }
                    }
                }
                Panel {
                    id: nextPanel
                    title: root.s.counter_next_title
                    Text {
                        textFormat: Text.PlainText
                        objectName: "counter_next"
                        width: parent.width
                        text: root.vm.window.next.length ? root.vm.window.next.join("  ") : root.s.counter_none
                        font.pixelSize: theme.large
                        font.bold: true
                        color: theme.text
                        wrapMode: Text.WordWrap
                    }
                }
                Panel {
                    id: heldPanel
                    title: root.s.counter_held_title
                    Text {
                        textFormat: Text.PlainText
                        objectName: "counter_held"
                        width: parent.width
                        text: root.vm.window.held.length ? root.vm.window.held.map(function(h) { return h.number }).join("  ") : root.s.counter_none
                        font.pixelSize: theme.large
                        font.bold: true
                        color: root.vm.window.held.length ? theme.warn : theme.muted
                        wrapMode: Text.WordWrap
                    }
                }
                Panel {
                    objectName: "counter_figures"
                    // the room below the other panels (their heights do not depend on this one)
                    // (measured from the fonts: a hidden panel's own height collapses with its contents)
                    visible: deskItem.height - head.height - theme.pad * 2 - rightCol.spacing * 3
                             - waitingPanel.height - nextPanel.height - heldPanel.height
                             >= bodyFont.height + largeFont.height * 2 + theme.gap * 2.8
                    title: root.s.counter_figures_title
                    Grid {  // two by two, each figure beside its words: fits in large print too
                        id: figureGrid
                        columns: 2
                        width: parent.width
                        columnSpacing: theme.gap
                        rowSpacing: theme.gap * 0.3
                        Repeater {
                            model: [
                                { key: "counter_served", value: String(root.vm.figures.served), name: "served" },
                                { key: "counter_avg_service", value: String(root.vm.figures.avgServiceMin), name: "avg" },
                                { key: "counter_ratings", value: String(root.vm.figures.ratings), name: "ratings" },
                                { key: "counter_satisfaction", value: root.vm.figures.satisfaction, name: "satisfaction" }
                            ]
                            Row {
                                width: (figureGrid.width - figureGrid.columnSpacing) / 2
                                spacing: theme.gap * 0.5
                                Text {
                                    textFormat: Text.PlainText
                                    width: parent.width - figureValue.width - parent.spacing
                                    anchors.verticalCenter: parent.verticalCenter
                                    text: root.s[modelData.key]
                                    font.pixelSize: theme.small
                                    color: theme.muted
                                    wrapMode: Text.WordWrap
                                }
                                Text {
                                    textFormat: Text.PlainText
                                    id: figureValue
                                    objectName: "figure_" + modelData.name
                                    anchors.verticalCenter: parent.verticalCenter
                                    text: modelData.value
                                    font.pixelSize: theme.large
                                    font.bold: true
                                    color: theme.text
                                }
                            }
                        }
                    }
                }
            }

            // dialogs over the desk
            Rectangle {
                objectName: "counter_dialog"
                anchors.fill: parent
                visible: root.vm.dialog.name !== ""
                color: "#99000000"
                MouseArea { anchors.fill: parent }
                Rectangle {
                    anchors.centerIn: parent
                    width: parent.width * 0.72
                    height: Math.min(parent.height - theme.pad * 2, dlgCol.implicitHeight + theme.pad * 2)
                    radius: theme.radius
                    color: theme.surface
                    Column {
                        id: dlgCol
                        anchors { left: parent.left; right: parent.right; top: parent.top; margins: theme.pad }
                        spacing: theme.gap
                        Text {
                            textFormat: Text.PlainText
                            objectName: "counter_dialog_title"
                            text: root.vm.dialog.name === "transfer" ? root.s.counter_transfer_title
                                : root.vm.dialog.name === "call_back" ? root.s.counter_callback_title
                                : root.s.counter_pause_title
                            font.pixelSize: theme.title
                            font.bold: true
                            color: theme.text
                        }
                        // transfer: kind and position in one row (room for three rows of targets in large print), targets
                        Row {
                            visible: root.vm.dialog.name === "transfer"
                            spacing: theme.gap
                            Repeater {
                                model: [{ id: "service", key: "counter_to_service" }, { id: "window", key: "counter_to_window" }]
                                BigButton {
                                    objectName: "transfer_kind_" + modelData.id
                                    theme: root.theme
                                    primary: root.vm.dialog.kind === modelData.id
                                    text: root.s[modelData.key]
                                    onClicked: root.vm.transferKind(modelData.id)
                                }
                            }
                            Item { width: theme.pad; height: 1 }
                            Repeater {
                                model: [{ id: "front", key: "counter_front" }, { id: "end", key: "counter_end" }]
                                BigButton {
                                    objectName: "transfer_pos_" + modelData.id
                                    theme: root.theme
                                    primary: root.vm.dialog.position === modelData.id
                                    text: root.s[modelData.key]
                                    onClicked: root.vm.transferPosition(modelData.id)
                                }
                            }
                        }
                        Flow {
                            width: parent.width
                            spacing: theme.gap * 0.6
                            visible: root.vm.dialog.name === "transfer"
                            Repeater {
                                model: root.vm.dialog.targets
                                BigButton {
                                    objectName: "transfer_to_" + modelData.id
                                    theme: root.theme
                                    height: theme.touch * 0.85
                                    primary: root.vm.dialog.target === modelData.id
                                    text: root.tr(modelData.text)
                                    onClicked: root.vm.transferTarget(modelData.id)
                                }
                            }
                        }
                        // call back: the held tickets
                        Flow {
                            width: parent.width
                            spacing: theme.gap
                            visible: root.vm.dialog.name === "call_back"
                            Repeater {
                                model: root.vm.dialog.held
                                BigButton {
                                    objectName: "callback_" + modelData.number
                                    theme: root.theme
                                    text: modelData.number
                                    sub: root.tr(modelData.serviceName) + (modelData.name ? " " + modelData.name : "")
                                    onClicked: root.vm.callBack(modelData.number)
                                }
                            }
                        }
                        // pause: reasons
                        Flow {
                            width: parent.width
                            spacing: theme.gap
                            visible: root.vm.dialog.name === "pause"
                            Repeater {
                                model: root.vm.dialog.reasons
                                BigButton {
                                    objectName: "pause_" + modelData.id
                                    theme: root.theme
                                    primary: root.vm.dialog.reason === modelData.id
                                    text: root.tr(modelData.text)
                                    onClicked: root.vm.pauseReason(modelData.id)
                                }
                            }
                        }
                        Row {
                            spacing: theme.gap
                            anchors.right: parent.right
                            BigButton {
                                objectName: "dialog_cancel"
                                theme: root.theme
                                text: root.s.cancel
                                onClicked: root.vm.closeDialog()
                            }
                            BigButton {
                                objectName: "dialog_confirm"
                                visible: root.vm.dialog.name !== "call_back"
                                theme: root.theme
                                primary: true
                                active: root.vm.dialog.name === "transfer" ? root.vm.dialog.target !== "" : root.vm.dialog.reason !== ""
                                text: root.s.counter_confirm
                                onClicked: root.vm.dialog.name === "transfer" ? root.vm.transferConfirm() : root.vm.pauseConfirm()
                            }
                        }
                    }
                }
            }
        }
    }

    component Panel: Rectangle {
        property string title: ""
        default property alias content: inner.data
        width: parent.width
        height: inner.implicitHeight + titleText.implicitHeight + theme.gap * 1.8
        radius: theme.radius
        color: theme.surface
        border.color: theme.line
        border.width: 1
        Text {
            textFormat: Text.PlainText
            id: titleText
            anchors { left: parent.left; top: parent.top; margins: theme.gap }
            text: parent.title
            font.pixelSize: theme.body
            font.bold: true
            color: theme.muted
        }
        Column {
            id: inner
            anchors { left: parent.left; right: parent.right; top: titleText.bottom; margins: theme.gap; topMargin: theme.gap * 0.3 }
            spacing: theme.gap * 0.4
        }
    }
}
