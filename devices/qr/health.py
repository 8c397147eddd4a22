"""Device health for cameras and scan engines (the one `Health` of `devices.common.health`)."""

from devices.common.health import Health, HealthState

__all__ = ["Health", "HealthState"]
