"""hall.toml: the sample is valid; every error names file, line and key and says what is expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hallbus.config import DEFAULT_CONFIG, ConfigError, load_config, parse_config

SAMPLE = DEFAULT_CONFIG.read_text(encoding="utf-8")


def _line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[nth]


def test_sample_is_a_realistic_county_hall() -> None:
    cfg = load_config()
    assert len(cfg.services) >= 8
    assert len(cfg.windows) >= 12
    roles = [n.role for n in cfg.nodes]
    assert roles.count("terminal") >= 2
    for role in ("tablet", "counter", "window"):
        assert roles.count(role) >= 12
    assert roles.count("hall") >= 1
    assert cfg.node_devices("terminal-1").idcard == "sim"


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "hall.toml")
    return err.value


def test_wrong_type_names_key_and_line() -> None:
    text = SAMPLE.replace('daily_cap = 150\nreal_name = true\navg_service_s = 900', 'daily_cap = "many"\nreal_name = true\navg_service_s = 900')
    err = _error(text)
    assert err.key == "services[3].daily_cap"
    assert err.line == _line_of(text, 'daily_cap = "many"')
    assert "int" in err.detail
    assert str(err).startswith(f"hall.toml:{err.line}: services[3].daily_cap")


def test_unknown_key_is_called_a_typo() -> None:
    text = SAMPLE.replace("tls = false", "tsl = false")
    err = _error(text)
    assert err.key == "broker.tsl"
    assert err.line == _line_of(text, "tsl = false")
    assert "unknown key" in err.detail


def test_missing_required_key() -> None:
    text = SAMPLE.replace('[hall]\nid = "demo-county"\n', "[hall]\n")
    err = _error(text)
    assert err.key == "hall.id"
    assert "required" in err.detail
    assert err.line == _line_of(text, "[hall]")


def test_window_naming_an_unknown_service() -> None:
    text = SAMPLE.replace('services = ["D"]', 'services = ["Q"]', 1)
    err = _error(text)
    assert err.key == "windows[6].services[0]"
    assert "unknown service 'Q'" in err.detail
    assert err.line == _line_of(text, 'services = ["Q"]')


def test_bad_enum_inside_an_inline_table() -> None:
    text = SAMPLE.replace('rule = { mode = "weight"', 'rule = { mode = "wieght"')
    err = _error(text)
    assert err.key == "windows[5].rule.mode"
    assert err.line == _line_of(text, 'mode = "wieght"')


def test_not_toml_at_all() -> None:
    err = _error(SAMPLE.replace("port = 1883", "port = "))
    assert err.line == _line_of(SAMPLE, "port = 1883")
    assert "TOML" in err.detail


def test_duplicate_ids_and_bad_prefix() -> None:
    err = _error(SAMPLE.replace('code = "B"', 'code = "A"'))
    assert err.key == "services[1].code" and "twice" in err.detail
    err = _error(SAMPLE.replace('code = "B"', 'code = "b1"'))
    assert "capital letter" in err.detail


def test_ticket_limits_are_on_in_the_sample_and_checked() -> None:
    limits = parse_config(SAMPLE).ticket_limits
    assert (limits.per_minute, limits.burst, limits.green_min_age) == (6, 6, 70)
    text = SAMPLE.replace("burst = 6 ", "burst = 0 ", 1)
    err = _error(text)
    assert err.key == "ticket_limits.burst" and err.line == _line_of(text, "burst = 0") and "1 or more" in err.detail
    assert _error(SAMPLE.replace("per_minute = 6 ", "per_minute = -1 ", 1)).key == "ticket_limits.per_minute"


def test_a_tablet_node_needs_its_window() -> None:
    text = SAMPLE.replace('id = "tablet-1"\nrole = "tablet"\nwindow = "1"', 'id = "tablet-1"\nrole = "tablet"')
    err = _error(text)
    assert err.key.startswith("nodes[") and err.key.endswith(".window")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.toml")
    assert "not found" in str(err.value)


def test_cli_reports_config_errors_plainly(tmp_path: Path) -> None:
    bad = tmp_path / "hall.toml"
    bad.write_text(SAMPLE.replace("keepalive = 15", "keepalive = 'often'"), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hallbus", "docs", "--check", "--config", str(bad)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert f"{bad}:{_line_of(SAMPLE, 'keepalive = 15')}: broker.keepalive" in out.stderr


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ('listen = "127.0.0.1:8080"', 'listen = "8080"', "web.listen", "HOST:PORT"),
    ('listen = "127.0.0.1:8080"', 'listen = "127.0.0.1:99999"', "web.listen", "HOST:PORT"),
    ('public_url = "https://zwfw.example.gov.cn"', 'public_url = "zwfw.example.gov.cn"', "web.public_url", "http"),
    ("# track_url = ", "track_url = \"https://x.cn/t/\"\n# ", "hall.track_url", "{ticket_id}"),
])
def test_web_section_errors_name_key_and_line(old: str, new: str, key: str, says: str) -> None:
    assert old in SAMPLE
    text = SAMPLE.replace(old, new, 1)
    err = _error(text)
    assert err.key == key and says in err.detail
    assert err.line == _line_of(text, new.split("\n")[0])


def test_a_ticket_links_to_the_web_service_unless_track_url_says_otherwise() -> None:
    cfg = load_config()
    assert cfg.track_url("20260303-a001-00ff") == "https://zwfw.example.gov.cn/t/20260303-a001-00ff"
    bare = parse_config(SAMPLE.replace('public_url = "https://zwfw.example.gov.cn"', 'public_url = ""'), "hall.toml")
    assert bare.track_url("x") == "http://127.0.0.1:8080/t/x"  # [web] listen, for a hall that has not set its address
    own = parse_config(SAMPLE.replace('# track_url = "https://zwfw.example.gov.cn/t/{ticket_id}"',
                                      'track_url = "https://m.example.cn/follow?t={ticket_id}"', 1), "hall.toml")
    assert own.track_url("x") == "https://m.example.cn/follow?t=x"


@pytest.mark.parametrize(("new", "key", "says"), [
    ("storm_ends_per_s = -1", "broker_limits.storm_ends_per_s", "0 (no limit) or more"),
    ("storm_block_s = 0", "broker_limits.storm_block_s", "more than 0"),
    ("storm_block_max_s = 2", "broker_limits.storm_block_max_s", "at least storm_block_s"),
])
def test_reconnect_storm_limits_must_be_ones_the_broker_plugin_can_follow(new: str, key: str, says: str) -> None:
    old = new.split(" = ")[0] + " = "
    line = next(x for x in SAMPLE.splitlines() if x.startswith(old))
    err = _error(SAMPLE.replace(line, new, 1))
    assert err.key == key and says in err.detail
