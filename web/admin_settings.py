"""The console's settings page (设置, SPEC 12.2): the hall settings that change without a restart.

`GET /admin/settings` shows every setting the controller keeps over hall.toml
(`admin.settings`: services open today, daily caps and slot quotas, what each window
serves and its calling rule, the notice, holidays and make-up working days), which of
them differ from hall.toml, and who changed them when. Managers change one setting per
form (`POST /admin/settings`, fields `_csrf`, `key`, `version` and the value's fields →
`admin.settings.set`); supervisors read the same page without forms' buttons; a `staff`
session gets 403 (the guard). Each form carries the version of its setting as the page
showed it: when someone changed it meanwhile, the controller refuses (`conflict`, 409) and
the page says who and when. What the controller refuses, or a value this page cannot read,
is shown next to the field, with what was typed kept (400); the controller away: 503 and
nothing changed. The value travels as the form's fields; the notice is shown as text,
never as markup (Jinja escapes it).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.rpc import RpcFault
from web.admin_words import admin_link
from web.public import lang_of

Ask = Callable[[Request[Any, Any, Any], schemas.Rpc[Any], dict[str, Any]], Awaitable[Any]]
CHANGERS = ("manager",)
READERS = ("manager", "supervisor")
FIELD_MAX = 2000  # characters of one form field read at most
_SPLIT = re.compile(r"[\s,，、;；]+")
_SLOT = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s+(\d+)$")
STATUS = {"conflict": 409, "forbidden": 403}

WORDS = {
    "zh_CN": {
        "title": "设置", "note": "这些设置保存在大厅服务器中，修改后立即生效，无需重启；未修改的沿用 hall.toml 的默认值。",
        "read_only": "您是督查账号，只能查看设置。", "services": "业务", "windows": "窗口", "notice": "大厅提示",
        "calendar": "节假日与调休", "open": "今日取号", "is_open": "开放", "closed": "今日暂停（明天自动恢复）",
        "daily_cap": "每日现场号上限", "slots": "时段配额（每行一个：08:30-10:00 20）", "w_services": "办理业务（业务代码，用逗号分隔）",
        "rule": "叫号规则", "mode": "方式", "mode_order": "按取号顺序", "mode_weight": "按权重", "ratio": "普通:优先 比例（如 2:1，留空为优先号总是先叫）",
        "weights": "权重（如 C=3, F=1）", "only_when_empty": "仅当其他业务无人等候时才叫（每行一条，如 A: B C）",
        "notice_zh": "提示文字（中文）", "notice_en": "提示文字（英文）", "holidays": "额外节假日（YYYY-MM-DD，每行或逗号分隔）",
        "workdays": "调休上班日（YYYY-MM-DD）", "save": "保存", "default": "hall.toml 默认值", "differs": "已修改",
        "changed": "修改人/时间", "saved": "已保存，立即生效。", "away": "暂时连不上大厅服务器，无法读取或保存设置，请稍后再试。",
        "bad_cap": "每日上限应为整数。", "bad_open": "请选择“开放”或“今日暂停”。", "bad_slot": "第{n}行格式不对，应像 08:30-10:00 20。",
        "bad_weight": "权重应写成 代码=数字，如 C=3。", "bad_owe": "每行应写成 业务: 其他业务，如 A: B C。",
        "none": "（无）", "empty": "（空）", "differ_title": "与 hall.toml 不同的设置", "no_differ": "所有设置都与 hall.toml 相同。",
        "what": "设置", "now": "现在", "k_open": "今日取号", "k_daily_cap": "每日上限", "k_slots": "时段配额",
        "k_services": "办理业务", "k_rule": "叫号规则", "k_notice": "提示（中文）", "k_notice_en": "提示（英文）",
        "k_holidays": "额外节假日", "k_workdays": "调休上班日", "service": "业务", "window": "窗口",
    },
    "en": {
        "title": "Settings", "note": "These settings live in the hall controller and take effect at once, without a restart; "
        "what was never changed keeps hall.toml's value.",
        "read_only": "Your supervisor account can read the settings only.", "services": "Services", "windows": "Windows",
        "notice": "Hall notice", "calendar": "Holidays and make-up working days", "open": "Tickets today",
        "is_open": "open", "closed": "closed today (opens again tomorrow)", "daily_cap": "Walk-in tickets a day at most",
        "slots": "Slot quotas (one a line: 08:30-10:00 20)", "w_services": "Serves (service codes, comma-separated)",
        "rule": "Calling rule", "mode": "Mode", "mode_order": "in order of issue", "mode_weight": "by weight",
        "ratio": "normal:priority ratio (e.g. 2:1; empty: priority always first)", "weights": "Weights (e.g. C=3, F=1)",
        "only_when_empty": "Call only when others have nobody waiting (one a line, e.g. A: B C)",
        "notice_zh": "Notice (Chinese)", "notice_en": "Notice (English)",
        "holidays": "Extra holidays (YYYY-MM-DD, one a line or comma-separated)", "workdays": "Make-up working days (YYYY-MM-DD)",
        "save": "Save", "default": "hall.toml", "differs": "changed", "changed": "Changed by / at",
        "saved": "Saved; in effect now.", "away": "The hall controller cannot be reached: settings cannot be read or saved now. "
        "Please try again later.",
        "bad_cap": "The daily cap must be a whole number.", "bad_open": "Choose open or closed today.", "bad_slot": "Line {n} is malformed; write it like 08:30-10:00 20.",
        "bad_weight": "Write weights as CODE=number, e.g. C=3.", "bad_owe": "Write each line as SERVICE: OTHERS, e.g. A: B C.",
        "none": "(none)", "empty": "(empty)", "differ_title": "Settings that differ from hall.toml",
        "no_differ": "Every setting is as in hall.toml.", "what": "Setting", "now": "Now", "k_open": "tickets today",
        "k_daily_cap": "daily cap", "k_slots": "slot quotas", "k_services": "serves", "k_rule": "calling rule",
        "k_notice": "notice (Chinese)", "k_notice_en": "notice (English)", "k_holidays": "extra holidays",
        "k_workdays": "make-up working days", "service": "Service", "window": "Window",
    },
}


class Unreadable(ValueError):
    """A form value this page cannot read: the words key of the reason (and its number)."""

    def __init__(self, key: str, n: int = 0) -> None:
        super().__init__(key)
        self.key, self.n = key, n


def _hhmm(h: str, m: str) -> str:
    return f"{int(h):02d}:{m}"


def parse(kind: str, form: dict[str, str]) -> Any:
    """The value a setting's form sends, as `admin.settings.set` takes it (Unreadable when it cannot be read)."""
    text = form.get("value", "")
    if kind == "open":
        if text not in ("0", "1"):
            raise Unreadable("bad_open")
        return text == "1"
    if kind == "daily_cap":
        if not text.strip().isdigit():
            raise Unreadable("bad_cap")
        return int(text)
    if kind == "slots":
        slots = []
        for n, line in enumerate((x.strip() for x in re.split(r"[\n;；]", text)), start=1):
            if not line:
                continue
            m = _SLOT.match(line)
            if m is None:
                raise Unreadable("bad_slot", n)
            slots.append({"start": _hhmm(m[1], m[2]), "end": _hhmm(m[3], m[4]), "cap": int(m[5])})
        return slots
    if kind == "services":
        return [c.upper() for c in _SPLIT.split(text) if c]
    if kind == "rule":
        return parse_rule(form)
    if kind in ("holidays", "workdays"):
        return [d for d in _SPLIT.split(text) if d]
    return text  # notice, notice_en


