import QtQuick

// A titled block of lines in a guide item.
Column {
    id: sec
    property QtObject theme
    property string title: ""
    property var lines: []
    width: parent ? parent.width : 400
    spacing: 4
    Rectangle { width: parent.width; height: 2; color: sec.theme.line }
    Text { textFormat: Text.PlainText; text: sec.title; font.pixelSize: sec.theme.large; font.bold: true; color: sec.theme.primary }
    Repeater {
        model: sec.lines
        Text { textFormat: Text.PlainText; width: sec.width; text: modelData; font.pixelSize: sec.theme.body; color: sec.theme.text; wrapMode: Text.WordWrap }
    }
}
