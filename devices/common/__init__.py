"""Pieces shared by every device kind: port URLs, pty links for simulators, health, the worker thread."""
