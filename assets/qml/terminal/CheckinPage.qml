import QtQuick
Item { property Item term }
