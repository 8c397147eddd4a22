"""The queue's reading of the hall config: services and windows, checked once at start-up; the staff directory."""

from __future__ import annotations

from hallbus.config import ConfigError, HallConfig, ServiceSection, WindowSection
from hallbus.controller import errors
from hallbus.controller.clock import parse_hhmm
from hallbus.controller.rules import parse_ratio
from hallbus.controller.staff_directory import StaffDirectory


class QueueLayout:
    """Which services, windows and staff the hall has, and which windows serve which service."""

    def __init__(self, config: HallConfig, directory: StaffDirectory | None = None) -> None:
        self.config = config
        self.services: dict[str, ServiceSection] = {s.code: s for s in config.services}
        self.windows: dict[str, WindowSection] = {w.id: w for w in config.windows}
        # who staff are now, read in the transaction (console changes count); one per controller, shared by the
        # layouts the settings make (its password hints are state)
        self.directory = directory or StaffDirectory(config)
        self.windows_of: dict[str, list[str]] = {code: [] for code in self.services}
        for i, w in enumerate(config.windows):
            try:
                parse_ratio(w.rule.ratio)
            except ValueError as err:
                raise ConfigError(config.path, f"windows[{i}].rule.ratio", str(err)) from err
            for code in w.services:
                self.windows_of.setdefault(code, []).append(w.id)
            for code, blockers in w.rule.only_when_empty.items():
                for b in [code, *blockers]:
                    if b not in self.services:
                        raise ConfigError(
                            config.path, f"windows[{i}].rule.only_when_empty", f"unknown service {b!r}"
                        )
        for code in self.services:
            for slot in self.services[code].slots:
                parse_hhmm(slot.start)
                parse_hhmm(slot.end)

    def service(self, code: str) -> ServiceSection:
        """A configured service (error `unknown_service`)."""
        svc = self.services.get(code)
        if svc is None:
            raise errors.unknown_service(code)
        return svc

    def window(self, wid: str) -> WindowSection:
        """A configured window (error `unknown_window`)."""
        win = self.windows.get(wid)
        if win is None:
            raise errors.unknown_window(wid)
        return win
