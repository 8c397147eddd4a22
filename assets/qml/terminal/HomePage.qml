import QtQuick
import "../components"

// Home: five large tiles, the hall's notice scrolling along the bottom.
Item {
    id: home
    required property Item term
    readonly property QtObject theme: term ? term.theme : null
    readonly property var s: term ? term.s : ({})
    readonly property var tiles: [
        { key: "ticket", glyph: "号", color: "#0b57b0" },
        { key: "cases", glyph: "查", color: "#00796b" },
        { key: "checkin", glyph: "约", color: "#6a3fb5" },
        { key: "guide", glyph: "指", color: "#b35c00" },
        { key: "rate", glyph: "评", color: "#c62828" }
    ]

    // Offline, nothing here can be done (every screen asks the hall server): the tiles look
    // unavailable and the hint says what the banner says, instead of inviting a touch.
    readonly property bool offline: term.shell.offline

    Column {
        id: welcome
        anchors { left: parent.left; right: parent.right; top: parent.top }
        spacing: theme.gap * 0.5
        Text {
            textFormat: Text.PlainText
            objectName: "home_hint"
            width: parent.width
            text: home.offline ? home.s.home_hint_offline : home.s.home_hint
            font.pixelSize: theme.large
            font.bold: home.offline
            color: home.offline ? theme.accent : theme.muted
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            textFormat: Text.PlainText
            objectName: "home_person"
            width: parent.width
            visible: home.term.vm.person.present
            text: home.s.card_on_file.arg(home.term.vm.person.name + "  " + home.term.vm.person.id)
            font.pixelSize: theme.body
            color: theme.primary
            horizontalAlignment: Text.AlignHCenter
        }
    }

    Grid {
        id: grid
        anchors { top: welcome.bottom; topMargin: theme.pad; horizontalCenter: parent.horizontalCenter }
        columns: theme.elderly ? 3 : 5
        spacing: theme.pad
        readonly property real cellW: (home.width - spacing * (columns - 1)) / columns
        readonly property int rowsN: Math.ceil(home.tiles.length / columns)
        readonly property real cellH: Math.min(cellW * 1.5, (home.height - welcome.height - notice.height - theme.pad * 3 - spacing * (rowsN - 1)) / rowsN)
        // every tile lays out the same: the disc, one line of title, two lines of subtitle, at the same heights
        readonly property real disc: Math.min(cellH * 0.36, cellW * 0.45)
        readonly property real titleH: Math.ceil(theme.title * 1.5)
        readonly property bool showSub: cellH > theme.touch * 2.6  // only when there is room for it
        readonly property real subH: showSub ? Math.ceil(theme.body * 1.6) * 2 : 0
        readonly property real block: disc + titleH + subH + theme.gap * 1.2
        Repeater {
            model: home.tiles
            Rectangle {
                objectName: "tile_" + modelData.key
                readonly property bool available: !home.offline
                width: grid.cellW
                height: grid.cellH
                radius: theme.radius
                color: !available ? "#dfe3e8" : (tileArea.pressed ? Qt.darker(modelData.color, 1.2) : modelData.color)
                Rectangle {
                    id: disc
                    objectName: "tile_disc_" + modelData.key
                    anchors { horizontalCenter: parent.horizontalCenter; top: parent.top; topMargin: (parent.height - grid.block) / 2 }
                    width: grid.disc
                    height: width
                    radius: width / 2
                    color: parent.available ? "#ffffff" : "#c4cad2"
                    opacity: 0.95
                    Text {
                        textFormat: Text.PlainText
                        anchors.centerIn: parent
                        text: modelData.glyph
                        font.pixelSize: parent.width * 0.55
                        font.bold: true
                        color: parent.parent.available ? modelData.color : "#6b737d"
                    }
                }
                Text {
                    textFormat: Text.PlainText
                    id: tileTitle
                    objectName: "tile_title_" + modelData.key
                    anchors { left: parent.left; right: parent.right; top: disc.bottom; topMargin: theme.gap * 0.6; margins: theme.gap * 0.5 }
                    height: grid.titleH
                    text: home.s["tile_" + modelData.key]
                    font.pixelSize: theme.title
                    fontSizeMode: Text.HorizontalFit  // long English words shrink rather than overflow
                    minimumPixelSize: theme.body
                    font.bold: true
                    color: parent.available ? "white" : "#4a5361"
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignVCenter
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "tile_sub_" + modelData.key
                    anchors { left: parent.left; right: parent.right; top: tileTitle.bottom; topMargin: theme.gap * 0.6; margins: theme.pad * 0.5 }
                    height: grid.subH
                    visible: grid.showSub
                    text: parent.available ? home.s["tile_" + modelData.key + "_sub"] : home.s.tile_unavailable
                    font.pixelSize: theme.body
                    maximumLineCount: 2
                    elide: Text.ElideRight
                    color: parent.available ? "#ffffff" : "#4a5361"
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignTop
                    wrapMode: Text.WordWrap
                }
                MouseArea {
                    id: tileArea
                    anchors.fill: parent
                    enabled: parent.available
                    onClicked: home.term.vm.go(modelData.key)
                }
            }
        }
    }

    // The hall's notice, wrapped rather than scrolled: a moving ticker would redraw the screen
    // all day long (idle CPU), and a still text is easier to read for everyone.
    Rectangle {
        id: notice
        objectName: "notice"
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: Math.max(theme.touch * 0.8, noticeText.implicitHeight + theme.gap)
        radius: theme.radius * 0.5
        color: theme.surface
        border.color: theme.line
        border.width: theme.border
        Rectangle {
            id: noticeLabel
            anchors { left: parent.left; top: parent.top; bottom: parent.bottom }
            width: labelText.implicitWidth + theme.pad
            color: theme.accent
            radius: theme.radius * 0.5
            Text {
                textFormat: Text.PlainText
                id: labelText
                anchors.centerIn: parent
                text: home.s.notice_label
                color: "white"
                font.pixelSize: theme.body
                font.bold: true
            }
        }
        Text {
            textFormat: Text.PlainText
            id: noticeText
            objectName: "notice_text"
            anchors { left: noticeLabel.right; right: parent.right; verticalCenter: parent.verticalCenter; leftMargin: theme.gap; rightMargin: theme.gap }
            text: home.term.shell.notice
            font.pixelSize: theme.body
            color: theme.text
            wrapMode: Text.WordWrap
            maximumLineCount: 3
            elide: Text.ElideRight
        }
    }
}
