"""Versioned payload schemas for every topic and RPC of the hall bus v1 (SPEC section 3).

Every payload is a UTF-8 JSON object with `"v": 1` and an ISO-8601 `ts` with offset.
Readers ignore unknown fields (msgspec's default), so fields may be added within v1.
`docs/protocol.md` is generated from this package (`hallbus docs`), and a test keeps
the two in step. Import everything from here (`from hallbus import schemas`); the parts:

- `base`: version, timestamps in the hall's time zone, `Payload`, codecs, `strict()`;
- `payloads`: topic payloads and the objects nested in them, the RPC envelope;
- `requests`: the body of each RPC request;
- `replies`: the `data` of each successful RPC reply;
- `methods`: the one table of methods (`RPC`, `TICKET_ISSUE` ...) and `decode_reply`.
- `rating`: the one rating vocabulary (levels, reason codes, their words, the rule), imported
  as `from hallbus.schemas import rating`.
"""

from __future__ import annotations

from hallbus.schemas.base import (
    SCHEMA_VERSION as SCHEMA_VERSION,
)
from hallbus.schemas.base import (
    Payload as Payload,
)
from hallbus.schemas.base import (
    T as T,
)
from hallbus.schemas.base import (
    convert as convert,
)
from hallbus.schemas.base import (
    decode as decode,
)
from hallbus.schemas.base import (
    encode as encode,
)
from hallbus.schemas.base import (
    now as now,
)
from hallbus.schemas.base import (
    now_iso as now_iso,
)
from hallbus.schemas.base import (
    set_clock as set_clock,
)
from hallbus.schemas.base import (
    set_timezone as set_timezone,
)
from hallbus.schemas.base import (
    strict as strict,
)
from hallbus.schemas.base import (
    to_builtins as to_builtins,
)
from hallbus.schemas.methods import (
    ADMIN_AUDIT as ADMIN_AUDIT,
)
from hallbus.schemas.methods import (
    ADMIN_CASES as ADMIN_CASES,
)
from hallbus.schemas.methods import (
    ADMIN_FOLLOWUP as ADMIN_FOLLOWUP,
)
from hallbus.schemas.methods import (
    ADMIN_FOLLOWUP_MOVE as ADMIN_FOLLOWUP_MOVE,
)
from hallbus.schemas.methods import (
    ADMIN_FOLLOWUPS as ADMIN_FOLLOWUPS,
)
from hallbus.schemas.methods import (
    ADMIN_LOGIN as ADMIN_LOGIN,
)
from hallbus.schemas.methods import (
    ADMIN_LOGOUT as ADMIN_LOGOUT,
)
from hallbus.schemas.methods import (
    ADMIN_SESSION as ADMIN_SESSION,
)
from hallbus.schemas.methods import (
    ADMIN_SETTING_SET as ADMIN_SETTING_SET,
)
from hallbus.schemas.methods import (
    ADMIN_SETTINGS as ADMIN_SETTINGS,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_ADD as ADMIN_STAFF_ADD,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_DISABLE as ADMIN_STAFF_DISABLE,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_ENABLE as ADMIN_STAFF_ENABLE,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_LIST as ADMIN_STAFF_LIST,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_OWN_PASSWORD as ADMIN_STAFF_OWN_PASSWORD,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_PASSWORD as ADMIN_STAFF_PASSWORD,
)
from hallbus.schemas.methods import (
    ADMIN_STAFF_UPDATE as ADMIN_STAFF_UPDATE,
)
from hallbus.schemas.methods import (
    APPOINTMENT_CHECKIN as APPOINTMENT_CHECKIN,
)
from hallbus.schemas.methods import (
    CASE_QUERY as CASE_QUERY,
)
from hallbus.schemas.methods import (
    COMMON_ERRORS as COMMON_ERRORS,
)
from hallbus.schemas.methods import (
    GUIDE_GET as GUIDE_GET,
)
from hallbus.schemas.methods import (
    GUIDE_LIST as GUIDE_LIST,
)
from hallbus.schemas.methods import (
    NESTED as NESTED,
)
from hallbus.schemas.methods import (
    PAYLOADS as PAYLOADS,
)
from hallbus.schemas.methods import (
    RATING_SUBMIT as RATING_SUBMIT,
)
from hallbus.schemas.methods import (
    REPORT_QUERY as REPORT_QUERY,
)
from hallbus.schemas.methods import (
    RPC as RPC,
)
from hallbus.schemas.methods import (
    RPC_METHODS as RPC_METHODS,
)
from hallbus.schemas.methods import (
    STATS_TODAY as STATS_TODAY,
)
from hallbus.schemas.methods import (
    TICKET_CANCEL as TICKET_CANCEL,
)
from hallbus.schemas.methods import (
    TICKET_ISSUE as TICKET_ISSUE,
)
from hallbus.schemas.methods import (
    TICKET_STATUS as TICKET_STATUS,
)
from hallbus.schemas.methods import (
    TICKET_STATUSES as TICKET_STATUSES,
)
from hallbus.schemas.methods import (
    WINDOW_CALL_BACK as WINDOW_CALL_BACK,
)
from hallbus.schemas.methods import (
    WINDOW_CALL_NEXT as WINDOW_CALL_NEXT,
)
from hallbus.schemas.methods import (
    WINDOW_FINISH as WINDOW_FINISH,
)
from hallbus.schemas.methods import (
    WINDOW_HOLD as WINDOW_HOLD,
)
from hallbus.schemas.methods import (
    WINDOW_LOGIN as WINDOW_LOGIN,
)
from hallbus.schemas.methods import (
    WINDOW_LOGOUT as WINDOW_LOGOUT,
)
from hallbus.schemas.methods import (
    WINDOW_NO_SHOW as WINDOW_NO_SHOW,
)
from hallbus.schemas.methods import (
    WINDOW_PAUSE as WINDOW_PAUSE,
)
from hallbus.schemas.methods import (
    WINDOW_RECALL as WINDOW_RECALL,
)
from hallbus.schemas.methods import (
    WINDOW_RESUME as WINDOW_RESUME,
)
from hallbus.schemas.methods import (
    WINDOW_TRANSFER as WINDOW_TRANSFER,
)
from hallbus.schemas.methods import (
    Rpc as Rpc,
)
from hallbus.schemas.methods import (
    decode_reply as decode_reply,
)
from hallbus.schemas.methods import (
    reply_type as reply_type,
)
from hallbus.schemas.payloads import (
    CASE_FINISHED_STATUSES as CASE_FINISHED_STATUSES,
)
from hallbus.schemas.payloads import (
    CASE_OPEN_STATUSES as CASE_OPEN_STATUSES,
)
from hallbus.schemas.payloads import (
    Alert as Alert,
)
from hallbus.schemas.payloads import (
    AlertKind as AlertKind,
)
from hallbus.schemas.payloads import (
    AlertLevel as AlertLevel,
)
from hallbus.schemas.payloads import (
    Call as Call,
)
from hallbus.schemas.payloads import (
    CallsRecent as CallsRecent,
)
from hallbus.schemas.payloads import (
    CardType as CardType,
)
from hallbus.schemas.payloads import (
    CaseInfo as CaseInfo,
)
from hallbus.schemas.payloads import (
    Channel as Channel,
)
from hallbus.schemas.payloads import (
    DeviceHealth as DeviceHealth,
)
from hallbus.schemas.payloads import (
    GuideItem as GuideItem,
)
from hallbus.schemas.payloads import (
    GuideMaterial as GuideMaterial,
)
from hallbus.schemas.payloads import (
    IdCardRef as IdCardRef,
)
from hallbus.schemas.payloads import (
    NodeDevices as NodeDevices,
)
from hallbus.schemas.payloads import (
    NodeState as NodeState,
)
from hallbus.schemas.payloads import (
    NodeStatus as NodeStatus,
)
from hallbus.schemas.payloads import (
    QueueState as QueueState,
)
from hallbus.schemas.payloads import (
    RatingFigures as RatingFigures,
)
from hallbus.schemas.payloads import (
    RatingRequest as RatingRequest,
)
from hallbus.schemas.payloads import (
    Role as Role,
)
from hallbus.schemas.payloads import (
    RpcError as RpcError,
)
from hallbus.schemas.payloads import (
    RpcReply as RpcReply,
)
from hallbus.schemas.payloads import (
    RpcRequest as RpcRequest,
)
from hallbus.schemas.payloads import (
    ServiceQueue as ServiceQueue,
)
from hallbus.schemas.payloads import (
    StaffCard as StaffCard,
)
from hallbus.schemas.payloads import (
    StatsToday as StatsToday,
)
from hallbus.schemas.payloads import (
    Ticket as Ticket,
)
from hallbus.schemas.payloads import (
    TicketStatusName as TicketStatusName,
)
from hallbus.schemas.payloads import (
    TimelineNode as TimelineNode,
)
from hallbus.schemas.payloads import (
    WindowFigures as WindowFigures,
)
from hallbus.schemas.payloads import (
    WindowState as WindowState,
)
from hallbus.schemas.payloads import (
    WindowStatusName as WindowStatusName,
)
from hallbus.schemas.replies import (
    CaseQueryReply as CaseQueryReply,
)
from hallbus.schemas.replies import (
    CheckinReply as CheckinReply,
)
from hallbus.schemas.replies import (
    GuideCategory as GuideCategory,
)
from hallbus.schemas.replies import (
    GuideGetReply as GuideGetReply,
)
from hallbus.schemas.replies import (
    GuideListReply as GuideListReply,
)
from hallbus.schemas.replies import (
    GuideSummary as GuideSummary,
)
from hallbus.schemas.replies import (
    NotifyTaken as NotifyTaken,
)
from hallbus.schemas.replies import (
    RatingReply as RatingReply,
)
from hallbus.schemas.replies import (
    ReportColumn as ReportColumn,
)
from hallbus.schemas.replies import (
    ReportReply as ReportReply,
)
from hallbus.schemas.replies import (
    StatsReply as StatsReply,
)
from hallbus.schemas.replies import (
    TicketIssueReply as TicketIssueReply,
)
from hallbus.schemas.replies import (
    TicketReply as TicketReply,
)
from hallbus.schemas.replies import (
    TicketsReply as TicketsReply,
)
from hallbus.schemas.replies import (
    WindowReply as WindowReply,
)
from hallbus.schemas.requests import (
    MAX_WATCHED_IDS as MAX_WATCHED_IDS,
)
from hallbus.schemas.requests import (
    AppointmentCheckinReq as AppointmentCheckinReq,
)
from hallbus.schemas.requests import (
    CaseQueryReq as CaseQueryReq,
)
from hallbus.schemas.requests import (
    GuideGetReq as GuideGetReq,
)
from hallbus.schemas.requests import (
    GuideListReq as GuideListReq,
)
from hallbus.schemas.requests import (
    RatingSubmitReq as RatingSubmitReq,
)
from hallbus.schemas.requests import (
    ReportQueryReq as ReportQueryReq,
)
from hallbus.schemas.requests import (
    StatsTodayReq as StatsTodayReq,
)
from hallbus.schemas.requests import (
    TicketCancelReq as TicketCancelReq,
)
from hallbus.schemas.requests import (
    TicketIssueReq as TicketIssueReq,
)
from hallbus.schemas.requests import (
    TicketStatusesReq as TicketStatusesReq,
)
from hallbus.schemas.requests import (
    TicketStatusReq as TicketStatusReq,
)
from hallbus.schemas.requests import (
    WindowCallBackReq as WindowCallBackReq,
)
from hallbus.schemas.requests import (
    WindowLoginReq as WindowLoginReq,
)
from hallbus.schemas.requests import (
    WindowPauseReq as WindowPauseReq,
)
from hallbus.schemas.requests import (
    WindowReq as WindowReq,
)
from hallbus.schemas.requests import (
    WindowTransferReq as WindowTransferReq,
)
from hallbus.schemas.settings import (
    HallNotice as HallNotice,
)
from hallbus.schemas.settings import (
    Setting as Setting,
)
