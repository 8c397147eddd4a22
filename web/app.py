"""The Litestar application of `hallweb`: the citizen's routes of SPEC 12.1.

One composition root, `create_app`: it takes the validated config and a bus client (not
yet started) and builds the ticket book, the board, the routes and the security headers
around them. Pages are rendered on the server with Jinja2 and are complete without
JavaScript; the ticket page's one script (`static/ticket.js`) follows the ticket's
event stream. Every answer carries the security headers of `SecurityHeaders`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.config.compression import CompressionConfig
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Stream
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.records.lookups import VERIFY_RE, case_key
from hallbus.rpc import RpcClient, RpcFault
from hallbus.schemas import rating
from web import sse
from web.admin import admin_router, load_secret_key
from web.board import Board
from web.monitor import Monitor
from web.presence import ControllerPresence
from web.public import (
    CANCELLABLE,
    case_public,
    case_view,
    is_ticket_id,
    lang_of,
    rating_choices,
    status_words,
    wait_words,
    window_words,
    words,
)
from web.throttle import ClientKeys, FailureThrottle, client_address
from web.tickets import PING_S, BusDown, Public, TicketBook
from web.vendor import Vendor, find_vendor, vendor_route

log = logging.getLogger(__name__)

# rating.submit's refusals -> HTTP status (anything else the controller says: 400)
RATING_STATUS = {"already_rated": 409, "ticket_not_rateable": 409, "unavailable": 503, "timeout": 503, "forbidden": 403}


CASE_NO_MAX = 40  # longer than any case number a hall issues


class CaseQueryBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/v1/cases/query` (SPEC 12.1): a case number and the last 6 of the applicant's ID number."""

    case_no: str
    verify: str


class RatingBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/v1/ratings` (SPEC 12.1): one rating of a finished handling, proven by the ticket's id."""

    ticket_id: str
    level: int
    reasons: list[str] = msgspec.field(default_factory=list)
    comment: str = ""
    rating_id: str = ""  # the phone's own id for the rating, so a retry is answered, not counted twice

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """ASGI wrapper: the security headers on every answer, error pages and static files included.

    It also answers 404 at once to a static file's path with control characters (a NUL made
    the static file router fail with a 500).

    A Content-Security-Policy without inline script, `nosniff`, `Referrer-Policy: no-referrer`
    (a ticket's link is its secret: it must not leak to another site) and `no-store` on
    everything but the static files, so no proxy keeps a ticket page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _v in headers}
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"public, max-age=3600" if static else b"no-store"),
                ]
                headers += [(k, v) for k, v in extra if k not in have]
                message["headers"] = headers
            await send(message)

        if static and any(ord(c) < 32 for c in path):  # the file router fails on a NUL with a 500
            body = json.dumps(_not_found_body(), ensure_ascii=False).encode()
            await send_with_headers({"type": "http.response.start", "status": 404,
                                     "headers": [(b"content-type", b"application/json"),
                                                 (b"content-length", str(len(body)).encode())]})
            await send_with_headers({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self.app(scope, receive, send_with_headers)


def page_link(path: str, lang: str, large: bool, /, **change: str | None) -> str:
    """`path` keeping a page's language and print size in its query (`change` sets or drops a parameter)."""
    params: dict[str, str | None] = {"lang": "en" if lang == "en" else None, "large": "1" if large else None}
    params.update(change)
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{path}?{query}" if query else path


def _error_body(code: str, message: str, message_en: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "message_en": message_en}}


def _too_many(wait: int) -> dict[str, Any]:
    zh = f"输错的次数较多，为保护办件信息，请 {wait} 秒后再试。"
    en = f"Too many wrong attempts. To protect the case, try again in {wait} s."
    return _error_body("too_many_attempts", zh, en)


def _not_found_body() -> dict[str, Any]:
    w_zh, w_en = words("zh_CN")["not_found"], words("en")["not_found"]
    return _error_body("not_found", w_zh, w_en)


class WebApp(SecurityHeaders):
    """The ASGI application `create_app` builds, with what the server must close at a stop."""

    def __init__(self, app: ASGIApp, book: TicketBook, board: Board, monitor: Monitor) -> None:
        super().__init__(app)
        self.book = book
        self.board = board
        self.monitor = monitor

    def close_streams(self) -> None:
        """End every open event stream (any thread): phones reconnect by themselves."""
        self.book.close_streams()
        self.board.close_streams()
        self.monitor.close_streams()


def create_app(
    config: HallConfig, bus: BusClient, rpc: RpcClient, secret_key: bytes | None = None, vendor: Vendor | None = None
) -> WebApp:
    """The whole web service over a bus client that `on_startup` starts and `on_shutdown` stops.

    `secret_key` (the console's sessions and CSRF, the phones' keys for the case look-up's count) is read
    from `[web] secret_key_file` when not given; `vendor` (the browser libraries in node_modules/) is
    found by `find_vendor` when not given (VendorMissing when they are not installed).
    """
    key = secret_key if secret_key is not None else load_secret_key(config)  # one secret: sessions, CSRF, phones' keys
    vendor = vendor if vendor is not None else find_vendor()
    presence = ControllerPresence(bus)
    book = TicketBook(bus, rpc, config, presence)
    monitor: Monitor | None = None

    def queue_changed() -> None:
        book.queue_changed()
        if monitor is not None:
            monitor.queue_changed()

    board = Board(bus, config, on_queue=queue_changed, presence=presence)
    monitor = Monitor(bus, config, presence, on_window=book.queue_changed, queue=lambda: board.queue)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.globals["vendor_url"] = vendor.url  # `{{ vendor_url("echarts.min.js") }}`: a library from node_modules/

    def page(template: str, status: int = 200, *, large: bool = False, **context: Any) -> Response[str]:
        lang = context["lang"]

        def link(path: str, **change: str | None) -> str:
            return page_link(path, lang, large, **change)

        html = env.get_template(template).render(hall=config.hall, large=large, link=link, **context)
        return Response(html, status_code=status, media_type=MediaType.HTML)

    def ticket_page_context(ticket_id: str, t: Public, lang: str, bus_down: bool) -> dict[str, Any]:
        w = words(lang)
        return {
            "lang": lang, "w": w, "t": t, "ticket_id": ticket_id, "bus_down": bus_down,
            "status_text": status_words(t["status"], lang),
            "wait_text": wait_words(t, lang),
            "window_text": window_words(t, lang),
            "called_again": w["called_again"].replace("{n}", str(t["attempt"])) if t["attempt"] > 1 else "",
            "can_leave": t["status"] in CANCELLABLE,
            "choices": rating_choices(lang),
            "rating_id": str(uuid.uuid4()),
            "chosen": {"level": 0, "reasons": [], "comment": ""},  # a refused rating's form keeps what was chosen
            "words_json": json.dumps(w, ensure_ascii=False),
        }

    async def current(ticket_id: str) -> tuple[Public | None, bool]:
        """The ticket now, or its last known state and True when the controller cannot be asked."""
        try:
            return await book.lookup(ticket_id), False
        except BusDown:
            return book.last_known(ticket_id), True

    async def submit_rating(b: RatingBody) -> tuple[int, dict[str, Any]]:
        """Check a rating as every device does, send it with the ticket's id as proof; (status, body)."""
        if not is_ticket_id(b.ticket_id):
            return 404, _not_found_body()
        problem = rating.rating_problem(b.level, b.reasons, b.comment)
        if problem is not None:
            return 400, _error_body(*problem)
        try:
            reply = await book.rate(b.ticket_id, b.level, b.reasons, b.comment, b.rating_id or str(uuid.uuid4()))
        except RpcFault as fault:
            code = "not_found" if fault.code == "unknown_ticket" else fault.code
            status = 404 if code == "not_found" else RATING_STATUS.get(fault.code, 400)
            return status, _error_body(code, fault.message, fault.message_en)
        return 200, {"accepted": True, "rating_id": reply.rating_id}

    lookups = FailureThrottle()
    client_keys = ClientKeys(key)

    async def query_case(request: Request[Any, Any, Any], b: CaseQueryBody) -> tuple[int, dict[str, Any], int]:
        """Look a case up as the terminal does; (status, body, Retry-After seconds or 0)."""
        case_no, verify = b.case_no.strip().upper(), b.verify.strip().upper()
        if not case_no or len(case_no) > CASE_NO_MAX or not VERIFY_RE.match(verify):
            zh, en = "请填写办件编号和身份证号码后6位（数字，最后一位可能是X）。", \
                "Give the case number and the last 6 characters of the ID number (digits, the last may be X)."
            return 400, _error_body("bad_request", zh, en), 0
        address = client_address(request.client.host if request.client else None)
        keys = (f"addr:{address}", case_key(case_no))
        wait = lookups.wait_s(*keys)
        if wait:
            return 429, _too_many(wait), wait
        # the controller counts failures per phone too (in its store): it gets the keyed hash, never the address
        ask = {"case_no": case_no, "verify": verify, "client": client_keys.of(address)}
        fut = rpc.call_typed_async(schemas.CASE_QUERY, ask, timeout=5.0)
        try:
            reply = await asyncio.wrap_future(fut)
        except RpcFault as fault:
            if fault.code in ("case_not_found", "verify_mismatch", "bad_verify"):
                lookups.failed(*keys)  # one answer for both: whether the number exists is not told
                w_zh, w_en = words("zh_CN")["case_not_found"], words("en")["case_not_found"]
                return 404, _error_body("not_found", w_zh, w_en), 0
            if fault.code == "too_many_attempts":  # its words speak of the terminal's card reader: ours
                return 429, _too_many(int(lookups.base_s)), int(lookups.base_s)
            return 503, _error_body(fault.code, fault.message, fault.message_en), 0
        lookups.succeeded(keys[0])
        return 200, {"cases": [case_public(c) for c in reply.cases]}, 0

    # --- routes ------------------------------------------------------------------------------

    @get("/healthz", media_type=MediaType.JSON)
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "bus": "up" if bus.connected else "down", "controller": "away" if presence.away else "up",
                "followed": book.followed, "board_streams": board.streams, "encoded": dict(sse.encoded)}

    @get("/api/v1/tickets/{ticket_id:str}", media_type=MediaType.JSON)
    async def ticket_json(ticket_id: FromPath[str]) -> Response[Any]:
        t, down = await current(ticket_id)
        if t is None and down:
            return Response(_error_body("bus_down", words("zh_CN")["bus_down"], words("en")["bus_down"]), status_code=503)
        if t is None:
            return Response(_not_found_body(), status_code=404)
        return Response(t)

    @get("/api/v1/tickets/{ticket_id:str}/events")
    async def ticket_events(ticket_id: FromPath[str]) -> Response[Any]:
        t, down = await current(ticket_id)
        if t is None and not down:
            return Response(_not_found_body(), status_code=404)
        return sse.response(book.follow(ticket_id))  # each change encoded once for all its pages

    @post("/api/v1/tickets/{ticket_id:str}/cancel", media_type=MediaType.JSON, status_code=200)
    async def ticket_cancel(ticket_id: FromPath[str]) -> Response[Any]:
        if (await current(ticket_id))[0] is None:
            return Response(_not_found_body(), status_code=404)
        try:
            return Response(await book.cancel(ticket_id))
        except RpcFault as fault:
            status = {"unknown_ticket": 404, "ticket_not_waiting": 409}.get(fault.code, 503)
            code = "not_found" if fault.code == "unknown_ticket" else fault.code
            return Response(_error_body(code, fault.message, fault.message_en), status_code=status)

    @post("/api/v1/ratings", media_type=MediaType.JSON, status_code=200)
    async def ratings(data: JSONBody[RatingBody]) -> Response[Any]:
        status, body = await submit_rating(data)
        return Response(body, status_code=status)

    @post("/t/{ticket_id:str}/rate", status_code=303)
    async def ticket_page_rate(
        ticket_id: FromPath[str], request: Request[Any, Any, Any], lang: FromQuery[str | None] = None, large: FromQuery[str | None] = None
    ) -> Response[Any]:
        # The page's form (no JavaScript): thanks on success, the page again with the reason otherwise.
        form = await request.form()
        la, big = lang_of(lang), bool(large)
        try:
            level = int(str(form.get("level", "")))
        except ValueError:
            level = 0
        reasons = [str(r) for r in form.getall("reasons")] if "reasons" in form else []
        body = RatingBody(ticket_id=ticket_id, level=level, reasons=reasons, comment=str(form.get("comment", "")),
                          rating_id=str(form.get("rating_id", ""))[:64])
        status, answer = await submit_rating(body)
        if status == 200 or answer["error"]["code"] == "already_rated":
            done = "1" if status == 200 else "already"
            return Redirect(page_link(f"/t/{ticket_id}", la, big, rated=done), status_code=303)
        t, down = await current(ticket_id)
        if t is None:
            return page("missing.html", 503 if down else 404, large=big, lang=la, w=words(la), bus_down=down)
        err = answer["error"]
        ctx = ticket_page_context(ticket_id, t, la, down)
        ctx["chosen"] = {"level": level, "reasons": reasons, "comment": body.comment}
        # 200: the page again with the reason beside the form (the JSON route answers 4xx)
        return page("ticket.html", 200 if status < 500 else status, large=big, confirm_leave=False, rated="",
                    rate_error=err["message_en"] if la == "en" else err["message"], **ctx)

    @post("/api/v1/cases/query", media_type=MediaType.JSON, status_code=200)
    async def cases_query(request: Request[Any, Any, Any], data: JSONBody[CaseQueryBody]) -> Response[Any]:
        status, body, retry = await query_case(request, data)
        return Response(body, status_code=status, headers={"Retry-After": str(retry)} if retry else None)

    @get("/cases")
    async def cases_page(lang: FromQuery[str | None] = None, large: FromQuery[str | None] = None) -> Response[str]:
        la = lang_of(lang)
        return page("cases.html", large=bool(large), lang=la, w=words(la), cases=None, error="", case_no="")

    @post("/cases", status_code=200)
    async def cases_page_query(
        request: Request[Any, Any, Any], lang: FromQuery[str | None] = None, large: FromQuery[str | None] = None
    ) -> Response[str]:
        la = lang_of(lang)
        form = await request.form()
        case_no = str(form.get("case_no", ""))[:CASE_NO_MAX + 10]
        status, body, retry = await query_case(request, CaseQueryBody(case_no=case_no, verify=str(form.get("verify", ""))[:20]))
        if status == 200:
            found = [case_view(msgspec.convert(c, schemas.CaseInfo), la) for c in body["cases"]]
            return page("cases.html", large=bool(large), lang=la, w=words(la), cases=found, error="", case_no=case_no)
        err = body["error"]
        resp = page("cases.html", status, large=bool(large), lang=la, w=words(la), cases=None, case_no=case_no,
                    error=err["message_en"] if la == "en" else err["message"])
        if retry:
            resp.headers["Retry-After"] = str(retry)
        return resp

    @get("/t/{ticket_id:str}")
    async def ticket_page(
        ticket_id: FromPath[str], lang: FromQuery[str | None] = None, leave: FromQuery[str | None] = None, large: FromQuery[str | None] = None,
        rated: FromQuery[str | None] = None,
    ) -> Response[str]:
        la, big = lang_of(lang), bool(large)
        t, down = await current(ticket_id)
        if t is None:
            status = 503 if down else 404
            return page("missing.html", status, large=big, lang=la, w=words(la), bus_down=down)
        ctx = ticket_page_context(ticket_id, t, la, down)
        return page("ticket.html", large=big, confirm_leave=bool(leave) and ctx["can_leave"],
                    rated=rated if rated in ("1", "already") else "", rate_error="", **ctx)

    @post("/t/{ticket_id:str}/cancel", status_code=303)
    async def ticket_page_cancel(ticket_id: FromPath[str], lang: FromQuery[str | None] = None, large: FromQuery[str | None] = None) -> Redirect:
        # The form of the page without JavaScript; the answer is the page again, in its new state.
        try:
            await book.cancel(ticket_id)
        except RpcFault as fault:
            log.info("a phone could not leave the queue: %s", fault)
        return Redirect(page_link(f"/t/{ticket_id}", lang_of(lang), bool(large)), status_code=303)

    @get("/q")
    async def queue_board(lang: FromQuery[str | None] = None, large: FromQuery[str | None] = None) -> Response[str]:
        la = lang_of(lang)
        return page("board.html", large=bool(large), lang=la, w=words(la), board=board.view(la), bus_down=presence.away)

    @get("/api/v1/board/events")
    async def board_events(lang: FromQuery[str | None] = None) -> Stream:
        return sse.response(board.follow(lang_of(lang)))  # each change encoded once per language

    @get("/", include_in_schema=False)
    async def home() -> Redirect:
        return Redirect("/q", status_code=302)

    def render(template: str, status: int = 200, **context: Any) -> Response[str]:
        html = env.get_template(template).render(hall=config.hall, **context)
        return Response(html, status_code=status, media_type=MediaType.HTML)

    console, console_errors = admin_router(config, rpc, presence, key, render, monitor)

    # --- errors ------------------------------------------------------------------------------

    def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        status = exc.status_code
        code = "not_found" if status == 404 else ("bad_request" if status < 500 else "internal_error")
        api = request.url.path.startswith("/api/")
        if status == 404:
            body = _not_found_body()
        else:
            body = _error_body(code, "请求有误，请检查链接。", f"This request cannot be answered: {exc.detail}")
        if api:
            return Response(body, status_code=status, media_type=MediaType.JSON)
        la = lang_of(request.query_params.get("lang"))
        return page("missing.html", status, lang=la, w=words(la), bus_down=False)

    def on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        body = _error_body("internal_error", "服务出错，请稍后再试。", "Something went wrong; please try again later.")
        return Response(body, status_code=HTTP_500_INTERNAL_SERVER_ERROR, media_type=MediaType.JSON)

    async def on_startup() -> None:
        await board.start(PING_S)
        monitor.attach(asyncio.get_running_loop())
        bus.start(wait=None)
        await book.start()

    async def on_shutdown() -> None:
        await book.stop()
        await board.stop()
        bus.stop()

    app = Litestar(
        route_handlers=[
            healthz, ticket_json, ticket_events, ticket_cancel, ticket_page, ticket_page_cancel, queue_board, home,
            ratings, ticket_page_rate, cases_query, cases_page, cases_page_query, board_events,
            vendor_route(vendor),
            create_static_files_router(path="/static", directories=[STATIC], send_as_attachment=False),
            console,
        ],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        exception_handlers={
            NotFoundException: on_http_error, HTTPException: on_http_error, Exception: on_crash, **console_errors,
        },
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, exclude=[r"^/api/v1/tickets/.*/events$", r"^/api/v1/board/events$", r"^/admin/api/monitor/events$"]),
        openapi_config=None,
        debug=False,
    )
    return WebApp(app, book, board, monitor)
