"""The console's staff accounts (人员账号, SPEC 12.2): `/admin/settings/staff...`.

The controller keeps the accounts and decides every change (`admin.staff.*`,
`hallbus.controller.staff_accounts`); these pages list them, and give a manager the forms to
add a member, change their name, title, department, role, photo or badge, set a new
password, and disable or enable them. Supervisors see the list and each member read-only;
staff are refused (the guard). Every POST carries the session's CSRF token (the guard).

A refused change comes back as the form with the controller's sentence next to the field it
is about (`FIELD_OF`), what was typed kept (never a password). A form names the version
of the member it was drawn from: a member changed meanwhile is refused (`conflict`) and the
page says by whom and when. A password is typed by the manager (twice), or made here
(`one_time_password`) and shown once on the page that answers the change; it is never in a
link, a log or a stored reply (the controller keeps replies for redelivery, so it does not
make the password itself). After a change of a member, their cached console sessions are
forgotten here, so their next request asks the controller: a disabled member is signed out,
a changed role counts at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post, route
from litestar.params import FromPath
from litestar.response import Redirect

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.rpc import RpcFault
from hallbus.schemas.admin_staff import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PHOTO_MAX,
    TEXT_MAX,
    StaffAccount,
)
from web.admin_words import admin_link, admin_words
from web.public import lang_of

log = logging.getLogger(__name__)

MANAGERS = ("manager",)
READERS = ("manager", "supervisor")
EVERY_ROLE = ("manager", "supervisor", "staff")
PROFILE = ("name", "title", "department", "role", "photo", "badge_uid")
FORM_KEYS = ("id", *PROFILE)
MAXLEN = {"id": 40, "name": TEXT_MAX, "title": TEXT_MAX, "department": TEXT_MAX, "photo": PHOTO_MAX, "badge_uid": 40}
# the controller's error code -> the form field its sentence goes next to
FIELD_OF = {
    "bad_id": "id", "staff_exists": "id", "bad_name": "name", "bad_title": "title", "bad_department": "department",
    "bad_photo": "photo", "bad_badge": "badge_uid", "badge_in_use": "badge_uid", "bad_password": "password",
    "own_account": "role", "wrong_password": "old_password",
}
STATUS_OF = {"conflict": 409, "forbidden": 403, "staff_not_found": 404, "staff_exists": 409, "badge_in_use": 409}
Asker = Callable[[Request[Any, Any, Any], schemas.Rpc[Any], dict[str, Any]], Awaitable[Any]]
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I: read aloud, typed once

WORDS = {
    "zh_CN": {
        "title": "人员账号", "note": "人员来自 hall.toml，可在此新增或修改，无需重启；修改立即生效。标“已改”的项与 hall.toml 不同。",
        "add": "新增人员", "id": "工号", "name": "姓名", "job": "职务", "department": "部门", "role": "角色",
        "photo": "照片", "photo_hint": "http(s):// 网址，或相对于 hall.toml 的图片路径", "badge": "工牌号（UID）",
        "badge_hint": "读卡器读出的十六进制 UID；留空表示不使用工牌", "badge_now": "当前工牌",
        "badge_now_is": "当前工牌：{}；填写新的 UID 可更换，留空则不变", "badge_remove": "收回工牌（不再用工牌登录）",
        "password": "密码", "password2": "再次输入密码", "password_hint": f"{PASSWORD_MIN} 个字符以上；交给本人后，请其在管理后台“修改密码”中尽快改掉",
        "generate": "由系统生成一次性密码", "state": "状态", "enabled": "启用", "disabled": "已停用",
        "source": "来源", "src_hall.toml": "hall.toml", "src_console": "后台新增", "changed": "已改",
        "has_password": "已设密码", "no_password": "未设密码", "edit": "修改", "view": "查看", "save": "保存",
        "create": "新增", "back": "返回人员列表", "profile": "基本信息", "set_password": "重设密码",
        "set_password_btn": "设置新密码", "disable": "停用账号", "enable": "重新启用",
        "disable_note": "停用后，该人员不能在窗口或管理后台登录，已登录的管理后台会话立即结束；已在窗口登录的，退出后不能再登录。",
        "saved": "已保存。", "one_time": "一次性密码（只显示这一次，请当面交给本人）：",
        "mismatch": "两次输入的密码不一致。", "required": "请填写此项。",
        "too_long": "内容过长。", "pw_length": f"密码应为 {PASSWORD_MIN} 到 {PASSWORD_MAX} 个字符。",
        "no_such": "没有这个人员。", "updated": "最后修改", "read_only": "督查账号只能查看，不能修改。",
        "none": "—", "list_failed": "暂时无法读取人员列表。", "own_title": "修改密码", "old_password": "原密码",
        "new_password": "新密码", "own_note": "修改后，窗口叫号终端和管理后台都使用新密码。", "own_saved": "密码已修改。", "differs": "与 hall.toml 不同：",
        "f_name": "姓名", "f_title": "职务", "f_department": "部门", "f_role": "角色", "f_photo": "照片",
        "f_badge_uid": "工牌", "f_password": "密码", "f_disabled": "停用", "sep": "、",
    },
    "en": {
        "title": "Staff accounts",
        "note": "Staff come from hall.toml; add or change them here, no restart: changes count at once. Values marked "
                "\"changed\" differ from hall.toml.",
        "add": "Add a member", "id": "Staff id", "name": "Name", "job": "Title", "department": "Department",
        "role": "Role", "photo": "Photo", "photo_hint": "an http(s):// address, or an image path relative to hall.toml",
        "badge": "Badge UID", "badge_hint": "the hex UID the reader gives; empty for no badge",
        "badge_now": "Badge now", "badge_now_is": "Badge now: {}. Type a new UID to change it; empty keeps it.",
        "badge_remove": "Take the badge away (no badge login)", "password": "Password", "password2": "Password again",
        "password_hint": f"at least {PASSWORD_MIN} characters; ask them to change it soon under \"My password\"",
        "generate": "Make a one-time password", "state": "State", "enabled": "enabled", "disabled": "disabled",
        "source": "Source", "src_hall.toml": "hall.toml", "src_console": "added here", "changed": "changed",
        "has_password": "password set", "no_password": "no password", "edit": "Change", "view": "View",
        "save": "Save", "create": "Add", "back": "Back to the staff list", "profile": "Profile",
        "set_password": "New password", "set_password_btn": "Set the new password", "disable": "Disable the account",
        "enable": "Enable again",
        "disable_note": "A disabled member cannot sign in at a counter or in the console, and their console sessions "
                        "end at once; one already signed in at a counter cannot sign in again after signing out.",
        "saved": "Saved.", "one_time": "One-time password (shown this once; hand it over in person):",
        "mismatch": "The two passwords differ.", "required": "Please fill this in.", "too_long": "Too long.",
        "pw_length": f"The password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
        "no_such": "There is no such member.", "updated": "Last changed", "read_only": "A supervisor may look, not change.",
        "none": "—", "list_failed": "The staff list cannot be read now.", "own_title": "My password",
        "old_password": "Current password", "new_password": "New password",
        "own_note": "The new password counts at the counter and in the console.", "own_saved": "Your password was changed.", "differs": "differs from hall.toml: ",
        "f_name": "name", "f_title": "title", "f_department": "department", "f_role": "role", "f_photo": "photo",
        "f_badge_uid": "badge", "f_password": "password", "f_disabled": "disabled", "sep": ", ",
    },
}


def staff_words(lang: str) -> dict[str, str]:
    """This page's words in `lang` (`en`, else zh_CN)."""
    return WORDS["en" if lang == "en" else "zh_CN"]


