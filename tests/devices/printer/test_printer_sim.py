"""`TicketPrinter` against the simulator over a real pty (and a real TCP socket): PNGs, paper, hangs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from devices.printer.escpos import EscPos, PaperState
from devices.printer.layout import MaterialsNotice, Ticket, layout_ticket
from devices.printer.printer import PaperOut, PrinterError, PrinterHealth, TicketPrinter
from devices.printer.render import EscPosInterpreter
from devices.printer.sim import PrinterSimulator
from devices.printer.transport import DummyTransport
from devices.qr.decode import QrDecoder

REPO = Path(__file__).resolve().parents[3]


def ticket(url: str = "https://hall.example.cn/t/A012?h=demo") -> Ticket:
    return Ticket("A012", "不动产登记", 3, 600, datetime(2024, 5, 6, 9, 30), url, "政务服务中心")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PrinterSimulator]:
    s = PrinterSimulator(tmp_path / "lp", tmp_path / "out", width=58)
    try:
        yield s
    finally:
        s.close()


def decode_png(path: Path) -> list[str]:
    return [c.text for c in QrDecoder().decode(cv2.imread(str(path)))]


@pytest.mark.parametrize(("width", "native_qr"), [(58, True), (80, True), (58, False)])
def test_ticket_png_is_paper_wide_and_its_qr_reads_back(
    tmp_path: Path, width: int, native_qr: bool
) -> None:
    with (
        PrinterSimulator(tmp_path / "lp", tmp_path / "out", width=width) as s,
        TicketPrinter(str(tmp_path / "lp"), width=width, native_qr=native_qr) as printer,
    ):
        assert printer.print_ticket(ticket()) == PaperState.OK
        assert s.wait_for_tickets(1)
        png = s.tickets[0]
        with Image.open(png) as image:
            assert image.size[0] == {58: 384, 80: 576}[width]
        assert decode_png(png) == ["https://hall.example.cn/t/A012?h=demo"]
        assert printer.health.state == "ok"
        assert s.interpreter.unknown_commands == 0


@pytest.mark.parametrize("width", [58, 80])
def test_ticket_keeps_off_the_paper_edges_and_ends_at_the_cut(width: int) -> None:
    """The drawn ticket: a blank margin of 24 dots on both sides, the service name as tall as it is
    wide (2x2), and no more than the cut's own feed of blank paper after the last line."""
    data = TicketPrinter(DummyTransport(), width=width).render(lambda p: layout_ticket(p, ticket()))
    pages: list[Image.Image] = []
    EscPosInterpreter({58: 384, 80: 576}[width], pages.append).feed(data)
    dark = np.asarray(pages[0].convert("L"))[:-12] < 128  # without the dashed cut line drawn below
    columns = np.flatnonzero(dark.any(axis=0))
    assert columns.min() >= 24 and columns.max() < dark.shape[1] - 24, (columns.min(), columns.max())
    rows = np.flatnonzero(dark.any(axis=1))
    assert dark.shape[0] - 1 - rows.max() <= 24 + 6 + 2  # the cut's 24 dots and the last line's spacing


def test_notice_prints(sim: PrinterSimulator) -> None:
    notice = MaterialsNotice(
        "居住证办理", ["身份证原件", "居住证明"], qr_url="https://hall.example.cn/g/7"
    )
    with TicketPrinter(str(sim.link.path)) as printer:
        printer.print_notice(notice)
    assert sim.wait_for_tickets(1)
    assert decode_png(sim.tickets[0]) == ["https://hall.example.cn/g/7"]


def test_paper_out_refuses_to_print_and_paper_low_is_reported(sim: PrinterSimulator) -> None:
    seen: list[PrinterHealth] = []
    with TicketPrinter(str(sim.link.path)) as printer:
        printer.start_polling(seen.append, interval_s=0.05)
        sim.set_paper(PaperState.OUT)
        with pytest.raises(PaperOut, match="paper"):
            printer.print_ticket(ticket())
        assert printer.health.state == "paper_out"
        sim.set_paper(PaperState.NEAR_END)
        assert printer.print_ticket(ticket()) == PaperState.NEAR_END
        assert printer.health.state == "paper_low"
        printer.stop_polling()
    assert sim.wait_for_tickets(1)
    assert len(sim.tickets) == 1
    assert "paper_out" in [h.state for h in seen]


def test_printer_not_answering_status_is_a_clear_error(sim: PrinterSimulator) -> None:
    sim.stop_answering()
    with TicketPrinter(str(sim.link.path), status_timeout=0.3) as printer:
        with pytest.raises(PrinterError) as err:
            printer.paper_status()
        assert err.value.code == "not_answering"
        assert "无响应" in str(err.value) and "not answering" in str(err.value)
        assert printer.health.state == "error"


