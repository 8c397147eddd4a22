import QtQuick

// A band with one sentence: an error (red) or a note (blue); empty text hides it.
Rectangle {
    id: band
    property QtObject theme
    property string text: ""
    property bool error: true
    visible: text !== ""
    implicitHeight: visible ? label.implicitHeight + theme.gap * 1.6 : 0
    radius: theme.radius * 0.6
    color: error ? theme.errorBg : "#e6f0fb"
    border.width: theme.border
    border.color: error ? theme.accent : theme.primary
    Text {
        textFormat: Text.PlainText
        id: label
        anchors.verticalCenter: parent.verticalCenter
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.margins: theme.gap
        text: band.text
        wrapMode: Text.WordWrap
        font.pixelSize: theme.body
        color: band.error ? theme.accent : theme.primary
        font.bold: true
    }
}
