"""The console's staff accounts (`admin.staff.*`, SPEC 12.2): list, add, change, disable/enable, reset a password.

Managers change; supervisors read the list; staff are refused. A member is hall.toml's
`[[staff]]` entry with the console's changes on top, or a member added in the console
(`source`). Every change names the `version` the manager saw: when the member changed
since, the change is refused (`conflict`) and nothing is written. A password travels
once, from hallweb to the controller, which keeps only its PBKDF2 hash; no reply, list
or audit line carries a password, a hash or a whole badge UID (`badge` shows its last 4).
"""

from __future__ import annotations

import msgspec

from hallbus.config import StaffRole
from hallbus.schemas.payloads import RpcRequest

PASSWORD_MIN = 8  # characters of a password set in the console at least
PASSWORD_MAX = 200
TEXT_MAX = 40  # characters of a name, title or department
PHOTO_MAX = 300


class AdminStaffListReq(RpcRequest, kw_only=True):
    """`admin.staff.list`: every member (supervisor, manager)."""

    session: str
    client: str = ""


class StaffAccount(msgspec.Struct, kw_only=True):
    """A member as the console shows them (no secret: `badge` is the UID's last 4 characters, or "")."""

    id: str
    name: str
    title: str
    department: str
    role: StaffRole
    photo: str
    badge: str  # "" without a badge, else "…" and the UID's last 4 characters
    has_password: bool
    disabled: bool
    version: int  # give it back with a change (0: hall.toml's entry, never changed in the console)
    source: str  # "hall.toml" or "console" (added in the console)
    changed: list[str]  # fields whose value is the console's, not hall.toml's (`password`, `disabled` too)
    updated_at: str  # "" when never changed in the console
    updated_by: str


class AdminStaffListReply(msgspec.Struct, kw_only=True):
    """`admin.staff.list`: everyone, hall.toml's order first, then those added in the console."""

    staff: list[StaffAccount]


class AdminStaffAddReq(RpcRequest, kw_only=True):
    """`admin.staff.add`: a new member (manager). `password`: the one-time password the manager hands over."""

    session: str
    client: str = ""
    id: str
    name: str
    title: str = ""
    department: str = ""
    role: StaffRole = "staff"
    photo: str = ""
    badge_uid: str = ""
    password: str = ""  # "" for none yet (then only a badge signs them in)


class AdminStaffUpdateReq(RpcRequest, kw_only=True):
    """`admin.staff.update`: change what is given (null: unchanged; `badge_uid` "" takes the badge away)."""

    session: str
    client: str = ""
    id: str
    version: int
    name: str | None = None
    title: str | None = None
    department: str | None = None
    role: StaffRole | None = None
    photo: str | None = None
    badge_uid: str | None = None


class AdminStaffDisableReq(RpcRequest, kw_only=True):
    """`admin.staff.disable` / `admin.staff.enable`: the member signs in nowhere / again (disabling ends their sessions)."""

    session: str
    client: str = ""
    id: str
    version: int


class AdminStaffPasswordReq(RpcRequest, kw_only=True):
    """`admin.staff.password`: a new password for the member (the manager hands it over; hashed by the controller)."""

    session: str
    client: str = ""
    id: str
    version: int
    password: str


class AdminOwnPasswordReq(RpcRequest, kw_only=True):
    """`admin.staff.own_password`: the session's own member sets a new password (every role), the old one first."""

    session: str
    client: str = ""
    staff: str  # the session's own staff id (hallweb knows it; the controller checks it is the session's)
    old_password: str
    new_password: str


class AdminStaffReply(msgspec.Struct, kw_only=True):
    """A change's reply: the member as they are now."""

    member: StaffAccount
