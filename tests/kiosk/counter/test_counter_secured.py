"""In a hall with node keys, the counter signs its requests: its own window works, nothing else does."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.controller.app import HallController
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient
from hallbus.sample import all_day_text, open_all_day
from tests.kiosk.helpers import item, text_of, touch


def test_a_signed_counter_works_its_window_in_a_secured_hall(
    broker: LocalBroker, tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"counter-3": secrets.token_hex(32), "terminal-1": secrets.token_hex(32)}
    (tmp_path / "node-keys.json").write_text(json.dumps(keys))
    text = all_day_text(tmp_path).replace(
        f'key_file = "{tmp_path / "hall.key"}"',
        f'key_file = "{tmp_path / "hall.key"}"\nnode_keys_file = "{tmp_path / "node-keys.json"}"',
    )
    _path, cfg = open_all_day(tmp_path, text=text)
    ctl = HallController(cfg, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert ctl.start(wait=5)
    monkeypatch.setenv("HALL_NODE_KEY", keys["counter-3"])  # as its credentials file would give it
    from kiosk.app import Kiosk, Options

    k = Kiosk(Options(role="counter", node="counter-3", broker=broker.url, data=tmp_path / "kiosk", size=(1280, 800)), cfg)
    terminal = BusClient(hall=cfg.hall.id, node="terminal-1", role="terminal", broker=parse_broker_url(broker.url))
    try:
        window = k.start()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: k.shell.connected, timeout=5000)
        assert terminal.start(wait=5)
        number = RpcClient(terminal, node_key=bytes.fromhex(keys["terminal-1"])).call_typed(schemas.TICKET_ISSUE, {"service": "B", "id_card": {"id_hash": "cd" * 32}}).ticket.number
        touch(qtbot, window, "login_field_staff")
        for ch in "s003":
            touch(qtbot, window, f"login_key_{ch}")
        touch(qtbot, window, "login_field_password")
        for ch in "hall003":
            touch(qtbot, window, f"login_key_{ch}")
        touch(qtbot, window, "login_submit")
        state = k.role.keep[0]
        qtbot.waitUntil(lambda: state.logged_in, timeout=5000)
        qtbot.waitUntil(lambda: state.enabled("call_next"), timeout=5000)
        touch(qtbot, window, "action_call_next")
        shown = item(qtbot, window, "counter_ticket_number")
        qtbot.waitUntil(lambda: text_of(shown) == number, timeout=5000)
    finally:
        k.stop()
        terminal.stop()
        ctl.stop()


def test_without_its_key_the_same_counter_is_refused(broker: LocalBroker, tmp_path: Path) -> None:
    keys = {"counter-3": secrets.token_hex(32)}
    (tmp_path / "node-keys.json").write_text(json.dumps(keys))
    text = all_day_text(tmp_path).replace(
        f'key_file = "{tmp_path / "hall.key"}"',
        f'key_file = "{tmp_path / "hall.key"}"\nnode_keys_file = "{tmp_path / "node-keys.json"}"',
    )
    _path, cfg = open_all_day(tmp_path, text=text)
    ctl = HallController(cfg, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert ctl.start(wait=5)
    bus = BusClient(hall=cfg.hall.id, node="counter-3", role="counter", broker=parse_broker_url(broker.url))
    try:
        assert bus.start(wait=5)
        from hallbus.rpc import RpcFault

        with pytest.raises(RpcFault) as err:
            RpcClient(bus).call("window.login", {"window": "3", "staff": "s003", "password": "hall003"})
        assert err.value.code == "forbidden"
    finally:
        bus.stop()
        ctl.stop()
