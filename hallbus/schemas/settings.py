"""The hall settings that change without a restart (SPEC 12.2): the retained notice and the console's methods.

`hall/notice` (retained) carries the hall's notice as the controller has it now (a manager's
text, else `[hall] notice` of hall.toml); screens show it as plain text. `admin.settings`
reads every setting with its hall.toml default, `admin.settings.set` changes one, naming
the version the manager saw (`hallbus.controller.settings` lists the keys).
"""

from __future__ import annotations

from typing import Any

import msgspec

from hallbus.schemas.base import Payload
from hallbus.schemas.payloads import RpcRequest

NOTICE_MAX = 200  # characters of a notice (each language) at most


class HallNotice(Payload, kw_only=True):
    """Retained: the hall's notice on the screens, in Chinese and English (plain text, never markup)."""

    text: str
    text_en: str = ""
    version: int = 0  # the settings version it comes from (0: hall.toml)


class AdminSettingsReq(RpcRequest, kw_only=True):
    """`admin.settings`: every setting (manager, supervisor)."""

    session: str
    client: str = ""


class AdminSettingSetReq(RpcRequest, kw_only=True):
    """`admin.settings.set`: one setting's new value, with the version of it the manager saw (manager).

    A setting changed since (`version` is not its version now) is refused (`conflict`), never written over.
    """

    session: str
    client: str = ""
    key: str
    value: Any
    version: int


class Setting(msgspec.Struct, kw_only=True):
    """One setting: its key, value now, hall.toml's value, whether they differ, and its last change."""

    key: str
    kind: str  # open, daily_cap, slots, services, rule, notice, notice_en, holidays, workdays
    subject: str  # the service code or window id ("" for the hall and the calendar)
    value: Any
    default: Any
    differs: bool
    version: int  # 0: never changed (hall.toml's)
    changed_at: str | None = None
    changed_by: str | None = None


class AdminSettingsReply(msgspec.Struct, kw_only=True):
    """`admin.settings`, `admin.settings.set`: every setting, and the settings' version now."""

    settings: list[Setting]
    version: int
