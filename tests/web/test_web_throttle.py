"""The failed-lookup throttle of hallweb: free attempts, doubling waits, forgetting, a success clearing one key;
what a client is (its address, an IPv6 one by its /64) and the keyed hash the controller counts it by."""

import os
import stat
from pathlib import Path

import pytest

from hallbus.privacy import load_key_file
from hallbus.records.lookups import CLIENT_RE
from web.throttle import ClientKeys, FailureThrottle, client_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_waits_grow_after_the_free_attempts_and_are_forgotten() -> None:
    clock = Clock()
    t = FailureThrottle(free=2, base_s=10, max_s=35, forget_s=600, clock=clock)
    t.failed("addr:a", "case:1")
    t.failed("addr:a", "case:1")
    assert t.wait_s("addr:a") == 0 == t.wait_s("case:1")
    t.failed("addr:a", "case:1")
    assert t.wait_s("addr:a") == 10 and t.wait_s("addr:b", "case:1") == 10  # either key holds the door
    t.failed("addr:a")
    assert t.wait_s("addr:a") == 20
    t.failed("addr:a")
    t.failed("addr:a")
    assert t.wait_s("addr:a") == 35  # capped
    clock.now += 36
    assert t.wait_s("addr:a") == 0
    t.succeeded("addr:a")
    t.failed("addr:a")
    assert t.wait_s("addr:a") == 0  # a success starts the client's count again ...
    assert t.wait_s("case:1") == 0
    t.failed("case:1")
    assert t.wait_s("case:1") == 20  # ... but not the case number's
    clock.now += 700
    t.failed("case:1")
    assert t.wait_s("case:1") == 0  # quiet for forget_s: a fresh start


def test_a_client_is_its_ipv4_address_or_its_ipv6_64() -> None:
    assert client_address("198.51.100.7") == "198.51.100.7"
    # one phone or home network holds a whole /64 and may take any address in it
    assert client_address("2001:db8:1:2:aaaa::1") == client_address("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1") != client_address("2001:db8:1:2::1")
    assert client_address("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_address(None) == "?" and client_address("testclient") == "testclient"


def test_the_client_key_is_kept_across_restarts_and_hides_the_address(tmp_path: Path) -> None:
    def keys(path: Path) -> ClientKeys:  # what hallweb does at each start: web.admin.load_secret_key
        return ClientKeys(load_key_file(path, create=True, what="hallweb secret key"))

    path = tmp_path / "var" / "web.key"
    first = keys(path).of("198.51.100.7")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys(path).of("198.51.100.7") == first  # a restart: the same key, the controller's count holds
    assert CLIENT_RE.match(first) and keys(path).of("198.51.100.8") != first
    assert keys(tmp_path / "other.key").of("198.51.100.7") != first  # another hall's secret: another key
    # a secret hallweb cannot make: no key at all (hallweb refuses to start and says why)
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OSError):
        keys(tmp_path / "a-file" / "web.key")
