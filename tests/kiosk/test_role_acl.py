"""Issue 17, finding 7: with the generated ACL every role reads what its code subscribes to and sends what its code sends.

What a role follows is taken from the code: each role is built as its kiosk builds it and
its bus client says which filters it subscribed (its own presence and RPC reply topic
included). The RPC methods it calls are read from its package's source (`schemas.X`
constants and method-name strings). Then, logged in with that node's generated
credentials, every filter must receive what the controller publishes on it, and every
method, its presence and its device health must reach the controller. The counter, which
shows whether the controller is there, must see it go away.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.localbroker import LocalBroker
from hallbus.sample import open_all_day
from tests.hallbus.deploy.secured import (
    ROOT,
    as_node,
    creds,
    secured_broker,
    secured_hall,  # noqa: F401  (a fixture)
)

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
ROLES = [("terminal", "terminal-1"), ("counter", "counter-3"), ("tablet", "tablet-3"), ("window", "window-3"),
         ("hall", "hall-1")]


def methods_called(role: str) -> set[str]:
    """The RPC methods named in kiosk/<role>/: `schemas.WINDOW_LOGIN`-style constants and literal method names."""
    found: set[str] = set()
    for path in (KIOSK / role).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "schemas":
                rpc = getattr(schemas, node.attr, None)
                if isinstance(rpc, schemas.Rpc):
                    found.add(rpc.name)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in schemas.RPC:
                found.add(node.value)
    return found


def followed(role: str, node: str, cfg: HallConfig, broker: LocalBroker, tmp: Path) -> list[str]:
    """The topic filters the role's kiosk subscribes to, as its composition root builds it (not started)."""
    from kiosk.app import Kiosk, Options

    k = Kiosk(Options(role=role, node=node, broker=broker.url, data=tmp / f"kiosk-{node}"), cfg)
    try:
        return k.bus.filters
    finally:
        k.stop()


def concrete(topic_filter: str, window: str) -> str:
    """A topic the filter matches: `+` is the node's window, `#` one more level."""
    return re.sub(r"(?<=/)\+(?=/|$)", window, topic_filter).replace("/#", "/x")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("role-acl")
    config_path, cfg = open_all_day(tmp)
    broker = secured_broker(tmp / "broker", config_path)
    broker.start()
    yield cfg, broker, tmp / "broker", tmp
    broker.stop()


def test_the_code_calls_methods_at_all() -> None:
    """The scan finds what each role really calls (else the test below would check nothing)."""
    assert {"ticket.issue", "case.query", "guide.list", "rating.submit"} <= methods_called("terminal")
    assert {"window.login", "window.call_next", "window.finish"} <= methods_called("counter")
    assert methods_called("tablet") == {"rating.submit"}
    assert methods_called("window") == methods_called("hall") == set()


@pytest.mark.parametrize(("role", "node"), ROLES)
def test_each_role_reads_what_its_code_follows_and_sends_what_it_calls(generated, qapp: Any, role: str,
                                                                       node: str) -> None:
    cfg, broker, out, tmp = generated
    window = cfg.node(node).window or "3"
    filters = followed(role, node, cfg, broker, tmp)
    assert ROOT + f"node/{node}/status" in filters and len(filters) > 1, filters
    ctl = as_node(broker, out, "controller")
    probe = as_node(broker, out, node)  # the only connection of this login (the username is the client id)
    try:
        ctl.subscribe(ROOT + "#")
        for f in filters:
            probe.subscribe(f)
        marker = ROOT + f"node/{node}/marker"
        probe.subscribe(marker)
        for f in filters:
            ctl.c.publish(concrete(f, window), b'{"v":1}', qos=1)
        ctl.c.publish(marker, b'{"v":1}', qos=1)
        probe.wait_got(marker)
        unread = [f for f in filters if concrete(f, window) not in probe.got]
        assert unread == [], f"{role} may not read what its code follows: {unread}"
        sent = [ROOT + f"node/{node}/devices", *(ROOT + f"rpc/{m}" for m in sorted(methods_called(role)))]
        for topic in sent:
            probe.c.publish(topic, json.dumps({"v": 1, "probe": node}), qos=1)
        probe.c.publish(ROOT + f"node/{node}/status", json.dumps({"v": 1, "probe": node}), qos=1)
        ctl.wait_got(ROOT + f"node/{node}/status", node)
        refused = [t for t in sent if (t, node) not in ctl.from_]
        assert refused == [], f"{role} may not send what its code sends: {refused}"
    finally:
        probe.close()
        ctl.close()


def test_the_counter_sees_the_controller_go_away_through_the_acl(secured_hall, qtbot: Any,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    broker, out, ctl = secured_hall
    from kiosk.app import Kiosk, Options

    c = creds(out, "counter-3")
    url = f"mqtt://{c['username']}:{c['password']}@127.0.0.1:{broker.port}"
    k = Kiosk(Options(role="counter", node="counter-3", broker=url, data=tmp_path / "kiosk", size=(1280, 800)),
              ctl.config)
    try:
        window = k.start()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: k.shell.connected, timeout=5000)
        state = k.role.keep[0]
        assert k.bus.wait_subscribed(k.bus.topics.node_status("controller"), 5)
        ctl.stop()  # publishes `offline`, as a stopped service does
        qtbot.waitUntil(lambda: not state.controller_up, timeout=5000)
        assert not state.connected
    finally:
        k.stop()
