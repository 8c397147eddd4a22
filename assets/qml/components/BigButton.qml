import QtQuick

// A large touch button: text (and an optional second line), primary or plain.
Rectangle {
    id: button
    property QtObject theme
    property string text: ""
    property string sub: ""
    property bool primary: false
    property bool active: true
    property color tint: primary ? theme.primary : theme.surface
    signal clicked()

    implicitHeight: Math.max(theme.touch, label.implicitHeight + subLabel.implicitHeight + theme.gap * 1.5)
    implicitWidth: Math.max(theme.touch * 2.2, Math.max(label.implicitWidth, subLabel.implicitWidth) + theme.pad * 2)
    radius: theme.radius
    // disabled: one look for every button, primary or plain (flat grey, grey words, no border)
    readonly property color ink: !active ? "#7d8794" : (primary ? theme.primaryText : theme.text)
    color: !active ? "#e4e8ed" : (area.pressed ? Qt.darker(tint, 1.15) : tint)
    border.width: primary || !active ? 0 : theme.border
    border.color: theme.line

    Column {
        anchors.centerIn: parent
        width: parent.width - theme.pad
        spacing: 4
        Text {
            textFormat: Text.PlainText
            id: label
            width: parent.width
            text: button.text
            font.pixelSize: theme.large
            font.bold: true
            color: button.ink
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            textFormat: Text.PlainText
            id: subLabel
            width: parent.width
            visible: button.sub !== ""
            text: button.sub
            font.pixelSize: theme.small
            color: !button.active ? button.ink : (button.primary ? theme.primaryText : theme.muted)
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
    }
    MouseArea {
        id: area
        anchors.fill: parent
        enabled: button.active
        onClicked: button.clicked()
    }
}
