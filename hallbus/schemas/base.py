"""The ground of every schema: version, timestamps in the hall's time zone, the payload base, codecs.

`strict()` closes a type for contract tests: readers of the bus stay lenient (SPEC 3:
readers ignore unknown fields), but a test of the controller must see exactly the fields
the contract names.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import types
import typing
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

SCHEMA_VERSION = 1

_encoder = msgspec.json.Encoder()


_tz: dt.tzinfo | None = None


def set_timezone(name: str | None) -> None:
    """Stamp payloads in the hall's timezone (from config) instead of the machine's."""
    global _tz
    if name is None:
        _tz = None
        return
    from zoneinfo import ZoneInfo

    _tz = ZoneInfo(name)


_clock: typing.Callable[[], dt.datetime] | None = None


def set_clock(clock: typing.Callable[[], dt.datetime] | None) -> None:
    """Read `now()` from `clock` (aware) instead of the system clock; None goes back to the system clock.

    For pictures: every screenshot of one set (docs/screens) is taken at one stated moment, so
    the top bar's date and the tickets' times agree (see scripts/role_screens.py).
    """
    global _clock
    _clock = clock


def now() -> dt.datetime:
    """Now, aware, in the hall's timezone."""
    if _clock is not None:
        return _clock().astimezone(_tz)
    return dt.datetime.now(_tz).astimezone(_tz)


def now_iso() -> str:
    """Now as ISO-8601 with the hall's UTC offset, to the millisecond."""
    return now().isoformat(timespec="milliseconds")


class Payload(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base of every bus payload: version and timestamp."""

    v: int = SCHEMA_VERSION
    ts: str = msgspec.field(default_factory=now_iso)


def encode(obj: Any) -> bytes:
    """Encode a payload (Struct or plain dict) as compact UTF-8 JSON."""
    return _encoder.encode(obj)


def decode(data: bytes | str, type_: type[T]) -> T:
    """Decode and validate JSON into `type_`; raises msgspec.ValidationError / DecodeError.

    JSON nested deeper than msgspec follows (a few KB of `[`) is a DecodeError too, not
    the RecursionError msgspec raises, so every reader's `except ValueError` holds.
    """
    try:
        return msgspec.json.decode(data, type=type_)
    except RecursionError as err:
        raise msgspec.DecodeError(f"JSON nested too deeply: {err}") from err


def to_builtins(obj: Any) -> Any:
    """A Struct as plain dicts and lists."""
    return msgspec.to_builtins(obj)


def convert(obj: Any, type_: type[T]) -> T:
    """Validate already-parsed JSON (dicts) into `type_`."""
    return msgspec.convert(obj, type=type_)


_strict_types: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}


def strict(tp: Any) -> Any:
    """`tp` with every Struct in it closed (`forbid_unknown_fields`), for contract tests.

    Maps (`dict[str, X]`) keep their keys open, as they are data (window ids, staff ids);
    the Structs in their values are closed. Never decode the bus with these in a reader:
    a field added within v1 must not break a deployed kiosk.
    """
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _strict_struct(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        return types.GenericAlias(list, (strict(args[0]),))
    if origin is dict:
        return types.GenericAlias(dict, (args[0], strict(args[1])))
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, [strict(a) for a in args])
    return tp


def _strict_struct(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    done = _strict_types.get(cls)
    if done is not None:
        return done
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(cls):
        if f.required:
            fields.append((f.name, strict(f.type)))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, strict(f.type), msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, strict(f.type), f.default))
    made = msgspec.defstruct(
        f"Strict{cls.__name__}", fields, kw_only=True, forbid_unknown_fields=True,
        rename={f.name: f.encode_name for f in msgspec.structs.fields(cls)},
    )
    _strict_types[cls] = made
    return made
