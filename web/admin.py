"""The manager console (`/admin/`, SPEC 12.2): login, sessions, CSRF, the guard, the shell, the audit log.

hallweb cannot read the staff secrets; the controller checks every password and keeps every
session (`hallbus.controller.admin`). A login makes a random token here, sends its SHA-256
with the staff id and password (`admin.login`), and on success puts the token in the
`hall_admin` cookie (HttpOnly, SameSite=Strict, Path=/admin, Secure when the request came
over TLS). Each request's token is looked up in a small cache of sessions (`SessionCache`)
and asked of the controller (`admin.session`) when not cached, so a restarted hallweb keeps
every session; a session ends at logout, 8 hours after its login (the controller's rule),
or after `IDLE_S` without a request (hallweb's).

CSRF: every POST, PUT, PATCH and DELETE under `/admin/` carries a token, as the form field
`_csrf` or the header `X-CSRF-Token`. For a session it is HMAC(secret key, session token),
so it is worthless without the cookie and differs per session; for the login form (no
session yet) it is HMAC(secret key, a random nonce in the `hall_login` cookie), a signed
double submit. The key is `[web] secret_key_file` (`load_secret_key`).

The guard (`AdminGuard`) runs before every handler of the router `admin_router` builds:
without a live session, HTML routes answer a redirect to `/admin/login` and `/admin/api/`
routes 401; a session whose role the route does not list (`opt["roles"]`, managers and
supervisors when a route names none) answers 403. Only handlers marked `opt["public"]`
(the login form) are let through without a session. A catch-all route sends unknown paths
under `/admin/` through the same guard, so a visitor learns nothing about which exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, Response, Router, get, post, route
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream
from litestar.types import ExceptionHandlersMap

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.privacy import load_key_file
from hallbus.rpc import RpcClient, RpcFault
from hallbus.schemas.admin import NOTE_MAX, AdminAccount, AuditEntry
from hallbus.schemas.rating import LEVELS, REASONS
from web.admin_cases import case_routes
from web.admin_own import own_routes
from web.admin_reports import SessionEnded, report_routes
from web.admin_settings import settings_routes
from web.admin_staff import StaffNames, staff_routes
from web.admin_words import ACTIONS, FOLLOWUP_STATES, MODULES, ROLES, admin_words, monitor_words
from web.admin_words import (
    admin_link as admin_link,  # its home was here: kept importable from web.admin
)
from web.monitor import Monitor
from web.presence import ControllerPresence
from web.public import lang_of
from web.sse import event_stream

log = logging.getLogger(__name__)

SESSION_COOKIE = "hall_admin"
LOGIN_COOKIE = "hall_login"
IDLE_S = 30 * 60  # a session with no request for this long ends (hallweb's rule; the controller's is 8 h)
CACHE_MAX = 1000  # sessions remembered here at most (a miss asks the controller)
RPC_TIMEOUT_S = 5.0
PING_S = 15.0  # a comment on an idle event stream at least this often (proxies close silent ones)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVERY_ROLE = ("manager", "supervisor", "staff")
READERS = ("manager", "supervisor")  # what a route allows when it names no roles
STAFF_ID_MAX = 40
PASSWORD_MAX = 200
FOLLOWUPS_SHOWN = 100  # follow-up tasks on the list page at most (newest first; the filters narrow them)


def load_secret_key(config: HallConfig) -> bytes:
    """The key of `[web] secret_key_file`, made (random, mode 0600) when the file is missing.

    Raises ValueError with a sentence for the log when it cannot be read or made.
    """
    path = config.resolve(config.web.secret_key_file)
    try:
        return load_key_file(path, create=True, what="hallweb secret key")
    except (OSError, ValueError) as err:
        raise ValueError(
            f"[web] secret_key_file {path}: {err}. hallweb makes this key itself when the file is missing and "
            "its folder is writable (the systemd unit's StateDirectory /var/lib/hallweb); otherwise write one "
            "with `openssl rand -hex 32 > FILE` readable by hallweb only."
        ) from err


def token_hash(token: str) -> str:
    """The SHA-256 (hex) the controller knows a session by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class Session:
    """A live console session as hallweb knows it."""

    token: str
    account: AdminAccount
    expires_at: str
    seen: float  # time.monotonic() of its latest request


