"""`python -m devices idcard ...`: read one card, show the SAM id, or watch cards on site."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from devices.common.health import Health
from devices.idcard.card import CardData
from devices.idcard.errors import IdCardError, NoCardError, PortError
from devices.idcard.reader import IdCardReader

EXIT_NO_CARD = 1
EXIT_PORT = 2
EXIT_READER = 3

_KIND_ZH = {
    "resident": "居民身份证",
    "hmt": "港澳台居民居住证",
    "foreign_2017": "外国人永久居留身份证（2017版）",
    "foreign_2023": "外国人永久居留身份证（2023版）",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of `idcard`."""
    sub = parser.add_subparsers(dest="idcard_cmd", metavar="COMMAND")
    sub.required = True
    read = sub.add_parser("read", help="read one card / 读一张证件")
    _port_args(read)
    read.add_argument(
        "--show-full",
        action="store_true",
        help="show the full name and ID number (technicians only)",
    )
    read.add_argument("--json", action="store_true", help="one JSON object on stdout")
    read.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for a card (default 5)"
    )
    read.add_argument("--fingerprint", action="store_true", help="also read fingerprints (30 10)")
    read.set_defaults(func=cmd_read)
    samid = sub.add_parser("samid", help="show the SAM module id / 显示安全模块号")
    _port_args(samid)
    samid.add_argument("--json", action="store_true")
    samid.set_defaults(func=cmd_samid)
    watch = sub.add_parser("watch", help="report cards as they are placed until Ctrl-C / 持续读卡")
    _port_args(watch)
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument("--interval", type=float, default=0.3, help="poll interval in seconds")
    watch.set_defaults(func=cmd_watch)


def _port_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port",
        required=True,
        help="/dev/ttyUSB0, serial:///dev/ttyUSB0?baud=115200 or socket://host:port",
    )
    p.add_argument("--baud", type=int, default=115200)


def _fail(err: IdCardError, as_json: bool) -> int:
    code = (
        EXIT_NO_CARD
        if isinstance(err, NoCardError)
        else EXIT_PORT
        if isinstance(err, PortError)
        else EXIT_READER
    )
    if as_json:
        print(
            json.dumps(
                {
                    "error": {
                        "code": err.code,
                        "message": err.message_zh,
                        "message_en": err.message_en,
                    }
                },
                ensure_ascii=False,
            )
        )
    print(f"错误 / error: {err}", file=sys.stderr)
    return code


def format_card(card: CardData, show_full: bool = False) -> str:
    """Human-readable lines in Chinese with labels (masked unless `show_full`)."""
    c = card if show_full else card.masked()
    rows: list[tuple[str, str | int | None]] = [
        ("证件类型", _KIND_ZH[c.card_type]),
        ("姓名", c.name),
    ]
    if c.name_en:
        rows.append(("英文姓名", c.name_en))
    rows += [("性别", c.sex), ("民族", c.nation), ("国籍", c.nationality), ("出生", c.birth)]
    if c.address:
        rows.append(("住址", c.address))
    check = {True: "校验位正确", False: "校验位错误！", None: "无校验位"}[c.id_check_ok]
    rows += [
        ("证件号码", f"{c.id_number}（{check}）"),
        ("签发机关", c.issuer or None),
        ("有效期限", f"{c.valid_from} 至 {c.valid_to}"),
        ("通行证号码", c.pass_number),
        ("签发次数" if c.card_type == "hmt" else "换证次数", c.sign_count),
        ("既往证件号码", c.old_id_number),
        ("照片", f"{len(c.photo)} 字节 WLT（需授权解码库，显示占位图）"),
    ]
    # A count of 0 is a value (first card); only missing fields are left out.
    lines = [f"{label}：{value}" for label, value in rows if value is not None and value != ""]
    lines += [f"注意：{w}" for w in c.warnings]
    return "\n".join(lines)


def cmd_read(args: argparse.Namespace) -> int:
    """Read one card and print it."""
    reader = IdCardReader(args.port, baudrate=args.baud)
    try:
        card = reader.read_once(args.timeout, fingerprint=args.fingerprint)
    except IdCardError as err:
        return _fail(err, args.json)
    finally:
        reader.close()
    for warning in card.warnings:
        print(f"警告 / warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(card.to_json(args.show_full), ensure_ascii=False))
    else:
        print(format_card(card, args.show_full))
    return 0


def cmd_samid(args: argparse.Namespace) -> int:
    """Print the SAM module id (a quick "does the reader answer" check)."""
    reader = IdCardReader(args.port, baudrate=args.baud)
    try:
        sam = reader.sam_id()
    except IdCardError as err:
        return _fail(err, args.json)
    finally:
        reader.close()
    print(json.dumps({"sam_id": sam}) if args.json else f"安全模块号 / SAM id：{sam}")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Print each placed card and every health change until Ctrl-C."""
    reader = IdCardReader(args.port, baudrate=args.baud, poll_interval=args.interval)

    def emit(obj: dict[str, Any], text: str) -> None:
        print(json.dumps(obj, ensure_ascii=False) if args.json else text, flush=True)

    def on_card(card: CardData) -> None:
        emit({"event": "card", "card": card.to_json()}, format_card(card) + "\n")

    def on_health(h: Health) -> None:
        emit(
            {"event": "health", "state": h.state, "detail": h.detail},
            f"[状态 / health] {h.state} {h.detail}",
        )

    watcher = reader.watch(
        on_card, on_health, lambda: emit({"event": "removed"}, "[证件已移开 / card removed]")
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    return 0
