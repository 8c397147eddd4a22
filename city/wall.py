"""The wall `/city/` (SPEC 13): every hall ranked with its cards, the live alert stream, trends, one hall in depth.

Pages are shells rendered with Jinja2 (the words, the thresholds and the data's addresses in a
JSON block); `static/wall.js` fetches the figures from `/city/data/...` every few seconds and
draws the ranking, the alerts and the ECharts curves (ECharts from node_modules/ at the version
package-lock.json pins, `hallbus.vendor`, under `/city/static/vendor/`). No inline script: the
Content-Security-Policy says `script-src 'self'`.

How the wall's browser is let in: with a token in city.toml (`[web] token_file`), `/city/login`
asks for it once and sets a signed cookie (HttpOnly, SameSite=Strict, 30 days, path /city/)
that `/city/` and `/city/data/...` take instead of the bearer header; the token never appears
in a page or an address. The cookie is an HMAC of the token: every instance accepts it, and a
new token signs every wall out. Without a token the wall is open, like the API, and belongs
behind the city's reverse-proxy authentication (docs/city.md).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import jinja2
import msgspec
import psycopg
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from psycopg_pool import ConnectionPool, PoolTimeout

from city import read, wall_read
from city import wall_data as wall_data_
from city.config import CityConfig
from city.ingest import Ingest
from hallbus.vendor import CACHE, Vendor, VendorMissing, find_vendor

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
VENDOR_BASE = "/city/static/vendor/"
COOKIE = "hallcity_wall"
COOKIE_DAYS = 30
TRENDS_KEPT_S = 30  # a day's curves cost ~0.4 s of PostgreSQL with 500 halls: read once for every wall in this time
FAILS_PER_MINUTE = 10  # wrong tokens from one address in a minute before the login answers 429
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def _sign(token: str, expires: int) -> str:
    return hmac.new(token.encode(), f"wall:{expires}".encode(), hashlib.sha256).hexdigest()


def cookie_value(token: str, now: float | None = None) -> str:
    """A wall cookie good for `COOKIE_DAYS`: its expiry and the token's HMAC of it."""
    expires = int((now or time.time()) + COOKIE_DAYS * 86400)
    return f"{expires}.{_sign(token, expires)}"


def cookie_ok(token: str, value: str) -> bool:
    """The cookie was signed with this token and has not expired."""
    stamp, _, mac = value.partition(".")
    if not stamp.isdigit() or int(stamp) < time.time():
        return False
    return hmac.compare_digest(mac.encode(), _sign(token, int(stamp)).encode())


class _Static:
    """The wall's own files (a version from their content) and the vendor libraries (gzip kept in memory)."""

    def __init__(self, vendor: Vendor | VendorMissing) -> None:
        self.missing = vendor if isinstance(vendor, VendorMissing) else None
        self.vendor = vendor if isinstance(vendor, Vendor) else Vendor({}, {})
        self.own = {p.name: p for p in STATIC.iterdir() if p.is_file()}
        self.version = {n: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for n, p in self.own.items()}
        self._gz: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def url(self, name: str) -> str:
        if name in self.vendor.files:
            return self.vendor.url(name, VENDOR_BASE)
        return f"/city/static/{name}?v={self.version[name]}"

    def gzipped(self, name: str) -> bytes:
        with self._lock:
            if name not in self._gz:
                self._gz[name] = gzip.compress(self.vendor.files[name].read_bytes(), 6)
            return self._gz[name]


