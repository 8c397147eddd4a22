"""Thin Qt adapters shared by every role: the bus bridge, background work, the shell view-model."""

from kiosk.qt.compat import immortalize_singletons

immortalize_singletons()  # PySide 6.12 loses references to None/True/False: see kiosk.qt.compat
