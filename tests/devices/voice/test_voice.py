"""Voice calls: words and clip order, the WAV produced, and the queue that never overlaps calls."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from devices.voice.announcer import Announcer, ClipLibrary
from devices.voice.player import NullPlayer, PlayQueue, wav_seconds
from devices.voice.synth import SynthesisUnavailable, synthesize
from devices.voice.wav import RATE, read_wav, wav_bytes
from devices.voice.words import CLIP_WORDS, call_clips, call_text, cardinal_zh


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "零"),
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (35, "三十五"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1001, "一千零一"),
    ],
)
def test_window_numbers_as_cardinals(n: int, words: str) -> None:
    assert cardinal_zh(n) == words


def test_call_clips_in_spoken_order() -> None:
    assert call_clips("A012", "12") == [
        "qing", "letter_a", "digit_0", "digit_1", "digit_2", "hao", "dao", "shi", "digit_2", "hao_chuangkou_banli",
    ]  # fmt: skip
    assert call_text("A012", "3") == "请A012号到3号窗口办理"
    with pytest.raises(ValueError):
        call_clips("取号", "3")


def test_every_clip_ships_in_one_format() -> None:
    lib = ClipLibrary()
    for name in ["chime", *CLIP_WORDS]:
        rate, samples = read_wav(lib.folder / f"{name}.wav")
        assert rate == RATE, name
        assert samples.size > RATE // 20, name
    total = sum(p.stat().st_size for p in lib.folder.glob("*.wav"))
    assert total < 2 * 1024 * 1024


def test_call_wav_is_chime_then_the_call_twice(tmp_path: Path) -> None:
    # A library of tones, one per clip, so the concatenation can be checked sample by sample.
    names = call_clips("B7", "3")
    for i, name in enumerate(sorted(set(names))):
        tone = (3000 * np.sin(np.arange(800) * (i + 1) / 10)).astype(np.int16)
        (tmp_path / f"{name}.wav").write_bytes(wav_bytes(tone))
    announcer = Announcer(NullPlayer(realtime=False), ClipLibrary(tmp_path), word_gap_s=0)
    rate, samples = read_wav(announcer.render_call("B7", "3"))
    once = np.concatenate([read_wav(tmp_path / f"{n}.wav")[1] for n in names])
    hits = [
        i
        for i in range(samples.size - once.size)
        if samples[i] == once[0] and np.array_equal(samples[i : i + once.size], once)
    ]
    assert len(hits) == 2
    assert np.abs(samples[: hits[0]]).max() > 1000  # the chime comes first


def test_queue_plays_in_order_and_never_overlaps() -> None:
    log: list[str] = []
    changed = threading.Condition()
    gates = [threading.Event() for _ in range(3)]

    class GatedPlayer:
        """Plays until the test opens its gate, so the test decides when a sound ends."""

        def play(self, wav: bytes) -> None:
            with changed:
                i = sum(entry.startswith("start") for entry in log)
                log.append(f"start {i}")
                changed.notify_all()
            gates[i].wait(10)
            with changed:
                log.append(f"end {i}")
                changed.notify_all()

    def started(i: int) -> bool:
        with changed:
            return changed.wait_for(lambda: f"start {i}" in log, 10)

    order: list[str] = []
    q = PlayQueue(GatedPlayer(), on_played=order.append)
    clips = [wav_bytes(np.zeros(int(RATE * s), np.int16)) for s in (0.15, 0.05, 0.1)]
    threads = [
        threading.Thread(target=q.put, args=(f"call {i}", wav)) for i, wav in enumerate(clips)
    ]
    for t in threads:
        t.start()
        t.join()
    for i in range(3):
        assert started(i)
        gates[i].set()  # only now may the next sound start
    assert q.wait_idle(10)
    q.close()
    assert order == ["call 0", "call 1", "call 2"]
    # Had two sounds overlapped, a start would sit before the previous end.
    assert log == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]


def test_announcer_queues_calls_from_the_shipped_clips() -> None:
    player = NullPlayer(realtime=False)
    announcer = Announcer(player)
    announcer.call("A012", "3")
    announcer.call("C105", "12")
    assert announcer.wait_idle(10)
    announcer.close()
    assert len(player.played) == 2
    assert 3.0 < wav_seconds(player.played[0]) < 20.0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_free_text_is_synthesised() -> None:
    samples = synthesize("请到三号窗口")
    assert samples.size > RATE // 2
    announcer = Announcer(NullPlayer(realtime=False))
    assert wav_seconds(announcer.render_text("系统维护通知")) > 1.0
    announcer.close()


def test_missing_espeak_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SynthesisUnavailable, match="espeak-ng is not installed"):
        synthesize("你好")