def wall_routes(cfg: CityConfig, pool: ConnectionPool[Any], ingest: Ingest | None, token: str | None,
                vendor: Vendor | None = None) -> list[Any]:
    """The wall's route handlers, for `city.api.create_app`.

    Without ECharts installed as package-lock.json pins it, ingest and the API go on (the city's
    figures matter more than its pictures): the error is logged at start and the wall's pages
    answer 503 saying what to run.
    """
    found: Vendor | VendorMissing
    try:
        found = vendor or find_vendor(who="hallcity")
    except VendorMissing as err:
        log.error("the wall /city/ cannot be shown: %s", err)
        found = err
    static = _Static(found)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.globals["static_url"] = static.url
    entries = {h.id: h for h in cfg.halls}
    districts = sorted({h.district for h in cfg.halls})
    th = cfg.thresholds
    thresholds = {k: getattr(th, k) for k in type(th).__struct_fields__}
    fails: dict[str, list[float]] = {}
    trends_kept: dict[str, tuple[float, dict[str, Any]]] = {}  # district -> (when, trends): one read for every wall
    ranking_kept = wall_data_.Kept()  # the ranking's figures, a second for every wall
    names = {h.id: [h.name, h.district] for h in cfg.halls}

    def allowed(request: Request[Any, Any, Any]) -> bool:
        return token is None or cookie_ok(token, request.cookies.get(COOKIE, ""))

    def lang_of(request: Request[Any, Any, Any]) -> str:
        return "en" if request.query_params.get("lang") == "en" else "zh"

    def page(template: str, status: int = 200, **ctx: Any) -> Response[Any]:
        return Response(env.get_template(template).render(**ctx), status_code=status, media_type=MediaType.HTML,
                        headers=PAGE_HEADERS)

    def as_json(body: Any, status: int = 200) -> Response[Any]:
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=PAGE_HEADERS)

    def figures(request: Request[Any, Any, Any], body: Any) -> Response[Any]:
        """Figures for the page's script, gzipped when it may be (500 halls: ~240 KB of JSON every 3 s)."""
        raw = msgspec.json.encode(body)
        if "gzip" not in request.headers.get("accept-encoding", ""):
            return Response(raw, media_type=MediaType.JSON, headers=PAGE_HEADERS)
        return Response(gzip.compress(raw, 1), media_type=MediaType.JSON,
                        headers={**PAGE_HEADERS, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})

    def denied() -> Response[Any]:
        return as_json({"ok": False, "error": {"code": "unauthorized", "message": "请先登录大屏。",
                                            "message_en": "Sign the wall in first."}}, 401)

    def db_down() -> Response[Any]:
        return as_json({"ok": False, "error": {"code": "db_unavailable", "message": "数据库暂时无法访问，数据可能延迟。",
                                            "message_en": "The database cannot be reached; figures may be delayed."}},
                    503)

    def to_login(request: Request[Any, Any, Any]) -> Response[Any]:
        return Redirect(f"/city/login?lang={lang_of(request)}", headers=PAGE_HEADERS)

    def shell(request: Request[Any, Any, Any], template: str, **extra: Any) -> Response[Any]:
        lang = lang_of(request)
        if static.missing is not None:
            return page("missing.html", 503, lang=lang, why=static.missing.message_en if lang == "en" else static.missing.message)
        other = "zh" if lang == "en" else "en"
        boot = {"lang": lang, "thresholds": thresholds, "districts": districts, "halls": names, **extra}
        return page(template, lang=lang, other=other, boot=json.dumps(boot, ensure_ascii=False).replace("</", "<\\/"),
                    locked=token is not None, **extra)

    def hall_ids(district: str | None) -> list[str]:
        return [h.id for h in cfg.halls if district in (None, "", h.district)]

    @get("/city/", sync_to_thread=False, include_in_schema=False)
    def wall(request: Request[Any, Any, Any]) -> Response[Any]:
        return shell(request, "wall.html") if allowed(request) else to_login(request)

    @get("/city/halls/{hall:str}", sync_to_thread=False, include_in_schema=False)
    def hall_page(request: Request[Any, Any, Any], hall: FromPath[str]) -> Response[Any]:
        if not allowed(request):
            return to_login(request)
        entry = entries.get(hall)
        if entry is None:
            return page("missing.html", 404, lang=lang_of(request), why=None)
        return shell(request, "hall.html", hall=entry.id, name=entry.name)

    @get("/city/login", sync_to_thread=False, include_in_schema=False)
    def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
        return page("login.html", lang=lang_of(request), wrong=False)

    @post("/city/login", include_in_schema=False, status_code=303)
    async def login(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        data = {k: str(form.get(k, "")) for k in ("lang", "token")}
        lang = "en" if data.get("lang") == "en" else "zh"
        if token is None:
            return Redirect(f"/city/?lang={lang}", status_code=303, headers=PAGE_HEADERS)
        who = request.client.host if request.client else "?"
        now = time.monotonic()
        recent = fails[who] = [t for t in fails.get(who, []) if now - t < 60]
        if len(recent) >= FAILS_PER_MINUTE:
            return page("login.html", 429, lang=lang, wrong=True)
        if not hmac.compare_digest(str(data.get("token", "")).strip().encode(), token.encode()):
            recent.append(now)
            return page("login.html", 403, lang=lang, wrong=True)
        fails.pop(who, None)
        out = Redirect(f"/city/?lang={lang}", status_code=303, headers=PAGE_HEADERS)
        out.set_cookie(COOKIE, cookie_value(token), max_age=COOKIE_DAYS * 86400, path="/city/", httponly=True,
                       samesite="strict", secure=request.url.scheme == "https")
        return out

    @get("/city/data/halls", sync_to_thread=True, include_in_schema=False)
    def wall_data(request: Request[Any, Any, Any], district: FromQuery[str | None] = None) -> Response[Any]:
        if not allowed(request):
            return denied()
        district = district or None

        def make() -> dict[str, Any]:
            health = ingest.health() if ingest is not None else None
            with pool.connection(timeout=5) as conn:
                every = read.halls(conn, cfg)
                alerts = wall_read.alerts(conn, hall_ids(district))
            delayed = health is not None and (health["db"] == "delayed" or (health["buffered"] and health["lag_s"] > 5))
            return wall_data_.body(every, districts, district, alerts, delayed, cfg.thresholds)

        try:  # a district not of city.toml is answered (no hall) but not kept: odd addresses fill no memory
            got = ranking_kept.get(district or "", make) if district in (None, *districts) else wall_data_.answer(make())
        except (psycopg.OperationalError, PoolTimeout):
            return db_down()
        headers = {**PAGE_HEADERS, "ETag": got.etag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match", "").strip().removeprefix("W/") == got.etag:
            return Response(b"", status_code=304, headers=headers)
        if "gzip" not in request.headers.get("accept-encoding", ""):
            return Response(got.raw, media_type=MediaType.JSON, headers=headers)
        return Response(got.gz, media_type=MediaType.JSON, headers={**headers, "Content-Encoding": "gzip"})

    @get("/city/data/trends", sync_to_thread=True, include_in_schema=False)
    def trend_data(request: Request[Any, Any, Any], district: FromQuery[str | None] = None) -> Response[Any]:
        if not allowed(request):
            return denied()
        key = district or ""
        at, kept = trends_kept.get(key, (0.0, None))
        if kept is None or time.monotonic() - at > TRENDS_KEPT_S:
            try:
                with pool.connection(timeout=5) as conn:
                    kept = wall_read.trends(conn, hall_ids(district), cfg.timezone)
            except (psycopg.OperationalError, PoolTimeout):
                return db_down()
            if key in ("", *districts):  # odd addresses fill no memory
                trends_kept[key] = (time.monotonic(), kept)
        return figures(request, kept)

    @get("/city/data/halls/{hall:str}", sync_to_thread=True, include_in_schema=False)
    def hall_data(request: Request[Any, Any, Any], hall: FromPath[str]) -> Response[Any]:
        if not allowed(request):
            return denied()
        entry = entries.get(hall)
        if entry is None:
            return as_json({"ok": False, "error": {"code": "not_found", "message": "没有这个大厅。",
                                                "message_en": f"No hall {hall!r} in this city."}}, 404)
        try:
            with pool.connection(timeout=5) as conn:
                return figures(request, read.hall_detail(conn, cfg, entry))
        except (psycopg.OperationalError, PoolTimeout):
            return db_down()

    @get("/city/static/{name:str}", sync_to_thread=False, include_in_schema=False)
    def own_file(name: FromPath[str]) -> Response[Any]:
        path = static.own.get(name)
        if path is None:
            return as_json({"ok": False}, 404)
        kind = MediaType.CSS if name.endswith(".css") else "text/javascript"
        return Response(path.read_bytes(), media_type=kind, headers={**PAGE_HEADERS, "Cache-Control": CACHE})

    @get("/city/static/vendor/{name:str}", sync_to_thread=False, include_in_schema=False)
    def vendor_file(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        if name not in static.vendor.files:
            return as_json({"ok": False}, 404)
        tag = f'"{static.vendor.etag(name)}"'
        headers = {**PAGE_HEADERS, "Cache-Control": CACHE, "ETag": tag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match", "").strip().removeprefix("W/") == tag:
            return Response(b"", status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(static.gzipped(name), media_type="text/javascript",
                            headers={**headers, "Content-Encoding": "gzip"})
        return Response(static.vendor.files[name].read_bytes(), media_type="text/javascript", headers=headers)

    return [wall, hall_page, login_form, login, wall_data, trend_data, hall_data, own_file, vendor_file]