def test_printer_stops_mid_ticket_no_hang(sim: PrinterSimulator) -> None:
    big = ticket("https://hall.example.cn/t/" + "x" * 400)
    with TicketPrinter(
        str(sim.link.path), status_timeout=0.3, write_timeout=0.5, native_qr=False
    ) as printer:
        printer.paper_status()
        sim.stop_answering(after_bytes=300)
        with pytest.raises(PrinterError) as err:
            printer.print_ticket(big)
        assert err.value.code == "not_answering"
        assert printer.health.state == "error"
        sim.resume()
        # Back again (the rest of the stuck ticket is still in the line when the next one starts): the driver reopens the link and the next ticket prints.
        printer.print_ticket(ticket())
        assert printer.health.state == "ok"


def test_interpreter_handles_a_stream_split_anywhere() -> None:
    data = TicketPrinter(DummyTransport()).render(lambda p: layout_ticket(p, ticket()))
    pages: list[Image.Image] = []
    whole: list[Image.Image] = []
    EscPosInterpreter(384, whole.append).feed(data)
    interp = EscPosInterpreter(384, pages.append)
    for i in range(0, len(data), 7):
        interp.feed(data[i : i + 7])
    assert len(pages) == len(whole) == 1
    assert pages[0].tobytes() == whole[0].tobytes()


def test_socket_transport_against_a_tcp_printer(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    pages: list[Image.Image] = []

    def serve() -> None:
        conn, _ = server.accept()
        interp = EscPosInterpreter(576, pages.append)
        with conn:
            while data := conn.recv(4096):
                if reply := interp.feed(data):
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with TicketPrinter(f"socket://127.0.0.1:{port}", width=80) as printer:
        printer.print_ticket(ticket())
    thread.join(5)
    server.close()
    assert len(pages) == 1
    pages[0].save(tmp_path / "t.png")
    assert decode_png(tmp_path / "t.png") == ["https://hall.example.cn/t/A012?h=demo"]


def test_missing_printer_is_a_clear_error(tmp_path: Path) -> None:
    with TicketPrinter(str(tmp_path / "nothing")) as printer:
        with pytest.raises(PrinterError) as err:
            printer.print_ticket(ticket())
    assert err.value.code == "not_connected"
    assert "无法连接打印机" in str(err.value)


def _start_sim(link: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devices",
            "sim",
            "printer",
            "--link",
            str(link),
            "--out",
            str(out),
            *extra,
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    _until_line(proc, "linked at")
    return proc


def _until_line(proc: subprocess.Popen[str], text: str) -> None:
    """Read the simulator's log until a line with `text` (its own word that it got there)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if text in line:
            return
    raise AssertionError(f"the simulator ended without a line containing {text!r}")


def _stop(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(5)


def test_cli_printer_test_prints_and_reports(tmp_path: Path) -> None:
    link, out = tmp_path / "lp", tmp_path / "out"
    proc = _start_sim(link, out, "--width", "80")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "devices",
                "printer",
                "test",
                "--port",
                str(link),
                "--width",
                "80",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode == 0:
            _until_line(proc, "printer simulator: ticket")  # the PNG is written
    finally:
        _stop(proc)
    assert result.returncode == 0, result.stderr
    assert "paper ok" in result.stdout
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 1
    assert decode_png(pngs[0]) == ["https://hall.example.cn/t/A012"]


def test_cli_printer_test_paper_out_exits_non_zero(tmp_path: Path) -> None:
    link, out = tmp_path / "lp", tmp_path / "out"
    proc = _start_sim(link, out, "--paper", "out")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "devices", "printer", "test", "--port", str(link)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        _stop(proc)
    assert result.returncode == 1
    assert "缺纸 / paper out" in result.stderr
    assert not list(out.glob("*.png"))


def test_real_time_status_is_answered_inside_an_unfinished_command_and_clear_recovers() -> None:
    pages: list[Image.Image] = []
    interp = EscPosInterpreter(384, pages.append)
    half_raster = (
        b"\x1dv0\x00\x30\x00\x64\x00" + b"\x00" * 100
    )  # 48 x 100 bytes announced, 100 sent
    assert interp.feed(half_raster) == b""
    assert interp.feed(b"\x10\x04") == b""
    assert interp.feed(b"\x04") == b"\x12"  # answered on arrival, split across reads
    interp.feed(EscPos.clear_buffers() + b"\x1b@hello\n\x1dVB\x00")
    assert len(pages) == 1
    assert interp.unknown_commands == 0
