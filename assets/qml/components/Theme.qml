import QtQuick

// Sizes and colours of every screen; `elderly` switches to large print and high contrast (适老化).
QtObject {
    property bool elderly: false
    property real shortSide: 1080
    readonly property real u: Math.max(0.55, shortSide / 1080)
    readonly property real scale: elderly ? 1.3 : 1.0

    // type sizes (px)
    readonly property int small: Math.round(24 * u * scale)
    readonly property int body: Math.round(30 * u * scale)
    readonly property int large: Math.round(38 * u * scale)
    readonly property int title: Math.round(48 * u * scale)
    readonly property int huge: Math.round(150 * u * (elderly ? 1.15 : 1.0))

    // touch targets: at least 15 mm; 96 px is 16 mm at 150 dpi, and more on a big screen
    readonly property int touch: Math.max(96, Math.round(112 * u * (elderly ? 1.15 : 1.0)))
    readonly property int gap: Math.round(20 * u)
    readonly property int pad: Math.round(32 * u)
    readonly property int radius: Math.round(18 * u)
    readonly property int border: elderly ? 4 : 2

    // colours
    readonly property color bg: elderly ? "#ffffff" : "#eef2f7"
    readonly property color surface: "#ffffff"
    readonly property color text: elderly ? "#000000" : "#1b2330"
    readonly property color muted: elderly ? "#1b1b1b" : "#5a6577"
    readonly property color primary: elderly ? "#002f6c" : "#0b57b0"
    readonly property color primaryText: "#ffffff"
    readonly property color accent: elderly ? "#8a0000" : "#c62828"
    readonly property color ok: elderly ? "#004d1a" : "#1b7f3b"
    readonly property color warn: elderly ? "#6b3d00" : "#b35c00"
    readonly property color line: elderly ? "#000000" : "#cfd8e3"
    readonly property color bar: elderly ? "#000000" : "#0b3f80"
    readonly property color errorBg: elderly ? "#fff0f0" : "#fdecea"

    // fewer items per screen in elderly mode
    readonly property int columns: elderly ? 2 : 3
    readonly property int pageSize: elderly ? 4 : 9
    readonly property int listPage: elderly ? 3 : 6
}
