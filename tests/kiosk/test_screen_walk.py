"""The screen walk (issue 16): every role, every state the screen scripts reach, in zh_CN, English and
large print, checked by `tests.kiosk.screenwalk`: no words cut or overprinted, no touch target under
~15 mm, and the number and main message of each state standing out enough, measured on the picture.

The states are the pictures of docs/screens: the counter, tablet, window display and hall screen as
scripts/role_screens.py drives them (run here once per variant, pictures to a temporary folder), the
terminal as tests/kiosk/terminal/test_terminal_screens.py drives it (reused when that test already ran
in this session). One test per picture, variant and check, so a defect is one red (or xfail) line.

Defects of screens other sessions are fixing are marked `xfail(strict=True)` with their issue item:
the mark fails the moment the screen is right, and comes off when their fix is merged.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hallbus.schemas import set_clock
from tests.kiosk.screenwalk import (
    WALKED,
    Finding,
    cases,
    check_screen,
    flash_phases,
    role_item,
)

pytestmark = pytest.mark.slow  # minutes: real screens driven through every state
REPO = Path(__file__).resolve().parents[2]
VARIANTS = {"zh": ("zh_CN", False), "en": ("en", False), "elderly": ("zh_CN", True)}

ROLE_SHOTS = (
    "counter-login", "counter-login-error", "window-closed", "tablet-idle", "window-idle", "counter-idle",
    "window-flashing", "window-strip-flashing", "counter-serving", "window-serving", "window-1366x768",
    "window-strip", "hall-normal", "hall-flashing", "counter-transfer", "tablet-faces", "tablet-reasons",
    "tablet-thanks", "counter-after-finish", "counter-callback", "counter-pause-dialog", "counter-paused",
    "tablet-paused", "window-paused", "window-strip-paused", "hall-paused-windows", "counter-offline",
    "window-offline", "hall-offline", "tablet-idle-en", "hall-60-windows",
)
TERMINAL_SHOTS = tuple(f"terminal-{n}" for n in (
    "home", "ticket-services", "ticket-card", "ticket-confirm", "ticket-printed", "ticket-paper-out",
    "cases-method", "cases-keypad-error", "cases-list", "checkin-error", "guide-all", "guide-search",
    "guide-item", "rate-case", "rate-pick", "rate-levels", "rate-reasons", "rate-thanks", "idle-countdown",
    "offline",
))

# (picture, variant, check) -> the issue 16 item another session is fixing, as the walk found it on main
KNOWN: dict[tuple[str, str, str], str] = {}


def _known(reason: str, shots: tuple[str, ...], variants: tuple[str, ...], *checks: str) -> None:
    for shot in shots:
        for variant in variants:
            for check in checks:
                KNOWN[(shot, variant, check)] = reason


ALL = tuple(VARIANTS)


def _role_screens() -> ModuleType:
    name = "role_screens"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "role_screens.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _walk_roles(variant: str) -> None:
    """scripts/role_screens.py in one variant, every picture checked before it is saved."""
    rs = _role_screens()
    lang, elderly = VARIANTS[variant]

    def check(kiosk: Any, name: str, image: Any) -> None:
        page = role_item(kiosk)
        phases = flash_phases(kiosk.window, lambda: bool(page.property("flashing")))
        WALKED[(name, variant)] = check_screen(kiosk.window, image, phases)

    with tempfile.TemporaryDirectory(prefix="screen-walk-") as out:
        for extra, shoot in (("", rs.shoot_roles), (rs.EXTRA_WINDOWS, rs.shoot_sixty)):
            with tempfile.TemporaryDirectory(prefix="screen-walk-hall-") as d:
                s = rs.Shooter(Path(d), Path(out), 0.5, extra)
                s.language, s.elderly, s.check = lang, elderly, check
                try:
                    shoot(s)
                finally:
                    s.close()


def _walk_terminal(variant: str, request: pytest.FixtureRequest) -> None:
    """The terminal's screenshot test in one variant (it records its checks in WALKED)."""
    from tests.kiosk.terminal.test_terminal_screens import test_every_screen

    hall = request.getfixturevalue("hall")
    set_clock(hall.clock)  # as the test's own one_clock fixture does
    try:
        fixtures = {n: request.getfixturevalue(n) for n in ("kiosk", "sims", "qtbot", "tmp_path")}
        test_every_screen(variant, one_clock=hall.clock, hall=hall, **fixtures)
    finally:
        set_clock(None)


def findings(shot: str, variant: str, request: pytest.FixtureRequest) -> dict[str, list[Finding]]:
    """The checks of one picture, walking its role's screens first when this session has not yet."""
    if (shot, variant) not in WALKED:
        if shot.startswith("terminal-"):
            _walk_terminal(variant, request)
        else:
            _walk_roles(variant)
    assert (shot, variant) in WALKED, f"the screen scripts no longer reach {shot} ({variant})"
    return WALKED[(shot, variant)]


@pytest.mark.parametrize(("shot", "variant", "check"), cases(ROLE_SHOTS + TERMINAL_SHOTS, VARIANTS, KNOWN))
def test_screen(shot: str, variant: str, check: str, request: pytest.FixtureRequest) -> None:
    found = findings(shot, variant, request)[check]
    assert not found, f"{shot} ({variant}):\n" + "\n".join(str(f) for f in found)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_walk_reaches_every_picture_the_scripts_take(variant: str, request: pytest.FixtureRequest) -> None:
    findings(ROLE_SHOTS[0], variant, request)
    findings(TERMINAL_SHOTS[0], variant, request)  # one terminal walk per test: its fixtures are per test
    walked = {shot for shot, v in WALKED if v == variant}
    listed = set(ROLE_SHOTS + TERMINAL_SHOTS)
    assert walked == listed, f"{variant}: list these in ROLE_SHOTS / TERMINAL_SHOTS: {sorted(walked - listed)}; " \
                             f"no longer taken: {sorted(listed - walked)}"
