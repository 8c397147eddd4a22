"""Case look-ups from phones are counted per phone, by hallweb and by the controller (issue 17, finding 5).

Every phone reaches the controller through the one node `web`. The hall here is the sample hall
behind the broker config `hallbus broker-config` generates (ACL, passwords, node keys), its
controller in this process with its node-key guard, and `hallweb` as its own process logged in
as `web` and signing with its node key, as `docs/install.md` step 5a runs it. Phones are told
apart by the address hallweb sees: `X-Forwarded-For` from 127.0.0.1 (what nginx sends), and
through a real nginx with `systemd/hallweb-nginx.conf.example`, the address nginx saw.
"""

from __future__ import annotations

import random
import re
import secrets
import sqlite3
import ssl
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.controller.app import HallController, open_store
from hallbus.controller.clock import ManualClock
from hallbus.localbroker import end_process
from hallbus.privacy import id_hash
from hallbus.records.importer import records_of
from hallbus.records.samples import Person, make_person
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.deploy import secured
from tests.hallbus.records.conftest import KEY, T0, make_importer
from tests.web.conftest import WebHall, serving, wait_until
from tests.web.nginx import NGINX, start_nginx

RNG = random.Random(1705)
P, Q = make_person(RNG), make_person(RNG)
CASE_P, CASE_Q = "ZW2026030300501", "ZW2026030300502"


class Hall(WebHall):
    """The secured hall with its web service; `out` holds the generated broker config and credentials."""

    out: Path

    def node(self, node: str, role: str, *, signed: bool = True) -> RpcClient:
        """A bus client logged in as `node`, signing with its node key (unless not `signed`)."""
        bus = BusClient(hall=self.config.hall.id, node=node, role=role, broker=secured.address(self.broker, self.out, node))
        assert bus.start(wait=10), f"{node} could not log in"
        self.buses.append(bus)
        rpc = RpcClient(bus, node_key=bytes.fromhex(secured.creds(self.out, node)["node_key"]) if signed else None)
        assert bus.wait_subscribed(rpc.reply_topic, 10)
        return rpc

    def phone(self, address: str, case_no: str, verify: str, *, base: str | None = None) -> int:
        """A phone at `address` looks a case up (its address as nginx forwards it); the HTTP status."""
        got = httpx.post((base or self.web) + "/api/v1/cases/query", json={"case_no": case_no, "verify": verify},
                         headers={"X-Forwarded-For": address}, timeout=15)
        assert got.status_code in (200, 404, 429), got.text
        if got.status_code == 429:
            assert int(got.headers["Retry-After"]) > 0 and got.json()["error"]["code"] == "too_many_attempts"
        return got.status_code

    def counts(self) -> dict[str, int]:
        """The controller's stored failure counts, by key."""
        with closing(sqlite3.connect(self.config_path.parent / "data" / "hall.db")) as db, db:
            return {str(k): int(n) for k, n in db.execute("SELECT key, failures FROM rec_lookup_throttle")}


def case(no: str, p: Person) -> dict[str, Any]:
    return {
        "case_no": no, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": p.name,
        "id_number": p.id_number, "status": "done", "accepted_at": T0.isoformat(), "finished_at": T0.isoformat(),
        "promised_days": 10, "handler": "李明", "department": "县市场监督管理局",
    }


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    out = tmp_path / "broker"
    config_path, config, broker = secured.write_secured_hall(tmp_path, out)
    with open_store(tmp_path / "data") as store:
        make_importer(config).run(store.conn, records_of([case(CASE_P, P), case(CASE_Q, Q)]), now=T0, where="record")
    broker.start()
    # The hall's clock stands still: a wait the guesses earned lasts through a restart of hallweb on a slow machine.
    controller = HallController(config, data_dir=tmp_path / "data", clock=ManualClock(T0), hall_key=KEY, tick_s=0.2,
                                broker=secured.address(broker, out, "controller"))
    try:
        assert controller.start(wait=10), "the controller could not log in"
        web = secured.creds(out, "web")  # hallweb.env of install step 5a
        h = Hall(config, broker, controller, "", config_path, tmp_path / "hallweb.log", env={
            "HALL_MQTT_USERNAME": web["username"], "HALL_MQTT_PASSWORD": web["password"], "HALL_NODE_KEY": web["node_key"],
        })
        h.out = out
        with serving(h):
            yield h
    finally:
        controller.stop()
        broker.stop()


