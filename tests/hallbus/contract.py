"""Holding a reply to its contract: exactly the fields of its type, each of exactly its JSON type.

Readers of the bus ignore unknown fields and fill defaults; a contract test must not. A
reply is decoded with every Struct closed (`schemas.strict`: an added field fails), then
encoded back and compared with what was sent, type for type: a field the controller no
longer sends (the type filled its default) or a number of the other kind (`3` for a
float) fails too.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec

from hallbus import schemas


def differences(sent: Any, typed: Any, path: str = "$") -> list[str]:
    """Where `sent` (parsed JSON) and `typed` (the decoded Struct as builtins) differ."""
    if type(sent) is not type(typed):
        return [f"{path}: sent {type(sent).__name__} {sent!r}, its type makes it {type(typed).__name__} {typed!r}"]
    if isinstance(sent, dict):
        out = [f"{path}.{k}: not sent, but in the type" for k in sorted(typed.keys() - sent.keys())]
        out += [f"{path}.{k}: sent, but not in the type" for k in sorted(sent.keys() - typed.keys())]
        for k in sorted(sent.keys() & typed.keys()):
            out += differences(sent[k], typed[k], f"{path}.{k}")
        return out
    if isinstance(sent, list):
        if len(sent) != len(typed):
            return [f"{path}: {len(sent)} items sent, {len(typed)} decoded"]
        return [d for i, (a, b) in enumerate(zip(sent, typed, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if sent == typed else [f"{path}: sent {sent!r}, decoded {typed!r}"]


def hold_to(sent: Any, type_: Any) -> Any:
    """`sent` decoded into the closed form of `type_`; AssertionError naming every field that differs."""
    try:
        closed = msgspec.convert(sent, type=schemas.strict(type_))
    except msgspec.ValidationError as err:
        raise AssertionError(f"does not fit {getattr(type_, '__name__', type_)}: {err}") from None
    diffs = differences(sent, msgspec.to_builtins(closed))
    assert not diffs, f"differs from {getattr(type_, '__name__', type_)}:\n  " + "\n  ".join(diffs)
    return closed


def hold_reply(method: str, envelope: bytes) -> schemas.RpcReply:
    """A whole reply off the wire held to the envelope and, when ok, to the method's reply type.

    An error reply's code must be the method's own or a common one (`schemas.RPC`).
    """
    sent = msgspec.json.decode(envelope)
    hold_to(sent, schemas.RpcReply)
    reply = msgspec.json.decode(envelope, type=schemas.RpcReply)
    if reply.ok:
        assert reply.error is None and reply.data is not None, f"{method}: ok without data, or with an error"
        hold_to(sent["data"], schemas.reply_type(method))
    else:
        assert reply.data is None and reply.error is not None, f"{method}: failed without an error, or with data"
        known = schemas.RPC[method].errors + schemas.COMMON_ERRORS if method in schemas.RPC else schemas.COMMON_ERRORS
        assert reply.error.code in known, f"{method}: error {reply.error.code!r} is not in its table {known}"
        assert reply.error.message and reply.error.message_en, f"{method}: {reply.error.code} needs zh and en text"
    return reply


class Coverage:
    """Which fields of which types a test saw with a value (not null, not empty).

    A field only ever seen null could be retyped unnoticed; a test that holds replies to
    their types should see each field with a value once.
    """

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def add(self, obj: Any) -> None:
        """Walk a decoded reply."""
        if isinstance(obj, msgspec.Struct):
            for f in msgspec.structs.fields(obj):
                value = getattr(obj, f.name)
                if value is not None and value != [] and value != {}:
                    self.seen.add((type(obj).__name__, f.name))
                self.add(value)
        elif isinstance(obj, list):
            for item in obj:
                self.add(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                self.add(item)

    def unseen(self, roots: Any) -> list[str]:
        """Fields of the Structs reachable from `roots` never seen with a value."""
        out: list[str] = []
        done: set[type] = set()
        todo = list(roots)
        while todo:
            tp = todo.pop()
            if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
                if tp in done:
                    continue
                done.add(tp)
                for f in msgspec.structs.fields(tp):
                    if (tp.__name__, f.name) not in self.seen:
                        out.append(f"{tp.__name__}.{f.name}")
                    todo.append(f.type)
            else:
                todo.extend(typing.get_args(tp))
        return sorted(out)
