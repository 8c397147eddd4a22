"""Browser libraries from the npm registry (web/vendor.py): pinned, served by hallweb with a year's cache, or no start.

The library is the one `npm ci` installed into node_modules/ from package-lock.json (`./hall
setup` did it before this test ran); hallweb is the real `hallweb serve` process. The missing and
the stale cases start `hallweb serve` with `HALLWEB_NODE_MODULES` naming a folder made here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hallbus.controller.helpers import test_config_text as config_text
from tests.web.conftest import REPO, WebHall
from web.vendor import CACHE, LIBRARIES, NODE_MODULES_ENV, find_vendor


def test_every_library_is_pinned_and_installed_as_pinned() -> None:
    declared = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["dependencies"]
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    vendor = find_vendor()
    for name, (package, _inner) in LIBRARIES.items():
        exact = declared[package]
        assert exact[0].isdigit() and all(c.isdigit() or c == "." for c in exact), f"{package} {exact}: not an exact version"
        assert lock[f"node_modules/{package}"]["version"] == exact == vendor.versions[name]
        assert lock[f"node_modules/{package}"]["integrity"].startswith("sha512-")
        assert vendor.url(name) == f"/static/vendor/{name}?v={exact}"
    assert "/node_modules/" in (REPO / ".gitignore").read_text().splitlines()
    tracked = subprocess.run(["git", "ls-files", "node_modules", "web/static"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    assert not [p for p in tracked if p.startswith("node_modules/") or "echarts" in p], tracked


def test_hallweb_serves_the_library_with_a_year_of_cache(hall: WebHall) -> None:
    vendor = find_vendor()
    r = hall.get(vendor.url("echarts.min.js"))
    assert r.status_code == 200
    assert r.headers["cache-control"] == CACHE == "public, max-age=31536000, immutable"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["x-content-type-options"] == "nosniff" and "script-src 'self'" in r.headers["content-security-policy"]
    assert r.content == vendor.files["echarts.min.js"].read_bytes()
    assert r.headers.get("content-encoding") == "gzip", "1.1 MB of script goes compressed"
    again = hall.get(vendor.url("echarts.min.js"), headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    for path in ("/static/vendor/echarts.js", "/static/vendor/package.json", "/static/vendor/..%2Fpackage.json",
                 "/static/vendor/", "/static/vendor/echarts.min.js%00"):
        assert hall.get(path).status_code == 404, path
    assert hall.get("/static/admin.css").headers["cache-control"] == "public, max-age=3600", "the project's own files"


def start_without(tmp_path: Path, node_modules: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "hall.toml"
    config.write_text(config_text(tmp_path), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "web", "serve", "--config", str(config), "--broker", "mqtt://127.0.0.1:9"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, NODE_MODULES_ENV: str(node_modules)},
    )


def test_hallweb_does_not_start_without_node_modules(tmp_path: Path) -> None:
    done = start_without(tmp_path, tmp_path / "node_modules")
    assert done.returncode == 2, done
    assert "hallweb 找不到网页图表库 echarts" in done.stderr and "./hall setup" in done.stderr, done.stderr
    assert "hallweb cannot find the browser library echarts" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_hallweb_does_not_start_on_a_library_older_than_the_lock(tmp_path: Path) -> None:
    """A `git pull` that moved the pin without `./hall setup`: the old library is not served as the new."""
    shutil.copy(REPO / "package-lock.json", tmp_path / "package-lock.json")
    old = tmp_path / "node_modules" / "echarts"
    (old / "dist").mkdir(parents=True)
    (old / "dist" / "echarts.min.js").write_text("/* an older echarts */\n")
    (old / "package.json").write_text(json.dumps({"name": "echarts", "version": "5.4.3"}))
    pinned = find_vendor().versions["echarts.min.js"]
    done = start_without(tmp_path, tmp_path / "node_modules")
    assert done.returncode == 2, done
    assert f"已安装版本 5.4.3 与 package-lock.json 固定的 {pinned} 不一致" in done.stderr, done.stderr
    assert f"installed at 5.4.3 but package-lock.json pins {pinned}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm missing (./hall setup installs it)")
def test_the_hall_script_installs_the_pinned_libraries_when_missing_or_stale(tmp_path: Path) -> None:
    """`./hall`'s own npm step (`need_node_modules`) in a copy of the project's package files: real `npm ci`."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO / name, tmp_path / name)
    step = re.search(r"(?ms)^need_node_modules\(\) \{.*?^\}\n", (REPO / "hall").read_text())
    assert step, "the hall script has no need_node_modules"

    def run() -> str:
        done = subprocess.run(["bash", "-c", f"set -euo pipefail\n{step.group(0)}\nneed_node_modules"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert "npm ci" in run()
    assert find_vendor(tmp_path / "node_modules").versions == find_vendor().versions
    assert run() == "", "quick when nothing changed"
    os.utime(tmp_path / "package-lock.json")  # a pull that moved the pin
    (tmp_path / "node_modules" / "echarts" / "package.json").write_text('{"version": "5.4.3"}')
    assert "npm ci" in run()
    assert find_vendor(tmp_path / "node_modules").versions == find_vendor().versions
