"""Fake ratings and case guessing with a real node's login, behind the generated broker config (issue 17, 4 and 5).

The sample hall behind `hallbus broker-config` (ACL, passwords, node keys), the real
controller with its node-key guard, and each node signing with its own key: what the ACL
and the signatures let through must still answer a real handling, once, and a terminal's
guesses must wait.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallbus.brokerurl import BrokerAddress
from hallbus.controller.app import HallController, open_store
from hallbus.controller.clock import ManualClock
from hallbus.records.importer import records_of
from hallbus.records.samples import make_person
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.deploy.test_controller_kill import SecuredHall
from tests.hallbus.records.conftest import KEY, T0, make_importer

P = make_person(random.Random(1717))
CASE = "ZW2026030300177"


class Hall:
    """The secured hall with the controller in this process."""

    def __init__(self, tmp: Path) -> None:
        self.secured = SecuredHall(tmp)
        self.secured.broker.start()
        self.data = tmp / "data"
        c = self.secured.creds("controller")
        self.controller = HallController(
            self.secured.config, data_dir=self.data, clock=ManualClock(T0), hall_key=KEY, tick_s=0.05,
            broker=BrokerAddress("127.0.0.1", self.secured.broker.port, c["username"], c["password"]),
        )
        assert self.controller.start(wait=5)

    def node(self, node: str, role: str, *, signed: bool = True) -> RpcClient:
        bus = self.secured.bus(node, role)
        rpc = RpcClient(bus, node_key=bytes.fromhex(self.secured.creds(node)["node_key"]) if signed else None)
        assert bus.wait_subscribed(rpc.reply_topic, 5)
        return rpc

    def stop(self) -> None:
        for bus in self.secured.buses:
            bus.stop()
        self.secured.buses.clear()
        self.controller.stop()
        self.secured.stop()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    h = Hall(tmp_path)
    try:
        yield h
    finally:
        h.stop()


def outcome(rpc: RpcClient, body: dict[str, Any]) -> str:
    try:
        rpc.call("rating.submit", {"rating_id": str(uuid.uuid4()), "level": 1, "reasons": ["integrity"], **body})
    except RpcFault as err:
        return err.code
    return "accepted"


def test_a_stolen_tablet_or_terminal_login_rates_only_real_handlings_once(hall: Hall) -> None:
    with open_store(hall.data) as store:
        make_importer(hall.secured.config).run(store.conn, records_of([{
            "case_no": CASE, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": P.name,
            "id_number": P.id_number, "status": "done", "accepted_at": T0.isoformat(), "finished_at": T0.isoformat(),
            "promised_days": 10, "handler": "李明", "department": "县市场监督管理局",
        }]), now=T0, where="record")
    counter, term = hall.node("counter-1", "counter"), hall.node("terminal-1", "terminal")
    tablet1, tablet2 = hall.node("tablet-1", "tablet"), hall.node("tablet-2", "tablet")
    counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
    ticket = term.call("ticket.issue", {"service": "A"})["ticket"]
    counter.call("window.call_next", {"window": "1"})
    rr = counter.call("window.finish", {"window": "1"})["window"]["rating_request"]

    # another window's tablet: refused by the node guard, or finds nothing of its own
    assert outcome(tablet2, {"window": "1", "ticket": rr["ticket"]}) == "forbidden"
    assert outcome(tablet2, {"handling_id": rr["handling_id"]}) == "no_rating_request"
    # a terminal without proof, and an unsigned one
    assert outcome(term, {"window": "1", "ticket": rr["ticket"], "staff": "s001"}) == "proof_required"
    assert outcome(term, {"case_no": CASE, "staff": "李明"}) == "proof_required"
    assert outcome(hall.node("terminal-2", "terminal", signed=False), {"case_no": CASE, "verify": "000000"}) == "forbidden"

    # six spellings of one bad rating, from the window's own tablet and from the terminal
    staff = ["s001", "s001 ", "李明", " 李明", "S001", None]
    got = [outcome(tablet1, {"window": "1", "handling_id": rr["handling_id"], "staff": s}) for s in staff]
    assert got.count("accepted") == 1, got
    assert outcome(term, {"ticket_id": ticket["ticket_id"]}) == "already_rated"
    got = [outcome(term, {"case_no": f" {CASE} ", "verify": P.id_number[-6:], "staff": s}) for s in staff]
    assert got.count("accepted") == 1, got
    stats = term.call("stats.today")["stats"]
    assert stats["ratings"] == 2 and stats["followups_open"] == 2

    # guessing through the terminal's login waits after five failures, with the seconds to wait
    for _ in range(5):
        assert outcome(term, {"case_no": "ZW2026030399999", "verify": "000000"}) == "case_not_found"
    with pytest.raises(RpcFault) as err:
        term.call("case.query", {"case_no": CASE, "verify": P.id_number[-6:]})
    assert err.value.code == "too_many_attempts" and "秒后再试" in err.value.message
