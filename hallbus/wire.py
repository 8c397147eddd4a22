"""MQTT 5 PUBLISH properties of the hall bus, made with one call.

`PublishProperties(response_topic=, correlation=, expiry_s=)` is paho's own `Properties`
for a PUBLISH, filled through its public attributes: the three properties the bus sends
(Response Topic, Correlation Data, Message Expiry Interval). Received properties are
paho's too (`msg.properties`: `ResponseTopic`, `CorrelationData`, ...).
"""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


class PublishProperties(Properties):
    """paho's PUBLISH `Properties` with the bus's three properties set from keywords."""

    def __init__(
        self,
        *,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> None:
        super().__init__(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if expiry_s is not None:
            self.MessageExpiryInterval = int(expiry_s)
        if response_topic is not None:
            self.ResponseTopic = response_topic
        if correlation is not None:
            self.CorrelationData = correlation
