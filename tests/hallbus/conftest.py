"""Fixtures for the hall bus library tests: bus clients on the real broker, stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.localbroker import LocalBroker
from tests.hallbus.helpers import HALL


@pytest.fixture
def make_bus(broker: LocalBroker) -> Iterator[Callable[..., BusClient]]:
    """Factory of connected BusClients on the test broker; all stopped at teardown."""
    made: list[BusClient] = []

    def make(node: str, role: str = "terminal", *, wait: bool = True, **kw: Any) -> BusClient:
        bus = BusClient(hall=HALL, node=node, role=role, broker=parse_broker_url(broker.url), **kw)
        made.append(bus)
        if wait:
            assert bus.start(wait=5), f"{node} could not connect to {broker.url}"
        return bus

    yield make
    for bus in made:
        bus.stop()
