import QtQuick

// The window display (窗口屏) above one window, read from 5 m: window name, the ticket called
// now (flashing for a few seconds on a new call or recall, then still), status, next numbers,
// staff. Two layouts: full (16:9, 1920x1080 or 1366x768) and a one-line strip (e.g. 1920x360).
// Nothing animates while nothing changes.
Rectangle {
    id: root
    required property QtObject shell
    required property QtObject theme
    required property QtObject vm
    readonly property var s: shell ? shell.strings : ({})
    function tr(t) { return t && shell ? (t[shell.language] || t["zh_CN"] || "") : "" }
    readonly property bool ready: shell !== null && vm !== null

    readonly property bool strip: ready && (vm.window.layout === "strip" || (vm.window.layout !== "full" && width / Math.max(1, height) >= 3))
    readonly property color bg: "#08162e"
    readonly property color ink: "#ffffff"
    readonly property color amber: "#ffc400"
    readonly property color dim: "#9fb3d1"
    readonly property string status: ready ? vm.window.status : "unknown"
    readonly property bool hasTicket: ready && vm.call.number !== "" && status === "serving"
    readonly property bool flashing: flash.running
    color: bg

    // --- flash on a new call: a few seconds, then the animation stops -------------------------
    property int seenSeq: -1
    Connections {
        target: root.vm
        function onCallChanged() {
            if (root.vm.call.flashSeq !== root.seenSeq) {
                var first = root.seenSeq < 0
                root.seenSeq = root.vm.call.flashSeq
                if (!first || root.vm.call.flashSeq > 0) flash.restart()
            }
        }
    }
    Component.onCompleted: if (ready) seenSeq = vm.call.flashSeq
    // The flash swaps hard between two legible states, so it draws the eye and never dims: the
    // box turns amber with the number in the dark background colour (10:1), then back to the
    // dark box with the amber number (8:1). It only ever applies while a ticket is shown: a
    // status word (请等候叫号, 暂停服务 ...) is always light on the dark box (12:1 or more).
    property bool flashOn: false
    readonly property color boxDark: "#12315f"
    readonly property color boxColor: hasTicket && flashOn ? amber : boxDark
    readonly property color numberColor: hasTicket && flashOn ? bg : amber
    readonly property color boxInk: hasTicket && flashOn ? bg : ink
    readonly property color pausedInk: "#ffb74d"
    SequentialAnimation {
        id: flash
        loops: 5
        PropertyAction { target: root; property: "flashOn"; value: true }
        PauseAnimation { duration: 320 }
        PropertyAction { target: root; property: "flashOn"; value: false }
        PauseAnimation { duration: 320 }
        onStopped: root.flashOn = false
    }

    Item {
        id: full
        visible: root.ready && !root.strip
        anchors.fill: parent
        anchors.margins: Math.round(root.height * 0.03)
        readonly property real u: Math.min(width / 1860, height / 1020)

        // window name and staff
        Item {
            id: head
            anchors { left: parent.left; right: parent.right; top: parent.top }
            height: parent.height * 0.22
            Text {
                textFormat: Text.PlainText
                objectName: "display_window_name"
                anchors { left: parent.left; top: parent.top; bottom: parent.bottom; right: staffCol.left; rightMargin: 20 }
                text: root.ready ? root.tr(root.vm.window.name) : ""
                color: root.ink
                font.bold: true
                font.pixelSize: 200 * full.u
                fontSizeMode: Text.Fit
                minimumPixelSize: 40
                verticalAlignment: Text.AlignVCenter
            }
            Column {
                id: staffCol
                anchors { right: parent.right; verticalCenter: parent.verticalCenter }
                width: parent.width * 0.36
                spacing: 6
                Text {
                    textFormat: Text.PlainText
                    objectName: "display_staff"
                    width: parent.width
                    horizontalAlignment: Text.AlignRight
                    visible: root.ready && root.vm.window.staffName !== ""
                    text: root.ready ? root.s.display_staff + "：" + root.vm.window.staffName : ""
                    color: root.ink
                    font.pixelSize: 64 * full.u
                    fontSizeMode: Text.HorizontalFit
                    minimumPixelSize: 24
                }
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    horizontalAlignment: Text.AlignRight
                    visible: text !== ""
                    text: root.ready ? root.tr(root.vm.window.staffTitle) : ""
                    color: root.dim
                    font.pixelSize: 44 * full.u
                }
            }
        }

        // the ticket called now, or the window's status
        Rectangle {
            id: ticketBox
            objectName: "display_ticket_box"
            anchors { left: parent.left; right: parent.right; top: head.bottom; topMargin: parent.height * 0.02 }
            height: parent.height * 0.56
            radius: 24 * full.u
            color: root.boxColor
            border.color: root.status === "paused" ? "#ff8f00" : "#2d5da8"
            border.width: 6 * full.u
            Column {
                anchors.centerIn: parent
                width: parent.width * 0.94
                visible: root.hasTicket
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    text: root.s.display_please
                    color: root.boxInk
                    font.pixelSize: 70 * full.u
                    font.bold: true
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "display_ticket"
                    width: parent.width
                    height: ticketBox.height * 0.6
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignVCenter
                    text: root.ready ? root.vm.call.number : ""
                    color: root.numberColor
                    font.pixelSize: 420 * full.u
                    fontSizeMode: Text.Fit
                    minimumPixelSize: 60
                    font.bold: true
                }
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    text: root.ready ? root.s.display_come.arg(root.tr(root.vm.call.serviceName)) : ""
                    color: root.boxInk
                    font.pixelSize: 64 * full.u
                    font.bold: true
                    fontSizeMode: Text.HorizontalFit
                    minimumPixelSize: 24
                }
            }
            Column {
                anchors.centerIn: parent
                width: parent.width * 0.94
                visible: !root.hasTicket
                spacing: 10
                Text {
                    textFormat: Text.PlainText
                    objectName: "display_status"
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    text: root.ready ? root.tr(root.vm.window.statusText) : ""
                    color: root.status === "paused" ? root.pausedInk : root.ink
                    font.pixelSize: 200 * full.u
                    fontSizeMode: Text.HorizontalFit
                    minimumPixelSize: 40
                    font.bold: true
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "display_pause_reason"
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    visible: root.status === "paused" && text !== ""
                    text: root.ready ? root.vm.window.pauseReason : ""
                    color: root.ink
                    font.pixelSize: 90 * full.u
                    fontSizeMode: Text.HorizontalFit
                    minimumPixelSize: 24
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "display_hint"
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    visible: root.ready && !(root.status === "paused" && root.vm.window.pauseReason !== "") && text !== ""
                    text: root.ready ? root.tr(root.vm.window.hint) : ""
                    color: root.ink
                    font.pixelSize: 90 * full.u
                    fontSizeMode: Text.HorizontalFit
                    minimumPixelSize: 24
                }
            }
        }

        // next numbers
        Row {
            anchors { left: parent.left; right: parent.right; top: ticketBox.bottom; topMargin: parent.height * 0.03; bottom: parent.bottom }
            spacing: 30 * full.u
            visible: root.ready && root.vm.window.next.length > 0
            Text {
                textFormat: Text.PlainText
                anchors.verticalCenter: parent.verticalCenter
                text: root.s.display_next
                color: root.dim
                font.pixelSize: 72 * full.u
                font.bold: true
            }
            Text {
                textFormat: Text.PlainText
                objectName: "display_next"
                anchors.verticalCenter: parent.verticalCenter
                text: root.ready ? root.vm.window.next.join("   ") : ""
                color: root.ink
                font.pixelSize: 96 * full.u
                font.bold: true
            }
        }
    }

    // --- strip: one line, for an LED-like bar ---------------------------------------------------
    Row {
        id: stripRow
        visible: root.ready && root.strip
        anchors.fill: parent
        anchors.margins: height * 0.06
        spacing: width * 0.02
        Text {
            textFormat: Text.PlainText
            objectName: "strip_window_name"
            width: parent.width * 0.3
            height: parent.height
            text: root.ready ? root.tr(root.vm.window.name) : ""
            color: root.ink
            font.bold: true
            font.pixelSize: parent.height * 0.6
            fontSizeMode: Text.Fit
            minimumPixelSize: 16
            verticalAlignment: Text.AlignVCenter
        }
        Rectangle {
            width: parent.width * 0.36
            height: parent.height
            radius: height * 0.08
            color: root.boxColor
            border.color: "#2d5da8"
            border.width: 3
            Text {
                textFormat: Text.PlainText
                objectName: "strip_ticket"
                anchors.fill: parent
                anchors.margins: parent.height * 0.06
                horizontalAlignment: Text.AlignHCenter
                verticalAlignment: Text.AlignVCenter
                text: root.hasTicket ? root.vm.call.number : (root.ready ? root.tr(root.vm.window.statusText) : "")
                color: root.hasTicket ? root.numberColor
                                      : (root.status === "paused" ? root.pausedInk : root.ink)
                font.bold: true
                font.pixelSize: parent.height * 0.8
                fontSizeMode: Text.Fit
                minimumPixelSize: 16
            }
        }
        Column {
            width: parent.width * 0.3
            height: parent.height
            Text {
                textFormat: Text.PlainText
                width: parent.width
                height: parent.height * 0.5
                text: !root.ready ? "" : root.hasTicket ? root.s.display_come.arg(root.tr(root.vm.call.serviceName))
                      : root.status === "paused" && root.vm.window.pauseReason !== "" ? root.vm.window.pauseReason
                      : root.tr(root.vm.window.hint)
                color: root.ink
                font.pixelSize: parent.height * 0.3
                fontSizeMode: Text.Fit
                minimumPixelSize: 12
                verticalAlignment: Text.AlignVCenter
            }
            Text {
                textFormat: Text.PlainText
                width: parent.width
                height: parent.height * 0.5
                objectName: "strip_next"
                visible: root.ready && root.vm.window.next.length > 0
                text: root.ready ? root.s.display_next + " " + root.vm.window.next.join(" ") : ""
                color: root.dim
                font.pixelSize: parent.height * 0.26
                fontSizeMode: Text.Fit
                minimumPixelSize: 12
                verticalAlignment: Text.AlignVCenter
            }
        }
    }

    // connection lost: a band readable from across the hall (the last state stays on screen
    // above it); in the strip it takes the right-hand column
    Rectangle {
        objectName: "display_offline"
        visible: root.ready && root.shell.offline
        anchors { right: parent.right; bottom: parent.bottom }
        width: root.strip ? parent.width * 0.32 : parent.width
        height: root.strip ? parent.height : parent.height * 0.16
        color: "#8e0000"
        Text {
            textFormat: Text.PlainText
            id: offlineText
            anchors.fill: parent
            anchors.margins: parent.height * 0.08
            horizontalAlignment: Text.AlignHCenter
            verticalAlignment: Text.AlignVCenter
            text: root.ready ? root.s.display_offline : ""
            color: "#ffffff"
            font.bold: true
            font.pixelSize: root.strip ? parent.height * 0.3 : parent.height * 0.5
            fontSizeMode: Text.Fit
            minimumPixelSize: 14
            wrapMode: Text.Wrap
        }
    }
}
