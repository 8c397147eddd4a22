"""`python -m devices pcsc ...`: list readers and the cards in them, or watch events on site."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from devices.common.health import Health
from devices.pcsc.errors import PcscdNotRunning, PcscError
from devices.pcsc.reader import CardInfo, PcscEvent, PcscMonitor, read_all

EXIT_NO_READER = 1
EXIT_NO_SERVICE = 2
EXIT_ERROR = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of `pcsc`."""
    sub = parser.add_subparsers(dest="pcsc_cmd", metavar="COMMAND")
    sub.required = True
    read = sub.add_parser(
        "read", help="every reader and its card: ATR, UID, masked bank number / 读卡器与卡片"
    )
    read.add_argument("--json", action="store_true", help="one JSON object on stdout")
    read.set_defaults(func=cmd_read)
    watch = sub.add_parser("watch", help="reader and card events until Ctrl-C / 持续监视")
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.set_defaults(func=cmd_watch)


def _card_text(card: CardInfo | None) -> str:
    if card is None:
        return "  无卡 / no card"
    lines = [f"  ATR：{card.atr}", f"  UID：{card.uid or '—'}"]
    lines.append(f"  社保卡银行卡号 / bank number：{card.pan_masked or '—'}")
    return "\n".join(lines)


def cmd_read(args: argparse.Namespace) -> int:
    """Print every reader with its card."""
    try:
        result = read_all()
    except PcscError as err:
        if args.json:
            print(
                json.dumps(
                    {
                        "readers": [],
                        "error": {
                            "code": err.code,
                            "message": err.message_zh,
                            "message_en": err.message_en,
                        },
                    },
                    ensure_ascii=False,
                )
            )
        print(f"错误 / error: {err}", file=sys.stderr)
        return EXIT_NO_SERVICE if isinstance(err, PcscdNotRunning) else EXIT_ERROR
    if args.json:
        readers = [
            {"name": name, "card": card.to_json() if card else None} for name, card in result
        ]
        print(json.dumps({"readers": readers}, ensure_ascii=False))
    else:
        for name, card in result:
            print(f"读卡器 / reader：{name}\n{_card_text(card)}")
    if not result:
        print(
            "错误 / error: 未找到读卡器，请检查读卡器的 USB 连接。 (No card reader found; check the reader's USB cable.)",
            file=sys.stderr,
        )
        return EXIT_NO_READER
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Print events as they happen until Ctrl-C."""

    def on_event(ev: PcscEvent) -> None:
        if args.json:
            obj = {
                "event": ev.kind,
                "reader": ev.reader,
                "atr": ev.atr,
                "card": ev.card.to_json() if ev.card else None,
                "error": ev.error.message_en if ev.error else None,
            }
            print(json.dumps(obj, ensure_ascii=False), flush=True)
        else:
            extra = (
                f"\n{_card_text(ev.card)}" if ev.card else (f" ({ev.error})" if ev.error else "")
            )
            print(f"[{ev.kind}] {ev.reader}{extra}", flush=True)

    def on_health(h: Health) -> None:
        print(
            json.dumps(
                {"event": "health", "state": h.state, "detail": h.detail}, ensure_ascii=False
            )
            if args.json
            else f"[health] {h.state} {h.detail}",
            flush=True,
        )

    monitor = PcscMonitor(on_event, on_health).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        monitor.stop()
    return 0
