"""`python -m devices printer test|status --port URL`: print a sample ticket, read the paper sensor."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from devices.printer.escpos import PaperState
from devices.printer.layout import Ticket
from devices.printer.printer import PaperOut, PrinterError, TicketPrinter

PAPER_WORDS = {
    PaperState.OK: "纸张正常 / paper ok",
    PaperState.NEAR_END: "纸将用完 / paper near end",
    PaperState.OUT: "缺纸 / paper out",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Build `printer test` and `printer status`."""
    sub = parser.add_subparsers(dest="printer_command", metavar="COMMAND")
    sub.required = True
    for name, func, help_text in (
        ("test", run_test, "print a sample ticket and report paper status / 打印测试小票"),
        ("status", run_status, "report paper status only / 查询纸张状态"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument(
            "--port",
            required=True,
            metavar="URL",
            help="/dev/ttyUSB0, serial:///dev/ttyS0?baud=19200, socket://host:9100 or /dev/usb/lp0",
        )
        cmd.add_argument(
            "--width", type=int, choices=(58, 80), default=58, help="paper width in mm"
        )
        cmd.add_argument(
            "--no-qr", action="store_true", help="printer lacks GS ( k: send the QR as an image"
        )
        cmd.add_argument(
            "--timeout", type=float, default=2.0, help="seconds to wait for a status reply"
        )
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(func=func)


def sample_ticket() -> Ticket:
    """The test ticket: Chinese text, a large number, a QR with a tracking URL."""
    return Ticket(
        number="A012",
        service_name="不动产登记（测试）",
        ahead=5,
        est_wait_s=900,
        issued_at=datetime.now().astimezone(),
        track_url="https://hall.example.cn/t/A012",
        hall_name="政务服务中心",
        notice="这是一张测试小票。This is a test ticket.",
    )


def _report(
    args: argparse.Namespace, ok: bool, paper: PaperState | None, message: str, code: str = ""
) -> int:
    if args.json:
        out = {
            "ok": ok,
            "paper": paper.name.lower() if paper is not None else None,
            "message": message,
        }
        if code:
            out["error"] = code
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def run_test(args: argparse.Namespace) -> int:
    """Print the sample ticket; exit 1 with "缺纸 / paper out" when the printer says so."""
    with TicketPrinter(
        args.port, width=args.width, native_qr=not args.no_qr, status_timeout=args.timeout
    ) as printer:
        try:
            paper = printer.print_ticket(sample_ticket())
        except PaperOut as err:
            return _report(
                args, False, PaperState.OUT, f"{PAPER_WORDS[PaperState.OUT]}: {err}", err.code
            )
        except PrinterError as err:
            return _report(args, False, None, str(err), err.code)
    return _report(args, True, paper, f"测试小票已打印 / test ticket printed; {PAPER_WORDS[paper]}")


def run_status(args: argparse.Namespace) -> int:
    """Report the paper sensor; exit 1 when out of paper or not answering."""
    with TicketPrinter(args.port, width=args.width, status_timeout=args.timeout) as printer:
        try:
            paper = printer.paper_status()
        except PrinterError as err:
            return _report(args, False, None, str(err), err.code)
    return _report(args, paper != PaperState.OUT, paper, PAPER_WORDS[paper])
