import QtQuick

// An on-screen keypad: rows of keys; `back` and `clear` are named keys. Emits `key(name)`.
Column {
    id: pad
    property QtObject theme
    property var rows: [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["X", "0", "back"]]
    property string backText: "⌫"
    property string clearText: "C"
    property real keyWidth: theme.touch * 1.25
    property real keyHeight: theme.touch
    property string prefix: "key_"
    signal key(string name)
    spacing: theme.gap * 0.6

    Repeater {
        model: pad.rows
        Row {
            spacing: theme.gap * 0.6
            anchors.horizontalCenter: parent.horizontalCenter
            Repeater {
                model: modelData
                Rectangle {
                    objectName: pad.prefix + modelData
                    width: modelData === "back" || modelData === "clear" ? pad.keyWidth * 1.5 : pad.keyWidth
                    height: pad.keyHeight
                    radius: theme.radius * 0.6
                    color: keyArea.pressed ? "#c9d6e8" : theme.surface
                    border.width: theme.border
                    border.color: theme.line
                    Text {  // a word on a key (清空) shrinks to fit inside it rather than spill out
                        textFormat: Text.PlainText
                        anchors.centerIn: parent
                        width: parent.width - theme.border * 2 - 4
                        text: modelData === "back" ? pad.backText : modelData === "clear" ? pad.clearText : modelData
                        font.pixelSize: theme.title
                        fontSizeMode: Text.HorizontalFit
                        minimumPixelSize: theme.small
                        horizontalAlignment: Text.AlignHCenter
                        font.bold: true
                        color: theme.text
                    }
                    MouseArea {
                        id: keyArea
                        anchors.fill: parent
                        onClicked: pad.key(modelData)
                    }
                }
            }
        }
    }
}
