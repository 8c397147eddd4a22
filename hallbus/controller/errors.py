"""Every error the queue engine answers with: a specific code, plain zh_CN and English."""

from __future__ import annotations

from hallbus.rpc import RpcFault


def unknown_service(code: str) -> RpcFault:
    """No service with this ticket prefix."""
    return RpcFault(
        "unknown_service",
        f"没有代码为“{code}”的业务，请重新选择业务。",
        f"There is no service {code!r}. Please choose a service again.",
    )


def service_closed(name: str, name_en: str, hours: list[str]) -> RpcFault:
    """Outside the service's opening hours."""
    spans = "、".join(hours)
    return RpcFault(
        "service_closed",
        f"“{name}”现在不在办理时间，办理时间为每天{spans}。请在办理时间内取号。",
        f"{name_en or name} is closed now. Opening hours: {', '.join(hours)}. Please come back then.",
    )


def closed_today(name: str, name_en: str) -> RpcFault:
    """A manager closed the service for today (it opens again tomorrow, or when the manager reopens it)."""
    return RpcFault(
        "service_closed",
        f"“{name}”今天暂停取号，请明天再来，或咨询服务台。",
        f"{name_en or name} takes no tickets today. Please come back tomorrow or ask at the information desk.",
    )


def daily_cap_reached(name: str, name_en: str, cap: int) -> RpcFault:
    """The day's tickets of a service are all given out."""
    return RpcFault(
        "daily_cap_reached",
        f"“{name}”今天的号已经取完（每天{cap}个），请明天再来，或到网上办理。",
        f"All {cap} tickets for {name_en or name} are taken today. Please come tomorrow or apply online.",
    )


def numbers_exhausted(name: str, name_en: str, last: int) -> RpcFault:
    """The day's three-digit numbers of a service are all used (walk-ins, appointments and green alike)."""
    return RpcFault(
        "numbers_exhausted",
        f"“{name}”今天的{last}个号码已经全部发完，今天无法再取号，请明天再来或咨询工作人员。",
        f"All {last} ticket numbers for {name_en or name} are used up today. Please come tomorrow or ask staff.",
    )


def issue_rate_limited(wait_s: int) -> RpcFault:
    """One terminal issued faster than `[ticket_limits]` allows."""
    return RpcFault(
        "issue_rate_limited",
        f"本机取号过于频繁，请{wait_s}秒后再取号；如需帮助请联系工作人员。",
        f"This terminal is issuing tickets too fast. Please try again in {wait_s} s, or ask staff for help.",
    )


def channel_refused(channel: str, min_age: int) -> RpcFault:
    """A priority channel asked for without the proof the controller checks."""
    if channel == "appointment":
        zh = "预约号只能通过“预约签到”领取，请在终端上选择预约签到，或取普通号。"
        en = "Appointment tickets come only from the appointment check-in. Please check in, or take a normal ticket."
    elif min_age > 0:
        zh = f"绿色通道需要刷身份证确认（{min_age}周岁及以上），或请工作人员协助办理。"
        en = f"The green channel needs an ID card read showing an age of {min_age} or over, or a member of staff."
    else:
        zh = "本大厅的绿色通道由工作人员协助办理，请咨询工作人员。"
        en = "In this hall the green channel is given by staff. Please ask a member of staff."
    return RpcFault("channel_refused", zh, en)


def slot_full(name: str, name_en: str, start: str, end: str, cap: int) -> RpcFault:
    """A time slot's quota is used up."""
    return RpcFault(
        "slot_full",
        f"“{name}”{start}-{end}时段的{cap}个号已经取完，请在下一个时段再来取号。",
        f"The {cap} tickets for {name_en or name} between {start} and {end} are taken. "
        "Please take a ticket in the next time slot.",
    )


def id_card_required(name: str, name_en: str) -> RpcFault:
    """A real-name service without an ID card."""
    return RpcFault(
        "id_card_required",
        f"“{name}”需要实名取号，请先在读卡区刷身份证。",
        f"{name_en or name} needs your ID card: please place it on the card reader first.",
    )


def already_in_queue(name: str, name_en: str, number: str) -> RpcFault:
    """One open ticket per person per service."""
    return RpcFault(
        "already_in_queue",
        f"您已经取了“{name}”的{number}号，请等候叫号，不用重复取号。",
        f"You already have ticket {number} for {name_en or name}. Please wait to be called.",
    )


def person_daily_limit(limit: int) -> RpcFault:
    """The daily limit per person across services."""
    return RpcFault(
        "person_daily_limit",
        f"您今天已经取了{limit}个号，达到每天的上限，请明天再来或咨询工作人员。",
        f"You have taken {limit} tickets today, the daily limit. Please come tomorrow or ask staff.",
    )


def no_show_blocked(minutes: int) -> RpcFault:
    """Blocked for a while after a no-show (anti-scalping)."""
    return RpcFault(
        "no_show_blocked",
        f"您的号刚才叫号未到（过号），请{minutes}分钟后再取号，或咨询工作人员。",
        f"Your last ticket was called but you did not come. Please take a new one in {minutes} min or ask staff.",
    )


def unknown_window(window: str) -> RpcFault:
    """No such window in the config."""
    return RpcFault(
        "unknown_window",
        f"没有编号为“{window}”的窗口，请检查本终端的窗口设置。",
        f"There is no window {window!r}. Please check this terminal's window setting.",
    )


def login_failed() -> RpcFault:
    """Unknown staff, wrong password or unknown badge (the same answer for each, on purpose)."""
    return RpcFault(
        "login_failed",
        "工号或密码不正确（或工牌未登记），请重新输入或联系管理员。",
        "Wrong staff id or password (or the badge is not registered). Please try again or ask the manager.",
    )


