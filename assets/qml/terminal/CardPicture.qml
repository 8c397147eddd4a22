import QtQuick

// A drawn ID card lying on the reader: where to put the card (no image files needed).
Item {
    property QtObject theme
    width: theme.touch * 3.2
    height: theme.touch * 2.3
    Rectangle {
        anchors.fill: parent
        radius: theme.radius
        color: "#dfe9f5"
        border.color: theme.primary
        border.width: theme.border + 1
    }
    Rectangle {
        x: parent.width * 0.12; y: parent.height * 0.16
        width: parent.width * 0.76; height: parent.height * 0.58
        radius: theme.radius * 0.5
        color: "#ffffff"
        border.color: theme.muted
        border.width: 2
        rotation: -6
        Rectangle { x: parent.width * 0.68; y: parent.height * 0.18; width: parent.width * 0.22; height: parent.height * 0.6; color: "#c9d3df" }
        Column {
            x: parent.width * 0.08; y: parent.height * 0.2; spacing: parent.height * 0.1
            Repeater { model: 4; Rectangle { width: 80 + index * 12; height: 8; radius: 4; color: "#c9d3df" } }
        }
    }
    Text {
        textFormat: Text.PlainText
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; bottomMargin: 6 }
        text: "▼ ▼ ▼"
        color: theme.primary
        font.pixelSize: theme.small
    }
}
