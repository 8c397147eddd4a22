"""The console's words in zh_CN and English, its modules (what exists, what is coming), its roles and its links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Module:
    """One entry of the console's navigation."""

    key: str
    zh: str
    en: str
    href: str | None  # None: not built yet (shown as coming, never as a page)
    roles: tuple[str, ...]


MODULES = (
    Module("monitor", "监控", "Monitor", "/admin/monitor", ("manager", "supervisor")),
    Module("settings", "设置", "Settings", "/admin/settings", ("manager", "supervisor")),
    Module("followups", "好差评", "Ratings follow-up", "/admin/followups", ("manager", "supervisor")),
    Module("cases", "办件", "Cases", "/admin/cases", ("manager", "supervisor")),
    Module("reports", "报表", "Reports", "/admin/reports", ("manager", "supervisor")),
    Module("audit", "审计", "Audit log", "/admin/audit", ("manager", "supervisor")),
    Module("me", "本人数据", "My figures", "/admin/me", ("manager", "supervisor", "staff")),
    Module("staff", "人员账号", "Staff accounts", "/admin/settings/staff", ("manager", "supervisor")),
    Module("password", "修改密码", "My password", "/admin/settings/password", ("manager", "supervisor", "staff")),
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
    "followup.move": ("整改任务状态变更", "moved a follow-up"),
    "setting.set": ("修改设置", "changed a setting"),
    "staff.add": ("新增人员", "added a staff member"),
    "staff.update": ("修改人员信息", "changed a staff member"),
    "staff.disable": ("停用人员账号", "disabled a staff member"),
    "staff.enable": ("启用人员账号", "enabled a staff member"),
    "staff.password": ("重设人员密码", "set a staff member's password"),
    "staff.own_password": ("修改本人密码", "changed their own password"),
    "staff.own_password_failed": ("修改本人密码：原密码错误", "own password change: wrong current password"),
}

