"""The real controller with node keys refuses window actions from any but that window's counter."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.controller.app import HallController
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient, RpcFault
from hallbus.sample import open_all_day


def test_controller_checks_signed_node_ids(broker: LocalBroker, tmp_path: Path) -> None:
    keys = {"counter-3": secrets.token_hex(32), "counter-4": secrets.token_hex(32), "tablet-3": secrets.token_hex(32),
            "terminal-1": secrets.token_hex(32), "web": secrets.token_hex(32)}
    (tmp_path / "node-keys.json").write_text(json.dumps(keys))
    _path, cfg = open_all_day(tmp_path, extra="")
    text = _path.read_text().replace(
        f'key_file = "{tmp_path / "hall.key"}"',
        f'key_file = "{tmp_path / "hall.key"}"\nnode_keys_file = "{tmp_path / "node-keys.json"}"',
    )
    text = text.replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    _path, cfg = open_all_day(tmp_path, text=text)
    assert cfg.privacy.node_keys_file
    app = HallController(cfg, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert app.start(wait=5)
    assert app.bus.wait_subscribed(app.bus.topics.rpc_all, 5)
    buses = []
    try:
        def rpc(node: str, key: str | None) -> RpcClient:
            bus = BusClient(hall=cfg.hall.id, node=node, role="counter", broker=parse_broker_url(broker.url))
            assert bus.start(wait=5)
            buses.append(bus)
            client = RpcClient(bus, node_key=bytes.fromhex(key) if key else None)
            assert bus.wait_subscribed(client.reply_topic, 5)
            return client

        c3 = rpc("counter-3", keys["counter-3"])
        c4 = rpc("counter-4", keys["counter-4"])
        stranger = rpc("counter-5", None)
        terminal = rpc("terminal-1", keys["terminal-1"])
        state = c3.call("window.login", {"window": "3", "staff": "s003", "password": "hall003"})["window"]
        assert state["status"] == "idle" and state["staff"]["id"] == "s003"
        for client in (c4, stranger):
            with pytest.raises(RpcFault) as err:
                client.call("window.pause", {"window": "3", "reason": "午休"})
            assert err.value.code == "forbidden"
        # A ticket comes from a signed terminal only (its pace is kept by its node id).
        for client in (stranger, c3):
            with pytest.raises(RpcFault) as err:
                client.call("ticket.issue", {"service": "A"})
            assert err.value.code == "forbidden"
        assert terminal.call("ticket.issue", {"service": "A"})["ticket"]["number"] == "A001"
        state = c3.call("window.call_next", {"window": "3"})["window"]
        assert state["ticket"]["number"] == "A001"
        # Reports are the web service's alone, signed (a terminal's key, or a claimed web name, will not do).
        day = terminal.call("stats.today")["stats"]["date"]
        web = rpc("web", keys["web"])
        token = secrets.token_urlsafe(32)  # a manager's console session: report.query checks it too
        web.call("admin.login", {"staff": "s001", "password": "hall001",
                                 "session_hash": hashlib.sha256(token.encode()).hexdigest()})
        body = {"kind": "daily", "from": day, "to": day, "session": token}
        assert web.call("report.query", body)["rows"][0][2] == 1  # tickets
        for client in (terminal, rpc("web", None)):
            with pytest.raises(RpcFault) as err:
                client.call("report.query", body)
            assert err.value.code == "forbidden"
    finally:
        for b in buses:
            b.stop()
        app.stop()
