"""Device health as the hall bus reports it: a state word plus a sentence for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HealthState = Literal["ok", "absent", "error"]


@dataclass(frozen=True, slots=True)
class Health:
    """State of a device: `ok`, `absent` (not there / cannot be opened) or `error`, with a `detail`."""

    state: HealthState
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        """The `node/{node}/devices` entry for this device."""
        return {"state": self.state, "detail": self.detail}
