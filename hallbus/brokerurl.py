"""Parse `mqtt://[USER:PASS@]HOST:PORT` (and `mqtts://`) broker addresses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class BrokerAddress:
    """Where a node finds the hall's broker, and how it logs in."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None

    @property
    def url(self) -> str:
        """The address as a URL without the password (safe to log)."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"

    def with_env_credentials(self) -> BrokerAddress:
        """Fill in credentials from HALL_MQTT_USERNAME / HALL_MQTT_PASSWORD when not set."""
        user = self.username or os.environ.get("HALL_MQTT_USERNAME") or None
        password = self.password or os.environ.get("HALL_MQTT_PASSWORD") or None
        return BrokerAddress(self.host, self.port, user, password, self.tls, self.ca_file)


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse a broker URL; raise ValueError with a plain message when it is not one."""
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL must look like mqtt://[USER:PASS@]HOST:PORT, got {url!r}")
    tls = parsed.scheme in ("mqtts", "ssl")
    if not parsed.hostname:
        raise ValueError(f"broker URL {url!r} has no host")
    try:
        port = parsed.port or (8883 if tls else 1883)
    except ValueError as err:
        raise ValueError(f"broker URL {url!r} has a bad port") from err
    return BrokerAddress(
        host=parsed.hostname,
        port=port,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        tls=tls,
    )
