"""The controller tests' config (the sample hall, open all day) and manual clock; the records' running hall."""

from tests.hallbus.controller.conftest import clock, config
from tests.hallbus.records.conftest import hall

__all__ = ["clock", "config", "hall"]
