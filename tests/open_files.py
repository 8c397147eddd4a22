"""A guard on the test process's open files, used by tests/conftest.py for every test.

paho's network loop uses select(), which fails for a descriptor past 1,024: a run that leaks
files fails late and far from the cause. It happened twice (RpcClient's deadline thread that
kept every client and its sockets alive; paho's wake-up socket pair left open by every stopped
bus until a full garbage collection, ~240 open files late in a run). After each test and its
fixtures, the process may hold at most OPEN_FILES_GROWTH more open files than before the first
test; the test after which it first holds more fails, naming what is open, and the count
starts again from there (one failure per leak, not one per test after it). A run of tests/hallbus
and tests/web (564 tests) peaked at 305 more before those fixes, 115 more with the bus's alone
(the tests' own sqlite look-ups and hand-driven paho clients), 23 more after all of them.
"""

from __future__ import annotations

import collections
import gc
import os
import threading
from collections.abc import Iterator

import pytest

OPEN_FILES_GROWTH = 128
_open_files_base: list[int] = []


def open_files() -> dict[int, str]:
    """This process's open descriptors and what each is (`socket:[inode]`, `pipe:[...]`, a path)."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    """Count the open files before the first test."""
    _open_files_base.append(len(open_files()))


@pytest.fixture(autouse=True)
def open_files_stay_bounded() -> Iterator[None]:
    """Fail the test after which this process holds more than OPEN_FILES_GROWTH files over the run's start."""
    yield
    now = open_files()
    if not _open_files_base:  # conftest loaded after the session started: count from the first test
        _open_files_base.append(len(now))
    base = _open_files_base[-1]
    if len(now) <= base + OPEN_FILES_GROWTH:
        return
    _open_files_base.append(len(now))  # one failure per leak
    gc.collect()
    kinds = collections.Counter(target.split(":")[0] if ":" in target else "file" for target in now.values())
    newest = [f"{fd} {now[fd]}" for fd in sorted(now)[-15:]]
    pytest.fail(
        f"this test process holds {len(now)} open files, more than {OPEN_FILES_GROWTH} over the {base} it had "
        f"at the start ({len(open_files())} after a full garbage collection: fewer means unreachable objects "
        f"held them, something stopped without closing them): {dict(kinds)}; the newest: {newest}; "
        f"threads: {sorted(t.name for t in threading.enumerate())}. Find who opens them without closing "
        f"(a bus or client not stopped, a fixture that does not stop what it started).",
        pytrace=False,
    )