def parse_rule(form: dict[str, str]) -> dict[str, Any]:
    weights: dict[str, int] = {}
    for part in (p for p in re.split(r"[\s,，、;；]+", form.get("weights", "")) if p):
        code, _, n = part.partition("=")
        if not n.strip().isdigit() or not code.strip():
            raise Unreadable("bad_weight")
        weights[code.strip().upper()] = int(n)
    owe: dict[str, list[str]] = {}
    for line in (x.strip() for x in form.get("only_when_empty", "").splitlines()):
        if not line:
            continue
        code, sep, others = line.partition(":") if ":" in line else line.partition("：")
        if not sep or not code.strip():
            raise Unreadable("bad_owe")
        owe[code.strip().upper()] = [c.upper() for c in _SPLIT.split(others) if c]
    return {"mode": form.get("mode", "order"), "ratio": form.get("ratio", "").strip(), "weights": weights,
            "only_when_empty": owe}


def shown(kind: str, value: Any) -> dict[str, str]:
    """A value as its form's fields show it (the inverse of `parse`)."""
    if kind == "open":
        return {"value": "1" if value else "0"}
    if kind == "slots":
        return {"value": "\n".join(f"{s['start']}-{s['end']} {s['cap']}" for s in value)}
    if kind in ("services", "holidays", "workdays"):
        return {"value": ", ".join(value)}
    if kind == "rule":
        return {"mode": value.get("mode", "order"), "ratio": value.get("ratio", ""),
                "weights": ", ".join(f"{k}={v}" for k, v in value.get("weights", {}).items()),
                "only_when_empty": "\n".join(f"{k}: {' '.join(v)}" for k, v in value.get("only_when_empty", {}).items())}
    return {"value": str(value)}


def brief(kind: str, value: Any, sw: dict[str, str]) -> str:
    """A value in one line (the hall.toml default next to a changed value)."""
    if kind == "open":
        return sw["is_open"] if value else sw["closed"]
    if kind == "rule":
        f = shown(kind, value)
        mode = sw.get("mode_" + f["mode"], f["mode"])
        return " · ".join(x for x in (mode, f["ratio"], f["weights"], f["only_when_empty"].replace("\n", "; ")) if x)
    text = shown(kind, value)["value"].replace("\n", "; ")
    return text or sw["empty"]


