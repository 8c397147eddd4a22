"""The reader against the SAM simulator over a real pty: commands, errors, faults, recovery."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest

from devices.common.health import Health
from devices.idcard import errors as e
from devices.idcard.card import CARD_TYPES, CardData
from devices.idcard.frame import build_frame
from devices.idcard.reader import IdCardReader, SamLink
from devices.idcard.samples import sample_card
from devices.idcard.sim import SamSimulator


@pytest.mark.parametrize("kind", CARD_TYPES)
def test_reads_every_card_kind(sam: SamSimulator, reader: IdCardReader, kind: str) -> None:
    sam.place(kind)  # type: ignore[arg-type]
    card = reader.read_once(2.0)
    expected = sample_card(kind)  # type: ignore[arg-type]
    assert card.to_json(show_full=True) == expected.to_json(show_full=True)
    assert card.photo == expected.photo
    assert sam.commands_seen[-3:] == ["find", "select", "read"]


def test_read_with_fingerprint(sam: SamSimulator, reader: IdCardReader) -> None:
    fp = bytes(range(256)) * 4
    sam.place(CardData(**{**sample_card("resident").__dict__, "fingerprint": fp}))
    card = reader.read_once(2.0, fingerprint=True)
    assert card.fingerprint == fp
    assert sam.commands_seen[-1] == "read_fp"


def test_sam_id(reader: IdCardReader) -> None:
    assert reader.sam_id() == "05.01-20101215-0011364427-2253674683"


def test_no_card_times_out_with_a_clear_error(sam: SamSimulator, reader: IdCardReader) -> None:
    sam.remove()
    with pytest.raises(e.NoCardError) as info:
        reader.read_once(0.4)
    # It polled (every 0.05 s) and gave up at its deadline: at most 0.4 / 0.05 + 1 finds.
    assert 1 <= sam.commands_seen.count("find") <= 9
    assert "身份证" in info.value.message_zh and "card" in info.value.message_en


def test_card_stays_after_read_is_not_found_again(sam: SamSimulator, reader: IdCardReader) -> None:
    assert reader.read_card() is not None
    assert reader.read_card() is None  # the SAM halted it; it must leave the field first
    sam.place("resident")
    assert reader.read_card() is not None


@pytest.mark.parametrize(
    ("command", "sw3", "error"),
    [
        ("find", 0x60, e.SamFault),
        ("select", 0x81, e.SelectFailed),
        ("read", 0x41, e.CardReadError),
        ("read", 0x31, e.CardAuthError),
        ("read", 0x40, e.UnsupportedCard),
        ("select", 0x10, e.SamFault),
    ],
)
def test_sw3_codes_become_typed_errors(
    sam: SamSimulator, reader: IdCardReader, command: str, sw3: int, error: type[e.SamError]
) -> None:
    sam.fail(command, "sw3", sw3)
    with pytest.raises(error) as info:
        reader.read_card()
    assert info.value.sw3 == sw3
    assert info.value.message_zh.endswith("。") and info.value.message_en
    sam.place("resident")
    assert reader.read_card() is not None  # the next attempt works


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("checksum", e.FrameError),
        ("length", e.FrameError),
        ("truncate", e.FrameError),
        ("wrong_reply", e.UnexpectedReply),
        ("silent", e.ReaderNotAnswering),
    ],
)
def test_damaged_replies_give_clear_errors_then_recover(
    sam: SamSimulator, reader: IdCardReader, fault: str, error: type[e.IdCardError]
) -> None:
    sam.fail("read", fault)  # type: ignore[arg-type]
    with pytest.raises(error):
        reader.read_card()
    sam.place("resident")
    card = reader.read_card()
    assert card is not None and card.id_check_ok


def test_card_removed_mid_read(sam: SamSimulator, reader: IdCardReader) -> None:
    sam.fail("read", "remove_mid_read")
    with pytest.raises(e.FrameError):
        reader.read_card()
    assert sam.card is None
    assert reader.read_card() is None


def test_noise_before_replies_is_skipped(sam: SamSimulator, reader: IdCardReader) -> None:
    sam.add_noise(b"\x00\xff\xaa\xaa\x13" * 40)
    assert reader.read_card() is not None


def test_slow_reply_within_and_beyond_the_timeout(sam: SamSimulator, reader: IdCardReader) -> None:
    sam.delay = 0.2
    assert reader.read_card() is not None
    sam.delay = 0.8  # beyond the 0.5 s timeout
    sent = sam.replies_sent
    with pytest.raises(e.ReaderNotAnswering):
        reader.sam_id()
    sam.delay = 0.0
    # The late reply is now on the line: it must not pair with the next command.
    assert sam.wait_for(lambda: sam.replies_sent > sent)
    sam.place("hmt")
    card = reader.read_card()
    assert card is not None and card.card_type == "hmt"


def test_a_megabyte_of_garbage_on_the_line_then_correct_answers(
    sam: SamSimulator, reader: IdCardReader
) -> None:
    garbage = random.Random(7).randbytes(1 << 20)
    link = reader.open()
    t = threading.Thread(target=sam.inject, args=(garbage,))
    t.start()
    # Drain while the garbage arrives; the parser must stay bounded and never raise.
    deadline = time.monotonic() + 10
    got = 0
    while t.is_alive() and time.monotonic() < deadline:
        got += len(link.port.read(65536))
    t.join()
    assert got > 0
    card = reader.read_card()
    assert card is not None and card.card_type == "resident"


def test_bad_port_is_a_port_error(tmp_path: Path) -> None:
    r = IdCardReader(str(tmp_path / "nothing-here"))
    with pytest.raises(e.PortError) as info:
        r.read_card()
    assert "端口" in info.value.message_zh


class Recorder:
    """Collects watcher callbacks for assertions."""

    def __init__(self) -> None:
        self.cards: list[CardData] = []
        self.health: list[Health] = []
        self.removed = 0
        self.changed = threading.Condition()

    def on_card(self, card: CardData) -> None:
        with self.changed:
            self.cards.append(card)
            self.changed.notify_all()

    def on_health(self, h: Health) -> None:
        with self.changed:
            self.health.append(h)
            self.changed.notify_all()

    def on_removed(self) -> None:
        with self.changed:
            self.removed += 1
            self.changed.notify_all()

    def wait(self, predicate: object, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)  # type: ignore[arg-type]


def test_watch_reports_each_placed_card_once(sam: SamSimulator, reader: IdCardReader) -> None:
    rec = Recorder()
    w = reader.watch(rec.on_card, rec.on_health, rec.on_removed)
    try:
        assert rec.wait(lambda: len(rec.cards) == 1)
        finds = sam.commands_seen.count("find")
        # Ten more polls with the card still there; a second report would come before them.
        assert sam.wait_for(lambda: sam.commands_seen.count("find") >= finds + 10)
        assert rec.health[-1] == Health("ok")
        sam.place("foreign_2017")
        assert rec.wait(lambda: len(rec.cards) == 2)
        # The next report is the new card (the marker), not the first one again.
        assert [c.card_type for c in rec.cards] == ["resident", "foreign_2017"]
    finally:
        w.stop()
    assert not w.running


def test_watch_with_a_sam_that_keeps_finding_the_card(
    sam: SamSimulator, reader: IdCardReader
) -> None:
    sam.sticky = True
    rec = Recorder()
    w = reader.watch(rec.on_card, rec.on_health, rec.on_removed)
    try:
        assert rec.wait(lambda: len(rec.cards) == 1)
        assert sam.wait_for(lambda: sam.reads >= 5)  # re-read while it stays ...
        sam.remove()
        assert rec.wait(lambda: rec.removed == 1)
        assert len(rec.cards) == 1  # ... but reported once (removal came after the re-reads)
        sam.place("resident")
        assert rec.wait(lambda: len(rec.cards) == 2)  # the same card placed again counts again
    finally:
        w.stop()


def test_watch_survives_a_failing_callback(sam: SamSimulator, reader: IdCardReader) -> None:
    rec = Recorder()

    def bad(card: CardData) -> None:
        rec.on_card(card)
        raise RuntimeError("kiosk bug")

    w = reader.watch(bad, rec.on_health)
    try:
        assert rec.wait(lambda: len(rec.cards) == 1)
        sam.place("hmt")
        assert rec.wait(lambda: len(rec.cards) == 2)
        assert w.running
    finally:
        w.stop()


def test_watch_recovers_when_the_reader_is_unplugged_and_back(tmp_path: Path) -> None:
    class CountingReader(IdCardReader):
        """The real reader; counts the watcher's attempts to open the port."""

        attempts = 0

        def open(self) -> SamLink:
            with rec.changed:
                self.attempts += 1
                rec.changed.notify_all()
            return super().open()

    link = tmp_path / "ttyUSB-like"
    sim = SamSimulator(link, card="resident").start()
    reader = CountingReader(str(link), poll_interval=0.05, timeout=0.3)
    rec = Recorder()
    w = reader.watch(rec.on_card, rec.on_health, max_backoff=0.3)
    try:
        assert rec.wait(lambda: len(rec.cards) == 1)
        sim.stop()  # unplugged: the pty closes and the link vanishes
        assert rec.wait(lambda: rec.health[-1].state == "absent")
        assert not link.exists()
        failed_from = reader.attempts
        assert rec.wait(lambda: reader.attempts >= failed_from + 3)  # a few reopen attempts fail
        sim = SamSimulator(link, card="hmt").start()  # plugged back, maybe as another pty
        assert rec.wait(lambda: len(rec.cards) == 2)
        assert rec.health[-1] == Health("ok")
        assert rec.cards[1].card_type == "hmt"
    finally:
        w.stop()
        sim.stop()


