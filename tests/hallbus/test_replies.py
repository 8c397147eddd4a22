"""Typed replies: the method table, `decode_reply`, `RpcClient.call_typed` over a real broker, the contract check."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.rpc import Request, RpcClient, RpcFault, RpcServer, SimpleDispatcher
from tests.hallbus.contract import Coverage, hold_reply, hold_to

TICKET = {
    "number": "A001", "service": "A", "ticket_id": "20260303-a001-1f2e3d4c", "service_name": "综合业务",
    "channel": "onsite", "status": "waiting", "ahead": 0, "est_wait_s": 0, "windows_open": 1, "issued_at": "2026-03-03T09:00:00.000+08:00",
    "track_url": "", "window": None, "name_masked": None, "called_at": None, "attempt": 0,
    "rated": False,
}


def test_every_method_has_one_reply_type_and_one_entry() -> None:
    assert set(schemas.RPC_METHODS) == set(schemas.RPC)
    for name, m in schemas.RPC.items():
        assert m.name == name
        assert issubclass(m.reply, msgspec.Struct) and m.reply.__doc__, f"{name}: no documented reply type"
        assert schemas.reply_type(name) is m.reply
        assert schemas.RPC_METHODS[name] == (m.request, m.purpose, m.reply)
        assert len(set(m.errors)) == len(m.errors) and not set(m.errors) & set(schemas.COMMON_ERRORS), name
    assert schemas.TICKET_ISSUE is schemas.RPC["ticket.issue"] and schemas.TICKET_ISSUE.reply is schemas.TicketIssueReply
    assert issubclass(schemas.TicketIssueReply, schemas.TicketReply)  # a caller reading `.ticket` reads either


def test_decode_reply_reads_like_every_reader_of_the_bus() -> None:
    got = schemas.decode_reply("ticket.issue", {"ticket": {**TICKET, "added_in_v1_later": 1}, "also_new": True})
    assert isinstance(got, schemas.TicketReply) and got.ticket.number == "A001"  # unknown fields ignored
    with pytest.raises(msgspec.ValidationError, match=r"\$\.ticket\.ahead"):
        schemas.decode_reply("ticket.status", {"ticket": {**TICKET, "ahead": "3"}})
    with pytest.raises(msgspec.ValidationError, match="missing required field `appointment`"):
        schemas.decode_reply("appointment.checkin", {"ticket": TICKET})
    with pytest.raises(ValueError, match="no RPC method"):
        schemas.decode_reply("ticket.print", {})


def test_the_contract_check_catches_an_added_a_dropped_and_a_retyped_field() -> None:
    hold_to({"ticket": TICKET}, schemas.TicketReply)
    with pytest.raises(AssertionError, match=r"unknown field `extra` - at `\$\.ticket`"):
        hold_to({"ticket": {**TICKET, "extra": 1}}, schemas.TicketReply)
    dropped = {k: v for k, v in TICKET.items() if k != "track_url"}  # the type would fill ""
    with pytest.raises(AssertionError, match=r"\$\.ticket\.track_url: not sent"):
        hold_to({"ticket": dropped}, schemas.TicketReply)
    with pytest.raises(AssertionError, match="Expected `int`, got `str`"):
        hold_to({"ticket": {**TICKET, "ahead": "0"}}, schemas.TicketReply)
    stats = msgspec.to_builtins(schemas.StatsToday(avg_wait_s=12.5))
    hold_to({"stats": stats}, schemas.StatsReply)
    with pytest.raises(AssertionError, match=r"\$\.stats\.avg_wait_s: sent int 12"):  # a float sent as an int
        hold_to({"stats": {**stats, "avg_wait_s": 12}}, schemas.StatsReply)
    # open maps keep their keys (window ids), their values stay closed
    by_window = {**stats, "ratings_by_window": {"1": {**msgspec.to_builtins(schemas.RatingFigures()), "x": 0}}}
    with pytest.raises(AssertionError, match=r"unknown field `x`"):
        hold_to({"stats": by_window}, schemas.StatsReply)
    envelope = schemas.encode(schemas.RpcReply(request_id="r1", ok=True, data={"ticket": TICKET, "notify": None}))
    assert hold_reply("ticket.issue", envelope).ok
    refused = schemas.RpcReply(request_id="r2", ok=False, error=schemas.RpcError(code="queue_empty", message="无", message_en="none"))
    with pytest.raises(AssertionError, match="'queue_empty' is not in its table"):
        hold_reply("ticket.issue", schemas.encode(refused))


def test_coverage_names_the_fields_never_seen_with_a_value() -> None:
    cov = Coverage()
    cov.add(schemas.decode_reply("ticket.status", {"ticket": TICKET}))
    assert cov.unseen([schemas.TicketReply]) == ["Ticket.called_at", "Ticket.name_masked", "Ticket.window"]
    cov.add(schemas.TicketReply(ticket=schemas.Ticket(number="A2", service="A", window="1", name_masked="王*",
                                                      called_at="2026-03-03T09:01:00.000+08:00")))
    assert cov.unseen([schemas.TicketReply]) == []
    assert "WindowState.held" in cov.unseen([schemas.WindowReply])  # an empty list is no value


def _live(bus: BusClient) -> None:
    """Wait until every subscription this bus sent before now is active: a marker sent after them comes back."""
    back = threading.Event()
    topic = bus.topics.root + f"marker/{uuid.uuid4()}"
    bus.subscribe(topic, lambda *_: back.set())
    bus.publish(topic, b"{}")
    assert back.wait(5), "the broker did not confirm the subscriptions"


def test_call_typed_over_the_broker(make_bus: Callable[..., BusClient]) -> None:
    def issue(req: Request) -> dict[str, Any]:
        service = req.body.service
        if service == "Z":
            raise RpcFault("unknown_service", "没有这项业务。", "No such service.")
        if service == "OLD":  # a controller that answers in another shape
            return {"ticket": {"number": 1}}
        return {"ticket": {**TICKET, "service": service}, "added_in_v1_later": [1]}

    bus = make_bus("controller", role="controller")
    server = RpcServer(bus, SimpleDispatcher({"ticket.issue": issue}))
    server.start()
    _live(bus)
    caller = make_bus("terminal-1")
    rpc = RpcClient(caller)
    _live(caller)
    try:
        got = rpc.call_typed(schemas.TICKET_ISSUE, {"service": "B"})
        assert isinstance(got, schemas.TicketReply) and got.ticket.service == "B"
        assert rpc.call_typed_async(schemas.TICKET_ISSUE, {"service": "C"}).result(5).ticket.service == "C"
        with pytest.raises(RpcFault) as refused:
            rpc.call_typed(schemas.TICKET_ISSUE, {"service": "Z"})
        assert refused.value.code == "unknown_service"  # the controller's own fault, untouched
        with pytest.raises(RpcFault) as bad:
            rpc.call_typed(schemas.TICKET_ISSUE, {"service": "OLD"})
        assert bad.value.code == "bad_reply" and "ticket.issue" in bad.value.message_en
        assert "$.ticket.number" in bad.value.message_en and "答复格式有误" in bad.value.message
    finally:
        server.stop()