def label(s: Any, sw: dict[str, str], names: dict[str, tuple[str, str]], wnames: dict[str, tuple[str, str]],
          en: int) -> str:
    """What a setting is, in a few words: `A 综合受理 · 每日上限`."""
    what = sw["k_" + s.kind]
    if s.subject in names and s.key.startswith("service."):
        return f"{s.subject} {names[s.subject][en]} · {what}"
    if s.subject in wnames:
        return f"{wnames[s.subject][en]} · {what}"
    return what


def settings_routes(
    config: HallConfig, ask: Ask, page: Callable[..., Response[str]], away: type[Exception],
) -> list[Any]:
    """`GET /settings` (the page) and `POST /settings` (one setting's form)."""
    names = {s.code: (s.name, s.name_en or s.name) for s in config.services}
    wnames = {w.id: (w.name, w.name_en or w.name) for w in config.windows}

    def view(request: Request[Any, Any, Any], status: int, settings: list[Any] | None, *, error: str = "",
             failed: str = "", field_error: str = "", typed: dict[str, str] | None = None) -> Response[str]:
        lang = lang_of(request.query_params.get("lang"))
        sw = WORDS["en" if lang == "en" else "zh_CN"]
        session = request.state.session
        rows: dict[str, dict[str, Any]] = {}
        for s in settings or []:
            rows[s.key] = {
                "s": s, "f": typed if (s.key == failed and typed is not None) else shown(s.kind, s.value),
                "default": brief(s.kind, s.default, sw), "error": field_error if s.key == failed else "",
                "changed": f"{s.changed_by} · {s.changed_at[:16].replace('T', ' ')}" if s.changed_at else "",
            }
        en = int(lang == "en")
        differ = [(s.key.replace(".", "-"), label(s, sw, names, wnames, en), brief(s.kind, s.value, sw), r["default"],
                   r["changed"]) for s, r in ((x, rows[x.key]) for x in settings or []) if s.differs]
        return page(
            request, "admin_settings.html", status, current="settings", sw=sw, rows=rows, error=error,
            can_change=session.account.role in CHANGERS, differ=differ, saved=request.query_params.get("saved", "")[:60],
            services=[(code, names[code][en]) for code in names], windows=[(wid, wnames[wid][en]) for wid in wnames],
        )

    async def load(request: Request[Any, Any, Any]) -> tuple[list[Any] | None, str]:
        sw = WORDS["en" if lang_of(request.query_params.get("lang")) == "en" else "zh_CN"]
        try:
            return (await ask(request, schemas.ADMIN_SETTINGS, {})).settings, ""
        except away:
            return None, sw["away"]
        except RpcFault as fault:
            return None, fault.message_en if lang_of(request.query_params.get("lang")) == "en" else fault.message

    @get("/settings", opt={"roles": READERS})
    async def settings_page(request: Request[Any, Any, Any]) -> Response[str]:
        settings, error = await load(request)
        return view(request, 200 if settings is not None else 503, settings, error=error)

    @post("/settings", opt={"roles": CHANGERS}, status_code=303)
    async def settings_save(request: Request[Any, Any, Any]) -> Response[Any]:
        lang = lang_of(request.query_params.get("lang"))
        sw = WORDS["en" if lang == "en" else "zh_CN"]
        raw = await request.form()
        form = {k: str(raw.get(k, ""))[:FIELD_MAX] for k in ("key", "version", "value", "mode", "ratio", "weights",
                                                               "only_when_empty")}
        key = form["key"].strip()
        kind = key.rsplit(".", 1)[-1]
        typed = {k: v for k, v in form.items() if k not in ("key", "version")}
        try:
            value = parse(kind, form)
            body = {"key": key, "value": value, "version": int(form["version"] or 0)}
        except Unreadable as bad:
            settings, error = await load(request)
            return view(request, 400 if settings is not None else 503, settings, error=error, failed=key,
                        field_error=sw[bad.key].format(n=bad.n), typed=typed)
        except ValueError:
            body = {"key": key, "value": None, "version": -1}
        try:
            await ask(request, schemas.ADMIN_SETTING_SET, body)
        except away:
            settings, _ = await load(request)
            return view(request, 503, settings, error=sw["away"], failed=key, typed=typed)
        except RpcFault as fault:
            settings, error = await load(request)
            text = fault.message_en if lang == "en" else fault.message
            return view(request, STATUS.get(fault.code, 400) if settings is not None else 503, settings, error=error,
                        failed=key, field_error=text, typed=typed)
        return Redirect(admin_link("/admin/settings", lang, saved=key) + "#" + key.replace(".", "-"), status_code=303)

    return [settings_page, settings_save]