# follow-up state -> (zh, en), in the order of the filter
FOLLOWUP_STATES = {
    "open": ("待核实", "open"),
    "verified": ("已核实", "verified"),
    "rectified": ("已整改", "rectified"),
    "closed": ("已办结", "closed"),
    "appealed": ("申诉中", "appealed"),
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
        "staff_note": "工作人员账号只能查看本人的数据：办结量、平均办理时长、评价和整改见“本人数据”。",
        "own_today": "今日本人评价", "own_ratings": "评价数", "own_satisfaction": "满意率", "own_bad": "差评",
        "own_unknown": "今日数据暂不可用（连不上大厅服务器）。",
        "audit_title": "审计日志", "audit_note": "所有通过管理后台进行的操作（含登录与失败的登录）都记录在此，任何人无法修改或删除。",
        "time": "时间", "actor": "操作人", "action": "操作", "subject": "对象", "before": "修改前", "after": "修改后",
        "client": "来源地址", "older": "更早的记录", "newest": "最新记录", "no_entries": "暂无记录。",
        "login_hint": "首次使用：由管理员在服务器上执行 hallbus staff-secrets create-manager 创建第一个管理员账号。",
        "away_banner": "暂时连不上大厅服务器：页面显示的可能不是最新情况，更改无法保存。",
        "fu_title": "好差评整改", "fu_note": "每条差评自动生成整改任务：待核实 → 已核实 → 已整改 → 已办结（或申诉中）；超期未办（待核实、已核实且过了期限）标红。",
        "fu_state": "状态", "fu_window": "窗口", "fu_staff": "工作人员", "fu_all": "全部", "fu_filter": "筛选",
        "fu_id": "编号", "fu_level": "评价", "fu_reasons": "原因", "fu_opened": "生成时间", "fu_due": "办理期限",
        "fu_overdue": "已超期", "fu_overdue_n": "件已超期", "fu_none": "没有符合条件的整改任务。", "fu_comment": "群众意见",
        "fu_ticket": "号码", "fu_case": "办件号", "fu_history": "处理记录", "fu_by": "处理人", "fu_note_col": "处理情况",
        "fu_move": "变更状态", "fu_to": "改为", "fu_note_label": "处理情况（必填）", "fu_save": "保存",
        "fu_callback": "回访记录（可选）", "fu_cb_at": "回访时间", "fu_cb_by": "回访人", "fu_cb_outcome": "回访结果",
        "fu_closed": "任务已办结，不能再变更。", "fu_moved": "已保存。", "fu_back": "返回列表", "fu_task": "整改任务",
        "fu_rating": "评价编号", "fu_callback_col": "回访", "fu_first_only": "只显示最新的 100 条，请用筛选缩小范围。",
        "reports_title": "报表", "report_kind": "报表类型", "date_from": "开始日期", "date_to": "结束日期",
        "show": "查询", "export_xlsx": "导出 XLSX", "printable": "打印版", "range": "统计期间", "made_at": "生成时间",
        "total": "合计", "no_rows": "该期间没有数据。", "back": "返回报表",
        "reports_note": "日期为大厅营业日，起止日期都包含在内，最长 5 年。图表的数据也列在图下的表中。",
        "report_away": "暂时连不上大厅服务器，无法生成报表，请稍后再试。",
        "report_not_xlsx": "报表下载地址应为 /admin/reports/类型.xlsx?from=YYYY-MM-DD&to=YYYY-MM-DD。",
        "chart_daily": "每日接待量", "chart_windows": "各窗口满意率", "chart_pct": "满意率（%）", "chart_hall": "全厅",
        "chart_no_ratings": "无评价", "chart_ratings": "评价数", "chart_figures": "图表数据", "chart_date": "日期",
        "chart_window": "窗口",
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
        "staff_note": "A staff account sees its own figures only: served, average handling, ratings and follow-ups are under \"My figures\".",
        "own_today": "My ratings today", "own_ratings": "Ratings", "own_satisfaction": "Satisfaction",
        "own_bad": "Bad ratings", "own_unknown": "Today's figures are not available (the hall server cannot be reached).",
        "audit_title": "Audit log",
        "audit_note": "Everything done through the console (sign-ins and failed sign-ins too) is recorded here; nobody can change or delete it.",
        "time": "Time", "actor": "Who", "action": "What", "subject": "Subject", "before": "Before", "after": "After",
        "client": "Address", "older": "Older entries", "newest": "Newest entries", "no_entries": "No entries yet.",
        "login_hint": "First use: the first manager account is made on the server with hallbus staff-secrets create-manager.",
        "away_banner": "The hall server cannot be reached: what you see may be out of date, and changes cannot be saved.",
        "fu_title": "Bad ratings follow-up",
        "fu_note": "Every bad rating opens a task: open → verified → rectified → closed (or appealed); tasks past their deadline while open or verified are red.",
        "fu_state": "State", "fu_window": "Window", "fu_staff": "Staff", "fu_all": "All", "fu_filter": "Filter",
        "fu_id": "No.", "fu_level": "Rating", "fu_reasons": "Reasons", "fu_opened": "Opened", "fu_due": "Deadline",
        "fu_overdue": "overdue", "fu_overdue_n": "overdue", "fu_none": "No follow-up matches.", "fu_comment": "Citizen's comment",
        "fu_ticket": "Ticket", "fu_case": "Case", "fu_history": "History", "fu_by": "By", "fu_note_col": "Note",
        "fu_move": "Move", "fu_to": "To", "fu_note_label": "What was done (required)", "fu_save": "Save",
        "fu_callback": "Callback to the citizen (optional)", "fu_cb_at": "When", "fu_cb_by": "Called by",
        "fu_cb_outcome": "Outcome", "fu_closed": "The task is closed and cannot move any more.", "fu_moved": "Saved.",
        "fu_back": "Back to the list", "fu_task": "Follow-up", "fu_rating": "Rating id", "fu_callback_col": "Callback", "fu_first_only": "Only the newest 100 are shown; narrow them with the filters.",
        "reports_title": "Reports", "report_kind": "Report", "date_from": "From", "date_to": "To", "show": "Show",
        "export_xlsx": "Export XLSX", "printable": "Printable", "range": "Range", "made_at": "Made at",
        "total": "Total", "no_rows": "Nothing in this range.", "back": "Back to reports",
        "reports_note": "Dates are hall days, both included, at most 5 years. Each chart's figures are also in the table under it.",
        "report_away": "The hall server cannot be reached, so the report cannot be made now. Please try again later.",
        "report_not_xlsx": "A report's download is /admin/reports/KIND.xlsx?from=YYYY-MM-DD&to=YYYY-MM-DD.",
        "chart_daily": "Daily counts", "chart_windows": "Satisfaction by window", "chart_pct": "Satisfaction (%)",
        "chart_hall": "Hall", "chart_no_ratings": "no ratings", "chart_ratings": "Ratings",
        "chart_figures": "Chart figures", "chart_date": "Date", "chart_window": "Window",
    },
}


def admin_words(lang: str) -> dict[str, str]:
    """The console's words in `lang` (`en`, else zh_CN)."""
    return _WORDS["en" if lang == "en" else "zh_CN"]


