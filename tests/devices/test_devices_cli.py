"""`python -m devices`: every device kind and simulator is there, and a missing one is loud."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devices.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def _choices(parser: object) -> set[str]:
    actions = getattr(parser, "_subparsers")._group_actions  # noqa: B009 - argparse has no public way
    return set(actions[0].choices)


def test_every_kind_and_simulator_is_in_the_parser() -> None:
    parser = build_parser()
    assert _choices(parser) == {"idcard", "pcsc", "qr", "printer", "scanner", "sim"}
    args = parser.parse_args(["sim", "scanner", "--link", "/tmp/x"])
    assert args.sim_kind == "scanner" and callable(args.func)


def test_a_kind_missing_from_the_install_fails_at_start() -> None:
    # Blocking one kind's module stands in for a packaging mistake: it must not vanish quietly.
    code = "import sys; sys.modules['devices.qr.cli'] = None; import devices.cli"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "devices.qr.cli" in result.stderr
