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
    out += ["| method | request | purpose | reply `data` |", "|---|---|---|---|"]
    for method, (req, purpose, data) in schemas.RPC_METHODS.items():
        out.append(f"| `{method}` | [{req.__name__}](#{req.__name__.lower()}) | {purpose} | {data} |")
    out += ["", "## Payloads", ""]
    for name, cls in schemas.PAYLOADS.items():
        out += [f"### {name}", "", (cls.__doc__ or "").strip().splitlines()[0], ""]
        out += struct_table(cls)
        out.append("")
    out += ["## Request bodies", "", "Besides `v`, `ts`, `request_id`, `reply_to`, `node` and `sig`.", ""]
    seen: set[str] = set()
    base = frozenset({"v", "ts", "request_id", "reply_to", "node", "sig"})
    for req, _p, _d in schemas.RPC_METHODS.values():
        if req.__name__ in seen:
            continue
        seen.add(req.__name__)
        out += [f"### {req.__name__}", "", (req.__doc__ or "").strip().splitlines()[0], ""]
        fields = [f for f in msgspec.structs.fields(req) if f.name not in base]
        out += struct_table(req, base) if fields else ["(no fields of its own)"]
        out.append("")
    out += ["## Nested objects", ""]
    for name, cls in schemas.NESTED.items():
        out += [f"### {name}", "", (cls.__doc__ or "").strip().splitlines()[0], ""]
        out += struct_table(cls)
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


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