def test_guesses_from_many_phones_hold_back_only_those_phones_and_the_guessed_case(hall: Hall) -> None:
    # A guesser spread over many addresses, each wrong once or twice: hallweb's count per address never
    # trips. The guessed case waits after five (its owner's data is what the count protects) ...
    spread = [hall.phone(f"198.51.100.{i}", CASE_P, f"{i:06d}") for i in range(1, 9)]
    assert spread[:5] == [404] * 5 and set(spread[5:]) == {429}, spread
    assert hall.phone("198.51.100.200", CASE_P, P.id_number[-6:]) == 429  # even with the right digits
    # ... and no other phone: another citizen finds their own case at once
    assert hall.phone("203.0.113.7", CASE_Q, Q.id_number[-6:]) == 200

    # One phone guessing many numbers: hallweb lets its fifth failure through, the controller holds it back
    for i in range(5):
        assert hall.phone("192.0.2.10", f"ZW20260303{i:05d}", "123456") == 404
    assert hall.phone("192.0.2.10", CASE_Q, Q.id_number[-6:]) == 429
    assert hall.phone("192.0.2.11", CASE_Q, Q.id_number[-6:]) == 200

    # hallweb restarted: its own counts are gone, the controller's per phone are not
    hall.stop_web()
    hall.start_web()
    assert hall.phone("192.0.2.10", CASE_Q, Q.id_number[-6:]) == 429
    assert hall.phone("192.0.2.12", CASE_Q, Q.id_number[-6:]) == 200

    # The store holds a count per phone by hallweb's keyed hash, never an address, and none for the node
    counts = hall.counts()
    phones = {k: n for k, n in counts.items() if k.startswith("web:")}
    assert all(re.fullmatch(r"web:[0-9a-f]{32}", k) for k in phones) and sorted(phones.values()) == [1] * 5 + [5]
    assert counts[f"case:{CASE_P}"] == 5 and "node:web" not in counts
    assert not [k for k in counts if "198.51" in k or "192.0.2" in k]
    # the owner of the guessed case proves it with the ID card at a terminal, at once
    card = {"id_hash": id_hash(KEY, P.id_number), "name_masked": P.name[0] + "*", "card_type": "resident"}
    got = hall.node("terminal-1", "terminal").call("case.query", {"id_card": card}, timeout=10)["cases"]
    assert [c["case_no"] for c in got] == [CASE_P]


def test_a_terminals_guesses_count_against_that_terminal_alone(hall: Hall) -> None:
    t1, t2 = hall.node("terminal-1", "terminal"), hall.node("terminal-2", "terminal")
    for i in range(5):  # a terminal and phones guessing at the same time, each on numbers of its own
        with pytest.raises(RpcFault) as err:
            t1.call("case.query", {"case_no": f"ZW20260303{i:05d}", "verify": "123456"}, timeout=10)
        assert err.value.code == "case_not_found"
        assert hall.phone(f"198.51.100.{i}", f"ZW20260304{i:05d}", "123456") == 404
        assert hall.phone(f"198.51.100.{i}", f"ZW20260305{i:05d}", "123456") == 404
    with pytest.raises(RpcFault) as err:
        t1.call("case.query", {"case_no": CASE_Q, "verify": Q.id_number[-6:]}, timeout=10)
    assert err.value.code == "too_many_attempts" and "秒后再试" in err.value.message
    # the other terminal and a phone are not held back by either
    assert t2.call("case.query", {"case_no": CASE_Q, "verify": Q.id_number[-6:]}, timeout=10)["cases"]
    assert hall.phone("203.0.113.9", CASE_Q, Q.id_number[-6:]) == 200
    counts = hall.counts()
    assert counts["node:terminal-1"] == 5 and "node:terminal-2" not in counts and "node:web" not in counts