class ControllerAway(Exception):
    """The controller cannot be asked now (its presence says so, or the request timed out)."""


class SessionCache:
    """Sessions by token: the controller is the authority, this keeps the latest answers and the idle time."""

    def __init__(self, rpc: RpcClient, presence: ControllerPresence) -> None:
        self.rpc = rpc
        self.presence = presence
        self._sessions: dict[str, Session] = {}

    async def call(self, method: schemas.Rpc[Any], body: dict[str, Any]) -> Any:
        """One `admin.*` request; ControllerAway when the controller is away or does not answer."""
        if self.presence.away:
            raise ControllerAway()
        try:
            return await asyncio.wrap_future(self.rpc.call_typed_async(method, body, timeout=RPC_TIMEOUT_S))
        except RpcFault as fault:
            if fault.code in ("timeout", "unavailable", "busy"):
                raise ControllerAway() from fault
            raise

    def remember(self, session: Session) -> None:
        if len(self._sessions) >= CACHE_MAX:  # the oldest goes; it is asked of the controller again if it returns
            self._sessions.pop(min(self._sessions.values(), key=lambda s: s.seen).token, None)
        self._sessions[session.token] = session

    async def lookup(self, token: str) -> Session | None:
        """The live session of `token`, or None (unknown, ended, idle too long). ControllerAway for a miss then."""
        now = time.monotonic()
        known = self._sessions.get(token)
        if known is not None:
            if now - known.seen > IDLE_S:  # ended here, and at the controller (else a cache miss would revive it)
                self.forget(token)
                try:
                    await self.call(schemas.ADMIN_LOGOUT, {"session": token, "client": "idle"})
                except (ControllerAway, RpcFault) as err:
                    log.warning("an idle console session of %s could not be ended at the controller: %s",
                                known.account.id, err)
                return None
            known.seen = now
            return known
        try:
            reply = await self.call(schemas.ADMIN_SESSION, {"session": token})
        except RpcFault:
            return None
        session = Session(token, reply.account, reply.expires_at, now)
        self.remember(session)
        return session

    def forget(self, token: str) -> None:
        self._sessions.pop(token, None)

    def forget_account(self, staff_id: str) -> None:
        """Forget every cached session of `staff_id` (their account changed): their next request asks the controller."""
        for token in [t for t, s in self._sessions.items() if s.account.id == staff_id]:
            self._sessions.pop(token, None)


class Csrf:
    """The console's CSRF tokens: HMAC of the secret key over the session's token (or the login nonce)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def token(self, purpose: str, secret: str) -> str:
        return hmac.new(self.key, f"{purpose}|{secret}".encode(), hashlib.sha256).hexdigest()

    def ok(self, purpose: str, secret: str | None, sent: str | None) -> bool:
        return bool(secret and sent) and hmac.compare_digest(self.token(purpose, secret or ""), sent or "")


class LoginRequired(HTTPException):
    """No live session: a redirect to the login page (HTML) or 401 (`/admin/api/`)."""

    status_code = 401


class RoleRefused(HTTPException):
    """A session whose role this route does not allow."""

    status_code = 403


class CsrfRefused(HTTPException):
    """A state-changing request without the right CSRF token."""

    status_code = 403


def _secure(request: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the browser reached us over TLS (uvicorn takes X-Forwarded-Proto from the local proxy)."""
    return request.url.scheme == "https"


