"""The shipped sample hall made ready to run anywhere, at any hour (demo, benchmarks).

The sample config keeps real opening hours; a demo at 22:00 would only ever say
"closed". `open_all_day` rewrites a copy with every service open around the clock and
its state, key and outbox paths inside one folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from hallbus.config import DEFAULT_CONFIG, HallConfig, parse_config


def all_day_text(base_dir: Path, text: str | None = None) -> str:
    """Config text of the sample hall (or `text`) with every service open all day, state under `base_dir`."""
    text = text if text is not None else DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^hours = .*\n", "", text)
    text = re.sub(r"(?m)^slots = .*\n", "", text)
    text = text.replace("[[services]]\n", '[[services]]\nhours = ["00:00-24:00"]\n')
    text = re.sub(r'(?m)^key_file = ".*"', f'key_file = "{base_dir / "hall.key"}"', text)
    text = re.sub(r'(?m)^secret_key_file = ".*"', f'secret_key_file = "{base_dir / "web.key"}"', text)
    return re.sub(r'(?m)^data_dir = ".*"', f'data_dir = "{base_dir / "data"}"', text)


def open_all_day(base_dir: Path, *, text: str | None = None, extra: str = "") -> tuple[Path, HallConfig]:
    """Write `base_dir/hall.toml`: the sample hall open all day, state under `base_dir`."""
    base_dir.mkdir(parents=True, exist_ok=True)
    text = all_day_text(base_dir, text) + "\n" + extra
    path = base_dir / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path, parse_config(text, path)
