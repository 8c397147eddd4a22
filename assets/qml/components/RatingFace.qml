import QtQuick

// One of the five faces of a rating (好差评), drawn (no emoji font on kiosks): the mouth curves
// with the level. The tablet and the terminal (and the phone page to come) show the same faces.
Canvas {
    property int level: 3
    objectName: "rating_face_" + level
    onLevelChanged: requestPaint()
    onWidthChanged: requestPaint()
    onHeightChanged: requestPaint()
    onPaint: {
        var c = getContext("2d")
        var w = width, h = height
        c.reset()
        c.lineWidth = Math.max(3, w * 0.05)
        c.strokeStyle = "#0b3f80"
        c.fillStyle = "#fff4d6"
        c.beginPath(); c.arc(w / 2, h / 2, w * 0.45, 0, Math.PI * 2); c.fill(); c.stroke()
        c.fillStyle = "#0b3f80"
        c.beginPath(); c.arc(w * 0.35, h * 0.4, w * 0.05, 0, Math.PI * 2); c.fill()
        c.beginPath(); c.arc(w * 0.65, h * 0.4, w * 0.05, 0, Math.PI * 2); c.fill()
        var curve = (level - 3) * 0.09   // >0 smile, <0 frown
        var y = h * 0.66 - curve * h * 0.3
        c.beginPath()
        c.moveTo(w * 0.3, y)
        c.quadraticCurveTo(w * 0.5, y + curve * h * 1.2, w * 0.7, y)
        c.stroke()
    }
}
