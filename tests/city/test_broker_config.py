"""The city broker `hallcity broker-config` writes, as a city runs it: a real hall bridges with its own login.

Each hall's bridge logs in as `hall-{id}` and may write only its own hall's topics (its
figures, its alerts, its bridge notice and the will behind it); it reads nothing, and its
client id is its username. `hallcity` reads every hall and writes only under `hallcity/v1/`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from city import read
from city.localbroker import CityBroker
from city.pgtest import LocalPostgres
from city.sim import Publisher
from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.localbroker import LocalBroker
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for
from tests.hallbus.deploy.test_city_bridge import bridged_hall, hall_controller
from tests.hallbus.helpers import Inbox
from tests.web.nginx import make_certificate

HALLS = ["bc-north", "bc-south"]


def _stats(served: int) -> schemas.StatsToday:
    now = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    return schemas.StatsToday(served=served, satisfaction_rate=0.97, overdue_cases=0, followups_open=0,
                              date=now.date().isoformat(), ts=now.isoformat())


def _halls(city: City) -> dict[str, dict[str, Any]]:
    with city.pool.connection() as conn:
        return {h["hall"]: h for h in read.halls(conn, city.cfg)}


class Probe:
    """A raw MQTT 5 client with a login of our choosing (paho): what it was answered and what it received."""

    def __init__(self, port: int, username: str | None, password: str | None, client_id: str) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.inbox = Inbox()
        self.answered = threading.Event()
        self.refused: str | None = None
        self.lost = threading.Event()
        self._subacks: dict[int, threading.Event] = {}
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda _c, _u, _f, _rc, _p=None: self.lost.set()
        self.client.on_message = lambda _c, _u, m: self.inbox(m.topic, m.payload, None)
        self.client.on_subscribe = lambda _c, _u, mid, _rc, _p=None: self._subacks.setdefault(mid, threading.Event()).set()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self.answered.wait(5), "the broker did not answer CONNECT"

    def _on_connect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if not self.answered.is_set():
            self.refused = str(rc) if rc.is_failure else None
            self.answered.set()

    def subscribe(self, *filters: str) -> None:
        """Subscribe and wait for the SUBACK (Mosquitto grants a filter its ACL denies, and delivers it nothing)."""
        _rc, mid = self.client.subscribe([(f, 1) for f in filters])
        assert self._subacks.setdefault(mid, threading.Event()).wait(5), "no SUBACK"

    def sync(self) -> None:
        """A round trip: what the broker sent us before answering this has arrived."""
        self.subscribe("probe/sync")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def city_setup(pg: LocalPostgres, tmp_path: Path) -> Iterator[tuple[CityBroker, City]]:
    """A city broker with a login for each of HALLS, and a city (database, config) logging in as hallcity."""
    broker = CityBroker(tmp_path / "city-broker", HALLS)
    broker.start()
    city = City(pg, broker, tmp_path, HALLS)
    try:
        yield broker, city
    finally:
        city.close()
        broker.stop()


def _hall_broker(tmp: Path, hall: str, city: CityBroker, ca: Path | None = None) -> tuple[LocalBroker, BusClient]:
    """A real hall: `hallbus broker-config --city ... --city-user ... --city-password ...`, its Mosquitto and controller."""
    cred = city.credentials(f"hall-{hall}")
    broker, out = bridged_hall(tmp, hall, int(cred["bridge_port"]), (cred["username"], cred["password"]), ca)
    return broker, hall_controller(broker, out, hall)


def _hallcity_probe(broker: CityBroker, client_id: str) -> Probe:
    b = parse_broker_url(broker.hallcity_url)
    return Probe(b.port, b.username, b.password, client_id)


def test_a_halls_figures_come_through_its_bridge_login_and_its_will_when_the_link_dies(
        city_setup: tuple[CityBroker, City], tmp_path: Path) -> None:
    broker, city = city_setup
    ing = city.ingest()
    hall_broker, ctl = _hall_broker(tmp_path, "bc-north", broker)
    try:
        ctl.publish_state(ctl.topics.stats_today, _stats(33))
        h = wait_for(lambda: (x := _halls(city)["bc-north"])["online"] and x["served_today"] == 33 and x, 20,
                     "north's figures through its bridge", lambda: _halls(city)["bc-north"])
        assert h["online"] is True
        # The hall's link dies (its broker killed): the city broker publishes the bridge's will, `0`.
        hall_broker.kill()
        e = wait_for(lambda: (x := _halls(city)["bc-north"])["online"] is False and x, 10, "north offline by its will")
        assert e["reasons"] == ["offline"] and e["served_today"] is None
        assert ing.health()["refused"] == 0
    finally:
        ctl.stop()
        hall_broker.stop()


def test_a_halls_login_cannot_publish_another_halls_figures_or_alerts_or_hallcitys(
        city_setup: tuple[CityBroker, City]) -> None:
    broker, city = city_setup
    ing = city.ingest()
    watch = _hallcity_probe(broker, "watch-hallcity")
    watch.subscribe("hallcity/v1/instance/forged")  # (the instance's own notice lives under hallcity/v1/ too)
    north = broker.credentials("hall-bc-north")
    probe = Probe(broker.bridge_port, north["username"], north["password"], "anything")
    assert probe.refused is None
    south = Topics("bc-south")
    alert = schemas.Alert(kind="case_deadline", level="overdue", subject="forged", ts=dt.datetime.now(dt.UTC).isoformat())
    for topic, payload, retain in ((south.stats_today, schemas.encode(_stats(999)), True),
                                   (south.alerts, schemas.encode(alert), False),
                                   ("hallcity/v1/instance/forged", b'{"v":1}', True)):
        probe.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    # its own hall's figures, sent after the others on the same connection, arrive: the others would have too
    probe.client.publish(Topics("bc-north").stats_today, schemas.encode(_stats(5)), qos=1, retain=True).wait_for_publish(5)
    wait_for(lambda: _halls(city)["bc-north"]["served_today"] == 5, 10, "north's own figures")
    watch.sync()
    s = _halls(city)["bc-south"]
    assert s["served_today"] is None and s["last_seen"] is None, s
    assert city.query("SELECT hall, subject FROM city_alert") == []
    assert not watch.inbox.messages, "a hall's login published under hallcity/v1/"
    assert ing.health()["refused"] == 0
    probe.close()
    watch.close()


def test_a_halls_login_reads_nothing_and_hallcity_writes_nothing_under_hall(
        city_setup: tuple[CityBroker, City]) -> None:
    broker, _city = city_setup
    north = broker.credentials("hall-bc-north")
    spy = Probe(broker.bridge_port, north["username"], north["password"], "spy")
    spy.subscribe("hall/v1/#", "$share/spies/hall/v1/#", "hall/v1/bc-south/#", "hallcity/v1/#")
    control = _hallcity_probe(broker, "control")
    control.subscribe("hall/v1/#", "hallcity/v1/#")
    sim = Publisher(broker.url, "sim-reads")
    south = Topics("bc-south")
    sim.send([(south.stats_today, schemas.encode(_stats(7)), True), (south.alerts, b'{"v":1}', False)])
    control.client.publish("hallcity/v1/instance/control", b'{"v":1}', qos=1, retain=True).wait_for_publish(5)
    control.client.publish(south.stats_today, schemas.encode(_stats(666)), qos=1, retain=True).wait_for_publish(5)
    control.inbox.wait_for(lambda t, _p: t == south.alerts)
    control.inbox.wait_for(lambda t, _p: t == "hallcity/v1/instance/control")
    spy.sync()
    assert spy.inbox.messages == [], "a hall's login read what is not its own"
    # hallcity may not write a hall's figures: the retained figure is still the simulator's 7
    late = _hallcity_probe(broker, "control-late")
    late.subscribe(south.stats_today)
    late.sync()
    assert [schemas.decode(p, schemas.StatsToday).served for _t, p in late.inbox.messages] == [7]
    for c in (spy, control, late):
        c.close()
    sim.close()


def test_wrong_passwords_and_logins_on_the_wrong_listener_are_refused(city_setup: tuple[CityBroker, City]) -> None:
    broker, _city = city_setup
    north = broker.credentials("hall-bc-north")
    hc_pw = broker.hallcity_password_file.read_text().strip()
    refused = {
        "hall, wrong password": Probe(broker.bridge_port, north["username"], north["password"] + "x", "a"),
        "hall on hallcity's listener": Probe(broker.port, north["username"], north["password"], "b"),
        "hallcity on the halls' listener": Probe(broker.bridge_port, "hallcity", hc_pw, "c"),
        "hallcity, wrong password": Probe(broker.port, "hallcity", "nope", "d"),
        "anonymous, hallcity's listener": Probe(broker.port, None, None, "e"),
        "anonymous, the halls' listener": Probe(broker.bridge_port, None, None, "f"),
    }
    for what, p in refused.items():
        assert p.refused is not None, f"{what}: accepted"
        p.close()
    ok = Probe(broker.bridge_port, north["username"], north["password"], "g")
    assert ok.refused is None
    ok.close()


def test_a_halls_login_cannot_take_over_another_halls_bridge_or_a_hallcity_instance(
        city_setup: tuple[CityBroker, City], tmp_path: Path) -> None:
    broker, city = city_setup
    ing = city.ingest("hallcity-one")
    hall_broker, ctl = _hall_broker(tmp_path, "bc-south", broker)
    try:
        ctl.publish_state(ctl.topics.stats_today, _stats(11))
        wait_for(lambda: _halls(city)["bc-south"]["served_today"] == 11, 20, "south's figures through its bridge")
        generation = ing.sub.generation
        north = broker.credentials("hall-bc-north")
        # north's login asks for south's bridge's client id, then for the hallcity instance's
        intruders = [Probe(broker.bridge_port, north["username"], north["password"], cid)
                     for cid in ("hall-bc-south", "hallcity-one")]
        for p in intruders:
            assert p.refused is None
        # both still connected: south's next figure comes through its bridge to the same instance
        ctl.publish_state(ctl.topics.stats_today, _stats(12))
        wait_for(lambda: _halls(city)["bc-south"]["served_today"] == 12, 10, "south's next figure")
        assert ing.sub.generation == generation and ing.bus_up
        assert _halls(city)["bc-south"]["online"] is True
        for p in intruders:
            p.close()
    finally:
        ctl.stop()
        hall_broker.stop()


def test_a_hall_bridges_over_tls_when_the_halls_listener_has_a_certificate(pg: LocalPostgres, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    broker = CityBroker(tmp_path / "city-broker", ["bc-tls"], tls=(cert, key))
    broker.start()
    city = City(pg, broker, tmp_path, ["bc-tls"])
    hall_broker, ctl = None, None
    try:
        city.ingest()
        with socket.create_connection(("127.0.0.1", broker.bridge_port), timeout=5) as s:
            s.sendall(bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 0]))  # a plain MQTT 3.1.1 CONNECT
            try:
                answer = s.recv(16)
            except ConnectionResetError:
                answer = b""
            assert answer == b"", "the halls' listener answered MQTT without TLS"
        hall_broker, ctl = _hall_broker(tmp_path, "bc-tls", broker, ca=cert)
        ctl.publish_state(ctl.topics.stats_today, _stats(21))
        wait_for(lambda: _halls(city)["bc-tls"]["served_today"] == 21, 20, "figures over TLS",
                 lambda: (tmp_path / "bc-tls" / "mosquitto.log").read_text())
    finally:
        if ctl:
            ctl.stop()
        if hall_broker:
            hall_broker.stop()
        city.close()
        broker.stop()


def test_a_rerun_keeps_every_password_and_adds_a_new_halls_login(tmp_path: Path) -> None:
    toml = tmp_path / "city.toml"
    out = tmp_path / "out"

    def run(halls: list[str]) -> None:
        lines = ["[broker]", 'username = "hallcity"', 'password_file = "hallcity.password"', "[db]",
                 'url = "postgresql://x@127.0.0.1/x"']
        for h in halls:
            lines += ["[[halls]]", f'id = "{h}"', f'name = "{h}"']
        toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "city.cli", "broker-config", "--config", str(toml), "--out", str(out),
                               "--persistence-dir", f"{tmp_path}/persist/"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    run(["r-one"])
    first = json.loads((out / "credentials" / "hall-r-one.json").read_text())
    hc = (tmp_path / "hallcity.password").read_text()
    assert stat.S_IMODE((out / "credentials" / "hall-r-one.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "hallcity.password").stat().st_mode) == 0o600
    run(["r-one", "r-two"])
    assert json.loads((out / "credentials" / "hall-r-one.json").read_text()) == first
    assert (tmp_path / "hallcity.password").read_text() == hc
    second = json.loads((out / "credentials" / "hall-r-two.json").read_text())
    assert second["username"] == "hall-r-two" and second["password"] != first["password"]
    acl = (out / "acl-halls").read_text()
    assert "user hall-r-two\ntopic write hall/v1/r-two/#\n" in acl
    # no username, or one that would write its own ACL lines: no config, and the reason is named
    for broker in ("", '[broker]\nusername = "x\\ntopic readwrite #"\npassword = "p"\n'):
        toml.write_text(broker + '[db]\nurl = "postgresql://x@127.0.0.1/x"\n', encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "city.cli", "broker-config", "--config", str(toml), "--out",
                               str(tmp_path / "refused")], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "broker.username" in done.stderr, done.stderr
        assert not (tmp_path / "refused").exists()


def test_an_instance_named_like_a_halls_bridge_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "city.toml"
    toml.write_text('[db]\nurl = "postgresql://x@127.0.0.1/x"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "city.cli", "serve", "--config", str(toml), "--instance", "hall-x"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "hall-... are the client ids of the halls' bridges" in done.stderr


def test_a_new_hall_added_and_the_broker_reloaded_gets_in_and_the_others_keep_theirs(tmp_path: Path) -> None:
    broker = CityBroker(tmp_path / "city-broker", ["rl-old"])
    broker.start()
    try:
        old = broker.credentials("hall-rl-old")
        before = Probe(broker.bridge_port, old["username"], old["password"], "x")
        assert before.refused is None
        # the city adds a hall to city.toml and runs broker-config again into the same folder, then SIGHUP
        toml = tmp_path / "city-broker" / "broker-city.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + '\n[[halls]]\nid = "rl-new"\nname = "rl-new"\n',
                        encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "city.cli", "broker-config", "--config", str(toml),
                               "--out", str(broker.conf_dir), "--listen", "127.0.0.1", "--port", str(broker.port),
                               "--bridge-port", str(broker.bridge_port), "--run-as", getpass.getuser(),
                               "--persistence-dir", f"{tmp_path / 'city-broker' / 'persist'}/", "--sim"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert broker.credentials("hall-rl-old") == old
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGHUP)
        new = broker.credentials("hall-rl-new")

        def new_hall_gets_in() -> bool:
            p = Probe(broker.bridge_port, new["username"], new["password"], "y")
            p.close()
            return p.refused is None

        wait_for(new_hall_gets_in, 10, "the new hall's login after the reload")
        again = Probe(broker.bridge_port, old["username"], old["password"], "z")
        assert again.refused is None, "re-running broke an existing hall's login"
        for p in (before, again):
            p.close()
    finally:
        broker.stop()
