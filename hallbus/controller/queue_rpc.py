"""The queue's RPC methods (`ticket.*`, `window.*`): thin adapters from a request to the queue and back.

Each adapter reads the request's typed body, calls the issuer or the windows, and
replies with the ticket (`{"ticket": ...}`) or the window's new state (`{"window": ...}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.controller import errors
from hallbus.controller.issue_pace import IssuePace
from hallbus.controller.issuing import Issuer, check_channel
from hallbus.controller.login_throttle import LoginKeys, LoginThrottle
from hallbus.controller.module import RatedLookup, Tx, TxHandler
from hallbus.controller.queue_views import QueueViews, without_id
from hallbus.controller.windows import Windows
from hallbus.notify.phone import is_mobile, mask_mobile
from hallbus.rpc import Request, RpcFault


class QueueRpc:
    """RPC method -> handler, for the issuer and the windows."""

    def __init__(self, issuer: Issuer, windows: Windows, views: QueueViews, logins: LoginThrottle) -> None:
        self.issuer = issuer
        self.windows = windows
        self.views = views
        self.logins = logins
        self.pace = IssuePace(views.config.ticket_limits)
        self.rated: RatedLookup | None = None  # set by the ratings module (`QueueApi.know_ratings`)

    def handlers(self) -> Mapping[str, TxHandler]:
        """The queue's RPC methods."""
        return {
            "ticket.issue": self._issue,
            "ticket.status": self._status,
            "ticket.statuses": self._statuses,
            "ticket.cancel": self._cancel,
            "window.login": self._login,
            "window.logout": self._window_action(self.windows.logout),
            "window.call_next": self._window_action(self.windows.call_next),
            "window.recall": self._window_action(self.windows.recall),
            "window.no_show": self._window_action(self.windows.no_show),
            "window.hold": self._window_action(self.windows.hold),
            "window.call_back": self._call_back,
            "window.transfer": self._transfer,
            "window.finish": self._window_action(self.windows.finish),
            "window.pause": self._pause,
            "window.resume": self._window_action(self.windows.resume),
        }

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """A password login's hash is checked on a worker thread, not in the writer's transaction."""
        return {"window.login": self._prepare_login}

    def _issue(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """A terminal's ticket: its node's pace first (signed halls), a priority channel only with proof."""
        b: schemas.TicketIssueReq = req.body
        node = req.signed_node
        if node is not None:
            wait_s = self.pace.wait_s(node, tx.now_ts)
            if wait_s:
                raise errors.issue_rate_limited(wait_s)
        check_channel(self.views.config.ticket_limits, b.channel, b.id_card, tx.today)
        phone = b.phone.strip() if b.phone is not None else None
        if phone is not None and not is_mobile(phone):
            raise errors.bad_phone()
        notify = self.views.config.notify.enabled and bool(phone)  # else the number is not kept at all
        ticket = self.issuer.issue(
            tx, service=b.service, channel=b.channel, id_card=b.id_card, node=node or b.node or req.caller,
            phone=phone if notify else None,
        )
        if node is not None:
            self.pace.took(node, tx.now_ts)
        taken = {"phone_masked": mask_mobile(phone), "ahead": self.views.config.notify.ahead} if notify and phone else None
        return {"ticket": schemas.to_builtins(ticket), "notify": taken}

    def _status(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.TicketStatusReq = req.body
        if not b.number and not b.ticket_id:
            raise errors.bad_request("请提供号码或票号。", "Give a ticket number or a ticket_id.")
        ticket = self.views.find_ticket(tx, number=b.number, ticket_id=b.ticket_id)
        if ticket is None:
            raise errors.unknown_ticket(b.number or b.ticket_id or "")
        if not b.ticket_id:  # a number is no proof of holding the ticket: its id stays secret
            ticket = without_id(ticket)
        else:
            ticket = self._with_rated(tx, [ticket])[0]
        return {"ticket": schemas.to_builtins(ticket)}

    def _statuses(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.TicketStatusesReq = req.body
        if len(b.ticket_ids) > schemas.MAX_WATCHED_IDS:
            raise errors.too_many_ids(len(b.ticket_ids), schemas.MAX_WATCHED_IDS)
        tickets = self._with_rated(tx, self.views.tickets_by_id(tx, b.ticket_ids))
        return {"tickets": [schemas.to_builtins(t) for t in tickets]}

    def _with_rated(self, tx: Tx, tickets: list[schemas.Ticket]) -> list[schemas.Ticket]:
        """Finished tickets asked for by id say whether their handling has a rating (`Ticket.rated`).

        So a phone page knows, before its holder fills the form, that the tablet or the terminal rated first.
        """
        done = [t.ticket_id for t in tickets if t.status == "done" and t.ticket_id]
        if self.rated is None or not done:
            return tickets
        rated = self.rated(tx, done)
        return [msgspec.structs.replace(t, rated=t.ticket_id in rated) if t.status == "done" else t for t in tickets]

    def _cancel(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.TicketCancelReq = req.body
        ticket = self.issuer.cancel(tx, b.ticket_id)
        return {"ticket": schemas.to_builtins(ticket)}

    def _window_reply(self, tx: Tx, wid: str) -> Mapping[str, Any]:
        return {"window": schemas.to_builtins(self.views.window_state(tx, wid))}

    def _window_action(self, action: Callable[[Tx, str], object]) -> TxHandler:
        """A counter action that needs the window alone, replying with the window's state."""

        def handler(req: Request, tx: Tx) -> Mapping[str, Any]:
            action(tx, req.body.window)
            return self._window_reply(tx, req.body.window)

        return handler

    def _login_keys(self, req: Request) -> LoginKeys:
        b: schemas.WindowLoginReq = req.body
        by_password = bool(b.staff) and b.password is not None and not b.badge_uid
        return self.logins.keys(window=b.window, node=b.node or req.caller, staff=b.staff, password=by_password)

    def _prepare_login(self, req: Request) -> None:
        b: schemas.WindowLoginReq = req.body
        if b.staff and b.password is not None and not b.badge_uid and not self.logins.waiting(self._login_keys(req)):
            req.prepared = self.windows.password_check(b.staff, b.password)

    def _login(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowLoginReq = req.body
        self.views.layout.window(b.window)
        keys = self._login_keys(req)
        self.logins.check(tx, keys)  # before the password counts at all (a waiting key's was not even hashed)
        try:
            self.windows.login(
                tx, b.window, staff=b.staff, password=b.password, badge_uid=b.badge_uid, checked=req.prepared
            )
        except RpcFault as fault:
            if fault.code == "login_failed":
                tx.keep_on_fault(lambda t: self.logins.failed(t, keys))
            raise
        self.logins.succeeded(tx, keys)
        return self._window_reply(tx, b.window)

    def _call_back(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowCallBackReq = req.body
        self.windows.call_back(tx, b.window, b.ticket)
        return self._window_reply(tx, b.window)

    def _transfer(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowTransferReq = req.body
        self.windows.transfer(tx, b.window, to_service=b.to_service, to_window=b.to_window, position=b.position)
        return self._window_reply(tx, b.window)

    def _pause(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowPauseReq = req.body
        self.windows.pause(tx, b.window, b.reason)
        return self._window_reply(tx, b.window)