def _client(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def _wants_json(path: str) -> bool:
    return path.startswith("/admin/api/")


def allowed_roles(handler: BaseRouteHandler) -> tuple[str, ...]:
    """The roles a console route lets in (`opt["roles"]`; managers and supervisors when it names none)."""
    return tuple(handler.opt.get("roles", READERS))


def make_guard(sessions: SessionCache, csrf: Csrf) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Any]:
    """The guard of every console route: session, role, CSRF (see the module's doc)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        method = str(connection.scope.get("method", "GET"))
        public = bool(handler.opt.get("public"))
        session: Session | None = None
        token = connection.cookies.get(SESSION_COOKIE)
        if token:
            try:
                session = await sessions.lookup(token)
            except ControllerAway:
                session = None
                connection.state.controller_away = True
        connection.state.session = session
        if session is None and not public:
            raise LoginRequired()
        if session is not None and not public and session.account.role not in allowed_roles(handler):
            raise RoleRefused()
        if method in UNSAFE:
            sent = connection.headers.get("x-csrf-token")
            if sent is None:
                form = await Request[Any, Any, Any](connection.scope, connection.receive).form()
                sent = str(form.get("_csrf", "")) or None
            if session is not None and csrf.ok("session", session.token, sent):
                return
            if public and csrf.ok("login", connection.cookies.get(LOGIN_COOKIE), sent):
                return
            raise CsrfRefused()

    return guard


def admin_router(
    config: HallConfig,
    rpc: RpcClient,
    presence: ControllerPresence,
    key: bytes,
    render: Callable[..., Response[str]],
    monitor: Monitor,
) -> tuple[Router, ExceptionHandlersMap]:
    """The console's routes under `/admin`, and the exception handlers the app must install for them."""
    sessions = SessionCache(rpc, presence)
    csrf = Csrf(key)
    names = StaffNames(config)  # hall.toml's and the console's (web/admin_staff.py)

    def page(request: Request[Any, Any, Any], template: str, status: int = 200, **context: Any) -> Response[str]:
        lang = lang_of(request.query_params.get("lang"))
        session: Session | None = getattr(request.state, "session", None)
        modules = [m for m in MODULES if session is not None and session.account.role in m.roles]
        return render(
            template, status, lang=lang, w=admin_words(lang), session=session, modules=modules,
            roles=ROLES, link=lambda path, **p: admin_link(path, lang, **p),
            csrf=csrf.token("session", session.token) if session is not None else "",
            away=presence.away, large=False, **context,
        )

    def login_page(request: Request[Any, Any, Any], status: int = 200, error: str = "", staff: str = "") -> Response[str]:
        nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        resp = page(request, "admin_login.html", status, error=error, staff=staff, login_csrf=csrf.token("login", nonce),
                    bye=request.query_params.get("bye") == "1")
        resp.set_cookie(LOGIN_COOKIE, nonce, path="/admin", httponly=True, samesite="strict", secure=_secure(request))
        return resp

    # --- login and logout ----------------------------------------------------------------

    @get("/login", opt={"public": True})
    async def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
        if getattr(request.state, "session", None) is not None:
            return Redirect(admin_link("/admin/", lang_of(request.query_params.get("lang"))), status_code=303)
        return login_page(request)

    @post("/login", opt={"public": True}, status_code=303)
    async def login_submit(request: Request[Any, Any, Any]) -> Response[Any]:
        lang = lang_of(request.query_params.get("lang"))
        w = admin_words(lang)
        form = await request.form()
        staff = str(form.get("staff", "")).strip()[:STAFF_ID_MAX]
        password = str(form.get("password", ""))[:PASSWORD_MAX]
        if not staff or not password:
            return login_page(request, 400, w["login_missing"], staff)
        token = secrets.token_urlsafe(32)
        body = {"staff": staff, "password": password, "session_hash": token_hash(token), "client": _client(request)}
        try:
            reply = await sessions.call(schemas.ADMIN_LOGIN, body)
        except ControllerAway:
            return login_page(request, 503, w["controller_away"], staff)
        except RpcFault as fault:
            status = {"login_failed": 401, "login_throttled": 429}.get(fault.code, 400)
            return login_page(request, status, fault.message_en if lang == "en" else fault.message, staff)
        sessions.remember(Session(token, reply.account, reply.expires_at, time.monotonic()))
        resp = Redirect(admin_link("/admin/", lang), status_code=303)
        resp.set_cookie(SESSION_COOKIE, token, path="/admin", httponly=True, samesite="strict", secure=_secure(request))
        resp.delete_cookie(LOGIN_COOKIE, path="/admin")
        return resp

    @post("/logout", opt={"roles": EVERY_ROLE}, status_code=303)
    async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
        session: Session = request.state.session
        sessions.forget(session.token)
        try:
            await sessions.call(schemas.ADMIN_LOGOUT, {"session": session.token, "client": _client(request)})
        except (ControllerAway, RpcFault) as err:  # the cookie goes all the same; the controller's session ends by time
            log.warning("console logout of %s not told to the controller: %s", session.account.id, err)
        resp = Redirect(admin_link("/admin/login", lang_of(request.query_params.get("lang")), bye="1"), status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/admin")
        return resp

    # --- the shell ------------------------------------------------------------------------

    @get("/", opt={"roles": EVERY_ROLE})
    async def home(request: Request[Any, Any, Any]) -> Response[str]:
        session: Session = request.state.session
        own = monitor.staff_figures(session.account.id) if session.account.role == "staff" else None
        return page(request, "admin_home.html", current="home", own=own)

    @get("/api/session", opt={"roles": EVERY_ROLE}, media_type=MediaType.JSON)
    async def api_session(request: Request[Any, Any, Any]) -> dict[str, Any]:
        session: Session = request.state.session
        return {"account": schemas.to_builtins(session.account), "expires_at": session.expires_at,
                "csrf": csrf.token("session", session.token)}

    # --- the live monitor -----------------------------------------------------------------

    @get("/monitor", opt={"roles": READERS})
    async def monitor_page(request: Request[Any, Any, Any]) -> Response[str]:
        lang = lang_of(request.query_params.get("lang"))
        data = {"words": monitor_words(lang), "view": monitor.view()}
        return page(request, "admin_monitor.html", current="monitor", data_json=script_safe_json(data))

    @get("/api/monitor", opt={"roles": READERS}, media_type=MediaType.JSON)
    async def monitor_json() -> dict[str, Any]:
        return monitor.view()

    @get("/api/monitor/events", opt={"roles": READERS})
    async def monitor_events() -> Stream:
        return event_stream(monitor.follow(PING_S), "monitor")

    # --- the audit log --------------------------------------------------------------------

    @get("/audit", opt={"roles": READERS})
    async def audit_page(request: Request[Any, Any, Any], before: FromQuery[int | None] = None) -> Response[str]:
        session: Session = request.state.session
        lang = lang_of(request.query_params.get("lang"))
        body: dict[str, Any] = {"session": session.token, "client": _client(request), "limit": 50}
        if before is not None:
            body["before"] = before
        try:
            reply = await sessions.call(schemas.ADMIN_AUDIT, body)
        except ControllerAway:
            return page(request, "admin_audit.html", 503, current="audit", entries=None, more=False,
                        error=admin_words(lang)["controller_away"])
        except RpcFault as fault:
            if fault.code == "session_invalid":
                sessions.forget(session.token)
                raise LoginRequired() from fault
            return page(request, "admin_audit.html", 403 if fault.code == "forbidden" else 400, current="audit",
                        entries=None, more=False, error=fault.message_en if lang == "en" else fault.message)
        entries = [audit_row(e, lang) for e in reply.entries]
        return page(request, "admin_audit.html", current="audit", entries=entries, more=reply.more, error="")

    # --- 好差评 follow-up ------------------------------------------------------------------

    async def ask(request: Request[Any, Any, Any], method: schemas.Rpc[Any], body: dict[str, Any]) -> Any:
        """An `admin.*` request for this page's session; a dead session is sent to the login page."""
        session: Session = request.state.session
        try:
            return await sessions.call(method, {"session": session.token, "client": _client(request), **body})
        except RpcFault as fault:
            if fault.code == "session_invalid":
                sessions.forget(session.token)
                raise LoginRequired() from fault
            raise

    def fault_text(request: Request[Any, Any, Any], fault: RpcFault) -> str:
        return fault.message_en if lang_of(request.query_params.get("lang")) == "en" else fault.message

    @get("/followups", opt={"roles": READERS})
    async def followups_page(request: Request[Any, Any, Any]) -> Response[str]:
        q = request.query_params  # `state` is a name litestar keeps for itself
        filters = {k: str(q.get(k) or "").strip()[:STAFF_ID_MAX] for k in ("state", "window", "staff", "reason")}
        lang = lang_of(q.get("lang"))
        w = admin_words(lang)
        en = int(lang == "en")
        await names.refresh(ask, request, ControllerAway)
        choices = [
            ("state", w["fu_state"], [(k, names[en]) for k, names in FOLLOWUP_STATES.items()]),
            ("window", w["fu_window"], [(x.id, x.id) for x in config.windows]),
            ("staff", w["fu_staff"], [(sid, f"{name} ({sid})" if en else f"{name}（{sid}）") for sid, name in names.names.items()]),
            ("reason", w["fu_reasons"], [(k, names[en]) for k, names in REASONS.items()]),
        ]
        ctx: dict[str, Any] = {"current": "followups", "filters": filters, "page_max": FOLLOWUPS_SHOWN, "choices": choices, "states": FOLLOWUP_STATES, "reasons": REASONS,
                               "levels": LEVELS,
                               "staff_names": names.names}
        try:
            reply = await ask(request, schemas.ADMIN_FOLLOWUPS,
                              {"limit": FOLLOWUPS_SHOWN, **{k: v for k, v in filters.items() if v}})
        except ControllerAway:
            return page(request, "admin_followups.html", 503, rows=None, overdue=0, error=w["controller_away"], **ctx)
        except RpcFault as fault:
            return page(request, "admin_followups.html", 400, rows=None, overdue=0, error=fault_text(request, fault), **ctx)
        return page(request, "admin_followups.html", rows=reply.followups, overdue=reply.overdue, error="", **ctx)

    def followup_page(request: Request[Any, Any, Any], f: Any, status: int = 200, error: str = "",
                      form: dict[str, str] | None = None) -> Response[str]:
        return page(request, "admin_followup.html", status, current="followups", f=f, error=error, form=form or {},
                    reasons=REASONS, levels=LEVELS,
                    states=FOLLOWUP_STATES, staff_names=names.names,
                    moved=request.query_params.get("moved") == "1")

    async def load_followup(request: Request[Any, Any, Any], fid: int) -> tuple[Any, Response[str] | None]:
        w = admin_words(lang_of(request.query_params.get("lang")))
        try:
            return (await ask(request, schemas.ADMIN_FOLLOWUP, {"id": fid})).followup, None
        except ControllerAway:
            return None, followup_page(request, None, 503, w["controller_away"])
        except RpcFault as fault:
            return None, followup_page(request, None, 404 if fault.code == "followup_not_found" else 400,
                                       fault_text(request, fault))

    @get("/followups/{fid:int}", opt={"roles": READERS})
    async def followup_detail(request: Request[Any, Any, Any], fid: FromPath[int]) -> Response[str]:
        f, failed = await load_followup(request, fid)
        return failed or followup_page(request, f)

    @post("/followups/{fid:int}/move", opt={"roles": READERS}, status_code=303)
    async def followup_move(request: Request[Any, Any, Any], fid: FromPath[int]) -> Response[Any]:
        lang = lang_of(request.query_params.get("lang"))
        raw = await request.form()
        form = {k: str(raw.get(k, "")).strip() for k in
                ("from_state", "to_state", "note", "callback_at", "callback_by", "callback_outcome")}
        body: dict[str, Any] = {"id": fid, "from_state": form["from_state"], "to_state": form["to_state"],
                                "note": form["note"][:NOTE_MAX + 1]}
        if any(form[k] for k in ("callback_at", "callback_by", "callback_outcome")):
            body["callback"] = {"at": form["callback_at"].replace("T", " "), "by": form["callback_by"][:300],
                                "outcome": form["callback_outcome"][:300]}
        try:
            await ask(request, schemas.ADMIN_FOLLOWUP_MOVE, body)
        except ControllerAway:
            f, failed = await load_followup(request, fid)
            return failed or followup_page(request, f, 503, admin_words(lang)["controller_away"], form)
        except RpcFault as fault:
            f, failed = await load_followup(request, fid)
            status = {"followup_moved": 409, "followup_not_found": 404, "forbidden": 403}.get(fault.code, 400)
            return failed or followup_page(request, f, status, fault_text(request, fault), form)
        return Redirect(admin_link(f"/admin/followups/{fid}", lang, moved="1"), status_code=303)

    # Unknown paths under /admin/ go through the guard too: a visitor without a session is sent to
    # the login page whatever they ask for, and learns nothing of which paths exist.
    @route("/{rest:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"], opt={"roles": EVERY_ROLE})
    async def unknown(rest: FromPath[str]) -> Response[Any]:
        raise HTTPException(status_code=404)

    def on_login_required(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        lang = lang_of(request.query_params.get("lang"))
        if isinstance(exc, SessionEnded):  # the controller ended it: the cache must not keep it alive
            sessions.forget(request.cookies.get(SESSION_COOKIE) or "")
        if _wants_json(request.url.path):
            w_zh, w_en = admin_words("zh_CN")["login_required"], admin_words("en")["login_required"]
            return Response({"error": {"code": "login_required", "message": w_zh, "message_en": w_en}},
                            status_code=401, media_type=MediaType.JSON)
        resp = Redirect(admin_link("/admin/login", lang), status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            resp.delete_cookie(SESSION_COOKIE, path="/admin")
        return resp

    def on_refused(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        lang = lang_of(request.query_params.get("lang"))
        w = admin_words(lang)
        key = "csrf_refused" if isinstance(exc, CsrfRefused) else "role_refused"
        if _wants_json(request.url.path):
            return Response({"error": {"code": "forbidden", "message": admin_words("zh_CN")[key],
                                       "message_en": admin_words("en")[key]}}, status_code=403, media_type=MediaType.JSON)
        return page(request, "admin_refused.html", 403, current="", message=w[key])

    router = Router(
        path="/admin",
        route_handlers=[
            login_form, login_submit, logout, home, api_session, audit_page, monitor_page, monitor_json, monitor_events,
            followups_page, followup_detail, followup_move, *report_routes(config, rpc, presence, page, admin_words),
            *case_routes(ask, page, ControllerAway, admin_words), *own_routes(config, rpc, presence, page, admin_words),
            *settings_routes(config, ask, page, ControllerAway),
            *staff_routes(ask, page, sessions, ControllerAway, names),
            unknown,
        ],
        guards=[make_guard(sessions, csrf)],
    )
    handlers: ExceptionHandlersMap = {
        LoginRequired: on_login_required, SessionEnded: on_login_required, RoleRefused: on_refused, CsrfRefused: on_refused,
    }
    return router, handlers


def script_safe_json(data: Any) -> str:
    """JSON for a `<script type="application/json">` block: no `<`, `>` or `&` that could end it (a name may hold them)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def audit_row(e: AuditEntry, lang: str) -> dict[str, Any]:
    """One audit line as the page shows it (the words of its action; the time in the hall's zone)."""
    names = ACTIONS.get(e.action)
    return {
        "id": e.id, "time": e.ts[:19].replace("T", " "), "actor": e.actor,
        "action": (names[1] if lang == "en" else names[0]) if names else e.action,
        "subject": e.subject, "before": e.before or "", "after": e.after or "", "client": e.client,
    }

