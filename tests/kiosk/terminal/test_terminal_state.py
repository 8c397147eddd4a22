"""The terminal's Qt-free state against the real controller (through `InlinePort`), and its small parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.idcard.samples import sample_card
from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import parse_config
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.localbroker import LocalBroker
from hallbus.outbox import Outbox
from hallbus.privacy import id_hash
from hallbus.rpc import Request, RpcClient, RpcServer, SimpleDispatcher
from kiosk.common import keypad
from kiosk.common.i18n import Catalogue
from kiosk.common.idle import IdleTimer
from kiosk.common.person import birth_of, is_expired, person_from_card
from kiosk.common.port import InlinePort
from kiosk.terminal import views
from kiosk.terminal.state import TerminalState
from tests.kiosk.conftest import KEY, NODE, T0, Hall, kiosk_config


@pytest.fixture
def state(hall: Hall, tmp_path: Path) -> Iterator[TerminalState]:
    """A terminal state talking to the real controller (answers delivered inline), ratings through a real outbox."""
    bus = BusClient(hall=hall.config.hall.id, node=NODE, role="terminal", broker=parse_broker_url(hall.broker.url))
    assert bus.start(wait=5)
    rpc = RpcClient(bus)
    outbox = Outbox(tmp_path / "outbox.sqlite", rpc)
    outbox.start()
    try:
        yield TerminalState(hall.config, Catalogue(), InlinePort(rpc), node=NODE, hall_key=KEY,
                            ratings=outbox, today=lambda: T0.date())
    finally:
        outbox.close()
        bus.stop()


def test_card_is_hashed_and_masked_and_never_kept() -> None:
    card = sample_card("resident")
    person = person_from_card(card, KEY, dt.date(2026, 3, 3))
    assert person.ref.id_hash == id_hash(KEY, card.id_number)
    assert person.name_masked == "张**" and person.id_masked == card.id_number[:6] + "********" + card.id_number[-4:]
    assert card.id_number not in repr(person) and card.id_number not in str(person.view())
    assert person.card_type == "resident" and not person.expired
    assert person_from_card(sample_card("hmt"), KEY, dt.date(2026, 3, 3)).expired  # valid to 2024-01-01
    assert person_from_card(sample_card("foreign_2017"), KEY, dt.date(2026, 3, 3)).card_type == "foreign"
    assert not is_expired("长期", dt.date(2099, 1, 1)) and is_expired("2026-03-02", dt.date(2026, 3, 3))


def test_the_birth_date_is_kept_for_the_green_channel_only() -> None:
    card = sample_card("resident")
    person = person_from_card(card, KEY, dt.date(2026, 3, 3))
    assert person.birth == "1990-01-01"
    assert person.ref.birth is None and "1990" not in str(person.view()), "not on the bus or a screen by default"
    assert person.green_ref().birth == "1990-01-01" and person.green_ref().id_hash == person.ref.id_hash
    # a card whose birth field is unreadable: the 18-character number tells it
    assert birth_of(dataclasses.replace(card, birth="")) == "1990-01-01"
    assert birth_of(dataclasses.replace(card, birth="", id_number="ABC123456789012")) == ""


def test_real_name_ticket_needs_the_card_then_the_controller_issues_it(state: TerminalState) -> None:
    state.go("ticket")
    state.ticket.choose("B")
    assert state.ticket.step == "card"
    state.on_card(sample_card("resident"))
    assert state.ticket.step == "confirm" and state.view("person")["name"] == "张**"
    state.ticket.confirm()
    assert state.ticket.step == "done", state.ticket.error
    assert state.ticket.result is not None and state.ticket.result["number"] == "B001"
    assert state.ticket.printed is False  # no printer on this state: the ticket is on screen only
    assert "打印机" in state.ticket.print_note["zh_CN"]
    # one open ticket per person per service: the controller says so, in words
    state.go("ticket")
    state.ticket.choose("B")
    state.ticket.confirm()
    assert state.ticket.step == "confirm" and state.ticket.error and state.ticket.error["zh_CN"]


def test_expired_card_is_refused_with_a_reason(state: TerminalState) -> None:
    state.go("ticket")
    state.ticket.choose("C")
    state.on_card(sample_card("hmt"))
    assert state.ticket.step == "card"
    assert "过期" in state.ticket.error["zh_CN"] and "2024-01-01" in state.ticket.error["en"]


def finished_case(case_no: str, id_number: str) -> dict[str, Any]:
    """A case finished an hour after T0, handled by 李明, as an import delivers it."""
    return {
        "case_no": case_no, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl",
        "applicant_name": "张测试", "id_number": id_number, "status": "done",
        "accepted_at": T0.isoformat(), "finished_at": (T0 + dt.timedelta(hours=1)).isoformat(),
        "promised_days": 3, "handler": "李明", "department": "县市场监督管理局",
    }


def type_case_to_rate(state: TerminalState, case_no: str, verify: str) -> None:
    """Open 服务评价 and type a case number and the last 6 of the ID number on its keypad."""
    state.go("rate")
    for ch in case_no:
        state.rate.key(ch)
    state.rate.field("verify")
    for ch in verify:
        state.rate.key(ch)
    state.rate.submit()


def test_rating_goes_to_the_outbox_with_reasons_for_a_bad_level(state: TerminalState, hall: Hall) -> None:
    card = sample_card("resident", seq="021")
    hall.import_records([finished_case("ZW2026030300021", card.id_number)])
    type_case_to_rate(state, "ZW2026030300021", card.id_number[-6:])
    assert state.rate.step == "level", state.rate.error
    state.rate.choose_level(2)
    assert state.rate.step == "reasons"
    state.rate.send()
    assert state.rate.error is not None and state.rate.step == "reasons"  # a reason is required
    outbox = state.ratings
    assert isinstance(outbox, Outbox)
    answered: list[Any] = []
    done = threading.Event()
    outbox.add_listener(lambda item, data, fault: (answered.append((item, data, fault)), done.set()))
    state.rate.toggle_reason("other")  # the tablet's rule, the controller's rule: "other" needs a comment
    state.rate.send()
    assert state.rate.step == "reasons" and state.rate.error is not None and "其他" in state.rate.error["zh_CN"]
    assert outbox.pending() == []
    state.rate.toggle_reason("other")
    state.rate.toggle_reason("efficiency")
    state.rate.send()
    assert state.rate.step == "thanks"
    promise = f"{hall.config.ratings.followup_days}个工作日内"
    assert promise in state.rate.view()["thanks"]["zh_CN"]
    assert done.wait(5), "the controller never answered the rating"
    item, data, fault = answered[0]
    assert fault is None and data is not None
    reply = schemas.decode_reply(item.method, data)  # the outbox hands over the reply's data as it came
    assert isinstance(reply, schemas.RatingReply) and reply.accepted and reply.followup  # a bad rating opens a follow-up
    assert item.method == "rating.submit" and item.body["level"] == 2 and item.body["reasons"] == ["efficiency"]
    assert item.body["case_no"] == "ZW2026030300021" and outbox.pending() == []
    assert item.body["verify"] == card.id_number[-6:]  # the proof the case was found with goes along


def test_wrong_digits_make_the_terminal_say_how_long_to_wait_and_the_card_still_works(
    state: TerminalState, hall: Hall
) -> None:
    card = sample_card("resident", seq="041")
    hall.import_records([finished_case("ZW2026030300041", card.id_number)])
    for _ in range(5):
        state.reset()
        type_case_to_rate(state, "ZW2026030300041", "000000")
        assert state.rate.error is not None and "不匹配" in state.rate.error["zh_CN"]
    state.reset()
    type_case_to_rate(state, "ZW2026030300041", card.id_number[-6:])
    shown = state.view("rate")["error"]
    assert state.rate.step == "case"
    assert "30 秒后再试" in shown["zh_CN"] and "刷身份证" in shown["zh_CN"] and shown["zh_CN"].endswith("。")
    assert "try again in 30 s" in shown["en"] and "ID card" in shown["en"] and shown["en"].endswith(".")
    state.on_card(card)  # the owner's card is never held back by the guesses
    assert state.rate.step == "level" or state.rate.step == "pick", state.rate.error
    assert state.rate.proof.get("id_card") is not None


def test_rating_offers_only_finished_cases_and_says_why_the_others_wait(state: TerminalState, hall: Hall) -> None:
    """The controller refuses a rating of a case still being handled: the picker never offers one,
    and names it with its status instead; a typed case still 审核中 is told, not opened."""
    card = sample_card("resident", seq="031")
    common = {"applicant_name": "张测试", "id_number": card.id_number, "promised_days": 5, "handler": "李明",
              "department": "县市场监督管理局", "item_code": "scjg-gtgsh-sl"}
    hall.import_records([
        {**common, "case_no": "ZW2026030200031", "item": "个体工商户设立登记", "status": "reviewing",
         "accepted_at": (T0 - dt.timedelta(days=1)).isoformat()},
        {**common, "case_no": "ZW2026022600032", "item": "食品经营许可证核发", "status": "done",
         "accepted_at": (T0 - dt.timedelta(days=6)).isoformat(), "finished_at": (T0 - dt.timedelta(hours=3)).isoformat()},
    ])
    state.go("rate")
    state.on_card(card)
    view = state.view("rate")
    assert view["step"] == "pick"
    assert [c["caseNo"] for c in view["cases"]] == ["ZW2026022600032"]
    assert view["cases"][0]["finishedAt"] == (T0 - dt.timedelta(hours=3)).date().isoformat()
    # the records' Chinese words in English from the catalogue (a word it lacks stays as written)
    assert view["cases"][0]["timeline"][0]["node"] == {"zh_CN": "受理", "en": "Accepted"}
    assert views.official(Catalogue(), "case_result", "专人送达") == {"zh_CN": "专人送达", "en": "专人送达"}
    assert "个体工商户设立登记（审核中）" in view["notYet"]["zh_CN"] and "办结后" in view["notYet"]["zh_CN"]
    assert "under review" in view["notYet"]["en"].lower() or "review" in view["notYet"]["en"], view["notYet"]
    state.reset()
    type_case_to_rate(state, "ZW2026030200031", card.id_number[-6:])
    assert state.rate.step == "case" and state.rate.chosen is None
    assert state.rate.error is not None and "审核中" in state.rate.error["zh_CN"], state.rate.error


def test_reset_forgets_everything_and_drops_late_answers(state: TerminalState) -> None:
    state.go("ticket")
    state.on_card(sample_card("resident"))
    state.ticket.choose("A")
    answers: list[Any] = []
    real_port = state.port

    class Late:
        """Holds the answer until after the reset, as a slow controller would."""

        def call(self, method: schemas.Rpc[Any], body: dict[str, Any], on_ok: Any, on_error: Any, *, timeout: float = 5.0) -> None:
            answers.append((method, body, on_ok, on_error))

        def run(self, work: Any, on_ok: Any, on_error: Any) -> None:
            real_port.run(work, on_ok, on_error)

    state.port = Late()
    state.ticket.confirm()
    assert not state.is_empty()
    state.reset()
    assert state.is_empty()
    method, body, on_ok, _on_error = answers[0]
    assert method is schemas.TICKET_ISSUE
    real_port.call(method, body, on_ok, lambda err: None)  # the real answer arrives late
    assert state.is_empty() and state.view("ticket")["result"] == {}


def test_idle_timer_warns_then_expires_only_with_a_session() -> None:
    now = [0.0]
    timer = IdleTimer(60, 10, clock=lambda: now[0])
    now[0] = 100
    assert timer.phase() == ("active", 0)  # nothing to forget: no countdown on the home screen
    timer.arm(True)
    now[0] = 159
    assert timer.phase() == ("active", 0)
    now[0] = 161
    assert timer.phase() == ("countdown", 9)
    timer.touch()
    assert timer.phase() == ("active", 0)
    now[0] = 161 + 71
    assert timer.phase() == ("expired", 0)


def test_keypad_and_catalogues() -> None:
    assert keypad.press("ZW1", "back", max_len=5, allowed="ZW0123456789") == "ZW"
    assert keypad.press("12345", "6", max_len=5, allowed="0123456789") == "12345"
    assert keypad.press("1", "x", max_len=6, allowed="0123456789X") == "1X"
    assert keypad.press("1", "?", max_len=6, allowed="0123456789X") == "1"
    cat = Catalogue()
    assert cat.missing() == {}
    assert cat.get("en", "ticket_ahead") == "%1 people ahead of you"
    assert cat.text("case_overdue", n=2)["zh_CN"].startswith("已超过承诺时限 2 个工作日")


def test_a_reply_of_another_shape_is_told_in_a_sentence(broker: LocalBroker, tmp_path: Path) -> None:
    """A controller of another version answers `ticket.issue` without the ticket's number: the ticket
    screen says so in the `bad_reply` fault's own words, and shows no half a ticket."""
    config = kiosk_config(tmp_path)
    url = parse_broker_url(broker.url)

    def issue(_req: Request) -> dict[str, Any]:
        return {"ticket": {"service": "A", "ahead": 2}}

    controller = BusClient(hall=config.hall.id, node="controller", role="controller", broker=url)
    server = RpcServer(controller, SimpleDispatcher({"ticket.issue": issue}))
    server.start()  # subscribed with the connection, before the marker below
    terminal = BusClient(hall=config.hall.id, node=NODE, role="terminal", broker=url)
    try:
        assert controller.start(wait=5) and terminal.start(wait=5)
        live = threading.Event()
        marker = controller.topics.root + "marker/terminal-test"
        controller.subscribe(marker, lambda *_: live.set())
        controller.publish(marker, b"{}")
        assert live.wait(5), "the broker never confirmed the controller's subscriptions"
        state = TerminalState(config, Catalogue(), InlinePort(RpcClient(terminal)), node=NODE, hall_key=KEY,
                              today=lambda: T0.date())
        state.go("ticket")
        state.on_card(sample_card("resident"))
        state.ticket.choose("A")
        state.ticket.confirm()
        error = state.view("ticket")["error"]
        assert state.ticket.step == "confirm" and state.ticket.result is None
        assert "答复格式有误" in error["zh_CN"] and "ticket.issue" in error["en"], error
    finally:
        server.stop()
        terminal.stop()
        controller.stop()