def one_time_password(length: int = 10) -> str:
    """A random password to hand over (about 58 bits), without look-alike characters."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def typed(form: Any, keys: tuple[str, ...]) -> dict[str, str]:
    """The form's fields, stripped and cut to their length (never more than the controller takes)."""
    return {k: str(form.get(k, "")).strip()[: MAXLEN.get(k, 40) + 1] for k in keys}


def check_password(form: Any, sw: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The password a form gives (typed twice, or made here), or the errors next to its fields."""
    if form.get("generate"):
        return one_time_password(), {}
    password, again = str(form.get("password", "")), str(form.get("password2", ""))
    if not password:
        return "", {}
    if not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX):
        return "", {"password": sw["pw_length"]}
    if password != again:
        return "", {"password2": sw["mismatch"]}
    return password, {}


class StaffNames:
    """Staff names by id for other pages (the follow-ups' filter and rows): hall.toml's, then the controller's list."""

    def __init__(self, config: HallConfig) -> None:
        self.names: dict[str, str] = {s.id: s.name for s in config.staff}

    def remember(self, people: list[StaffAccount]) -> None:
        self.names = {**self.names, **{m.id: m.name for m in people}}

    async def refresh(self, ask: Asker, request: Request[Any, Any, Any], away: type[Exception]) -> None:
        """Ask the controller for the list (names added or changed in the console); keep the last known if it cannot."""
        try:
            self.remember(list((await ask(request, schemas.ADMIN_STAFF_LIST, {})).staff))
        except (away, RpcFault) as err:
            log.info("staff names not refreshed: %s", err)


def staff_routes(
    ask: Asker, page: Callable[..., Response[str]], sessions: Any, away: type[Exception], names: StaffNames
) -> list[Any]:
    """The staff pages (see the module's doc). `ask`: an `admin.*` request for the page's session; `sessions`:
    the console's SessionCache (`forget_account`); `away`: the exception of a controller that cannot be asked."""

    def lang_and_words(request: Request[Any, Any, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
        lang = lang_of(request.query_params.get("lang"))
        return lang, admin_words(lang), staff_words(lang)

    def say(request: Request[Any, Any, Any], fault: RpcFault) -> str:
        return fault.message_en if lang_of(request.query_params.get("lang")) == "en" else fault.message

    async def everyone(request: Request[Any, Any, Any]) -> list[StaffAccount]:
        people = list((await ask(request, schemas.ADMIN_STAFF_LIST, {})).staff)
        names.remember(people)
        return people

    def member_page(request: Request[Any, Any, Any], m: StaffAccount | None, status: int = 200, *,
                    errors: dict[str, str] | None = None, error: str = "", form: dict[str, str] | None = None,
                    one_time: str = "", saved: bool = False) -> Response[str]:
        _lang, _w, sw = lang_and_words(request)
        values = form or ({k: str(getattr(m, k, "") or "") for k in FORM_KEYS} | {"badge_uid": ""} if m else {})
        return page(request, "admin_staff_member.html", status, current="staff", sw=sw, m=m, errors=errors or {},
                    error=error, form=values, one_time=one_time, saved=saved, new=False, manager=is_manager(request))

    def new_page(request: Request[Any, Any, Any], status: int = 200, *, errors: dict[str, str] | None = None,
                 error: str = "", form: dict[str, str] | None = None) -> Response[str]:
        _lang, _w, sw = lang_and_words(request)
        values = form or {k: ("staff" if k == "role" else "") for k in FORM_KEYS}
        return page(request, "admin_staff_member.html", status, current="staff", sw=sw, m=None, errors=errors or {},
                    error=error, form=values, one_time="", saved=False, new=True, manager=True)

    async def find(request: Request[Any, Any, Any], sid: str) -> tuple[StaffAccount | None, Response[str] | None]:
        _lang, w, sw = lang_and_words(request)
        try:
            m = next((x for x in await everyone(request) if x.id == sid), None)
        except away:
            return None, member_page(request, None, 503, error=w["controller_away"])
        except RpcFault as fault:
            return None, member_page(request, None, STATUS_OF.get(fault.code, 400), error=say(request, fault))
        return (m, None) if m is not None else (None, member_page(request, None, 404, error=sw["no_such"]))

    def refused(request: Request[Any, Any, Any], fault: RpcFault, field_names: tuple[str, ...]) -> tuple[
            int, dict[str, str], str]:
        """(status, errors by field, the sentence over the form) of a refused change."""
        field = FIELD_OF.get(fault.code)
        status = STATUS_OF.get(fault.code, 400)
        if field is not None and field in field_names:
            return status, {field: say(request, fault)}, ""
        return status, {}, say(request, fault)

    def done(request: Request[Any, Any, Any], sid: str) -> Response[Any]:
        sessions.forget_account(sid)  # their next request asks the controller: disabled, or a new role
        lang = lang_of(request.query_params.get("lang"))
        return Redirect(admin_link(f"/admin/settings/staff/{sid}", lang, saved="1"), status_code=303)

    # --- the list ------------------------------------------------------------------------------

    @get("/settings/staff", opt={"roles": READERS})
    async def staff_list(request: Request[Any, Any, Any]) -> Response[str]:
        _lang, w, sw = lang_and_words(request)
        ctx: dict[str, Any] = {"current": "staff", "sw": sw}
        try:
            people = await everyone(request)
        except away:
            return page(request, "admin_staff.html", 503, people=None, error=w["controller_away"], **ctx)
        except RpcFault as fault:
            return page(request, "admin_staff.html", STATUS_OF.get(fault.code, 400), people=None,
                        error=say(request, fault), **ctx)
        return page(request, "admin_staff.html", people=people, error="", **ctx)

    # --- adding --------------------------------------------------------------------------------

    @get("/settings/staff/new", opt={"roles": MANAGERS})
    async def staff_new(request: Request[Any, Any, Any]) -> Response[str]:
        return new_page(request)

    @post("/settings/staff/new", opt={"roles": MANAGERS}, status_code=303)
    async def staff_add(request: Request[Any, Any, Any]) -> Response[Any]:
        _lang, w, sw = lang_and_words(request)
        raw = await request.form()
        form = typed(raw, FORM_KEYS)
        password, errors = check_password(raw, sw)
        for key in ("id", "name"):
            if not form[key]:
                errors[key] = sw["required"]
        errors |= {k: sw["too_long"] for k, v in form.items() if len(v) > MAXLEN.get(k, 40)}
        if errors:
            return new_page(request, 400, errors=errors, form=form)
        body = {k: v for k, v in form.items() if v or k in ("id", "name")} | ({"password": password} if password else {})
        try:
            reply = await ask(request, schemas.ADMIN_STAFF_ADD, body)
        except away:
            return new_page(request, 503, error=w["controller_away"], form=form)
        except RpcFault as fault:
            status, errors, error = refused(request, fault, (*FORM_KEYS, "password"))
            return new_page(request, status, errors=errors, error=error, form=form)
        if raw.get("generate"):
            return member_page(request, reply.member, 201, one_time=password)
        return done(request, reply.member.id)

    # --- one member ----------------------------------------------------------------------------

    @get("/settings/staff/{sid:str}", opt={"roles": READERS})
    async def staff_member(request: Request[Any, Any, Any], sid: FromPath[str]) -> Response[str]:
        m, failed = await find(request, sid)
        return failed or member_page(request, m, saved=request.query_params.get("saved") == "1")

    @post("/settings/staff/{sid:str}", opt={"roles": MANAGERS}, status_code=303)
    async def staff_update(request: Request[Any, Any, Any], sid: FromPath[str]) -> Response[Any]:
        _lang, w, sw = lang_and_words(request)
        raw = await request.form()
        form = typed(raw, PROFILE)
        errors = {"name": sw["required"]} if not form["name"] else {}
        errors |= {k: sw["too_long"] for k, v in form.items() if len(v) > MAXLEN.get(k, 40)}
        body: dict[str, Any] = {"id": sid, "version": _version(raw),
                                **{k: v for k, v in form.items() if k != "badge_uid"}}
        if form["badge_uid"] or raw.get("badge_remove"):  # empty: the badge stays as it is
            body["badge_uid"] = form["badge_uid"]
        if not errors:
            try:
                await ask(request, schemas.ADMIN_STAFF_UPDATE, body)
                return done(request, sid)
            except away:
                errors, error, status = {}, w["controller_away"], 503
            except RpcFault as fault:
                status, errors, error = refused(request, fault, PROFILE)
        else:
            error, status = "", 400
        m, failed = await find(request, sid)
        return failed or member_page(request, m, status, errors=errors, error=error, form={"id": sid, **form})

    async def change(request: Request[Any, Any, Any], sid: str, method: schemas.Rpc[Any],
                     extra: dict[str, Any] | None = None, one_time: str = "") -> Response[Any]:
        w = admin_words(lang_of(request.query_params.get("lang")))
        raw = await request.form()
        try:
            reply = await ask(request, method, {"id": sid, "version": _version(raw), **(extra or {})})
        except away:
            m, failed = await find(request, sid)
            return failed or member_page(request, m, 503, error=w["controller_away"])
        except RpcFault as fault:
            m, failed = await find(request, sid)
            status, errors, error = refused(request, fault, ("password",))
            return failed or member_page(request, m, status, errors=errors, error=error)
        if one_time:
            sessions.forget_account(sid)
            return member_page(request, reply.member, 200, one_time=one_time)
        return done(request, sid)

    @post("/settings/staff/{sid:str}/disable", opt={"roles": MANAGERS}, status_code=303)
    async def staff_disable(request: Request[Any, Any, Any], sid: FromPath[str]) -> Response[Any]:
        return await change(request, sid, schemas.ADMIN_STAFF_DISABLE)

    @post("/settings/staff/{sid:str}/enable", opt={"roles": MANAGERS}, status_code=303)
    async def staff_enable(request: Request[Any, Any, Any], sid: FromPath[str]) -> Response[Any]:
        return await change(request, sid, schemas.ADMIN_STAFF_ENABLE)

    @post("/settings/staff/{sid:str}/password", opt={"roles": MANAGERS}, status_code=303)
    async def staff_password(request: Request[Any, Any, Any], sid: FromPath[str]) -> Response[Any]:
        raw = await request.form()
        sw = staff_words(lang_of(request.query_params.get("lang")))
        password, errors = check_password(raw, sw)
        if not password and not errors:
            errors = {"password": sw["required"]}
        if errors:
            m, failed = await find(request, sid)
            return failed or member_page(request, m, 400, errors=errors)
        return await change(request, sid, schemas.ADMIN_STAFF_PASSWORD, {"password": password},
                            one_time=password if raw.get("generate") else "")

    # --- one's own password (every role) ----------------------------------------------------------

    def own_page(request: Request[Any, Any, Any], status: int = 200, *, errors: dict[str, str] | None = None,
                 error: str = "") -> Response[str]:
        sw = staff_words(lang_of(request.query_params.get("lang")))
        return page(request, "admin_staff_password.html", status, current="password", sw=sw, errors=errors or {},
                    error=error, form={}, saved=request.query_params.get("saved") == "1", manager=True)

    @route("/settings/password", http_method=["GET", "POST"], opt={"roles": EVERY_ROLE})
    async def own_password(request: Request[Any, Any, Any]) -> Response[Any]:
        """The form (GET), or the member's own new password (POST; the guard checked its CSRF token)."""
        if request.method != "POST":
            return own_page(request)
        lang, w, sw = lang_and_words(request)
        raw = await request.form()
        old = str(raw.get("old_password", ""))[:PASSWORD_MAX + 1]
        new, errors = check_password({k: raw.get(k, "") for k in ("password", "password2")}, sw)  # never made here
        if not new and not errors:
            errors["password"] = sw["pw_length"]
        if not old:
            errors["old_password"] = sw["required"]
        if errors:
            return own_page(request, 400, errors=errors)
        me = request.state.session.account.id
        try:
            await ask(request, schemas.ADMIN_STAFF_OWN_PASSWORD, {"staff": me, "old_password": old, "new_password": new})
        except away:
            return own_page(request, 503, error=w["controller_away"])
        except RpcFault as fault:
            status, errors, error = refused(request, fault, ("old_password", "password"))
            return own_page(request, {"login_throttled": 429, "wrong_password": 400}.get(fault.code, status),
                            errors=errors, error=error)
        return Redirect(admin_link("/admin/settings/password", lang, saved="1"), status_code=303)

    return [staff_list, staff_new, staff_add, staff_member, staff_update, staff_disable, staff_enable, staff_password,
            own_password]


def is_manager(request: Request[Any, Any, Any]) -> bool:
    """Whether the page's session may change accounts (others see the forms read-only)."""
    session = getattr(request.state, "session", None)
    return bool(session is not None and session.account.role in MANAGERS)


def _version(form: Any) -> int:
    """The member's version the form was drawn from (a form without one is as stale as can be)."""
    try:
        return int(str(form.get("version", "-1")))
    except ValueError:
        return -1
