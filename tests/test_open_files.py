"""The guard on the test process's open files (tests/open_files.py) fails the test that leaks them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.open_files import OPEN_FILES_GROWTH

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent


def test_a_test_that_leaves_sockets_open_fails_and_the_next_one_does_not(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from tests.open_files import open_files_stay_bounded, pytest_sessionstart  # noqa: F401\n")
    pytester.makepyfile(test_leaky=textwrap.dedent("""
        import socket

        from tests.open_files import OPEN_FILES_GROWTH

        KEPT = []


        def test_closes_what_it_opens():
            pair = socket.socketpair()
            for s in pair:
                s.close()


        def test_leaves_sockets_open():
            KEPT.extend(socket.socketpair() for _ in range(OPEN_FILES_GROWTH // 2 + 1))


        def test_after_the_leak():
            pass
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", f"pythonpath={REPO}")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaves_sockets_open*"])
    out = result.stdout.str()
    assert "'socket': " in out and f"more than {OPEN_FILES_GROWTH} over" in out, out
