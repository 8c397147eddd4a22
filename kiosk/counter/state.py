"""Everything the counter terminal (窗口叫号终端) knows, without Qt.

`CounterState` follows the window's retained state (the controller's truth) and sends the
staff member's counter actions as RPCs. Only one request is in flight at a time: a second
click while one is pending, or any click while the controller is unreachable, sends
nothing. A failed request is never retried by itself, so an action cannot happen twice;
the retained window state shows what really happened once the link is back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hallbus import schemas, wording
from hallbus.config import HallConfig
from kiosk.common.faults import fault_text
from kiosk.common.hallsettings import window_serving
from kiosk.common.i18n import Catalogue, Text, both
from kiosk.common.port import Port
from kiosk.common.rating import satisfaction
from kiosk.common.sections import Sectioned, configured_window

# action id -> (label key, shortcut key shown on the button)
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("call_next", "counter_call_next", "F1"),
    ("recall", "counter_recall", "F2"),
    ("no_show", "counter_no_show", "F3"),
    ("hold", "counter_hold", "F4"),
    ("call_back", "counter_call_back", "F5"),
    ("transfer", "counter_transfer", "F6"),
    ("finish", "counter_finish", "F7"),
    ("pause", "counter_pause", "F8"),
)
# action id -> its RPC method; every one answers with the window's state after it
METHODS: dict[str, schemas.Rpc[schemas.WindowReply]] = {
    "login": schemas.WINDOW_LOGIN,
    "logout": schemas.WINDOW_LOGOUT,
    "call_next": schemas.WINDOW_CALL_NEXT,
    "recall": schemas.WINDOW_RECALL,
    "no_show": schemas.WINDOW_NO_SHOW,
    "hold": schemas.WINDOW_HOLD,
    "call_back": schemas.WINDOW_CALL_BACK,
    "transfer": schemas.WINDOW_TRANSFER,
    "finish": schemas.WINDOW_FINISH,
    "pause": schemas.WINDOW_PAUSE,
    "resume": schemas.WINDOW_RESUME,
}
PAUSE_REASONS: tuple[str, ...] = ("away", "meeting", "training", "system", "break")
LOGIN_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
FIELD_MAX = 32
# Our own words for errors that mean "the controller did not answer" (a retry is up to the person).
LINK_FAULTS = {"unavailable": "err_controller_unreachable", "timeout": "counter_err_timeout"}
# Login refusals that typing again cannot mend: the band keeps them until the next answer.
LASTING_LOGIN_FAULTS = ("login_throttled", "staff_busy")


def parse_ts(text: str | None) -> dt.datetime | None:
    """An ISO timestamp, or None."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def minutes_between(start: str | None, end: dt.datetime | None) -> int | None:
    """Whole minutes from ISO `start` to `end` (never negative), or None."""
    t0 = parse_ts(start)
    if t0 is None or end is None:
        return None
    return max(0, int((end - t0).total_seconds() // 60))


@dataclass
class LoginForm:
    """Staff id + password typed on the on-screen keyboard (or a physical one)."""

    staff: str = ""
    password: str = ""
    focus: str = "staff"  # staff | password
    error: Text | None = None
    error_stays: bool = False  # typing does not clear it: it says when to try again, or where to log out


@dataclass
class TransferChoice:
    """The transfer dialog: to a service or a window, at the front or the end of its queue."""

    kind: str = "service"  # service | window
    target: str = ""
    position: str = "end"  # front | end


@dataclass
class Dialog:
    """Which dialog is open over the counter (transfer, call back, pause), and its choices."""

    name: str = ""  # "" | transfer | call_back | pause
    transfer: TransferChoice = field(default_factory=TransferChoice)
    reason: str = ""


class CounterState(Sectioned):
    """The counter of one window; Qt-free."""

    SECTIONS = (
        "login",
        "window",
        "ticket",
        "actions",
        "queue",
        "figures",
        "dialog",
        "message",
        "link",
    )

    def __init__(
        self,
        cfg: HallConfig,
        catalogue: Catalogue,
        port: Port,
        *,
        window: str,
        now: Callable[[], dt.datetime] = schemas.now,
    ) -> None:
        super().__init__()
        win = configured_window(cfg, window, "counter")
        self.cfg = cfg
        self.cat = catalogue
        self.port = port
        self.window_id = window
        self.win = win
        self.now = now
        self.state: schemas.WindowState | None = None
        self.queue: dict[str, schemas.ServiceQueue] = {}
        self.stats: schemas.StatsToday | None = None
        self.bus_up = False
        self.controller_up = True  # until node/controller/status says otherwise
        self.pending: str | None = None  # the action whose answer we wait for
        self.sent = 0  # requests sent (tests check that nothing is sent twice)
        self.login = LoginForm()
        self.dialog = Dialog()
        self.message: dict[str, Any] | None = None
        self.rating_open: schemas.RatingRequest | None = None  # the open request after a finish

    # --- derived facts ----------------------------------------------------------------------

    @property
    def logged_in(self) -> bool:
        """A staff member sits at this window (per the controller)."""
        return (
            self.state is not None
            and self.state.staff is not None
            and self.state.status != "closed"
        )

    @property
    def connected(self) -> bool:
        """The broker is there and the controller is online: actions can be sent."""
        return self.bus_up and self.controller_up

    @property
    def ticket(self) -> schemas.Ticket | None:
        """The ticket being served now."""
        return self.state.ticket if self.state is not None else None

    def _waiting_here(self) -> int:
        if self.state is not None and self.state.next_numbers:
            return len(self.state.next_numbers)
        return sum(self.queue[s].waiting for s in self.win.services if s in self.queue)

    def enabled(self, action: str) -> bool:
        """Whether a button makes sense now (and can be sent now)."""
        if not self.connected or self.pending is not None or not self.logged_in:
            return False
        st = self.state
        assert st is not None
        has_ticket = st.ticket is not None
        paused = st.status == "paused"
        if action == "call_next":
            return not has_ticket and not paused and self._waiting_here() > 0
        if action == "recall":
            return (
                has_ticket
                and st.ticket is not None
                and st.ticket.attempt - 1 < self.cfg.queue.recall_limit
            )
        if action in ("no_show", "hold", "transfer", "finish"):
            return has_ticket
        if action == "call_back":
            return not has_ticket and not paused and bool(st.held)
        if action == "pause":  # pause and resume share a button
            return paused or not has_ticket
        if action == "logout":
            return not has_ticket
        return False

    # --- bus --------------------------------------------------------------------------------

    def on_window_state(self, state: schemas.WindowState) -> None:
        """The retained `window/{w}/state` (or a reply's window state) arrived."""
        if state.window != self.window_id:
            return
        if self.state is not None and _older(state.ts, self.state.ts):
            return  # a late retained copy of something the reply already told us
        was_logged_in = self.logged_in
        self.state = state
        self.win = window_serving(self.win, state.services)  # what it serves now (a manager may change it)
        self._follow_rating(state.rating_request)
        if self.dialog.name == "call_back" and not state.held:
            self.dialog = Dialog()
        if was_logged_in and not self.logged_in:
            self.login = LoginForm()
            self.dialog = Dialog()
        self._changed("window", "ticket", "actions", "login", "dialog", "queue", "figures")

    def _follow_rating(self, rr: schemas.RatingRequest | None) -> None:
        """Tell staff when the citizen has rated (the request closed before its time) or let it lapse."""
        was = self.rating_open
        self.rating_open = rr
        if was is None or (rr is not None and rr.request_id == was.request_id):
            return
        if not (self.message and self.message.get("rating")):
            return  # dismissed, or another message since: nothing to correct
        expires = parse_ts(was.expires_at)
        lapsed = expires is not None and self.now() >= expires
        self._say("counter_rating_expired" if lapsed else "counter_rating_received", "info")

    def on_queue_state(self, state: schemas.QueueState) -> None:
        """Retained `queue/state`: waiting per service."""
        self.queue = {s.code: s for s in state.services}
        self._changed("queue", "actions")

    def on_stats(self, stats: schemas.StatsToday) -> None:
        """Retained `stats/today`: this window's and this staff member's figures."""
        self.stats = stats
        self._changed("figures")

    def on_connection(self, up: bool) -> None:
        """The broker connection went up or down."""
        self.bus_up = up
        self._link_changed()

    def on_controller(self, status: schemas.NodeStatus) -> None:
        """The controller's retained presence: online, offline (stopped) or lost (its last will)."""
        self.controller_up = status.state == "online"
        self._link_changed()

    def _link_changed(self) -> None:
        up = self.connected
        if up and self.message and self.message.get("link"):
            self.message = None
        elif not up and not (self.message and self.message.get("link")):
            self._say("counter_offline_todo", "error", link=True)  # what to do meanwhile, for staff
        self._changed("link", "actions", "message", "login")

    def on_badge(self, uid: str) -> None:
        """A staff badge was put on the reader: log in with its UID."""
        if self.logged_in and self.state is not None and self.state.ticket is not None:
            self._say("counter_badge_busy", "error")
            return
        self._send("login", {"window": self.window_id, "badge_uid": uid})

    # --- login ------------------------------------------------------------------------------

    def login_field(self, name: str) -> None:
        """Focus the staff id or the password field."""
        if name in ("staff", "password"):
            self.login.focus = name
            self._changed("login")

    def login_key(self, key: str) -> None:
        """A key of the on-screen keyboard: a character, `back`, `clear` or `enter`."""
        if key == "enter":
            if self.login.focus == "staff" and self.login.staff:
                self.login.focus = "password"
                self._changed("login")
            else:
                self.submit_login()
            return
        text = self.login.staff if self.login.focus == "staff" else self.login.password
        if key == "back":
            text = text[:-1]
        elif key == "clear":
            text = ""
        else:
            for ch in key.lower():
                if ch in LOGIN_CHARS and len(text) < FIELD_MAX:
                    text += ch
        if self.login.focus == "staff":
            self.login.staff = text
        else:
            self.login.password = text
        if not self.login.error_stays:
            self.login.error = None
        self._changed("login")

    def submit_login(self) -> None:
        """Log in with the typed staff id and password."""
        if not self.login.staff or not self.login.password:
            self.login.error = self.cat.text("counter_login_incomplete")
            self.login.error_stays = False
            self._changed("login")
            return
        body = {
            "window": self.window_id,
            "staff": self.login.staff,
            "password": self.login.password,
        }
        self._send("login", body)

    def logout(self) -> None:
        """The staff member leaves the window."""
        if self.enabled("logout"):
            self._send("logout", {"window": self.window_id})

    # --- counter actions --------------------------------------------------------------------

    def act(self, action: str) -> None:
        """A button or its F-key: act now, or open the dialog the action needs."""
        if action == "pause" and self.state is not None and self.state.status == "paused":
            action = "resume"
        if not self.enabled("pause" if action == "resume" else action):
            return
        if action in ("transfer", "call_back", "pause"):
            self.dialog = Dialog(name=action)
            self._changed("dialog")
            return
        self._send(action, {"window": self.window_id})

    def close_dialog(self) -> None:
        """Cancel the open dialog."""
        self.dialog = Dialog()
        self._changed("dialog")

    def call_back(self, number: str) -> None:
        """Call back one held ticket (from the call-back dialog)."""
        if not self.enabled("call_back"):
            return
        self.dialog = Dialog()
        self._send("call_back", {"window": self.window_id, "ticket": number})

    def transfer_kind(self, kind: str) -> None:
        """Transfer to a service or to a window."""
        if kind in ("service", "window"):
            self.dialog.transfer = TransferChoice(kind=kind, position=self.dialog.transfer.position)
            self._changed("dialog")

    def transfer_target(self, target: str) -> None:
        """Choose the service code or window id to transfer to."""
        self.dialog.transfer.target = target
        self._changed("dialog")

    def transfer_position(self, position: str) -> None:
        """Front or end of the target's queue."""
        if position in ("front", "end"):
            self.dialog.transfer.position = position
            self._changed("dialog")

    def transfer_confirm(self) -> None:
        """Send the transfer chosen in the dialog."""
        choice = self.dialog.transfer
        if not choice.target or not self.enabled("transfer"):
            return
        body: dict[str, Any] = {"window": self.window_id, "position": choice.position}
        body["to_service" if choice.kind == "service" else "to_window"] = choice.target
        self.dialog = Dialog()
        self._send("transfer", body)

    def pause_reason(self, code: str) -> None:
        """Choose the reason for a pause."""
        if code in PAUSE_REASONS:
            self.dialog.reason = code
            self._changed("dialog")

    def pause_confirm(self) -> None:
        """Pause with the chosen reason (its words go to the window display in the hall's language)."""
        if not self.dialog.reason or not self.enabled("pause"):
            return
        reason = self.cat.get("zh_CN", f"counter_pause_{self.dialog.reason}")
        self.dialog = Dialog()
        self._send("pause", {"window": self.window_id, "reason": reason})

    def dismiss_message(self) -> None:
        """Close the message band."""
        self.message = None
        self._changed("message")

    # --- sending ----------------------------------------------------------------------------

    def _send(self, action: str, body: dict[str, Any]) -> None:
        if self.pending is not None:
            return  # one request at a time: a double click never sends twice
        if not self.connected:
            self._say("err_controller_unreachable", "error", link=True)
            return
        self.pending = action
        self.sent += 1
        self.message = None
        self._changed("actions", "message", "login")
        self.port.call(
            METHODS[action],
            body,
            lambda reply: self._answered(action, reply),
            lambda err: self._failed(action, err),
        )

    def _answered(self, action: str, reply: schemas.WindowReply) -> None:
        self.pending = None
        self.on_window_state(reply.window)
        if action == "login":
            self.login = LoginForm()
        note = {
            "no_show": "counter_done_no_show",
            "hold": "counter_done_hold",
            "transfer": "counter_done_transfer",
            "finish": "counter_done_finish",
        }.get(action)
        if note == "counter_done_finish" and self.rating_open is None:
            note = "counter_done_finish_unrated"  # no rating request opened (logged out, or none configured)
        if note:
            self._say(note, "info", rating=note == "counter_done_finish")
        self._changed("actions", "login", "message")

    def _failed(self, action: str, err: BaseException) -> None:
        self.pending = None
        text = fault_text(self.cat, err, LINK_FAULTS)
        if action == "login":
            self.login.error = text
            self.login.error_stays = getattr(err, "code", "") in LASTING_LOGIN_FAULTS
            self.login.password = ""
        else:
            self.message = {
                "text": text,
                "level": "error",
                "link": getattr(err, "code", "") in LINK_FAULTS,
            }
        self._changed("actions", "login", "message")

    def _say(self, key: str, level: str, *, link: bool = False, rating: bool = False) -> None:
        self.message = {"text": self.cat.text(key), "level": level, "link": link, "rating": rating}
        self._changed("message")

    # --- views ------------------------------------------------------------------------------

    def _view_login(self) -> dict[str, Any]:
        return {
            "loggedIn": self.logged_in,
            "staff": self.login.staff,
            "password": "●" * len(self.login.password),
            "focus": self.login.focus,
            "error": self.login.error or both("", ""),
            "busy": self.pending == "login",
            "canSubmit": self.connected and self.pending is None,
        }

    def _view_window(self) -> dict[str, Any]:
        st = self.state
        staff = st.staff if st is not None else None
        return {
            "id": self.window_id,
            "name": both(self.win.name, self.win.name_en or self.win.name),
            "status": st.status if st is not None else "unknown",
            "statusText": wording.window_state(st.status if st is not None else "unknown"),
            "pauseReason": (st.pause_reason or "") if st is not None else "",
            "staffId": staff.id if staff else "",
            "staffName": staff.name if staff else "",
            "staffTitle": wording.staff_title(staff.title if staff else ""),
            "next": list(st.next_numbers) if st is not None else [],
            "held": [self._held_view(t) for t in st.held] if st is not None else [],
            "canLogout": self.enabled("logout"),
        }

    def _held_view(self, t: schemas.Ticket) -> dict[str, Any]:
        svc = self.cfg.service(t.service)
        return {
            "number": t.number,
            "serviceName": both(svc.name, svc.name_en or svc.name)
            if svc
            else both(t.service, t.service),
            "name": t.name_masked or "",
        }

    def _view_ticket(self) -> dict[str, Any]:
        t = self.ticket
        if t is None:
            return {"present": False}
        svc = self.cfg.service(t.service)
        waited = minutes_between(t.issued_at, parse_ts(t.called_at) or self.now())
        return {
            "present": True,
            "number": t.number,
            "service": t.service,
            "serviceName": both(svc.name, svc.name_en or svc.name)
            if svc
            else both(t.service_name, t.service_name),
            "channel": t.channel,
            "channelText": self.cat.text(f"counter_channel_{t.channel}"),
            "priority": t.channel != "onsite",
            "name": t.name_masked or "",
            "realName": bool(t.name_masked),
            "waitedText": self.cat.text("counter_waited", n=waited if waited is not None else 0),
            "calledAt": (parse_ts(t.called_at).strftime("%H:%M") if parse_ts(t.called_at) else ""),  # type: ignore[union-attr]
            "attempt": t.attempt,
            "attemptText": self.cat.text("counter_attempt", n=t.attempt)
            if t.attempt > 1
            else both("", ""),
        }

    def _view_actions(self) -> list[dict[str, Any]]:
        out = []
        paused = self.state is not None and self.state.status == "paused"
        for action, key, shortcut in ACTIONS:
            label = "counter_resume" if action == "pause" and paused else key
            out.append(
                {
                    "id": action,
                    "text": self.cat.text(label),
                    "shortcut": shortcut,
                    "enabled": self.enabled(action),
                    "busy": self.pending == action
                    or (action == "pause" and self.pending == "resume"),
                }
            )
        return out

    def _view_queue(self) -> list[dict[str, Any]]:
        out = []
        for code in self.win.services:
            svc = self.cfg.service(code)
            q = self.queue.get(code)
            out.append(
                {
                    "code": code,
                    "name": both(svc.name, svc.name_en or svc.name) if svc else both(code, code),
                    "waiting": q.waiting if q else -1,
                    # the words every screen uses for this wait (无需等待, 暂无开放窗口, 约N分钟)
                    "waitText": wording.service_wait(q.waiting, q.est_wait_s, q.windows_open) if q else both("", ""),
                }
            )
        return out

    def _view_figures(self) -> dict[str, Any]:
        s = self.stats
        mine = s.served_by_window.get(self.window_id) if s is not None else None
        rated = s.ratings_by_window.get(self.window_id) if s is not None else None
        rate = rated.satisfaction_rate if rated is not None else None
        return {
            "known": s is not None,
            "served": mine.served if mine else 0,
            "avgServiceMin": round((mine.avg_service_s if mine else 0.0) / 60, 1),
            "ratings": rated.ratings if rated else 0,
            "bad": rated.bad if rated else 0,
            # as the hall screen: a rate only from `[kiosk] satisfaction_min_ratings` ratings
            **satisfaction(self.cfg, self.cat, rate, rated.ratings if rated else 0),
        }

    def _view_dialog(self) -> dict[str, Any]:
        d = self.dialog
        services = [
            {"id": s.code, "text": both(f"{s.code} {s.name}", f"{s.code} {s.name_en or s.name}")}
            for s in self.cfg.services
        ]
        windows = [
            {"id": w.id, "text": both(w.name, w.name_en or w.name)}
            for w in self.cfg.windows
            if w.id != self.window_id
        ]
        return {
            "name": d.name,
            "kind": d.transfer.kind,
            "target": d.transfer.target,
            "position": d.transfer.position,
            "targets": services if d.transfer.kind == "service" else windows,
            "reason": d.reason,
            "reasons": [
                {"id": r, "text": self.cat.text(f"counter_pause_{r}")} for r in PAUSE_REASONS
            ],
            "held": [
                self._held_view(t) for t in (self.state.held if self.state is not None else [])
            ],
        }

    def _view_message(self) -> dict[str, Any]:
        return self.message or {"text": both("", ""), "level": ""}

    def _view_link(self) -> dict[str, Any]:
        return {"connected": self.connected, "pending": self.pending or ""}


def _older(ts: str, than: str) -> bool:
    a, b = parse_ts(ts), parse_ts(than)
    return a is not None and b is not None and a < b
