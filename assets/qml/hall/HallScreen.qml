import QtQuick

// The hall screen (大厅屏): the newest call large (flashing briefly), the last 10 calls, waiting
// per service with estimated wait, the window grid (a big hall: its open windows, a page at a time), today's
// figures with a chart of waiting through the day, and a scrolling notice. Broker gone: a
// small mark, the last state stays. Nothing animates while nothing changes, except one pass
// of the notice now and then.
Rectangle {
    id: root
    required property QtObject shell
    required property QtObject theme
    required property QtObject vm
    readonly property var s: shell ? shell.strings : ({})
    function tr(t) { return t && shell ? (t[shell.language] || t["zh_CN"] || "") : "" }
    readonly property bool ready: shell !== null && vm !== null
    // each read of a view-model section converts all of it from Python: the calls are read once
    // here on each change, and everything below reads this
    readonly property var calls: ready ? vm.calls : ({ has: false, newest: {}, recent: [], flashSeq: 0 })
    readonly property var windows: ready ? vm.windows : []
    readonly property real u: Math.min(width / 1920, height / 1080)
    readonly property color bg: "#071631"
    readonly property color panel: "#0e2650"
    readonly property color ink: "#ffffff"
    readonly property color dim: "#9fb3d1"
    // a called number needs 7:1 (issue 16): this yellow is 7.4:1 on the 正在呼叫 red, 8:1 on a serving
    // tile, 7.5:1 on a paused one (#ffc400 was 6.1:1 and 6.5:1)
    readonly property color amber: "#ffe066"
    readonly property bool flashing: flash.running
    // more than 24 windows: the grid takes most of the screen, so every tile reads from 8-10 m
    readonly property bool bigHall: windows.length > 24
    color: bg

    function statusColor(st) {
        // dark enough that the amber ticket stays at 7:1 and the white words at 4.5:1 and more
        return st === "serving" ? "#0c4a22" : st === "paused" ? "#6b3500" : st === "idle" ? "#1f4b8f" : "#2e3746"
    }

    // --- a big hall's lists that do not fit at a readable size turn a page every 10 s ----------
    property int pageTick: 0
    Timer {
        objectName: "hall_pager"
        interval: 10000
        repeat: true
        running: gridArea.pages > 1 || waitCol.pages > 1
        onTriggered: root.pageTick++
    }

    // --- flash the newest call for a few seconds --------------------------------------------
    property int seenSeq: -1
    onCallsChanged: {
        if (calls.flashSeq !== seenSeq) {
            var first = seenSeq < 0
            seenSeq = calls.flashSeq
            if (!first || calls.flashSeq > 0) flash.restart()
        }
    }
    Component.onCompleted: if (ready) seenSeq = calls.flashSeq
    SequentialAnimation {
        id: flash
        loops: 5
        // the panel's rim flashes, not its red: a lighter red took the number under 7:1 (5:1)
        ColorAnimation { target: newest; property: "border.color"; to: root.amber; duration: 300 }
        ColorAnimation { target: newest; property: "border.color"; to: "#8a1010"; duration: 300 }
        onStopped: newest.border.color = "#8a1010"
    }

    // --- header -------------------------------------------------------------------------------
    Rectangle {
        id: header
        anchors { left: parent.left; right: parent.right; top: parent.top }
        height: 90 * root.u
        color: "#0b3f80"
        Text {
            textFormat: Text.PlainText
            anchors { left: parent.left; leftMargin: 30 * root.u; verticalCenter: parent.verticalCenter }
            text: root.ready ? root.shell.hallName : ""
            color: root.ink
            font.pixelSize: 52 * root.u
            font.bold: true
        }
        Row {
            anchors { right: parent.right; rightMargin: 30 * root.u; verticalCenter: parent.verticalCenter }
            spacing: 24 * root.u
            Text {
                textFormat: Text.PlainText
                anchors.verticalCenter: parent.verticalCenter
                text: root.ready ? root.shell.date : ""
                color: root.dim
                font.pixelSize: 30 * root.u
            }
            Text {
                textFormat: Text.PlainText
                anchors.verticalCenter: parent.verticalCenter
                text: root.ready ? root.shell.clock : ""
                color: root.ink
                font.pixelSize: 52 * root.u
                font.bold: true
            }
        }
    }

    // --- broker gone: a band readable across the hall; the last state stays below it ----------
    Rectangle {
        objectName: "hall_offline"
        visible: root.ready && root.shell.offline
        z: 10
        anchors { left: parent.left; right: parent.right; top: header.bottom }
        height: 84 * root.u
        color: "#8e0000"
        Text {
            textFormat: Text.PlainText
            anchors.fill: parent
            anchors.margins: 8 * root.u
            horizontalAlignment: Text.AlignHCenter
            verticalAlignment: Text.AlignVCenter
            text: root.s.hall_offline
            color: "#ffffff"
            font.bold: true
            font.pixelSize: 52 * root.u
            fontSizeMode: Text.Fit
            minimumPixelSize: 16
        }
    }

    // --- notice (bottom) ----------------------------------------------------------------------
    Rectangle {
        id: noticeBar
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: root.ready && root.shell.notice !== "" ? 64 * root.u : 0
        visible: height > 0
        color: "#0b3f80"
        Rectangle {
            id: noticeLabel
            anchors { left: parent.left; top: parent.top; bottom: parent.bottom }
            width: noticeLabelText.implicitWidth + 40 * root.u
            color: "#c62828"
            Text { textFormat: Text.PlainText; id: noticeLabelText; anchors.centerIn: parent; text: root.s.hall_notice; color: "white"; font.pixelSize: 32 * root.u; font.bold: true }
        }
        Item {
            id: track
            anchors { left: noticeLabel.right; right: parent.right; top: parent.top; bottom: parent.bottom; leftMargin: 20 * root.u }
            clip: true
            Text {
                textFormat: Text.PlainText
                id: noticeText
                objectName: "hall_notice"
                anchors.verticalCenter: parent.verticalCenter
                text: root.ready ? root.shell.notice : ""
                color: root.ink
                font.pixelSize: 34 * root.u
                readonly property bool scrolls: implicitWidth > track.width
                x: 0
                // drawn once into a cached layer while it moves: each step only moves that picture
                // (whole pixels, so nothing is resampled) instead of laying out the glyphs again
                layer.enabled: track.passing
                layer.smooth: false
            }
            // One pass across, then still for a minute; a notice that fits never moves. The pass
            // steps at 25 frames a second (plenty for text moving 110 px/s, and a third of the
            // drawing a 60 Hz animation would cost on a software-rendered screen), by whole pixels.
            property bool passing: false
            property real offset: 0
            Timer {
                id: rest
                interval: 60000
                repeat: true
                running: noticeText.scrolls && !track.passing
                onTriggered: { track.offset = track.width; noticeText.x = track.width; track.passing = true }
            }
            Timer {
                objectName: "hall_notice_step"
                interval: 40
                repeat: true
                running: track.passing
                onTriggered: {
                    track.offset -= 110 * root.u * interval / 1000
                    noticeText.x = Math.round(track.offset)
                    if (track.offset < -noticeText.implicitWidth) { noticeText.x = 0; track.passing = false }
                }
            }
        }
    }

    // --- left: calls ------------------------------------------------------------------------------
    Item {
        id: left
        anchors { left: parent.left; top: header.bottom; bottom: noticeBar.top; margins: 24 * root.u }
        width: parent.width * (root.bigHall ? 0.26 : 0.36)  // a big hall gives its window grid the room
        Rectangle {
            id: newest
            objectName: "hall_newest"
            anchors { left: parent.left; right: parent.right; top: parent.top }
            height: parent.height * 0.42
            radius: 18 * root.u
            color: "#8a1010"
            border.width: 10 * root.u
            border.color: "#8a1010"
            Text {
                textFormat: Text.PlainText
                anchors { left: parent.left; top: parent.top; margins: 16 * root.u }
                text: root.s.hall_calling
                color: "#ffcdd2"
                font.pixelSize: 30 * root.u
                font.bold: true
            }
            Column {
                anchors.centerIn: parent
                anchors.verticalCenterOffset: 16 * root.u
                width: parent.width * 0.92
                visible: root.ready && root.calls.has
                Text {
                    textFormat: Text.PlainText
                    objectName: "hall_newest_ticket"
                    width: parent.width
                    height: newest.height * 0.46
                    verticalAlignment: Text.AlignVCenter
                    fontSizeMode: Text.Fit
                    horizontalAlignment: Text.AlignHCenter
                    text: root.ready && root.calls.has ? root.calls.newest.ticket : ""
                    color: root.amber
                    font.pixelSize: 220 * root.u
                    font.bold: true
                    minimumPixelSize: 40
                }
                Text {
                    textFormat: Text.PlainText
                    objectName: "hall_newest_window"
                    width: parent.width
                    height: newest.height * 0.22
                    verticalAlignment: Text.AlignVCenter
                    horizontalAlignment: Text.AlignHCenter
                    text: root.ready && root.calls.has ? "→ " + root.tr(root.calls.newest.windowName) : ""
                    color: root.ink
                    font.pixelSize: 80 * root.u
                    font.bold: true
                    fontSizeMode: Text.Fit
                    minimumPixelSize: 24
                }
                Text {
                    textFormat: Text.PlainText
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    visible: text !== ""
                    text: root.ready && root.calls.has ? root.calls.newest.name : ""
                    color: "#ffcdd2"
                    font.pixelSize: 40 * root.u
                }
            }
            Text {
                textFormat: Text.PlainText
                anchors.centerIn: parent
                visible: root.ready && !root.calls.has
                text: root.s.hall_no_calls
                color: "#ffcdd2"  // 6.9:1 on the red (the blue-grey dim was 4.5:1 there)
                font.pixelSize: 60 * root.u
            }
        }
        Rectangle {
            anchors { left: parent.left; right: parent.right; top: newest.bottom; bottom: parent.bottom; topMargin: 20 * root.u }
            radius: 18 * root.u
            color: root.panel
            Text {
                textFormat: Text.PlainText
                id: recentTitle
                anchors { left: parent.left; top: parent.top; margins: 16 * root.u }
                text: root.s.hall_recent
                color: root.dim
                font.pixelSize: 30 * root.u
                font.bold: true
            }
            Grid {
                id: recentGrid
                anchors { left: parent.left; right: parent.right; top: recentTitle.bottom; bottom: parent.bottom; margins: 16 * root.u }
                // two columns of calls when every "A002 → window" fits in half the width, else one
                // (a big hall's narrower column; English window names): five calls, names whole
                columns: {
                    if (root.bigHall || !root.ready) return 1
                    var half = (width - columnSpacing) / 2, recent = root.calls.recent
                    for (var i = 0; i < Math.min(recent.length, 10); i++) {
                        if (recentTicketFont.advanceWidth(recent[i].ticket) + 12 * root.u
                            + recentWindowFont.advanceWidth("→ " + root.tr(recent[i].windowName)) > half) return 1
                    }
                    return 2
                }
                columnSpacing: 16 * root.u
                // a big hall: four calls a column, larger (its grid already shows every ticket being served)
                readonly property int rows: root.bigHall ? 4 : 5
                readonly property real cellH: height / rows
                FontMetrics { id: recentTicketFont; font.pixelSize: Math.min((root.bigHall ? 80 : 56) * root.u, recentGrid.cellH * 0.6); font.bold: true }
                FontMetrics { id: recentWindowFont; font.pixelSize: Math.min((root.bigHall ? 52 : 40) * root.u, recentGrid.cellH * 0.45) }
                readonly property var shown: root.ready ? root.calls.recent.slice(0, columns * rows) : []
                Repeater {
                    model: recentGrid.shown.length  // a count, as the grid's (see there)
                    Item {
                        readonly property var entry: recentGrid.shown[index] || ({})
                        objectName: "hall_recent_" + index
                        width: (recentGrid.width - recentGrid.columnSpacing * (recentGrid.columns - 1)) / recentGrid.columns
                        height: recentGrid.cellH
                        Text {
                            textFormat: Text.PlainText
                            id: rt
                            objectName: "hall_recent_ticket_" + index
                            anchors { left: parent.left; verticalCenter: parent.verticalCenter }
                            text: entry.ticket
                            color: root.ink
                            font: recentTicketFont.font
                        }
                        Text {
                            textFormat: Text.PlainText
                            anchors { left: rt.right; leftMargin: 12 * root.u; right: parent.right; verticalCenter: parent.verticalCenter }
                            text: "→ " + root.tr(entry.windowName)
                            color: root.dim
                            font: recentWindowFont.font
                            fontSizeMode: Text.HorizontalFit  // a name longer than any seen yet: smaller, whole
                            minimumPixelSize: 12
                        }
                    }
                }
            }
        }
    }

    // --- right: windows grid, waiting, figures -------------------------------------------------
    Item {
        id: right
        anchors { left: left.right; right: parent.right; top: header.bottom; bottom: noticeBar.top; margins: 24 * root.u }
        Rectangle {
            id: gridPanel
            anchors { left: parent.left; right: parent.right; top: parent.top }
            height: parent.height * (root.bigHall ? 0.7 : 0.5)
            radius: 18 * root.u
            color: root.panel
            Text {
                textFormat: Text.PlainText
                id: gridTitle
                anchors { left: parent.left; top: parent.top; margins: 12 * root.u }
                text: root.s.hall_windows
                color: root.dim
                font.pixelSize: (root.bigHall ? 30 : 26) * root.u
                font.bold: true
            }
            // a big hall names how many windows it leaves out, and which page of the open ones shows
            Text {
                textFormat: Text.PlainText
                objectName: "hall_grid_note"
                anchors { left: gridTitle.right; right: parent.right; baseline: gridTitle.baseline; leftMargin: 24 * root.u; rightMargin: 16 * root.u }
                visible: root.bigHall
                horizontalAlignment: Text.AlignRight
                text: !root.bigHall ? ""
                    : root.s.hall_windows_open.arg(gridArea.shown.length).arg(gridArea.all.length - gridArea.shown.length)
                      + (gridArea.pages > 1 ? "   " + root.s.hall_page.arg(gridArea.page + 1).arg(gridArea.pages) : "")
                color: root.ink
                font.pixelSize: 30 * root.u
                fontSizeMode: Text.HorizontalFit
                minimumPixelSize: 12
            }
            Item {
                id: gridArea
                objectName: "hall_grid"
                anchors { left: parent.left; right: parent.right; top: gridTitle.bottom; bottom: parent.bottom; margins: 12 * root.u }
                readonly property var all: root.windows
                // A big hall (Qmatic-style hall boards do the same) shows only the windows open today,
                // each at a size read from 8-10 m, a page at a time when they do not all fit; the
                // closed ones are counted in the title. A small hall shows every window.
                readonly property var shown: root.bigHall ? all.filter(function (w) { return w.open }) : all
                readonly property real gap: 8 * root.u
                // the smallest big-hall cell: the window's number and the ticket ~90 px tall at 1080p
                readonly property int maxCols: root.bigHall ? Math.max(1, Math.floor((width + gap) / (330 * root.u + gap))) : Math.max(1, shown.length)
                readonly property int maxRows: root.bigHall ? Math.max(1, Math.floor((height + gap) / (150 * root.u + gap))) : Math.max(1, shown.length)
                readonly property int perPage: Math.max(1, Math.min(shown.length, maxCols * maxRows))
                readonly property int pages: Math.max(1, Math.ceil(shown.length / perPage))
                readonly property int page: root.pageTick % pages
                readonly property var pageWindows: shown.slice(page * perPage, (page + 1) * perPage)
                readonly property int n: perPage
                // the column count that gives the largest cells of about 1.6:1 (2.2:1 for a big hall,
                // whose cells put the number and the ticket side by side)
                readonly property real aspect: root.bigHall ? 2.2 : 1.6
                readonly property int cols: {
                    var best = 1, bestSize = 0
                    for (var c = 1; c <= Math.min(n, maxCols); c++) {
                        var rows = Math.ceil(n / c)
                        var size = Math.min(width / c / aspect, height / rows)
                        if (size > bestSize) { bestSize = size; best = c }
                    }
                    return best
                }
                readonly property int rows: Math.max(1, Math.ceil(n / cols))
                readonly property real cellW: (width - gap * (cols - 1)) / cols
                readonly property real cellH: (height - gap * (rows - 1)) / rows
                Text {
                    textFormat: Text.PlainText
                    objectName: "hall_no_windows_open"
                    anchors.centerIn: parent
                    visible: root.ready && gridArea.shown.length === 0
                    text: root.s.hall_no_windows_open
                    color: root.ink
                    font.pixelSize: 80 * root.u
                    font.bold: true
                }
                // Repeaters here count their rows instead of holding the JS array: a new array of the
                // same length (every call) then only updates each delegate's bindings through `entry`
                // instead of destroying and building every delegate again (felt.md: ~5 ms a call)
                Repeater {
                    model: gridArea.pageWindows.length
                    Rectangle {
                        readonly property var entry: gridArea.pageWindows[index] || ({})
                        objectName: "hall_window_" + entry.id
                        x: (index % gridArea.cols) * (gridArea.cellW + gridArea.gap)
                        y: Math.floor(index / gridArea.cols) * (gridArea.cellH + gridArea.gap)
                        width: gridArea.cellW
                        height: gridArea.cellH
                        radius: 8 * root.u
                        color: root.statusColor(entry.status)
                        // a small hall's cells: name over ticket; a big hall's: the window's number on a
                        // light label, the ticket beside it, so "13" and "A002" never run together
                        readonly property bool flat: root.bigHall
                        readonly property real pad: (flat ? 8 : 4) * root.u
                        Rectangle {
                            id: idLabel
                            visible: parent.flat
                            anchors { left: parent.left; top: parent.top; bottom: parent.bottom; margins: parent.pad }
                            width: Math.min(parent.width * 0.4, parent.height * 1.2)
                            radius: 6 * root.u
                            color: "#e8eef7"
                        }
                        Text {
                            textFormat: Text.PlainText
                            id: wname
                            objectName: "hall_window_name_" + entry.id
                            anchors { left: parent.left; top: parent.top; margins: parent.pad }
                            width: parent.flat ? idLabel.width : parent.width - 2 * parent.pad
                            height: parent.flat ? parent.height - 2 * parent.pad : parent.height * 0.42
                            horizontalAlignment: Text.AlignHCenter
                            verticalAlignment: Text.AlignVCenter
                            text: parent.flat ? entry.id : root.tr(entry.name)
                            color: parent.flat ? "#0b1f3f" : root.ink
                            font.bold: true
                            font.pixelSize: parent.flat ? Math.min(150 * root.u, parent.height * 0.8) : 200
                            fontSizeMode: Text.Fit
                            minimumPixelSize: 8
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "hall_window_ticket_" + entry.id
                            anchors { right: parent.right; bottom: parent.bottom; margins: parent.pad }
                            width: parent.flat ? parent.width - idLabel.width - 4 * parent.pad : parent.width - 2 * parent.pad
                            height: parent.flat ? parent.height - 2 * parent.pad : parent.height * 0.58 - 2 * parent.pad
                            horizontalAlignment: Text.AlignHCenter
                            verticalAlignment: Text.AlignVCenter
                            text: entry.ticket !== "" ? entry.ticket : root.tr(entry.statusText)
                            color: entry.ticket !== "" ? root.amber : "#ffffff"
                            font.bold: true
                            // a big hall's state word stays below the ticket numbers it stands among
                            font.pixelSize: !parent.flat ? 200 : entry.ticket !== "" ? Math.min(150 * root.u, parent.height * 0.8)
                                                                                           : Math.min(60 * root.u, parent.height * 0.4)
                            fontSizeMode: Text.Fit
                            minimumPixelSize: 8
                            wrapMode: parent.flat && entry.ticket === "" ? Text.WordWrap : Text.NoWrap
                        }
                    }
                }
            }
        }
        Rectangle {
            id: waitPanel
            anchors { left: parent.left; top: gridPanel.bottom; bottom: parent.bottom; topMargin: 20 * root.u }
            width: parent.width * (root.bigHall ? 0.62 : 0.56) - 10 * root.u  // room for whole names (English runs long)
            radius: 18 * root.u
            color: root.panel
            Text {
                textFormat: Text.PlainText
                id: waitTitle
                anchors { left: parent.left; top: parent.top; margins: 12 * root.u }
                text: root.s.hall_waiting + (waitCol.pages > 1 ? "   " + root.s.hall_page.arg(waitCol.page + 1).arg(waitCol.pages) : "")
                color: root.dim
                font.pixelSize: 26 * root.u
                font.bold: true
            }
            Grid {
                id: waitCol
                anchors { left: parent.left; right: parent.right; top: waitTitle.bottom; bottom: parent.bottom; margins: 12 * root.u }
                columns: 1
                // a big hall's lower panel is short: rows stay readable (30 px at 1080p), a page at a time
                readonly property var services: root.ready ? root.vm.queue.services : []
                readonly property int perPage: root.bigHall ? Math.max(1, Math.floor(height / (42 * root.u))) : Math.max(1, services.length)
                readonly property int pages: Math.max(1, Math.ceil(services.length / perPage))
                readonly property int page: root.pageTick % pages
                readonly property real rowH: height / Math.min(perPage, Math.max(1, services.length))
                readonly property real colW: width
                readonly property var pageServices: services.slice(page * perPage, (page + 1) * perPage)
                Repeater {
                    model: waitCol.pageServices.length  // a count, as the grid's (see there)
                    Item {
                        readonly property var entry: waitCol.pageServices[index] || ({})
                        objectName: "hall_wait_" + entry.code
                        width: waitCol.colW
                        height: waitCol.rowH
                        readonly property real fs: Math.min(30 * root.u, height * 0.7)
                        // the name takes what the count and the wait leave, and shrinks to stay whole
                        // (English names run long) rather than lose its end
                        Text {
                            textFormat: Text.PlainText
                            objectName: "hall_wait_name_" + entry.code
                            anchors { left: parent.left; right: waitCount.left; rightMargin: 10 * root.u; verticalCenter: parent.verticalCenter }
                            text: entry.code + " " + root.tr(entry.name)
                            color: root.ink
                            font.pixelSize: parent.fs
                            fontSizeMode: Text.HorizontalFit
                            minimumPixelSize: 10
                        }
                        Text {
                            textFormat: Text.PlainText
                            id: waitCount
                            objectName: "hall_wait_count_" + entry.code
                            anchors { right: waitWords.left; rightMargin: 12 * root.u; verticalCenter: parent.verticalCenter }
                            width: parent.fs * 1.4
                            horizontalAlignment: Text.AlignRight
                            text: entry.waiting
                            color: root.amber
                            font.pixelSize: parent.fs
                            font.bold: true
                        }
                        Text {
                            textFormat: Text.PlainText
                            id: waitWords
                            objectName: "hall_wait_text_" + entry.code
                            anchors { right: parent.right; verticalCenter: parent.verticalCenter }
                            width: Math.min(implicitWidth, parent.width * 0.4)
                            horizontalAlignment: Text.AlignRight
                            text: root.tr(entry.waitText)
                            color: entry.windowsOpen === 0 ? "#ffb74d" : root.dim
                            font.pixelSize: parent.fs * 0.9
                            fontSizeMode: Text.HorizontalFit
                            minimumPixelSize: 10
                        }
                    }
                }
            }
        }
        Rectangle {
            id: statsPanel
            anchors { right: parent.right; top: gridPanel.bottom; bottom: parent.bottom; topMargin: 20 * root.u }
            width: parent.width * (root.bigHall ? 0.38 : 0.44) - 10 * root.u
            radius: 18 * root.u
            color: root.panel
            Text {
                textFormat: Text.PlainText
                id: statsTitle
                anchors { left: parent.left; top: parent.top; margins: 12 * root.u }
                text: root.s.hall_today
                color: root.dim
                font.pixelSize: 26 * root.u
                font.bold: true
            }
            Row {
                id: figures
                anchors { left: parent.left; right: parent.right; top: statsTitle.bottom; margins: 12 * root.u }
                height: parent.height * 0.36
                // read once per change; a count for the Repeater, so its delegates stay (see the grid)
                readonly property var stats: root.ready ? root.vm.stats : ({})
                readonly property var items: root.ready ? [
                    { key: "hall_tickets", value: String(stats.tickets), name: "tickets" },
                    { key: "hall_served", value: String(stats.served), name: "served" },
                    { key: "hall_avg_wait", value: root.s.hall_minutes.arg(stats.avgWaitMin), name: "avg_wait" },
                    { key: "hall_satisfaction", value: stats.satisfaction, name: "satisfaction", note: root.tr(stats.satisfactionNote) },
                    { key: "hall_on_time", value: stats.onTime, name: "on_time" }
                ] : []
                Repeater {
                    model: figures.items.length
                    Column {
                        readonly property var entry: figures.items[index] || ({})
                        width: figures.width / 5
                        Text {
                            textFormat: Text.PlainText
                            objectName: "hall_figure_" + entry.name
                            width: parent.width
                            horizontalAlignment: Text.AlignHCenter
                            text: entry.value
                            color: root.ink
                            font.pixelSize: 44 * root.u
                            font.bold: true
                            fontSizeMode: Text.HorizontalFit
                            minimumPixelSize: 12
                        }
                        Text {
                            textFormat: Text.PlainText
                            width: parent.width
                            horizontalAlignment: Text.AlignHCenter
                            text: root.s[entry.key]
                            color: root.dim
                            font.pixelSize: 22 * root.u
                            fontSizeMode: Text.HorizontalFit
                            minimumPixelSize: 10
                        }
                        Text {
                            textFormat: Text.PlainText
                            objectName: "hall_figure_note_" + entry.name
                            width: parent.width
                            horizontalAlignment: Text.AlignHCenter
                            visible: text !== ""
                            text: entry.note || ""
                            color: root.dim
                            font.pixelSize: 18 * root.u
                            wrapMode: Text.Wrap
                        }
                    }
                }
            }
            // waiting through the day: one bar per half hour, drawn only when a sample changes
            Item {
                id: chart
                objectName: "hall_chart"
                visible: !root.bigHall  // a big hall's grid needs the room more than the chart
                anchors { left: parent.left; right: parent.right; top: figures.bottom; bottom: parent.bottom; margins: 12 * root.u }
                Text {
                    textFormat: Text.PlainText
                    id: chartTitle
                    text: root.s.hall_chart
                    color: root.dim
                    font.pixelSize: 20 * root.u
                }
                Row {
                    id: bars
                    anchors { left: parent.left; right: parent.right; top: chartTitle.bottom; bottom: parent.bottom; bottomMargin: 22 * root.u; topMargin: 4 }
                    spacing: 3 * root.u
                    readonly property var c: root.ready ? root.vm.chart : ({ values: [], max: 1, labels: [], now: -1 })
                    Repeater {
                        model: bars.c.values.length
                        Item {
                            width: (bars.width - bars.spacing * (bars.c.values.length - 1)) / bars.c.values.length
                            height: bars.height
                            Rectangle {
                                anchors.bottom: parent.bottom
                                width: parent.width
                                height: Math.max(2, parent.height * bars.c.values[index] / bars.c.max)
                                color: index === bars.c.now ? root.amber : "#4f83cc"
                            }
                            Text {
                                textFormat: Text.PlainText
                                anchors { top: parent.bottom; horizontalCenter: parent.left }
                                text: bars.c.labels[index]
                                color: root.dim
                                font.pixelSize: 16 * root.u
                            }
                        }
                    }
                }
            }
        }
    }
}
