"""Hall bus: the MQTT v1 contract of the hall kit, its client and the hall controller (no Qt)."""

__version__ = "0.1.0"
