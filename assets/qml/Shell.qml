import QtQuick
import QtQuick.Window
import "components"

// The frame every role shares: top bar (hall, clock, language, large print), the role's page,
// the broker banner and the idle countdown. Full screen and frameless unless `windowed`.
Window {
    id: root
    required property QtObject shell
    required property url rolePage
    required property var roleProps
    property bool windowed: false
    property bool chrome: true  // false: a display role draws the whole screen (no top bar, no banner)
    readonly property var s: shell.strings

    width: 1920
    height: 1080
    visible: true
    visibility: windowed ? Window.Windowed : Window.FullScreen
    flags: Qt.Window | Qt.FramelessWindowHint
    title: shell.hallName
    color: theme.bg

    Theme {
        id: theme
        elderly: root.shell.elderly
        shortSide: Math.min(root.width, root.height)
    }

    Rectangle {
        id: topBar
        objectName: "top_bar"
        anchors { left: parent.left; right: parent.right; top: parent.top }
        visible: root.chrome
        height: visible ? theme.touch + theme.gap : 0
        color: theme.bar

        Text {
            textFormat: Text.PlainText
            id: hallName
            objectName: "hall_name"
            anchors { left: parent.left; leftMargin: theme.pad; verticalCenter: parent.verticalCenter; right: switches.left; rightMargin: theme.gap }
            text: root.shell.hallName
            color: "white"
            font.pixelSize: theme.title
            font.bold: true
            fontSizeMode: Text.HorizontalFit
            minimumPixelSize: theme.body
            elide: Text.ElideRight
        }
        Row {
            id: switches
            anchors { right: parent.right; rightMargin: theme.pad; verticalCenter: parent.verticalCenter }
            spacing: theme.gap
            Column {
                anchors.verticalCenter: parent.verticalCenter
                Text {
                    textFormat: Text.PlainText
                    objectName: "clock"
                    anchors.right: parent.right
                    text: root.shell.clock
                    color: "white"
                    font.pixelSize: theme.title
                    font.bold: true
                }
                Text {
                    textFormat: Text.PlainText
                    anchors.right: parent.right
                    text: root.shell.date
                    color: "#dbe6f5"
                    font.pixelSize: theme.small
                }
            }
            BigButton {
                objectName: "elderly_switch"
                theme: theme
                anchors.verticalCenter: parent.verticalCenter
                height: theme.touch * 0.9
                text: root.shell.elderly ? root.s.elderly_off : root.s.elderly_on
                onClicked: root.shell.toggleElderly()
            }
            BigButton {
                objectName: "lang_switch"
                theme: theme
                anchors.verticalCenter: parent.verticalCenter
                height: theme.touch * 0.9
                text: root.s.lang_switch
                onClicked: root.shell.toggleLanguage()
            }
        }
    }

    Rectangle {
        id: banner
        objectName: "banner_offline"
        anchors { left: parent.left; right: parent.right; top: topBar.bottom }
        visible: root.chrome && root.shell.offline
        height: visible ? bannerText.implicitHeight + theme.gap * 1.5 : 0
        color: "#fff3cd"
        border.color: "#b35c00"
        border.width: theme.border
        Text {
            textFormat: Text.PlainText
            id: bannerText
            objectName: "banner_offline_text"
            anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.pad }
            // a staff role says in its own words what happened and what to do (`offlineText`)
            text: "⚠ " + (page.item && page.item.offlineText ? page.item.offlineText : root.s.banner_offline)
            wrapMode: Text.WordWrap
            font.pixelSize: theme.body
            font.bold: true
            color: "#6b3500"
        }
    }

    // The role's page, created with every property it needs already set.
    Item {
        id: page
        objectName: "role_page"
        anchors { left: parent.left; right: parent.right; top: banner.bottom; bottom: parent.bottom }
        property Item item: null
        Component.onCompleted: {
            var props = { shell: root.shell, theme: theme }
            for (var k in root.roleProps) props[k] = root.roleProps[k]
            var component = Qt.createComponent(root.rolePage)
            if (component.status !== Component.Ready) {
                console.error("cannot load the role page:", component.errorString())
                return
            }
            item = component.createObject(page, props)
            item.anchors.fill = page
        }
    }

    // Idle countdown: the last person's details are about to be cleared.
    Rectangle {
        id: idle
        objectName: "idle_overlay"
        anchors.fill: parent
        visible: root.shell.idleLeft > 0
        color: "#b0000000"
        MouseArea { anchors.fill: parent }  // swallow touches behind the dialog
        Rectangle {
            anchors.centerIn: parent
            width: Math.min(parent.width * 0.7, theme.touch * 10)
            height: idleCol.implicitHeight + theme.pad * 2
            radius: theme.radius
            color: theme.surface
            Column {
                id: idleCol
                anchors.centerIn: parent
                width: parent.width - theme.pad * 2
                spacing: theme.gap
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    text: root.s.idle_title
                    font.pixelSize: theme.title
                    font.bold: true
                    color: theme.text
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "idle_seconds"
                    width: parent.width
                    text: root.s.idle_body.arg(root.shell.idleLeft)
                    font.pixelSize: theme.large
                    color: theme.text
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.WordWrap
                }
                Row {
                    anchors.horizontalCenter: parent.horizontalCenter
                    spacing: theme.gap
                    BigButton {
                        objectName: "idle_continue"
                        theme: theme
                        primary: true
                        text: root.s.idle_continue
                        onClicked: root.shell.touched()
                    }
                    BigButton {
                        objectName: "idle_home"
                        theme: theme
                        text: root.s.idle_home_now
                        onClicked: root.shell.resetNow()
                    }
                }
            }
        }
    }
}
