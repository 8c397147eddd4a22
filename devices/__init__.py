"""Device drivers, simulators and diagnostics for a hall's hardware (no Qt, no MQTT)."""
