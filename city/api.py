"""The city's JSON API (SPEC 13), read-only: `/api/v1/halls`, `/api/v1/halls/{hall}`, `/healthz`.

`/api/v1/...` asks for `Authorization: Bearer TOKEN` when city.toml names a token (`[web]
token_file`); without one it is open and belongs behind the city's reverse-proxy auth
(docs/city.md). `/healthz` is open (it tells whether ingest keeps up, nothing of any hall).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import psycopg
from litestar import Litestar, Request, Response, get
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from psycopg_pool import ConnectionPool, PoolTimeout

from city import read
from city.config import CityConfig
from city.ingest import Ingest
from city.wall import wall_routes

log = logging.getLogger(__name__)


def _error(status: int, code: str, zh: str, en: str) -> Response[Any]:
    return Response({"ok": False, "error": {"code": code, "message": zh, "message_en": en}}, status_code=status,
                    media_type=MediaType.JSON)


def create_app(cfg: CityConfig, pool: ConnectionPool[Any], ingest: Ingest | None = None,
               token: str | None = None) -> Litestar:
    """The Litestar app over one pool (and, in `hallcity serve`, the instance's ingest for /healthz)."""
    entries = {h.id: h for h in cfg.halls}
    expected = f"Bearer {token}".encode() if token else None

    def authorised(request: Request[Any, Any, Any]) -> bool:
        if expected is None:
            return True
        got = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(got, expected)

    def unauthorised() -> Response[Any]:
        return _error(401, "unauthorized", "需要有效的访问令牌(Authorization: Bearer ...)。",
                      "A valid token is needed (Authorization: Bearer ...).")

    def db_down() -> Response[Any]:
        return _error(503, "db_unavailable", "数据库暂时无法访问,请稍后再试。",
                      "The database cannot be reached just now; please try again shortly.")

    @get("/api/v1/halls", sync_to_thread=True)
    def halls(request: Request[Any, Any, Any], district: FromQuery[str | None] = None) -> Response[Any]:
        if not authorised(request):
            return unauthorised()
        try:
            with pool.connection() as conn:
                return Response(read.halls(conn, cfg, district=district), media_type=MediaType.JSON)
        except (psycopg.OperationalError, PoolTimeout):
            return db_down()

    @get("/api/v1/halls/{hall:str}", sync_to_thread=True)
    def hall(request: Request[Any, Any, Any], hall: FromPath[str]) -> Response[Any]:
        if not authorised(request):
            return unauthorised()
        entry = entries.get(hall)
        if entry is None:
            return _error(404, "not_found", "没有这个大厅。", f"No hall {hall!r} in this city.")
        try:
            with pool.connection() as conn:
                return Response(read.hall_detail(conn, cfg, entry), media_type=MediaType.JSON)
        except (psycopg.OperationalError, PoolTimeout):
            return db_down()

    @get("/healthz", sync_to_thread=True)
    def healthz() -> Response[Any]:
        db = "ok"
        try:
            with pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
        except (psycopg.OperationalError, PoolTimeout):
            db = "down"
        body: dict[str, Any] = {"ok": db == "ok", "db": db}
        if ingest is not None:
            h = ingest.health()
            body.update({"bus": h["bus"], "adopted": h["adopted"], "ingest": h})  # stopped peers' sessions it holds
            if db == "ok" and h["db"] == "delayed":
                db = "delayed"
            if h["buffered"] and h["lag_s"] > 5:
                db = "delayed"  # figures behind what the halls sent
            body["db"] = db
            body["ok"] = db == "ok" and h["bus"] == "connected"
        return Response(body, status_code=200 if body["ok"] else 503, media_type=MediaType.JSON)

    def on_http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        if exc.status_code == 404:
            return _error(404, "not_found", "没有这个地址。", "No such address.")
        return _error(exc.status_code, "bad_request", "请求有误。", f"This request cannot be answered: {exc.detail}")

    def on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return _error(500, "internal_error", "服务出错,请稍后再试。", "Something went wrong; please try again later.")

    return Litestar(
        route_handlers=[halls, hall, healthz, *wall_routes(cfg, pool, ingest, token)],  # the wall /city/ (city/wall.py)
        exception_handlers={NotFoundException: on_http_error, HTTPException: on_http_error, Exception: on_crash},
        openapi_config=None,
        debug=False,
    )