def test_watch_reports_a_reader_that_stops_answering(
    sam: SamSimulator, reader: IdCardReader
) -> None:
    sam.remove()
    rec = Recorder()
    w = reader.watch(rec.on_card, rec.on_health)
    try:
        assert rec.wait(lambda: bool(rec.health) and rec.health[-1].state == "ok")
        sam.fail("*", "silent", times=1000)
        assert rec.wait(lambda: rec.health[-1].state == "error")
        assert "应答" in rec.health[-1].detail
        sam._faults.clear()
        sam.place("resident")
        assert rec.wait(lambda: len(rec.cards) == 1)
        assert rec.health[-1].state == "ok"
    finally:
        w.stop()


def test_pty_pair_fixture_works_with_fd_mode(pty_pair: object) -> None:
    sim = SamSimulator(fd=pty_pair.fd, card="foreign_2023").start()  # type: ignore[attr-defined]
    try:
        r = IdCardReader(pty_pair.device, timeout=0.5)  # type: ignore[attr-defined]
        assert r.read_once(1.0).card_type == "foreign_2023"
        r.close()
    finally:
        sim.stop()
    assert os.path.exists(pty_pair.device)  # type: ignore[attr-defined]


def test_command_frames_on_the_wire_are_exact(pty_pair: object) -> None:
    """Bytes the driver writes, checked at the other end of the pty."""
    r = IdCardReader(pty_pair.device, timeout=0.2)  # type: ignore[attr-defined]
    with pytest.raises(e.ReaderNotAnswering):
        r.read_card()
    r.close()
    data = os.read(pty_pair.fd, 100)  # type: ignore[attr-defined]
    assert data == build_frame(b"\x20\x01")
