"""`hallbus staff-secrets create-manager`: the console's first manager from the command line, never a default password."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from hallbus.config import load_config
from hallbus.controller.app import build_controller
from hallbus.controller.clock import ManualClock
from hallbus.passwords import verify_password
from hallbus.staff_secrets import with_staff_secrets
from tests.hallbus.controller.helpers import T0, RecordingPublisher, request
from tests.hallbus.test_staff_secrets import hall_with_secrets

REPO = Path(__file__).resolve().parents[2]
SAMPLE_SECRETS = (REPO / "assets" / "staff-secrets.example.toml").read_text(encoding="utf-8")


def create(config: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallbus", "staff-secrets", "create-manager", "--config", str(config), *args],
        input=password + "\n", capture_output=True, text=True, timeout=60, cwd=REPO,
    )


def test_a_new_manager_is_added_and_can_sign_in_to_the_console(tmp_path: Path) -> None:
    config, secrets = hall_with_secrets(tmp_path, SAMPLE_SECRETS)
    secrets.chmod(0o640)
    out = create(config, "--staff", "m001", "--name", "赵主任", password="a long secret 1")
    assert out.returncode == 0, out.stderr
    assert "restart the controller" in out.stderr.lower()
    text = config.read_text(encoding="utf-8")
    assert 'id = "m001"\nname = "赵主任"\nrole = "manager"' in text and "pbkdf2" not in text, "no secret in hall.toml"
    assert secrets.stat().st_mode & 0o777 == 0o640, "the secrets file keeps its mode"
    cfg = with_staff_secrets(load_config(config))
    m = next(s for s in cfg.staff if s.id == "m001")
    assert m.role == "manager" and m.password_hash and verify_password("a long secret 1", m.password_hash)
    s001 = next(s for s in cfg.staff if s.id == "s001")
    assert s001.badge_uid == "04a1b2c3010080" and verify_password("hall001", s001.password_hash or ""), "others kept"
    # the controller started on it lets m001 in as a manager
    ctl = build_controller(load_config(config), tmp_path / "data", clock=ManualClock(T0), hall_key=b"k" * 32,
                           publisher=RecordingPublisher(), refresh_async=False)
    try:
        req = request("admin.login", {"staff": "m001", "password": "a long secret 1",
                                      "session_hash": hashlib.sha256(b"t").hexdigest()}, caller="web")
        work = ctl.slow_work(req)
        assert work is not None
        work()
        reply = ctl.handle_batch([req])[0]
        assert reply.ok and reply.data is not None and reply.data["account"]["role"] == "manager"
    finally:
        ctl.close()


def test_an_existing_member_is_promoted_and_gets_the_new_password(tmp_path: Path) -> None:
    config, _ = hall_with_secrets(tmp_path, SAMPLE_SECRETS)
    assert create(config, "--staff", "s002", password="another secret").returncode == 0
    text = config.read_text(encoding="utf-8")
    assert re.search(r'id = "s002"\nrole = "manager"\nname = "王芳"', text)
    cfg = with_staff_secrets(load_config(config))
    s002 = next(s for s in cfg.staff if s.id == "s002")
    assert s002.role == "manager" and verify_password("another secret", s002.password_hash or "")
    assert not verify_password("hall002", s002.password_hash or "")
    # again: the role line is there already and stays one line
    assert create(config, "--staff", "s002", password="a third secret").returncode == 0
    assert config.read_text(encoding="utf-8").count('role = "manager"') == 1


def test_no_short_password_no_unknown_member_without_a_name_nothing_changed(tmp_path: Path) -> None:
    config, secrets = hall_with_secrets(tmp_path, SAMPLE_SECRETS)
    before = (config.read_text(encoding="utf-8"), secrets.read_text(encoding="utf-8"))
    short = create(config, "--staff", "s001", password="short")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    empty = create(config, "--staff", "s001", password="")
    assert empty.returncode == 2
    nameless = create(config, "--staff", "m009", password="a long secret 1")
    assert nameless.returncode == 2 and "--name" in nameless.stderr
    assert (config.read_text(encoding="utf-8"), secrets.read_text(encoding="utf-8")) == before


def test_a_hall_without_a_secrets_file_is_told_to_make_one(tmp_path: Path) -> None:
    config, _ = hall_with_secrets(tmp_path, SAMPLE_SECRETS)
    text = re.sub(r"(?m)^staff_secrets_file = .*$", "", config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")
    out = create(config, "--staff", "m001", "--name", "赵主任", password="a long secret 1")
    assert out.returncode == 2 and "staff_secrets_file" in out.stderr
    assert config.read_text(encoding="utf-8") == text