def password_changed() -> RpcFault:
    """The password was changed in the console while this login was being checked: nothing counted, try again."""
    return RpcFault(
        "login_retry",
        "该工号的密码刚刚被更改，请再输入一次。",
        "The password of this staff id has just been changed; please enter it once more.",
    )


def not_logged_in(window: str) -> RpcFault:
    """A counter action at a window nobody is logged in at."""
    return RpcFault(
        "not_logged_in",
        f"{window}号窗口尚未登录，请先用工牌或工号登录。",
        f"Nobody is logged in at window {window}. Please log in with your badge or staff id first.",
    )


def window_paused(window: str) -> RpcFault:
    """A call from a paused window."""
    return RpcFault(
        "window_paused",
        f"{window}号窗口处于暂停状态，请先恢复办理再叫号。",
        f"Window {window} is paused. Please resume before calling.",
    )


def queue_empty(window: str) -> RpcFault:
    """Nobody waits for this window."""
    return RpcFault(
        "queue_empty",
        f"{window}号窗口目前没有等候的号。",
        f"Nobody is waiting for window {window}.",
    )


def no_current_ticket(window: str) -> RpcFault:
    """An action on the current ticket when there is none."""
    return RpcFault(
        "no_current_ticket",
        f"{window}号窗口当前没有正在办理的号，请先叫号。",
        f"Window {window} has no current ticket. Please call one first.",
    )


def window_busy(window: str, number: str) -> RpcFault:
    """An action that needs a free window while a ticket is open there."""
    return RpcFault(
        "window_busy",
        f"{window}号窗口的{number}号还没有办结，请先办结、挂起、转移或标记过号。",
        f"Ticket {number} at window {window} is still open. Please finish, hold, transfer it or mark it absent first.",
    )


def recall_limit(number: str, limit: int) -> RpcFault:
    """Recalled too often."""
    return RpcFault(
        "recall_limit",
        f"{number}号已经重呼{limit}次，不能再重呼，请标记过号或挂起。",
        f"Ticket {number} has been recalled {limit} times. Please mark it absent or hold it.",
    )


def ticket_not_held(number: str, window: str) -> RpcFault:
    """Call back of a ticket not held at this window."""
    return RpcFault(
        "ticket_not_held",
        f"{number}号没有在{window}号窗口挂起，无法回呼。",
        f"Ticket {number} is not on hold at window {window}, so it cannot be called back.",
    )


def unknown_ticket(ref: str) -> RpcFault:
    """No such ticket today."""
    return RpcFault(
        "unknown_ticket",
        f"没有找到号码“{ref}”，请核对后再试（只能查询当天的号）。",
        f"Ticket {ref!r} was not found (only today's tickets can be looked up).",
    )


def transfer_target_required() -> RpcFault:
    """Transfer without a destination, or with two."""
    return RpcFault(
        "transfer_target_required",
        "转移时请选择一个目标：业务或窗口（只能选一个）。",
        "A transfer needs exactly one destination: a service or a window.",
    )


def transfer_to_self(window: str) -> RpcFault:
    """Transfer to the same window."""
    return RpcFault(
        "transfer_to_self",
        f"不能转移到本窗口（{window}号窗口），请选择其他窗口或业务。",
        f"A ticket cannot be transferred to its own window ({window}). Choose another window or service.",
    )


def staff_busy(staff: str, name: str, window: str, window_en: str, *, serving: bool) -> RpcFault:
    """The staff member is signed in at another window (one window per person at a time)."""
    first = "办结正在办理的号并" if serving else ""
    first_en = " (finish the ticket open there)" if serving else ""
    return RpcFault(
        "staff_busy",
        f"{name}（工号{staff}）已在{window}登录，同一时间只能在一个窗口登录。请先到{window}{first}退出登录再来；"
        "若该窗口终端无法使用，请联系大厅管理员。",
        f"{name} ({staff}) is signed in at {window_en or window}; one window per person. Log out there first"
        f"{first_en}, then log in here. Its counter out of order? Ask the hall manager.",
    )


def not_paused(window: str) -> RpcFault:
    """Resume of a window that is not paused."""
    return RpcFault(
        "not_paused",
        f"{window}号窗口没有暂停，无需恢复。",
        f"Window {window} is not paused.",
    )


def too_many_ids(n: int, limit: int) -> RpcFault:
    """A `ticket.statuses` request naming more tickets than one request may."""
    return RpcFault(
        "too_many_ids", f"一次最多查询{limit}张号，本次{n}张。", f"At most {limit} tickets per request, got {n}."
    )


def ticket_not_waiting(number: str, status: str) -> RpcFault:
    """`ticket.cancel` of a ticket that is no longer waiting (called, served, ended)."""
    return RpcFault(
        "ticket_not_waiting",
        f"{number}号已不在等候中，无法取消排队；如已叫号，请直接前往窗口。",
        f"Ticket {number} is no longer waiting ({status}) and cannot leave the queue; if it was called, go to the window.",
    )


def bad_request(zh: str, en: str) -> RpcFault:
    """A request whose fields do not make sense together."""
    return RpcFault("bad_request", zh, en)


def bad_phone() -> RpcFault:
    """A `ticket.issue` phone number that is no mainland mobile number."""
    return RpcFault(
        "bad_request",
        "手机号码不正确：请输入11位手机号码（以1开头），或跳过到号提醒。",
        "That is not a mobile number: enter the 11 digits of a mainland mobile number (starting with 1), "
        "or skip the reminder.",
    )
