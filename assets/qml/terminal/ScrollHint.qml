import QtQuick

// Says that a list or a page goes on below: a bar in its own space under `target` (the target's
// bottom anchors to the bar's top), so a line cut by the list's edge never looks like the end and
// no line is hidden under the bar. The room is kept while the content is taller than the space the
// target and the bar share (measured from the target's parent, not from the target, so the bar's
// room never feeds back into whether it is needed); the bar shows until the end is in view.
// `overflow` is measured a moment after what it depends on changes: a ListView's contentHeight is
// an estimate that changes with its own height, which the bar's room changes (a binding loop).
Rectangle {
    id: hint
    required property Flickable target
    required property QtObject theme
    property string text: ""
    property bool overflow: false
    function measure() { overflow = target.contentHeight > target.parent.height - target.y + 1 }
    Component.onCompleted: measure()
    Connections {
        target: hint.target
        function onContentHeightChanged() { Qt.callLater(hint.measure) }
        function onYChanged() { Qt.callLater(hint.measure) }
    }
    Connections {
        target: hint.target.parent
        function onHeightChanged() { Qt.callLater(hint.measure) }
    }
    readonly property bool more: overflow && !target.atYEnd
    objectName: "scroll_hint"
    visible: more
    anchors { left: target.left; right: target.right; bottom: target.parent.bottom }
    // a touch target like any other: at least ~15 mm high (two thirds of a button)
    height: overflow ? Math.max(hintText.implicitHeight + theme.gap * 2, Math.round(theme.touch * 2 / 3)) : 0
    radius: theme.radius * 0.5
    color: theme.primary
    Text {
        textFormat: Text.PlainText
        id: hintText
        anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
        text: "▼  " + hint.text
        font.pixelSize: theme.body
        font.bold: true
        color: theme.primaryText
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.WordWrap  // a narrow list in large print: two lines, the bar grows with them
    }
    // a touch on the bar scrolls one screenful on
    MouseArea {
        anchors.fill: parent
        onClicked: hint.target.contentY = Math.min(hint.target.contentY + hint.target.height * 0.8,
                                                  hint.target.contentHeight - hint.target.height)
    }
}
