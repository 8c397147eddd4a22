import QtQuick

// A QR code of `text`, drawn by the kiosk's image provider (image://qr/).
Rectangle {
    property string text: ""
    property int size: 300
    width: size
    height: size
    color: "white"
    Image {
        anchors.fill: parent
        visible: parent.text !== ""
        source: parent.text !== "" ? "image://qr/" + encodeURIComponent(parent.text) : ""
        sourceSize.width: parent.size
        sourceSize.height: parent.size
        fillMode: Image.PreserveAspectFit
        smooth: false
        cache: false
    }
}