def test_a_stolen_terminal_login_cannot_spread_its_guesses_over_made_up_phones(hall: Hall) -> None:
    term = hall.node("terminal-1", "terminal")
    for i in range(8):  # signed by the terminal: refused, nothing looked up, nothing counted
        with pytest.raises(RpcFault) as err:
            term.call("case.query", {"case_no": CASE_P, "verify": f"{i:06d}", "client": secrets.token_hex(16)}, timeout=10)
        assert err.value.code == "forbidden"
    # Unsigned, naming the web node's reply topic and its id: no proof of being the web node, refused alike
    # (sent on the terminal's own connection, so they reach the controller before its next request)
    for i in range(8):
        term.bus.publish(term.bus.topics.rpc("case.query"), {
            "v": schemas.SCHEMA_VERSION, "request_id": str(uuid.uuid4()), "reply_to": term.bus.topics.reply("web", "x"),
            "node": "web", "case_no": CASE_P, "verify": f"{i:06d}", "client": secrets.token_hex(16),
        }, qos=1)
    # Its own guesses still count against it, and only they do
    for i in range(5):
        with pytest.raises(RpcFault) as err:
            term.call("case.query", {"case_no": CASE_P, "verify": f"{i + 10:06d}"}, timeout=10)
        assert err.value.code == "verify_mismatch"
    with pytest.raises(RpcFault) as err:
        term.call("case.query", {"case_no": CASE_Q, "verify": Q.id_number[-6:]}, timeout=10)
    assert err.value.code == "too_many_attempts"
    assert hall.counts() == {"node:terminal-1": 5, f"case:{CASE_P}": 5}
    # The web node's own login sending an address, not hallweb's hash of it: refused (the store holds no address).
    hall.stop_web()  # (one process per login: the broker binds the client id to it)
    with pytest.raises(RpcFault) as err:
        hall.node("web", "web").call("case.query", {"case_no": CASE_Q, "verify": "123456", "client": "192.0.2.10"})
    assert err.value.code == "bad_request"


@pytest.mark.skipif(not NGINX.exists(), reason="nginx is not installed (Debian: apt-get install nginx)")
def test_behind_nginx_phones_are_told_apart_by_the_address_nginx_saw(hall: Hall, tmp_path: Path) -> None:
    nginx = start_nginx(tmp_path, int(hall.web.rsplit(":", 1)[1]))
    base = nginx.https

    def phone(source: str, case_no: str, verify: str, spoof: str) -> int:
        """A phone at `source` (a loopback address of its own) through nginx, forging X-Forwarded-For."""
        transport = httpx.HTTPTransport(local_address=source, verify=ssl.create_default_context(cafile=str(nginx.cert)))
        with httpx.Client(transport=transport, timeout=15) as c:
            got = c.post(base + "/api/v1/cases/query", json={"case_no": case_no, "verify": verify},
                         headers={"X-Forwarded-For": spoof})
        return got.status_code

    try:
        wait_until(lambda: nginx.proc.poll() is not None or up(base), 30, "nginx up")
        assert nginx.proc.poll() is None, nginx.errors()
        # One phone forging another address at every guess: nginx replaces the header, so all are its own
        for i in range(5):
            assert phone("127.0.0.2", f"ZW20260303{i:05d}", "123456", f"203.0.113.{i}") == 404
        assert phone("127.0.0.2", CASE_Q, Q.id_number[-6:], "203.0.113.99") == 429
        # another phone through the same nginx finds its case
        assert phone("127.0.0.3", CASE_Q, Q.id_number[-6:], "127.0.0.2") == 200
        assert sorted(n for k, n in hall.counts().items() if k.startswith("web:")) == [5]
    finally:
        end_process(nginx.proc)


def test_a_proxy_on_another_machine_is_trusted_only_when_named(hall: Hall) -> None:
    """hallweb takes X-Forwarded-For from loopback only, unless FORWARDED_ALLOW_IPS names the proxy."""

    def phone(source: str, case_no: str, verify: str, forwarded: str) -> int:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=15) as c:
            return c.post(hall.web + "/api/v1/cases/query", json={"case_no": case_no, "verify": verify},
                          headers={"X-Forwarded-For": forwarded}).status_code

    hall.stop_web()
    hall.env["FORWARDED_ALLOW_IPS"] = "127.0.0.1,::1,127.0.0.4"  # nginx at 127.0.0.4 (hallweb.env)
    hall.start_web()
    # The named proxy forwards six phones, each wrong once: none is held back for the others
    assert [phone("127.0.0.4", f"ZW20260303{i:05d}", "123456", f"198.51.100.{i}") for i in range(6)] == [404] * 6
    assert phone("127.0.0.4", CASE_Q, Q.id_number[-6:], "198.51.100.77") == 200
    # Anyone else reaching hallweb's port is counted by its own address, whatever it forwards
    assert [phone("127.0.0.5", f"ZW20260304{i:05d}", "123456", f"203.0.113.{i}") for i in range(5)] == [404] * 5
    assert phone("127.0.0.5", CASE_Q, Q.id_number[-6:], "203.0.113.99") == 429
    assert sorted(n for k, n in hall.counts().items() if k.startswith("web:")) == [1] * 6 + [5]


def up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", verify=False, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
