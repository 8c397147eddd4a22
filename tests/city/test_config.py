"""city.toml: the shipped example loads; mistakes are named by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from city.cli import main
from city.config import EXAMPLE_CONFIG, load_city_config, parse_city_config
from hallbus.config import ConfigError

GOOD = """[broker]
host = "127.0.0.1"

[db]
url = "postgresql://hallcity@127.0.0.1:5432/hallcity"

[[halls]]
id = "north"
name = "北县"
district = "北县"
kind = "county"
"""


def test_the_example_loads() -> None:
    cfg = load_city_config(EXAMPLE_CONFIG)
    assert [h.id for h in cfg.halls] == ["demo-hall", "north-county", "south-county"]
    assert cfg.broker.group == "hallcity" and cfg.thresholds.wait_red_s > cfg.thresholds.wait_yellow_s


@pytest.mark.parametrize(("text", "line", "key", "words"), [
    (GOOD.replace('kind = "county"', 'kind = "village"'), 11, "halls[0].kind", "'village'"),
    (GOOD.replace('id = "north"', 'id = "North Hall"'), 8, "halls[0].id", "lowercase"),
    (GOOD + '\n[[halls]]\nid = "north"\nname = "again"\n', 14, "halls[1].id", "twice"),
    (GOOD.replace('url = "postgresql://', 'url = "mysql://'), 5, "db.url", "postgresql://"),
    (GOOD.replace('host = "127.0.0.1"', 'hots = "127.0.0.1"'), 2, "broker.hots", "unknown key"),
    (GOOD + '\n[thresholds]\nwait_yellow_s = 600\nwait_red_s = 300\n', 15, "thresholds.wait_red_s", "red"),
    (GOOD + '\n[web]\nlisten = "everywhere"\n', 14, "web.listen", "HOST:PORT"),
    (GOOD.replace('host = "127.0.0.1"', 'adopt_after_s = -1'), 2, "broker.adopt_after_s", "never adopt"),
    (GOOD.replace('[db]\nurl = "postgresql://hallcity@127.0.0.1:5432/hallcity"\n', ""), None, "db", "required"),
])
def test_a_mistake_names_file_line_and_key(text: str, line: int | None, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_city_config(text, "city.toml")
    e = err.value
    assert (e.key, e.line) == (key, line), str(e)
    assert words in e.detail
    assert str(e).startswith(f"city.toml:{line}: {key}:" if line else f"city.toml: {key}:")


def test_hallcity_says_the_mistake_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "city.toml"
    bad.write_text(GOOD.replace('kind = "county"', 'kind = "village"'), encoding="utf-8")
    assert main(["serve", "--config", str(bad)]) == 2
    assert f"{bad}:11: halls[0].kind:" in capsys.readouterr().err
