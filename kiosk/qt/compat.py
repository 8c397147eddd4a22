"""Work-arounds for bugs in the PySide6 we run on; each one checks that the bug is there first.

PySide6 6.12.0 returns `None`, `True` and `False` to Python without taking a reference: every
call of a void function (`processEvents()`, `QTest.mouseClick()`, `QTimer.singleShot()`, ...)
drops one reference to `None`, every `emit()` one to `True`, `property()` of an unknown name
one to `None`. After enough calls the interpreter aborts with "Fatal Python error:
none_dealloc" or "bool_dealloc", usually at exit. Python 3.12 made these singletons immortal;
on 3.11 `immortalize_singletons()` gives them a reference count no program can use up, which
is what 3.12 does. It runs when `kiosk.qt` is imported, so every role and test gets it.
`emit(signal, *args)` also hands back the reference `emit()` drops.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    results = [probe.ping.emit() for _ in range(16)]
    dropped = before - sys.getrefcount(True) + len(results)  # the list itself holds 16 references
    buggy = dropped >= 8
    if buggy:
        for result in results:
            _incref(result)  # give back what the probe's emits took
    return buggy


EMIT_DROPS_REFERENCE = _emit_drops_a_reference()
_ENOUGH = 1 << 40


def immortalize_singletons() -> bool:
    """Give None, True and False a reference count PySide's lost references can never use up (3.11 only)."""
    if sys.version_info >= (3, 12):
        return False  # immortal already
    for obj in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of every object
        if count.value < _ENOUGH:
            count.value += _ENOUGH
    return True


def emit(signal: Any, *args: Any) -> None:
    """`signal.emit(*args)`, without PySide 6.12's lost reference to the returned bool."""
    result = signal.emit(*args)
    if EMIT_DROPS_REFERENCE:
        _incref(result)
