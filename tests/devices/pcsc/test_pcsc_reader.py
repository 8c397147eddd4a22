"""PC/SC against a private pcscd with the vpcd driver and our card emulator: reads, events, faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devices.pcsc import errors, reader
from devices.pcsc.privatepcscd import SOCKET_ENV, PrivatePcscd
from devices.pcsc.vcard import CardPulled, MuteCard, SocialSecurityCard, StaffBadge, VpcdCard

pytestmark = pytest.mark.pcsc
REPO = Path(__file__).resolve().parents[3]


def _wait_present(name: str) -> None:
    assert reader.wait_for_card(name, present=True), f"no card in {name}"


def test_private_daemon_is_isolated(pcscd: PrivatePcscd) -> None:
    assert pcscd.pid is not None
    assert pcscd.socket_path.is_socket()
    assert not str(pcscd.socket_path).startswith("/run/")
    assert reader.list_readers() == list(pcscd.reader_names)


def test_staff_badge_uid_and_atr(pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard]) -> None:
    badge = StaffBadge(uid=bytes.fromhex("04112233445566"))
    slots[0].insert(badge)
    _wait_present(pcscd.reader_names[0])
    info = reader.read_card(pcscd.reader_names[0])
    assert info.uid == "04112233445566"
    assert info.atr == badge.atr.hex().upper()
    assert info.atr.startswith("3B8F8001804F0C")
    assert info.pan_masked is None


@pytest.mark.parametrize(
    "card",
    [
        SocialSecurityCard("6217001234560684"),
        SocialSecurityCard("6217009876540684", ppse=False, gpo=False, pan_tag=0x57),
        SocialSecurityCard("6230580000001234567", t0=False, aid=bytes.fromhex("A000000333010102")),
    ],
    ids=["ppse-gpo-5a", "pse-scan-57", "t1-credit-19digits"],
)
def test_social_security_card_bank_number_is_masked(
    pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard], card: SocialSecurityCard
) -> None:
    slots[1].insert(card)
    _wait_present(pcscd.reader_names[1])
    info = reader.read_card(pcscd.reader_names[1])
    assert info.pan_masked == card.pan[:6] + "*" * (len(card.pan) - 10) + card.pan[-4:]
    assert card.pan not in repr(info)
    assert info.uid is None
    selected = [apdu[5 : 5 + apdu[4]] for apdu in card.log if apdu[1] == 0xA4]
    assert selected[0] == b"2PAY.SYS.DDF01"
    if not card.ppse:
        assert selected[1] == b"1PAY.SYS.DDF01"  # PSE fallback happened


def test_a_card_that_answers_nothing_useful(
    pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard]
) -> None:
    slots[0].insert(MuteCard())
    _wait_present(pcscd.reader_names[0])
    info = reader.read_card(pcscd.reader_names[0])
    assert (info.atr, info.uid, info.pan_masked) == ("3B021450", None, None)


def test_empty_reader_and_unknown_reader(
    pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard]
) -> None:
    with pytest.raises(errors.NoCardError) as info:
        reader.read_card(pcscd.reader_names[0])
    assert "没有卡片" in info.value.message_zh
    with pytest.raises(errors.NoReaderError):
        reader.read_card("No Such Reader 00 00")
    assert reader.read_all() == [(pcscd.reader_names[0], None), (pcscd.reader_names[1], None)]


class _PulledDuringRead(SocialSecurityCard):
    def apdu(self, command: bytes) -> bytes:
        if command[1] == 0xB2 and self._selected == self.aid:
            raise CardPulled
        return super().apdu(command)


def test_card_pulled_away_mid_transaction(
    pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard]
) -> None:
    slots[1].insert(_PulledDuringRead())
    _wait_present(pcscd.reader_names[1])
    with pytest.raises((errors.CardRemovedError, errors.NoCardError)) as info:
        reader.read_card(pcscd.reader_names[1])
    assert info.value.message_zh and info.value.message_en


class _Events:
    def __init__(self) -> None:
        self.items: list[reader.PcscEvent] = []
        self.health: list[reader.Health] = []
        self.cv = threading.Condition()

    def on_event(self, ev: reader.PcscEvent) -> None:
        with self.cv:
            self.items.append(ev)
            self.cv.notify_all()

    def on_health(self, h: reader.Health) -> None:
        with self.cv:
            self.health.append(h)
            self.cv.notify_all()

    def kinds(self) -> list[tuple[str, str]]:
        return [(e.kind, e.reader) for e in self.items]

    def wait(self, pred: object, timeout: float = 8.0) -> bool:
        with self.cv:
            return self.cv.wait_for(pred, timeout)  # type: ignore[arg-type]


def test_monitor_events_for_cards_and_readers(
    pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard]
) -> None:
    r0, r1 = pcscd.reader_names
    ev = _Events()
    mon = reader.PcscMonitor(ev.on_event, ev.on_health, poll=0.1).start()
    try:
        assert ev.wait(lambda: ev.kinds()[:2] == [("reader_added", r0), ("reader_added", r1)])
        assert ev.wait(lambda: ev.health and ev.health[-1].state == "ok")
        slots[0].insert(StaffBadge(uid=bytes.fromhex("0A0B0C0D")))
        assert ev.wait(lambda: ("card_inserted", r0) in ev.kinds())
        inserted = next(e for e in ev.items if e.kind == "card_inserted")
        assert inserted.card is not None and inserted.card.uid == "0A0B0C0D"
        slots[0].remove()
        assert ev.wait(lambda: ("card_removed", r0) in ev.kinds())
        slots[1].insert(SocialSecurityCard())
        assert ev.wait(lambda: ("card_inserted", r1) in ev.kinds())
        ssc = [e for e in ev.items if e.kind == "card_inserted" and e.reader == r1][0]
        assert ssc.card is not None and ssc.card.pan_masked == "621700******0684"
        # pcscd goes away: readers vanish (and the card with them), health says absent
        pcscd.stop()
        assert ev.wait(
            lambda: ("reader_removed", r1) in ev.kinds() and ev.health[-1].state == "absent"
        )
        assert ("card_removed", r1) in ev.kinds()
        assert "pcscd" in ev.health[-1].detail
        slots[1].remove()
        pcscd.start()
        assert ev.wait(
            lambda: ev.kinds().count(("reader_added", r0)) == 2 and ev.health[-1].state == "ok"
        )
        assert mon.running
    finally:
        mon.stop()
    assert not mon.running


def _cli(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "devices", "pcsc", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_read_json(pcscd: PrivatePcscd, slots: tuple[VpcdCard, VpcdCard]) -> None:
    slots[0].insert(StaffBadge(uid=bytes.fromhex("04A1B2C3D4E580")))
    slots[1].insert(SocialSecurityCard("6217001234560684"))
    _wait_present(pcscd.reader_names[1])
    result = _cli(pcscd.env(), "read", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "readers": [
            {
                "name": pcscd.reader_names[0],
                "card": {
                    "atr": StaffBadge().atr.hex().upper(),
                    "uid": "04A1B2C3D4E580",
                    "pan_masked": None,
                },
            },
            {
                "name": pcscd.reader_names[1],
                "card": {
                    "atr": SocialSecurityCard().atr.hex().upper(),
                    "uid": None,
                    "pan_masked": "621700******0684",
                },
            },
        ]
    }
    assert "6217001234560684" not in result.stdout + result.stderr
    text = _cli(pcscd.env(), "read")
    assert text.returncode == 0 and "621700******0684" in text.stdout and "读卡器" in text.stdout


def test_cli_without_pcscd(tmp_path: Path) -> None:
    result = _cli({SOCKET_ENV: str(tmp_path / "nothing.comm")}, "read", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["code"] == "pcscd_not_running"
    assert "pcscd" in result.stderr