_MONITOR = {
    "zh_CN": {
        "title": "实时监控", "windows": "窗口", "window": "窗口", "status": "状态", "staff": "工作人员",
        "ticket": "当前号", "at_window": "已持续", "queue": "等候", "service": "业务", "waiting": "等候人数",
        "longest": "最长等候", "est": "预计等候", "open": "开放窗口", "over": "超过提醒线", "today": "今日数据",
        "visitors": "接待人数", "tickets_issued": "取号数", "served": "办结", "no_show": "过号",
        "avg_wait_s": "平均等候", "avg_service_s": "平均办理", "ratings": "评价数", "satisfaction_rate": "满意率",
        "cases_done": "办件办结", "on_time_rate": "按时办结率", "overdue_cases": "逾期办件",
        "followups_open": "待整改差评", "followups_overdue": "整改超期",
        "devices": "设备状态", "node": "设备", "role": "类型", "presence": "在线", "since": "自",
        "alerts": "提醒", "no_alerts": "暂无提醒（打开本页之后收到的提醒显示在这里）。", "total": "合计等候",
        "live": "实时更新中", "down": "连接中断，正在重连…", "away": "暂时连不上大厅服务器，显示的是最后已知的状态。",
        "none": "—", "min": "分", "hour": "时", "sec": "秒",
        "st_closed": "未开窗", "st_idle": "空闲", "st_serving": "办理中", "st_paused": "暂停", "st_unknown": "未知",
        "n_online": "在线", "n_offline": "离线", "n_lost": "失联", "n_unknown": "未知",
        "d_ok": "正常", "d_absent": "未连接", "d_error": "故障", "d_paper_low": "纸将用完", "d_paper_out": "缺纸",
        "dev_idcard": "身份证读卡器", "dev_printer": "打印机", "dev_camera": "摄像头", "dev_scanner": "扫码器",
        "dev_pcsc": "IC卡读卡器",
        "r_terminal": "自助终端", "r_counter": "窗口叫号", "r_tablet": "评价器", "r_window": "窗口屏",
        "r_hall": "大厅屏", "r_web": "网站服务",
        "l_notice": "提示", "l_warn": "注意", "l_urgent": "紧急", "l_overdue": "逾期",
    },
    "en": {
        "title": "Live monitor", "windows": "Windows", "window": "Window", "status": "Status", "staff": "Staff",
        "ticket": "Ticket", "at_window": "For", "queue": "Waiting", "service": "Service", "waiting": "Waiting",
        "longest": "Longest wait", "est": "Est. wait", "open": "Windows open", "over": "past the alert line",
        "today": "Today", "visitors": "Visitors", "tickets_issued": "Tickets", "served": "Served",
        "no_show": "No-shows", "avg_wait_s": "Avg. wait", "avg_service_s": "Avg. handling", "ratings": "Ratings",
        "satisfaction_rate": "Satisfaction", "cases_done": "Cases done", "on_time_rate": "On time",
        "overdue_cases": "Overdue cases", "followups_open": "Open follow-ups", "followups_overdue": "Overdue follow-ups",
        "devices": "Devices", "node": "Node", "role": "Kind", "presence": "Presence", "since": "since",
        "alerts": "Alerts", "no_alerts": "No alerts yet (alerts received while this page is open appear here).",
        "total": "Waiting in all", "live": "Live", "down": "Connection lost, reconnecting…",
        "away": "The hall server cannot be reached: this is the last known state.",
        "none": "—", "min": "min", "hour": "h", "sec": "s",
        "st_closed": "Closed", "st_idle": "Idle", "st_serving": "Serving", "st_paused": "Paused", "st_unknown": "Unknown",
        "n_online": "online", "n_offline": "offline", "n_lost": "lost", "n_unknown": "unknown",
        "d_ok": "OK", "d_absent": "absent", "d_error": "error", "d_paper_low": "paper low", "d_paper_out": "paper out",
        "dev_idcard": "ID card reader", "dev_printer": "Printer", "dev_camera": "Camera", "dev_scanner": "Scanner",
        "dev_pcsc": "IC card reader",
        "r_terminal": "Terminal", "r_counter": "Counter", "r_tablet": "Rating tablet", "r_window": "Window display",
        "r_hall": "Hall screen", "r_web": "Web service",
        "l_notice": "notice", "l_warn": "warning", "l_urgent": "urgent", "l_overdue": "overdue",
    },
}


def monitor_words(lang: str) -> dict[str, str]:
    """The live monitor's words in `lang` (its script reads them from the page)."""
    return _MONITOR["en" if lang == "en" else "zh_CN"]


def admin_link(path: str, lang: str, **params: str | None) -> str:
    """A console path keeping the language (`?lang=en`) and adding `params`."""
    query = urlencode({k: v for k, v in {"lang": "en" if lang == "en" else None, **params}.items() if v})
    return f"{path}?{query}" if query else path
