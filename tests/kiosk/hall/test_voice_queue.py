"""The hall's voice queue without Qt: order, no overlap, skip-to-newest, and the QtMultimedia player's pacing."""

from __future__ import annotations

import threading
import time
import wave
from io import BytesIO
from typing import Any

from devices.voice.announcer import Announcer
from kiosk.hall.voice import CallVoice
from tests.kiosk.rolefixtures import RecordingPlayer


def test_calls_queue_in_order_and_never_overlap() -> None:
    player = RecordingPlayer(0.03)
    voice = CallVoice(Announcer(player))
    try:
        calls = [(f"A{i:03d}", str(i % 3 + 1)) for i in range(8)]
        for ticket, window in calls:
            voice.call(ticket, window)
        assert voice.wait_idle(10)
        assert voice.spoken == calls
        assert not player.overlapped and len(player.spans) == 8
    finally:
        voice.close()


def test_skip_to_newest_collapses_a_burst_to_its_newest_call() -> None:
    player = RecordingPlayer(0.3)
    voice = CallVoice(Announcer(player), skip_to_newest=True)
    try:
        voice.call("A001", "1")
        assert player.started.wait(5)  # the first call is playing
        for i in range(2, 11):
            voice.call(f"A{i:03d}", "2")
        assert voice.wait_idle(10)
        assert voice.spoken == [("A001", "1"), ("A010", "2")]
        assert voice.skipped == 8
    finally:
        voice.close()


def test_the_qt_player_blocks_for_the_length_of_the_sound(qtbot: Any) -> None:
    from kiosk.hall.qtplayer import QtPlayer

    buf = BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 4000)  # 0.25 s
    player = QtPlayer(0.5)
    took: list[float] = []

    def play() -> None:
        t0 = time.monotonic()
        player.play(buf.getvalue())
        took.append(time.monotonic() - t0)

    thread = threading.Thread(target=play)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=5000)  # the GUI thread runs its event loop meanwhile
    assert 0.24 <= took[0] < 3.5
    assert player.played == 1