def test_a_terminal_issuing_too_fast_shows_the_controllers_sentence(broker: LocalBroker, tmp_path: Path) -> None:
    """A signed terminal past its pace ([ticket_limits]) shows why and how long to wait, not an error code."""
    node_key = secrets.token_hex(32)
    (tmp_path / "node-keys.json").write_text(json.dumps({NODE: node_key}))
    config = kiosk_config(tmp_path, extra="")
    text = Path(config.path).read_text(encoding="utf-8").replace(
        "[privacy]\n", f'[privacy]\nnode_keys_file = "{tmp_path / "node-keys.json"}"\n', 1
    )
    Path(config.path).write_text(text, encoding="utf-8")
    config = parse_config(text, config.path)
    ctl = HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url),
                         clock=ManualClock(T0), hall_key=KEY, tick_s=0.1)
    assert ctl.start(wait=5)
    bus = BusClient(hall=config.hall.id, node=NODE, role="terminal", broker=parse_broker_url(broker.url))
    try:
        assert bus.start(wait=5)
        rpc = RpcClient(bus, node_key=bytes.fromhex(node_key))
        assert bus.wait_subscribed(rpc.reply_topic, 5)
        state = TerminalState(config, Catalogue(), InlinePort(rpc), node=NODE, hall_key=KEY, today=lambda: T0.date())
        for n in range(1, config.ticket_limits.burst + 2):
            state.go("ticket")
            state.ticket.choose("A")
            state.ticket.confirm()
            if n <= config.ticket_limits.burst:
                assert state.ticket.step == "done" and state.ticket.result["number"] == f"A{n:03d}", state.ticket.error
        error = state.view("ticket")["error"]
        assert state.ticket.step == "confirm"
        assert "过于频繁" in error["zh_CN"] and "秒后再取号" in error["zh_CN"], error
        assert "too fast" in error["en"], error
    finally:
        bus.stop()
        ctl.stop()
