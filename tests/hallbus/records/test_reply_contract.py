"""Every RPC method of v1 on the real controller over the real broker, each reply held to its type.

The replies are caught off the wire (a tap on `reply/#`) and held to `schemas.RPC`: the
envelope and the reply type closed (no field more), every field sent (no field less),
every value of its JSON type, and every error code one the method's table names. The
calls themselves go through `RpcClient.call_typed`, the API the kiosk and the web service
use, and together see every field of every reply type with a value at least once. A
handler that adds, drops or retypes a field fails here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import time
import uuid
from typing import Any, TypeVar

import msgspec
import pytest

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.privacy import id_hash
from hallbus.records import receipt
from hallbus.records.samples import Person, make_person
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.contract import Coverage, hold_reply
from tests.hallbus.records.conftest import KEY, T0, Hall

R = TypeVar("R", bound=msgspec.Struct)
RNG = random.Random(15)
P, Q = make_person(RNG), make_person(RNG)


def card(p: Person) -> dict[str, Any]:
    return {"id_hash": id_hash(KEY, p.id_number), "name_masked": p.name[0] + "*", "id_masked": "110105********002X"}


class Tap:
    """Every reply on the bus, by request_id, as the bytes that travelled."""

    def __init__(self, hall: Hall) -> None:
        self.replies: dict[str, bytes] = {}
        self._cond = threading.Condition()
        bus = BusClient(hall=hall.config.hall.id, node="tap", role="hall", broker=parse_broker_url(hall.broker.url))
        bus.subscribe(bus.topics.root + "reply/#", self._on_reply)
        assert bus.start(wait=5)
        hall.buses.append(bus)
        # the subscription is live once a message sent after it comes back
        marker = str(uuid.uuid4())
        bus.publish(bus.topics.root + "reply/tap/marker", {"request_id": marker})
        self.wait(marker)

    def _on_reply(self, _topic: str, payload: bytes, _props: Any) -> None:
        rid = msgspec.json.decode(payload).get("request_id", "")
        with self._cond:
            self.replies[rid] = bytes(payload)
            self._cond.notify_all()

    def wait(self, rid: str, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        with self._cond:
            while rid not in self.replies:
                left = deadline - time.monotonic()
                assert left > 0, f"no reply {rid} on the wire"
                self._cond.wait(left)
            return self.replies[rid]


class Contract:
    """Calls methods as a client does and holds every reply on the wire to the contract."""

    def __init__(self, hall: Hall) -> None:
        self.tap = Tap(hall)
        self.answered: set[str] = set()  # methods seen with a successful reply
        self.coverage = Coverage()
        self.refused: dict[str, set[str]] = {}  # method -> error codes seen

    def ok(self, rpc: RpcClient, method: schemas.Rpc[R], body: dict[str, Any] | None = None) -> R:
        """Call `method`, expect success; the typed reply (`call_typed`), held to the contract on the wire."""
        rid = str(uuid.uuid4())
        typed = rpc.call_typed(method, body, request_id=rid)
        assert isinstance(typed, method.reply)
        reply = hold_reply(method.name, self.tap.wait(rid))
        assert reply.ok and typed == schemas.decode_reply(method.name, reply.data or {})
        self.answered.add(method.name)
        self.coverage.add(typed)
        return typed

    def fails(self, rpc: RpcClient, method: str, body: dict[str, Any], code: str) -> None:
        """Call `method`, expect the error `code`; its reply held to the contract on the wire."""
        rid = str(uuid.uuid4())
        with pytest.raises(RpcFault) as info:
            if method in schemas.RPC:
                rpc.call_typed(schemas.RPC[method], body, request_id=rid)
            else:
                rpc.call(method, body, request_id=rid)
        assert info.value.code == code, info.value
        reply = hold_reply(method, self.tap.wait(rid))
        assert reply.error is not None and reply.error.code == code
        self.refused.setdefault(method, set()).add(code)


def _records(hall: Hall) -> None:
    done = (T0 - dt.timedelta(hours=1)).isoformat()  # finished today: the case figures are not null
    base = {"item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": P.name, "id_number": P.id_number,
            "accepted_at": (T0 - dt.timedelta(days=8)).isoformat(), "promised_days": 10, "handler": "李明",
            "department": "县市场监督管理局", "pickup_window": "3号窗口"}
    report = hall.import_records([
        {**base, "case_no": "ZW2026030300001", "status": "reviewing"},
        {**base, "case_no": "ZW2026030300002", "status": "done", "finished_at": done, "result": "窗口领取"},
        {"kind": "appointment", "code": "YY0001", "service": "C", "item": "社会保障卡申领", "applicant_name": Q.name,
         "id_number": Q.id_number, "slot_start": (T0 + dt.timedelta(minutes=20)).isoformat()},
    ])
    assert report.errors == []


def test_every_method_replies_exactly_its_type(hall: Hall) -> None:
    _records(hall)
    c = Contract(hall)
    term, counter = hall.client("terminal-1"), hall.client("counter-1", "counter")
    tablet = hall.client("tablet-1", "tablet")

    # the method table and the controller's handlers are the same methods
    assert set(hall.controller.controller.handlers) == set(schemas.RPC)
    assert set(hall.controller.rpc.methods) == set(schemas.RPC)

    empty = c.ok(term, schemas.STATS_TODAY)
    assert empty.stats.satisfaction_rate is None and empty.stats.ratings_by_window == {}

    # guide
    listed = c.ok(term, schemas.GUIDE_LIST)
    assert listed.total == len(listed.items) > 0 and listed.categories
    assert c.ok(term, schemas.GUIDE_LIST, {"q": "gtgsh"}).items[0].name.startswith("个体工商户")
    assert c.ok(term, schemas.GUIDE_GET, {"item": listed.items[0].item}).item.materials
    c.fails(term, "guide.get", {"item": "no-such-item"}, "guide_item_not_found")

    # tickets
    a1 = c.ok(term, schemas.TICKET_ISSUE, {"service": "A"}).ticket
    assert (a1.number, a1.status, a1.ahead) == ("A001", "waiting", 0)
    texted = c.ok(term, schemas.TICKET_ISSUE, {"service": "E", "phone": "13812345678"}).notify
    assert texted is not None and texted.phone_masked == "138****5678"
    c.fails(term, "ticket.issue", {"service": "E", "phone": "1381234567"}, "bad_request")
    c1 = c.ok(term, schemas.TICKET_ISSUE, {"service": "C", "id_card": card(P)}).ticket
    assert c1.name_masked == P.name[0] + "*"
    c.fails(term, "ticket.issue", {"service": "C", "id_card": card(P)}, "already_in_queue")
    c.fails(term, "ticket.issue", {"service": "Z"}, "unknown_service")
    c.fails(term, "ticket.issue", {"service": "C"}, "id_card_required")
    c.fails(term, "ticket.issue", {"service": 5}, "bad_request")
    by_number = c.ok(term, schemas.TICKET_STATUS, {"number": "A001"}).ticket
    assert by_number.number == "A001" and by_number.ticket_id == "" == by_number.track_url  # the id is the ticket's secret
    assert c.ok(term, schemas.TICKET_STATUS, {"ticket_id": c1.ticket_id}).ticket.number == c1.number
    c.fails(term, "ticket.status", {"number": "A999"}, "unknown_ticket")
    c.fails(term, "ticket.status", {}, "bad_request")
    many = c.ok(term, schemas.TICKET_STATUSES, {"ticket_ids": [c1.ticket_id, "nonsense"]}).tickets
    assert [t.ticket_id for t in many] == [c1.ticket_id]
    c.fails(term, "ticket.statuses", {"ticket_ids": ["x"] * 501}, "too_many_ids")
    leaving = c.ok(term, schemas.TICKET_ISSUE, {"service": "K"}).ticket
    assert c.ok(term, schemas.TICKET_CANCEL, {"ticket_id": leaving.ticket_id}).ticket.status == "cancelled"
    c.fails(term, "ticket.cancel", {"ticket_id": leaving.ticket_id}, "ticket_not_waiting")
    c.fails(term, "ticket.cancel", {"ticket_id": "nonsense"}, "unknown_ticket")

    # appointments and cases
    checked = c.ok(term, schemas.APPOINTMENT_CHECKIN, {"code": receipt.appointment_qr("YY0001")})
    assert checked.appointment == "YY0001" and checked.ticket.channel == "appointment"
    c.fails(term, "appointment.checkin", {"code": "YY0001"}, "already_checked_in")
    c.fails(term, "appointment.checkin", {"code": "YY9999"}, "not_found")
    c.fails(term, "appointment.checkin", {"code": "??"}, "bad_qr")
    cases = c.ok(term, schemas.CASE_QUERY, {"id_card": card(P)}).cases
    assert {x.case_no: x.on_time for x in cases} == {"ZW2026030300001": None, "ZW2026030300002": True}
    assert all(x.timeline for x in cases)
    c.fails(term, "case.query", {"case_no": "ZW2099010100001", "verify": "123456"}, "case_not_found")
    c.fails(term, "case.query", {"case_no": "ZW2026030300001", "verify": "12"}, "bad_verify")
    c.fails(term, "case.query", {"case_no": "ZW2026030300001", "verify": Q.id_number[-6:]}, "verify_mismatch")
    mine = c.ok(term, schemas.CASE_QUERY, {"case_no": "ZW2026030300001", "verify": P.id_number[-6:]}).cases
    assert [x.case_no for x in mine] == ["ZW2026030300001"]

    # the counter: every action, and the refusals a counter meets most
    c.fails(counter, "window.login", {"window": "1", "staff": "s001", "password": "wrong"}, "login_failed")
    c.fails(counter, "window.call_next", {"window": "9"}, "not_logged_in")
    c.fails(counter, "window.call_next", {"window": "99"}, "unknown_window")
    assert c.ok(counter, schemas.WINDOW_LOGIN, {"window": "1", "staff": "s001", "password": "hall001"}).window.status == "idle"
    c.fails(counter, "window.recall", {"window": "1"}, "no_current_ticket")
    serving = c.ok(counter, schemas.WINDOW_CALL_NEXT, {"window": "1"}).window
    assert serving.ticket is not None and serving.ticket.number == "A001" and serving.staff is not None
    c.fails(counter, "window.pause", {"window": "1", "reason": "培训"}, "window_busy")
    c.fails(counter, "window.logout", {"window": "1"}, "window_busy")
    recalled = c.ok(counter, schemas.WINDOW_RECALL, {"window": "1"}).window.ticket
    assert recalled is not None and recalled.attempt == 2
    held = c.ok(counter, schemas.WINDOW_HOLD, {"window": "1"}).window
    assert held.ticket is None and [t.number for t in held.held] == ["A001"]
    c.fails(counter, "window.call_back", {"window": "1", "ticket": "A999"}, "ticket_not_held")
    assert c.ok(counter, schemas.WINDOW_CALL_BACK, {"window": "1", "ticket": "A001"}).window.ticket is not None
    c.fails(counter, "window.transfer", {"window": "1"}, "transfer_target_required")
    moved = c.ok(counter, schemas.WINDOW_TRANSFER, {"window": "1", "to_window": "2", "position": "front"}).window
    assert moved.ticket is None and moved.status == "idle"
    c.ok(term, schemas.TICKET_ISSUE, {"service": "A"})
    c.ok(counter, schemas.WINDOW_CALL_NEXT, {"window": "1"})
    assert c.ok(counter, schemas.WINDOW_NO_SHOW, {"window": "1"}).window.ticket is None

    # finish opens a rating request; ratings by the tablet and of a finished case
    rated_later = c.ok(term, schemas.TICKET_ISSUE, {"service": "A"}).ticket
    c.ok(counter, schemas.WINDOW_CALL_NEXT, {"window": "1"})
    rr = c.ok(counter, schemas.WINDOW_FINISH, {"window": "1"}).window.rating_request
    assert c.ok(term, schemas.TICKET_STATUS, {"ticket_id": rated_later.ticket_id}).ticket.rated is False
    assert rr is not None and rr.staff == "s001"
    c.fails(tablet, "rating.submit", {"rating_id": str(uuid.uuid4()), "window": "1", "level": 7}, "bad_level")
    body = {"rating_id": str(uuid.uuid4()), "window": "1", "ticket": rr.ticket, "staff": "s001", "level": 5}
    good = c.ok(tablet, schemas.RATING_SUBMIT, body)
    assert good.accepted is True and good.followup is None and good.rating_id == body["rating_id"]
    assert c.ok(tablet, schemas.RATING_SUBMIT, body) == good  # the tablet retried: the first answer again
    c.fails(tablet, "rating.submit", {**body, "rating_id": str(uuid.uuid4())}, "already_rated")
    assert c.ok(term, schemas.TICKET_STATUSES, {"ticket_ids": [rated_later.ticket_id]}).tickets[0].rated is True
    c.fails(term, "rating.submit", {**body, "rating_id": str(uuid.uuid4()), "window": "2"}, "proof_required")
    c.fails(hall.client("tablet-2", "tablet"), "rating.submit", {**body, "rating_id": str(uuid.uuid4()), "window": None},
            "no_rating_request")
    c.ok(term, schemas.TICKET_ISSUE, {"service": "A"})
    c.ok(counter, schemas.WINDOW_CALL_NEXT, {"window": "1"})
    rr = c.ok(counter, schemas.WINDOW_FINISH, {"window": "1"}).window.rating_request
    assert rr is not None
    bad = c.ok(tablet, schemas.RATING_SUBMIT, {"rating_id": str(uuid.uuid4()), "window": "1", "ticket": rr.ticket,
                                         "level": 1, "reasons": ["attitude"]})
    assert isinstance(bad.followup, int)
    c.fails(term, "rating.submit", {"rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300002", "level": 2},
            "reasons_required")
    c.fails(term, "rating.submit", {"rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300001", "level": 5,
                                    "id_card": card(P)}, "case_not_finished")
    case_rating = {"rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300002", "level": 2,
                   "reasons": ["efficiency"], "verify": P.id_number[-6:]}  # a second follow-up, of a case
    assert c.ok(term, schemas.RATING_SUBMIT, case_rating).accepted is True

    # pause and resume, an empty queue, leaving
    paused = c.ok(counter, schemas.WINDOW_PAUSE, {"window": "1", "reason": "业务培训"}).window
    assert paused.status == "paused" and paused.pause_reason == "业务培训"
    c.fails(counter, "window.call_next", {"window": "1"}, "window_paused")
    assert c.ok(counter, schemas.WINDOW_RESUME, {"window": "1"}).window.pause_reason is None
    c.fails(counter, "window.resume", {"window": "1"}, "not_paused")
    c.fails(counter, "window.call_next", {"window": "1"}, "queue_empty")

    # the day's figures, now with values where they were null
    stats = c.ok(counter, schemas.STATS_TODAY).stats
    assert stats.ratings == 3 and stats.satisfaction_rate is not None
    assert (stats.cases_done, stats.on_time_rate) == (1, 1.0)
    assert stats.ratings_by_window["1"].ratings == 2 and stats.served_by_window["1"].served == 2
    assert c.ok(counter, schemas.WINDOW_LOGOUT, {"window": "1"}).window.status == "closed"

    # the managers' reports: the web service only, for a console session, built on the RPC server's worker thread
    web = hall.client("web", "web")
    day = stats.date
    seen = "r" * 43
    c.ok(web, schemas.ADMIN_LOGIN, {"staff": "s001", "password": "hall001",
                                    "session_hash": hashlib.sha256(seen.encode()).hexdigest()})
    rep = c.ok(web, schemas.REPORT_QUERY, {"kind": "daily", "from": day, "to": day, "session": seen})
    assert (rep.kind, rep.date_from, rep.date_to, rep.total_rows, rep.offset) == ("daily", day, day, 1, 0)
    row = dict(zip([col.key for col in rep.columns], rep.rows[0], strict=True))
    assert (row["date"], row["ratings"], row["cases_done"]) == (day, 3, 1) and rep.total is not None
    c.fails(web, "report.query", {"kind": "daily", "from": day, "to": "2020-01-01", "session": seen}, "bad_range")
    c.fails(web, "report.query", {"kind": "yearly", "from": day, "to": day, "session": seen}, "bad_kind")
    c.fails(term, "report.query", {"kind": "daily", "from": day, "to": day, "session": seen}, "forbidden")
    c.fails(web, "report.query", {"kind": "daily", "from": day, "to": day}, "session_invalid")
    # the manager console (hallweb's node): a login, who it is, the audit log, the logout
    token = "t" * 43
    c.fails(web, "admin.login", {"staff": "s001", "password": "nope", "session_hash": "a" * 64}, "login_failed")
    boss = c.ok(web, schemas.ADMIN_LOGIN, {"staff": "s001", "password": "hall001", "client": "10.0.0.1",
                                          "session_hash": hashlib.sha256(token.encode()).hexdigest()})
    assert boss.account.role == "manager" and boss.account.department is not None
    assert c.ok(web, schemas.ADMIN_SESSION, {"session": token}).expires_at == boss.expires_at
    log = c.ok(web, schemas.ADMIN_AUDIT, {"session": token, "limit": 1})
    assert [(e.actor, e.action) for e in log.entries] == [("s001", "login")] and log.more
    assert log.entries[0].before is None and log.entries[0].after == '{"role": "manager"}'
    assert c.ok(web, schemas.ADMIN_LOGOUT, {"session": token}).ended is True
    c.fails(web, "admin.audit", {"session": token}, "session_invalid")
    again = "u" * 43
    c.ok(web, schemas.ADMIN_LOGIN, {"staff": "s001", "password": "hall001",
                                    "session_hash": hashlib.sha256(again.encode()).hexdigest()})
    ended = c.ok(web, schemas.ADMIN_AUDIT, {"session": again, "limit": 2}).entries[1]
    assert (ended.action, ended.before, ended.after) == ("logout", '{"role": "manager"}', None)
    # the 好差评 follow-up: the bad rating's task listed, read, moved with its callback; stale and bad moves refused
    listed = c.ok(web, schemas.ADMIN_FOLLOWUPS, {"session": again, "state": "open"})
    assert [f.case_no is not None for f in listed.followups] == [True, False], "the case's, then the window's"
    task = listed.followups[0]
    assert (task.state, task.next_states, task.overdue, listed.overdue) == ("open", ["verified", "appealed"], False, 0)
    assert c.ok(web, schemas.ADMIN_FOLLOWUP, {"session": again, "id": task.id}).followup == task
    called = (T0 - dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    move = {"session": again, "id": task.id, "from_state": "open", "to_state": "verified", "note": "已核实",
            "callback": {"at": called, "by": "李明", "outcome": "群众表示理解"}}
    moved = c.ok(web, schemas.ADMIN_FOLLOWUP_MOVE, move).followup
    assert moved.state == "verified" and moved.history[-1].callback is not None and moved.history[-1].by == "s001"
    c.fails(web, "admin.followup.move", move, "followup_moved")
    c.fails(web, "admin.followup.move", {**move, "from_state": "verified", "to_state": "closed"}, "bad_transition")
    c.fails(web, "admin.followup.move", {**move, "from_state": "verified", "to_state": "done"}, "bad_state")
    c.fails(web, "admin.followup.move", {**move, "from_state": "verified", "to_state": "rectified", "note": " "},
            "note_required")
    c.fails(web, "admin.followup.move", {**move, "from_state": "verified", "to_state": "rectified",
                                         "callback": {"at": "昨天", "by": "李明", "outcome": "好"}}, "bad_callback")
    c.fails(web, "admin.followup.move", {**move, "id": 99999}, "followup_not_found")
    c.fails(web, "admin.followup", {"session": again, "id": 99999}, "followup_not_found")
    assert [f.id for f in c.ok(web, schemas.ADMIN_FOLLOWUPS, {"session": again, "window": "1"}).followups] == [task.id - 1]
    by_reason = c.ok(web, schemas.ADMIN_FOLLOWUPS, {"session": again, "reason": "efficiency"}).followups
    assert [f.reasons for f in by_reason] == [["efficiency"]]
    c.fails(web, "admin.followups", {"session": again, "state": "done"}, "bad_state")
    c.fails(web, "admin.followups", {"session": "nope"}, "session_invalid")
    # cases near their deadline (黄牌) with the escalation the controller's deadline pass recorded
    for _ in range(200):
        near = c.ok(web, schemas.ADMIN_CASES, {"session": again})
        if near.cases and near.cases[0].escalations:
            break
        threading.Event().wait(0.05)
    assert [(x.case_no, x.card, x.escalations[0].level) for x in near.cases] == [("ZW2026030300001", "yellow", "urgent")]
    assert near.departments == ["县市场监督管理局"] and near.yellow == 1
    c.fails(web, "admin.cases", {"session": again, "card": "blue"}, "bad_card")
    # the hall settings without a restart: read, change one at the version seen, a stale version refused
    seen = c.ok(web, schemas.ADMIN_SETTINGS, {"session": again})
    assert next(x for x in seen.settings if x.key == "hall.notice_en").version == 0
    change = {"session": again, "key": "hall.notice_en", "value": "Open today.", "version": 0}
    changed = c.ok(web, schemas.ADMIN_SETTING_SET, change)
    assert next(x for x in changed.settings if x.key == "hall.notice_en").changed_by == "s001"
    c.fails(web, "admin.settings.set", change, "conflict")
    # staff accounts in the console: listed, added, changed, a new password, disabled, enabled; stale edits refused
    people = c.ok(web, schemas.ADMIN_STAFF_LIST, {"session": again}).staff
    assert people[0].id == "s001" and people[0].source == "hall.toml" and people[0].badge.startswith("…")
    new = {"session": again, "id": "s201", "name": "周新", "title": "科员", "department": "综合窗口",
           "photo": "https://intranet.example/s201.png", "badge_uid": "04aa0201", "password": "Kaimen-2026"}
    added = c.ok(web, schemas.ADMIN_STAFF_ADD, new).member
    assert (added.source, added.version, added.has_password, added.updated_by) == ("console", 1, True, "s001")
    c.fails(web, "admin.staff.add", new, "staff_exists")
    c.fails(web, "admin.staff.add", {**new, "id": "s202", "badge_uid": "04aa0201"}, "badge_in_use")
    changed = c.ok(web, schemas.ADMIN_STAFF_UPDATE, {"session": again, "id": "s201", "version": 1, "title": "副科长"})
    assert changed.member.title == "副科长" and changed.member.version == 2
    c.fails(web, "admin.staff.update", {"session": again, "id": "s201", "version": 1, "title": "x"}, "conflict")
    c.ok(web, schemas.ADMIN_STAFF_PASSWORD, {"session": again, "id": "s201", "version": 2, "password": "Another-2026"})
    assert c.ok(web, schemas.ADMIN_STAFF_DISABLE, {"session": again, "id": "s201", "version": 3}).member.disabled
    assert not c.ok(web, schemas.ADMIN_STAFF_ENABLE, {"session": again, "id": "s201", "version": 4}).member.disabled
    c.fails(web, "admin.staff.disable", {"session": again, "id": "s001", "version": 0}, "own_account")
    c.fails(web, "admin.staff.enable", {"session": again, "id": "nobody", "version": 0}, "staff_not_found")
    own = {"session": again, "staff": "s001", "old_password": "hall001", "new_password": "Boss-pass-2026"}
    c.fails(web, "admin.staff.own_password", {**own, "old_password": "nope"}, "wrong_password")
    assert c.ok(web, schemas.ADMIN_STAFF_OWN_PASSWORD, own).member.id == "s001"

    # the envelope's own refusals
    c.fails(term, "no.such_method", {}, "unknown_method")

    assert c.answered == set(schemas.RPC), f"never answered: {set(schemas.RPC) - c.answered}"
    # every field of every reply was seen with a value (a field only ever null could be retyped
    # unnoticed), but one: no caller gives the queue a ticket's case number, so it is always null
    assert c.coverage.unseen({m.reply for m in schemas.RPC.values()}) == ["RatingRequest.case_no"]
