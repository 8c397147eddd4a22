import QtQuick
import "../components"

// The evaluation tablet (窗口服务评价平板): who serves here (idle), five faces (no level chosen
// or highlighted), reasons for a bad rating, thanks. Decisions are the view-model's.
Item {
    id: root
    required property QtObject shell
    required property QtObject theme
    required property QtObject vm
    readonly property var s: shell ? shell.strings : ({})
    function tr(t) { return t && shell ? (t[shell.language] || t["zh_CN"] || "") : "" }
    readonly property bool ready: shell !== null && theme !== null && vm !== null

    Loader {
        anchors.fill: parent
        active: root.ready
        sourceComponent: !root.ready ? null
            : root.vm.screen === "faces" ? faces
            : root.vm.screen === "reasons" ? reasons
            : root.vm.screen === "thanks" ? thanks
            : idle
    }

    // --- idle: the person serving at this window -------------------------------------------
    Component {
        id: idle
        Item {
            objectName: "tablet_idle"
            Row {
                anchors.centerIn: parent
                // 暂停服务 takes the bottom: the person's card moves up and shrinks, nothing overlaps
                anchors.verticalCenterOffset: root.vm.idle.paused ? -(pausedBand.height + theme.pad) / 2 : 0
                spacing: theme.pad * 2
                Rectangle {
                    id: photoFrame
                    objectName: "tablet_photo"
                    width: Math.min(root.height * (root.vm.idle.paused ? 0.36 : 0.55), root.width * 0.3)
                    height: width * 1.25
                    radius: theme.radius
                    color: "#dbe6f5"
                    border.color: theme.line
                    border.width: theme.border
                    clip: true
                    anchors.verticalCenter: parent.verticalCenter
                    Image {
                        id: photo
                        anchors.fill: parent
                        anchors.margins: theme.border
                        source: root.vm.idle.photo
                        fillMode: Image.PreserveAspectCrop
                        visible: source != "" && status === Image.Ready
                        asynchronous: true
                    }
                    // placeholder: a head and shoulders, with the surname
                    Item {
                        anchors.fill: parent
                        visible: !photo.visible
                        Rectangle {
                            width: parent.width * 0.44; height: width; radius: width / 2
                            anchors { horizontalCenter: parent.horizontalCenter; top: parent.top; topMargin: parent.height * 0.14 }
                            color: "#9fb3cc"
                            Text {
                                textFormat: Text.PlainText
                                anchors.centerIn: parent
                                text: root.vm.idle.initial
                                font.pixelSize: parent.width * 0.5
                                font.bold: true
                                color: "white"
                            }
                        }
                        Rectangle {
                            width: parent.width * 0.8; height: parent.height * 0.34; radius: width * 0.3
                            anchors { horizontalCenter: parent.horizontalCenter; bottom: parent.bottom; bottomMargin: -radius * 0.5 }
                            color: "#9fb3cc"
                        }
                    }
                }
                Column {
                    anchors.verticalCenter: parent.verticalCenter
                    spacing: theme.gap
                    width: root.width * 0.5
                    Text {
                        textFormat: Text.PlainText
                        objectName: "tablet_window_name"
                        text: root.tr(root.vm.idle.windowName)
                        font.pixelSize: theme.title * 1.4
                        font.bold: true
                        color: theme.primary
                    }
                    Text {
                        textFormat: Text.PlainText
                        objectName: "tablet_staff_name"
                        visible: root.vm.idle.staff
                        text: root.vm.idle.staffName
                        font.pixelSize: theme.huge * 0.7
                        font.bold: true
                        color: theme.text
                    }
                    Text {
                        textFormat: Text.PlainText
                        visible: root.vm.idle.staff && root.tr(root.vm.idle.staffTitle) !== ""
                        text: root.tr(root.vm.idle.staffTitle)
                        font.pixelSize: theme.large
                        color: theme.muted
                    }
                    Text {
                        textFormat: Text.PlainText
                        objectName: "tablet_staff_id"
                        visible: root.vm.idle.staff
                        text: root.s.tablet_staff_no.arg(root.vm.idle.staffId)
                        font.pixelSize: theme.large
                        color: theme.text
                    }
                    Row {
                        visible: root.vm.idle.staff
                        spacing: theme.gap * 0.3
                        Repeater {
                            model: 5
                            Text {
                                textFormat: Text.PlainText
                                text: "★"
                                font.pixelSize: theme.title
                                color: index < root.vm.idle.stars ? "#f2a900" : "#c9d1dc"
                            }
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "tablet_stars"
                            anchors.verticalCenter: parent.verticalCenter
                            text: "  " + root.vm.idle.starsText
                            font.pixelSize: theme.large
                            color: theme.muted
                        }
                    }
                    Text {
                        textFormat: Text.PlainText
                        visible: !root.vm.idle.paused
                        width: parent.width
                        text: root.s.tablet_idle_hint
                        font.pixelSize: theme.body
                        color: theme.muted
                        wrapMode: Text.WordWrap
                    }
                }
            }
            Rectangle {  // 暂停服务: across the bottom, unmistakable
                id: pausedBand
                objectName: "tablet_paused"
                visible: root.vm.idle.paused
                anchors { left: parent.left; right: parent.right; bottom: parent.bottom; margins: theme.pad }
                height: pausedCol.implicitHeight + theme.pad
                radius: theme.radius
                color: theme.warn
                Column {
                    id: pausedCol
                    anchors.centerIn: parent
                    spacing: theme.gap * 0.3
                    Text {
                        textFormat: Text.PlainText
                        anchors.horizontalCenter: parent.horizontalCenter
                        objectName: "tablet_state_word"
                        text: root.tr(root.vm.idle.statusText)
                        font.pixelSize: theme.title * 1.3
                        font.bold: true
                        color: "white"
                    }
                    Text {
                        textFormat: Text.PlainText
                        anchors.horizontalCenter: parent.horizontalCenter
                        visible: text !== ""
                        text: root.vm.idle.pauseReason !== "" ? root.vm.idle.pauseReason : root.tr(root.vm.idle.hint)
                        font.pixelSize: theme.large
                        color: "white"
                    }
                }
            }
        }
    }

    // --- five faces, none chosen -------------------------------------------------------------
    Component {
        id: faces
        Item {
            objectName: "tablet_faces"
            Column {
                anchors.fill: parent
                anchors.margins: theme.pad
                spacing: theme.pad
                Text {
                    textFormat: Text.PlainText
                    objectName: "tablet_faces_title"
                    width: parent.width
                    text: root.s.tablet_faces_title
                    font.pixelSize: theme.title
                    font.bold: true
                    color: theme.text
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    visible: root.vm.rating.ticket !== ""
                    text: root.s.tablet_faces_ticket.arg(root.vm.rating.ticket)
                    font.pixelSize: theme.body
                    color: theme.muted
                    horizontalAlignment: Text.AlignHCenter
                }
                Row {
                    id: faceRow
                    anchors.horizontalCenter: parent.horizontalCenter
                    spacing: theme.gap
                    readonly property real tileW: (parent.width - spacing * 4) / 5
                    Repeater {
                        model: root.vm.rating.levels
                        Rectangle {
                            objectName: "face_" + modelData.level
                            width: faceRow.tileW
                            height: Math.min(width * 1.5, root.height * 0.7)
                            radius: theme.radius
                            color: area.pressed ? "#dbe6f5" : theme.surface  // the same for every level
                            border.color: theme.line
                            border.width: theme.border
                            RatingFace {
                                id: face
                                level: modelData.level
                                width: Math.min(parent.width * 0.72, parent.height * 0.55)
                                height: width
                                anchors { horizontalCenter: parent.horizontalCenter; top: parent.top; topMargin: parent.height * 0.1 }
                            }
                            Text {
                                textFormat: Text.PlainText
                                anchors { left: parent.left; right: parent.right; top: face.bottom; topMargin: theme.gap; margins: theme.gap * 0.5 }
                                text: root.tr(modelData.text)
                                font.pixelSize: theme.large
                                font.bold: true
                                color: theme.text
                                horizontalAlignment: Text.AlignHCenter
                                wrapMode: Text.WordWrap
                            }
                            MouseArea { id: area; anchors.fill: parent; onClicked: root.vm.chooseLevel(modelData.level) }
                        }
                    }
                }
            }
        }
    }

    // --- reasons for a bad rating ------------------------------------------------------------
    Component {
        id: reasons
        Item {
            objectName: "tablet_reasons"
            Column {
                anchors.fill: parent
                anchors.margins: theme.pad
                spacing: theme.gap
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    text: root.s.tablet_reasons_title
                    font.pixelSize: theme.title
                    font.bold: true
                    color: theme.text
                    wrapMode: Text.WordWrap
                }
                Grid {
                    id: grid
                    columns: 5
                    spacing: theme.gap
                    width: parent.width
                    Repeater {
                        model: root.vm.rating.reasonList
                        Rectangle {
                            readonly property bool on: root.vm.rating.reasons.indexOf(modelData.code) >= 0
                            objectName: "reason_" + modelData.code
                            width: (grid.width - grid.spacing * 4) / 5
                            height: theme.touch
                            radius: theme.radius
                            color: on ? theme.primary : theme.surface
                            border.color: on ? theme.primary : theme.line
                            border.width: theme.border
                            Text {
                                textFormat: Text.PlainText
                                anchors.fill: parent
                                anchors.margins: theme.gap * 0.5
                                text: (parent.on ? "✓ " : "") + root.tr(modelData.text)
                                font.pixelSize: theme.body
                                font.bold: true
                                color: parent.on ? "white" : theme.text
                                horizontalAlignment: Text.AlignHCenter
                                verticalAlignment: Text.AlignVCenter
                                wrapMode: Text.WordWrap
                            }
                            MouseArea { anchors.fill: parent; onClicked: root.vm.toggleReason(modelData.code) }
                        }
                    }
                }
                Rectangle {
                    width: parent.width
                    height: theme.touch * 0.9
                    radius: theme.radius * 0.6
                    color: theme.surface
                    border.color: comment.activeFocus || root.vm.rating.commentNeeded ? theme.primary : theme.line
                    border.width: theme.border
                    Text {
                        textFormat: Text.PlainText
                        anchors { left: parent.left; leftMargin: theme.gap; verticalCenter: parent.verticalCenter }
                        visible: comment.text === ""
                        text: root.s.rating_comment_hint
                        font.pixelSize: theme.body
                        color: theme.muted
                    }
                    TextInput {
                        id: comment
                        objectName: "tablet_comment"
                        anchors { fill: parent; leftMargin: theme.gap; rightMargin: theme.gap }  // the whole box takes the tap
                        verticalAlignment: TextInput.AlignVCenter
                        font.pixelSize: theme.body
                        color: theme.text
                        maximumLength: root.vm.rating.commentMax
                        text: root.vm.rating.comment
                        onTextEdited: root.vm.setComment(text)
                    }
                }
                MessageBand {
                    objectName: "tablet_error"
                    theme: root.theme
                    width: parent.width
                    text: root.tr(root.vm.rating.error)
                }
                Row {
                    spacing: theme.gap
                    anchors.right: parent.right
                    BigButton {
                        objectName: "tablet_back"
                        theme: root.theme
                        text: "‹ " + root.s.tablet_back
                        onClicked: root.vm.back()
                    }
                    BigButton {
                        objectName: "tablet_send"
                        theme: root.theme
                        primary: true
                        text: root.s.tablet_send
                        onClicked: root.vm.send()
                    }
                }
            }
        }
    }

    // --- thanks --------------------------------------------------------------------------------
    Component {
        id: thanks
        Item {
            objectName: "tablet_thanks"
            Column {
                anchors.centerIn: parent
                spacing: theme.pad
                width: parent.width * 0.8
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    text: root.s.tablet_thanks
                    font.pixelSize: theme.huge * 0.6
                    font.bold: true
                    color: theme.ok
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    objectName: "tablet_thanks_text"
                    text: root.tr(root.vm.rating.thanks)
                    font.pixelSize: theme.large
                    color: theme.text
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
            }
        }
    }
}
