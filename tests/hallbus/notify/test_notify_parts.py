"""The parts of 到号提醒 one by one: what a mobile number is, `[notify]` checked at start, the HTTP adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.config import DEFAULT_CONFIG, ConfigError, parse_config
from hallbus.controller.app import HallController
from hallbus.localbroker import free_port
from hallbus.notify.notifier import DeliveryError, HttpNotifier, Notification
from hallbus.notify.phone import is_mobile, mask_mobile
from hallbus.sample import all_day_text
from tests.hallbus.helpers import with_notify
from tests.hallbus.notify.gateway import Gateway


def test_a_mobile_number_is_eleven_ascii_digits_starting_1_then_3_to_9() -> None:
    assert is_mobile("13812345678") and is_mobile("19912345678")
    for bad in ("", "1381234567", "138123456789", "12812345678", "23812345678", "138 1234 5678", "+8613812345678",
                "１３８１２３４５６７８", "1３812345678"):
        assert not is_mobile(bad), bad
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("12345") == "*****"


def test_notify_settings_are_checked_at_start_by_key_and_line(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    on_without_url = text.replace("enabled = false               # on:", "enabled = true                # on:")
    on_without_url = on_without_url.replace('url = "http://127.0.0.1:9090/notify"', 'url = ""')
    with pytest.raises(ConfigError) as err:
        parse_config(on_without_url, "hall.toml")
    assert err.value.key == "notify.url" and err.value.line is not None
    assert "http://" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config(with_notify(text, "http://gw.example/notify", ahead=99), "hall.toml")
    assert err.value.key == "notify.ahead" and "between 0" in str(err.value)
    off = parse_config(text, "hall.toml").notify
    assert (off.enabled, off.ahead, off.include_link) == (False, 3, False)


def test_the_http_adapter_posts_json_with_the_key_and_the_token_and_sorts_failures(gateway: Gateway) -> None:
    n = Notification(key="k-1", kind="called", phone="13812345678", body={"ticket": "A001", "window": "3"}, attempt=2)
    assert "13812345678" not in repr(n) and "138****5678" in repr(n)
    HttpNotifier(gateway.url, timeout_s=5, token="s3cret").send(n)
    post = gateway.wait_posts(1)[0]
    assert post["headers"]["Authorization"] == "Bearer s3cret" and post["headers"]["Idempotency-Key"] == "k-1"
    assert post["headers"]["Content-Type"].startswith("application/json")
    body = post["body"]
    assert {k: body[k] for k in ("v", "id", "kind", "phone", "attempt", "ticket", "window")} == {
        "v": 1, "id": "k-1", "kind": "called", "phone": "13812345678", "attempt": 2, "ticket": "A001", "window": "3"}
    plain = HttpNotifier(gateway.url, timeout_s=5)
    plain.send(n)
    assert "Authorization" not in gateway.wait_posts(2)[1]["headers"]
    for status, retry in ((503, True), (429, True), (404, False), (401, False)):
        gateway.answers.append(status)
        with pytest.raises(DeliveryError) as err:
            plain.send(n)
        assert err.value.retry is retry and str(status) in err.value.reason
    with pytest.raises(DeliveryError) as err:
        HttpNotifier(f"http://127.0.0.1:{free_port()}/notify", timeout_s=2).send(n)
    assert err.value.retry and "not reached" in err.value.reason


def test_a_token_file_that_cannot_be_read_stops_the_start_by_name(tmp_path: Path) -> None:
    text = with_notify(all_day_text(tmp_path), "http://127.0.0.1:9/notify", token_file=f'"{tmp_path / "nope"}"')
    config = parse_config(text, tmp_path / "hall.toml")
    with pytest.raises(ConfigError) as err:
        HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url("mqtt://127.0.0.1:1"))
    assert err.value.key == "notify.token_file" and "nope" in str(err.value)
