"""Browser libraries from the npm registry, found in node_modules/ as package-lock.json pins them (framework-free).

`package.json` at the repository's root names each library at an exact version and
`package-lock.json` pins it with its hash; `./hall setup`, `test`, `demo` and `install` run
`npm ci` into `node_modules/` (git-ignored) when it is missing or older than the lock. The hall's
web service (`web/vendor.py`) and the city's wall (`city/wall.py`) serve the few files listed in
`LIBRARIES` from there; pages ask for `Vendor.url(name)`, which carries the installed version
(`?v=6.1.0`), so the answer can be kept by browsers for a year (`CACHE`) and an upgrade is still
fetched at once.

`find_vendor` runs at start-up: a library missing, or installed at another version than the lock
pins (a `git pull` without `./hall setup`), stops the service with a sentence in Chinese and
English saying what to run. `HALLWEB_NODE_MODULES` names another `node_modules/` folder (a hall
whose project is installed elsewhere; the tests' missing folder).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES_ENV = "HALLWEB_NODE_MODULES"
CACHE = "public, max-age=31536000, immutable"  # the URL changes with the version (`?v=`)

# served name -> (npm package, file inside it): the same for hallweb and the city wall.
LIBRARIES: dict[str, tuple[str, str]] = {
    "echarts.min.js": ("echarts", "dist/echarts.min.js"),
}


class VendorMissing(Exception):
    """A browser library is not installed as `package-lock.json` pins it; `message` (zh_CN) and `message_en`."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(f"{message}\n{message_en}")
        self.message = message
        self.message_en = message_en


@dataclass(frozen=True)
class Vendor:
    """The installed libraries: served name -> file on disk, and name -> installed version."""

    files: dict[str, Path]
    versions: dict[str, str]

    def url(self, name: str, base: str = "/static/vendor/") -> str:
        """The path a page loads `name` from (under `base`), with the version in the query (kept a year by browsers)."""
        return f"{base}{name}?v={self.versions[name]}"

    def etag(self, name: str) -> str:
        """The file's entity tag: its version and size (a browser that asks again with it gets 304)."""
        return f"{self.versions[name]}-{self.files[name].stat().st_size:x}"


def node_modules_dir() -> Path:
    """`HALLWEB_NODE_MODULES`, else `node_modules/` beside `package.json` at the repository's root."""
    given = os.environ.get(NODE_MODULES_ENV)
    return Path(given) if given else REPO / "node_modules"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pinned(node_modules: Path) -> dict[str, str]:
    """package -> version as `package-lock.json` beside `node_modules/` pins it ({} without a lock there)."""
    packages = _read_json(node_modules.parent / "package-lock.json").get("packages", {})
    return {k.removeprefix("node_modules/"): str(v.get("version", "")) for k, v in packages.items()
            if k.startswith("node_modules/") and isinstance(v, dict)}


def find_vendor(node_modules: Path | None = None, who: str = "hallweb") -> Vendor:
    """Every library of `LIBRARIES` in `node_modules` at the pinned version; raises VendorMissing saying what to run.

    `who` (hallweb, hallcity) is the service the sentence names.
    """
    where = node_modules or node_modules_dir()
    pinned = _pinned(where)
    files: dict[str, Path] = {}
    versions: dict[str, str] = {}
    for name, (package, inner) in LIBRARIES.items():
        path = where / package / inner
        installed = str(_read_json(where / package / "package.json").get("version", ""))
        if not path.is_file() or not installed:
            raise VendorMissing(
                f"{who} 找不到网页图表库 {package}（应在 {path}）。请在项目目录运行 ./hall setup"
                f"（或 npm ci）安装 package.json 中固定版本的网页库后再启动。",
                f"{who} cannot find the browser library {package} (expected at {path}). Run ./hall setup "
                f"(or npm ci) in the project's folder to install the pinned libraries of package.json, then start again.",
            )
        want = pinned.get(package)
        if want and want != installed:
            raise VendorMissing(
                f"网页库 {package} 的已安装版本 {installed} 与 package-lock.json 固定的 {want} 不一致。"
                f"请在项目目录运行 ./hall setup（或 npm ci）后再启动。",
                f"The browser library {package} is installed at {installed} but package-lock.json pins {want}. "
                f"Run ./hall setup (or npm ci) in the project's folder, then start again.",
            )
        files[name], versions[name] = path, installed
    return Vendor(files, versions)
