"""Generate the reference part of `docs/protocol.md` from the topic catalogue and the schemas.

The hand-written prose of the document stays; the part between the `generated` markers is
rewritten by `hallbus docs` and checked by `hallbus docs --check` (and by a test), so the
document and the code cannot drift apart.
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from pathlib import Path
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.schemas import rating
from hallbus.topics import CATALOGUE

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
BEGIN = "<!-- generated:begin (hallbus docs) -->"
END = "<!-- generated:end -->"


def type_name(tp: Any) -> str:
    """A readable name for a field type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "null"
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_name(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"object of {type_name(args[1])}"
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    if tp is typing.Any:
        return "any"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(tp, getattr(tp, "__name__", str(tp)))


def _default(f: msgspec.structs.FieldInfo) -> str:
    if f.required:
        return "required"
    if f.default_factory is not msgspec.NODEFAULT:
        value = f.default_factory()
        return "now" if f.name == "ts" else f"`{msgspec.json.encode(value).decode()}`"
    return f"`{msgspec.json.encode(f.default).decode()}`"


def struct_table(cls: type[msgspec.Struct], skip: frozenset[str] = frozenset()) -> list[str]:
    """A markdown table of a Struct's fields."""
    rows = ["| field | type | default |", "|---|---|---|"]
    for f in msgspec.structs.fields(cls):
        if f.name in skip:
            continue
        rows.append(f"| `{f.encode_name}` | {type_name(f.type)} | {_default(f)} |")
    return rows


def _link(cls: type) -> str:
    return f"[{cls.__name__}](#{cls.__name__.lower()})"


def _heading(cls: type) -> list[str]:
    """A type's heading and the first line of its docstring."""
    return [f"### {cls.__name__}", "", (cls.__doc__ or "").strip().splitlines()[0], ""]


def generate() -> str:
    """The generated section, markers included."""
    out: list[str] = [BEGIN, "", "## Topics", "", "Relative to `hall/v1/{hall}/`.", ""]
    out += ["| topic | retained | QoS | payload | purpose |", "|---|---|---|---|---|"]
    for t in CATALOGUE:
        out.append(
            f"| `{t.pattern}` | {'yes' if t.retained else 'no'} | {t.qos} | "
            f"[{t.payload}](#{t.payload.lower()}) | {t.purpose} |"
        )
    out += ["", "## RPC methods", "", "Every request also carries the fields of "
            "[RpcRequest](#rpcrequest) (`v`, `ts`, `request_id`, optional `reply_to`, `node`, `sig`).", ""]
    out += [
        "The `data` of a successful reply is the method's reply type; an error reply carries one of the "
        "method's codes or a common one (" + ", ".join(f"`{c}`" for c in schemas.COMMON_ERRORS) + ").",
        "",
        "| method | request | reply `data` | purpose | errors |",
        "|---|---|---|---|---|",
    ]
    for method, m in schemas.RPC.items():
        errors = ", ".join(f"`{c}`" for c in m.errors) or "-"
        out.append(f"| `{method}` | {_link(m.request)} | {_link(m.reply)} | {m.purpose} | {errors} |")
    out += ["", "## Payloads", ""]
    for cls in schemas.PAYLOADS.values():
        out += _heading(cls) + struct_table(cls) + [""]
    out += ["## Request bodies", "", "Besides `v`, `ts`, `request_id`, `reply_to`, `node` and `sig`.", ""]
    base = frozenset({"v", "ts", "request_id", "reply_to", "node", "sig"})
    for req in dict.fromkeys(m.request for m in schemas.RPC.values()):
        out += _heading(req)
        fields = [f for f in msgspec.structs.fields(req) if f.name not in base]
        out += struct_table(req, base) if fields else ["(no fields of its own)"]
        out.append("")
    out += ["## Reply bodies", "", "The `data` of a successful reply (`ok: true`). A field without a default "
            "is always sent; readers ignore fields they do not know.", ""]
    for reply in dict.fromkeys(m.reply for m in schemas.RPC.values()):
        out += _heading(reply) + struct_table(reply) + [""]
    out += ["## Nested objects", ""]
    for cls in schemas.NESTED.values():
        out += _heading(cls) + struct_table(cls) + [""]
    out += rating_vocabulary()
    out.append(END)
    return "\n".join(out) + "\n"


def rating_vocabulary() -> list[str]:
    """The one rating vocabulary (`hallbus.schemas.rating`) every device shows and `rating.submit` accepts."""
    out = ["## Rating vocabulary", "",
           "`rating.submit` accepts exactly these levels and reason codes; the tablet and the terminal show "
           "them in these words (faces 5 to 1, none pre-selected). Levels "
           + ", ".join(str(lv) for lv in sorted(rating.BAD_LEVELS))
           + " need at least one reason (`reasons_required`); "
           + ", ".join(f"`{c}`" for c in sorted(rating.NEEDS_COMMENT))
           + f" needs a comment (`comment_required`); a comment is at most {rating.COMMENT_MAX} characters "
           "(`comment_too_long`).", "",
           "| level | zh_CN | en |", "|---|---|---|"]
    out += [f"| {lv} | {zh} | {en} |" for lv, (zh, en) in rating.LEVELS.items()]
    out += ["", "| reason | zh_CN | en |", "|---|---|---|"]
    out += [f"| `{code}` | {zh} | {en} |" for code, (zh, en) in rating.REASONS.items()]
    return out + [""]


def render(document: str) -> str:
    """`document` with its generated section replaced (appended when missing)."""
    section = generate()
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        return head + section.rstrip("\n") + tail
    return document.rstrip("\n") + "\n\n" + section


def add_arguments(parser: argparse.ArgumentParser, _name: str) -> None:
    """`hallbus docs [--check]`."""
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/protocol.md is out of date")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, _ctx: object) -> int:
    """Rewrite or check docs/protocol.md."""
    current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else "# Hall bus protocol v1\n"
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("docs/protocol.md is out of date: run `hallbus docs`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOC_PATH}", file=sys.stderr)
    return 0
