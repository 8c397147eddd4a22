"""The controller tests' config (the sample hall, open all day) and manual clock."""

from tests.hallbus.controller.conftest import clock, config

__all__ = ["clock", "config"]
