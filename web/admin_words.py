"""The console's words in zh_CN and English, its modules (what exists, what is coming) and its roles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Module:
    """One entry of the console's navigation."""

    key: str
    zh: str
    en: str
    href: str | None  # None: not built yet (shown as coming, never as a page)
    roles: tuple[str, ...]


MODULES = (
    Module("monitor", "监控", "Monitor", None, ("manager", "supervisor")),
    Module("settings", "设置", "Settings", None, ("manager", "supervisor")),
    Module("followups", "好差评", "Ratings follow-up", None, ("manager", "supervisor")),
    Module("cases", "办件", "Cases", None, ("manager", "supervisor")),
    Module("reports", "报表", "Reports", None, ("manager", "supervisor")),
    Module("audit", "审计", "Audit log", "/admin/audit", ("manager", "supervisor")),
)

ROLES = {
    "zh_CN": {"manager": "大厅管理", "supervisor": "督查", "staff": "工作人员"},
    "en": {"manager": "Hall manager", "supervisor": "Supervisor", "staff": "Staff"},
}

# audit action -> (zh, en)
ACTIONS = {
    "login": ("登录", "signed in"),
    "login_failed": ("登录失败", "failed sign-in"),
    "logout": ("退出", "signed out"),
}

_WORDS = {
    "zh_CN": {
        "console": "管理后台", "other_lang": "English", "login_title": "管理后台登录", "staff_id": "工号",
        "password": "密码", "sign_in": "登录", "sign_out": "退出登录", "login_missing": "请填写工号和密码。",
        "controller_away": "暂时连不上大厅服务器，无法登录或保存更改，请稍后再试。",
        "login_required": "请先登录。", "role_refused": "您的账号角色无权查看此页面。",
        "csrf_refused": "页面已过期或来源不明，请刷新后重试。", "bye": "您已退出登录。",
        "home": "首页", "coming": "即将推出", "signed_in_as": "当前账号", "role": "角色", "session_ends": "登录有效至",
        "welcome": "欢迎使用大厅管理后台", "modules": "功能",
        "coming_note": "标记“即将推出”的功能正在开发，尚不可用。",
        "staff_note": "工作人员账号只能查看本人的数据；个人统计将随报表功能提供。",
        "audit_title": "审计日志", "audit_note": "所有通过管理后台进行的操作（含登录与失败的登录）都记录在此，任何人无法修改或删除。",
        "time": "时间", "actor": "操作人", "action": "操作", "subject": "对象", "before": "修改前", "after": "修改后",
        "client": "来源地址", "older": "更早的记录", "newest": "最新记录", "no_entries": "暂无记录。",
        "login_hint": "首次使用：由管理员在服务器上执行 hallbus staff-secrets create-manager 创建第一个管理员账号。",
        "away_banner": "暂时连不上大厅服务器：页面显示的可能不是最新情况，更改无法保存。",
    },
    "en": {
        "console": "Hall console", "other_lang": "中文", "login_title": "Sign in to the hall console",
        "staff_id": "Staff id", "password": "Password", "sign_in": "Sign in", "sign_out": "Sign out",
        "login_missing": "Please give your staff id and password.",
        "controller_away": "The hall server cannot be reached: signing in and saving changes are not possible now. Please try again later.",
        "login_required": "Please sign in first.", "role_refused": "Your account's role may not see this page.",
        "csrf_refused": "This page has expired or came from elsewhere. Please reload it and try again.",
        "bye": "You have signed out.", "home": "Home", "coming": "coming", "signed_in_as": "Signed in as",
        "role": "Role", "session_ends": "Session ends", "welcome": "Welcome to the hall console", "modules": "Modules",
        "coming_note": "Modules marked \"coming\" are being built and cannot be used yet.",
        "staff_note": "A staff account sees its own figures only; personal figures come with the reports.",
        "audit_title": "Audit log",
        "audit_note": "Everything done through the console (sign-ins and failed sign-ins too) is recorded here; nobody can change or delete it.",
        "time": "Time", "actor": "Who", "action": "What", "subject": "Subject", "before": "Before", "after": "After",
        "client": "Address", "older": "Older entries", "newest": "Newest entries", "no_entries": "No entries yet.",
        "login_hint": "First use: the first manager account is made on the server with hallbus staff-secrets create-manager.",
        "away_banner": "The hall server cannot be reached: what you see may be out of date, and changes cannot be saved.",
    },
}


def admin_words(lang: str) -> dict[str, str]:
    """The console's words in `lang` (`en`, else zh_CN)."""
    return _WORDS["en" if lang == "en" else "zh_CN"]
