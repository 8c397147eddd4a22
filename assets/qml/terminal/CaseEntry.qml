import QtQuick
import "../components"

// Case number + last 6 of the ID number, typed on an on-screen keyboard.
// `flow` has caseNo, verify, field; `prefix` names the view-model slots (case* or rate*).
Item {
    id: entry
    required property Item term
    required property var flow
    property string submitText: ""
    signal focusField(string name)
    signal key(string name)
    signal submit()
    readonly property QtObject theme: term.theme
    readonly property var s: term.s
    readonly property bool onCase: flow.field !== "verify"

    Column {
        id: fields
        anchors { left: parent.left; top: parent.top }
        width: parent.width * 0.38
        spacing: theme.gap * 0.6
        Repeater {
            model: [
                { name: "caseNo", label: "cases_case_no", value: entry.flow.caseNo },
                { name: "verify", label: "cases_verify", value: entry.flow.verify }
            ]
            Column {
                width: fields.width
                spacing: 4
                Text { textFormat: Text.PlainText; text: entry.s[modelData.label]; font.pixelSize: theme.small; color: theme.muted }
                Rectangle {
                    objectName: "field_" + modelData.name
                    width: parent.width
                    height: theme.touch * 0.85
                    radius: theme.radius * 0.6
                    color: theme.surface
                    border.width: entry.flow.field === modelData.name ? theme.border + 2 : theme.border
                    border.color: entry.flow.field === modelData.name ? theme.primary : theme.line
                    Text {
                        textFormat: Text.PlainText
                        anchors { left: parent.left; leftMargin: theme.gap; verticalCenter: parent.verticalCenter; right: parent.right; rightMargin: theme.gap }
                        text: modelData.value + (entry.flow.field === modelData.name ? "▏" : "")
                        font.pixelSize: theme.title
                        font.family: "Noto Sans Mono CJK SC"
                        color: theme.text
                        elide: Text.ElideLeft
                    }
                    MouseArea { anchors.fill: parent; onClicked: entry.focusField(modelData.name) }
                }
            }
        }
        MessageBand { theme: entry.theme; width: parent.width; text: entry.term.tr(entry.flow.error) }
        BigButton {
            objectName: "entry_submit"
            theme: entry.theme
            primary: true
            width: parent.width
            text: entry.submitText
            onClicked: entry.submit()
        }
    }

    Keypad {
        objectName: "entry_keypad"
        theme: entry.theme
        anchors { right: parent.right; top: parent.top }
        visible: entry.onCase
        keyWidth: Math.min(theme.touch * 1.05, (entry.width * 0.58 - spacing * 9) / 10)  // ten keys a row, at least 60 px
        keyHeight: Math.min(theme.touch, (entry.height - spacing * 3) / 4)
        rows: [["1","2","3","4","5","6","7","8","9","0"], ["Q","W","E","R","T","Y","U","I","O","P"], ["A","S","D","F","G","H","J","K","L"], ["Z","X","C","V","B","N","M","-","back"]]
        onKey: (name) => entry.key(name)
    }
    Keypad {
        objectName: "verify_keypad"
        theme: entry.theme
        anchors { right: parent.right; rightMargin: entry.width * 0.1; top: parent.top }
        visible: !entry.onCase
        keyWidth: theme.touch * 1.5
        keyHeight: Math.min(theme.touch, (entry.height - spacing * 3) / 4)
        prefix: "vkey_"
        rows: [["1","2","3"], ["4","5","6"], ["7","8","9"], ["X","0","back"]]
        onKey: (name) => entry.key(name)
    }
}
