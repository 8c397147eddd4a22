"""Ticket floods and queue jumping (issue 17, finding 3) over the broker `hallbus broker-config` generates.

Each terminal logs in with its own credentials and signs with its node key, as installed;
the controller keeps each one's pace by the signed node id ([ticket_limits]: 6 a minute,
6 one after another), refuses a green channel nobody proved, and a hall without node keys
says at start that it has no identity to pace by.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallbus.brokerurl import BrokerAddress, parse_broker_url
from hallbus.client import BusClient
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient, RpcFault
from hallbus.sample import open_all_day
from tests.hallbus.deploy import secured
from tests.hallbus.deploy.secured import write_secured_hall

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ELDER = {"id_hash": "e1" * 32, "name_masked": "李*", "birth": "1950-05-01"}  # 75 on T0


class SignedHall:
    """The sample hall behind its generated broker config, the controller in this process on a manual clock."""

    def __init__(self, tmp: Path) -> None:
        self.out = tmp / "broker"
        self.config_path, self.config, self.broker = write_secured_hall(tmp, self.out)
        self.clock = ManualClock(T0)
        self.buses: list[BusClient] = []
        self.app: HallController | None = None

    def creds(self, node: str) -> dict[str, Any]:
        return secured.creds(self.out, node)

    def address(self, node: str) -> BrokerAddress:
        return secured.address(self.broker, self.out, node)

    def start(self) -> None:
        self.broker.start()
        self.app = HallController(
            self.config, data_dir=self.config_path.parent / "data", broker=self.address("controller"),
            clock=self.clock, tick_s=0.2,
        )
        assert self.app.start(wait=5)
        assert self.app.bus.wait_subscribed(self.app.bus.topics.rpc_all, 5)

    def terminal(self, node: str, *, signed: bool = True) -> RpcClient:
        bus = BusClient(hall=self.config.hall.id, node=node, role="terminal", broker=self.address(node))
        assert bus.start(wait=5), f"{node} could not log in"
        self.buses.append(bus)
        client = RpcClient(bus, node_key=bytes.fromhex(self.creds(node)["node_key"]) if signed else None)
        assert bus.wait_subscribed(client.reply_topic, 5)
        return client

    def stop(self) -> None:
        for bus in self.buses:
            bus.stop()
        if self.app is not None:
            self.app.stop()
        self.broker.stop()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[SignedHall]:
    h = SignedHall(tmp_path)
    try:
        h.start()
        yield h
    finally:
        h.stop()


def refused(client: RpcClient, body: dict[str, Any], **kw: Any) -> RpcFault:
    with pytest.raises(RpcFault) as err:
        client.call("ticket.issue", body, **kw)
    return err.value


def test_a_terminal_is_paced_by_its_signed_node_id_a_family_is_not(hall: SignedHall) -> None:
    one, two = hall.terminal("terminal-1"), hall.terminal("terminal-2")
    # A family of three, then three more people one after another: all served.
    numbers = [one.call("ticket.issue", {"service": "A"}, request_id=f"t1-{i}")["ticket"]["number"] for i in range(6)]
    assert numbers == [f"A{i:03d}" for i in range(1, 7)]
    # The seventh within the same minute: refused in words a citizen reads, with the wait.
    err = refused(one, {"service": "A"})
    assert err.code == "issue_rate_limited"
    assert "过于频繁" in err.message and "10秒" in err.message and "10 s" in err.message_en
    # A retry of a request already answered is its first answer, not a refusal.
    assert one.call("ticket.issue", {"service": "A"}, request_id="t1-5")["ticket"]["number"] == "A006"
    # The pace is per terminal: the other one issues.
    assert two.call("ticket.issue", {"service": "A"})["ticket"]["number"] == "A007"
    # One interval (60 s / 6) later terminal-1 may take one more, and then waits again.
    hall.clock.advance(10)
    assert one.call("ticket.issue", {"service": "A"})["ticket"]["number"] == "A008"
    assert refused(one, {"service": "A"}).code == "issue_rate_limited"
    # Without its signature it is nobody: refused, not an unpaced way round.
    unsigned = hall.terminal("terminal-1", signed=False)
    assert refused(unsigned, {"service": "A"}).code == "forbidden"


def test_the_green_channel_needs_proof_the_controller_checks(hall: SignedHall) -> None:
    terminal = hall.terminal("terminal-2")
    normal = terminal.call("ticket.issue", {"service": "A"})["ticket"]
    for body in ({"service": "A", "channel": "green"},
                 {"service": "A", "channel": "green", "id_card": {**ELDER, "birth": "1990-01-01"}},
                 {"service": "A", "channel": "appointment"}):
        err = refused(terminal, body)
        assert err.code == "channel_refused", body
    green = terminal.call("ticket.issue", {"service": "A", "channel": "green", "id_card": ELDER})["ticket"]
    assert green["channel"] == "green" and green["ahead"] == 0 and normal["ahead"] == 0


def test_a_hall_without_node_keys_says_it_cannot_pace_terminals(
    broker: LocalBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _path, cfg = open_all_day(tmp_path)
    assert cfg.privacy.node_keys_file is None and cfg.ticket_limits.per_minute == 6
    caplog.set_level(logging.INFO, logger="hallbus.controller.app")
    app = HallController(cfg, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    bus = BusClient(hall=cfg.hall.id, node="terminal-1", role="terminal", broker=parse_broker_url(broker.url))
    try:
        assert app.start(wait=5) and bus.start(wait=5)
        assert any(re.search(r"not paced per terminal.*no node has an identity", r.getMessage())
                   for r in caplog.records if r.levelno == logging.WARNING)
        client = RpcClient(bus)
        # Development and load benchmarks: no identity, no pace.
        futures = [client.call_async("ticket.issue", {"service": "A"}) for _ in range(30)]
        assert [f.result(10)["ticket"]["number"] for f in futures][-1] == "A030"
    finally:
        bus.stop()
        app.stop()
