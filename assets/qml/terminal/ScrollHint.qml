import QtQuick

// Says that a list or a page goes on below (or above): a bar over the bottom edge of `target`
// while more of it is out of sight, so a line cut by the edge never looks like the end.
Rectangle {
    id: hint
    required property Flickable target
    required property QtObject theme
    property string text: ""
    readonly property bool more: target.contentHeight > target.height + 1 && !target.atYEnd
    objectName: "scroll_hint"
    visible: more
    anchors { left: target.left; right: target.right; bottom: target.bottom }
    height: hintText.implicitHeight + theme.gap
    radius: theme.radius * 0.5
    color: theme.primary
    opacity: 0.95
    Text {
        id: hintText
        anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
        text: "▼  " + hint.text
        font.pixelSize: theme.body
        font.bold: true
        color: theme.primaryText
        horizontalAlignment: Text.AlignHCenter
        elide: Text.ElideRight
    }
    // a touch on the bar scrolls one screenful on
    MouseArea {
        anchors.fill: parent
        onClicked: hint.target.contentY = Math.min(hint.target.contentY + hint.target.height * 0.8,
                                                  hint.target.contentHeight - hint.target.height)
    }
}
