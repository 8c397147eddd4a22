"""The controller-only staff secrets file: read, checked with file:line: key, merged, and split out of old configs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hallbus.config import ConfigError, parse_config
from hallbus.staff_secrets import (
    inline_secret_ids,
    inline_warning,
    split_config,
    with_staff_secrets,
)
from tests.hallbus.controller import helpers

HASH = "pbkdf2_sha256$1000$c2FsdA==$aGFzaA=="


def hall_with_secrets(tmp_path: Path, secrets: str) -> tuple[Path, Path]:
    """The sample hall whose `staff_secrets_file` is a file with `secrets` in it."""
    sec = tmp_path / "staff-secrets.toml"
    sec.write_text(secrets, encoding="utf-8")
    text = re.sub(r"(?m)^staff_secrets_file = .*$", f'staff_secrets_file = "{sec}"', helpers.test_config_text(tmp_path))
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path, sec


def merged(path: Path):  # type: ignore[no-untyped-def]
    return with_staff_secrets(parse_config(path.read_text(encoding="utf-8"), path))


def test_the_sample_hall_toml_carries_no_secret_and_its_file_gives_them_all() -> None:
    from hallbus.config import load_config

    cfg = load_config()
    assert inline_secret_ids(cfg) == [] and inline_warning(cfg) is None
    full = with_staff_secrets(cfg)
    assert all(s.password_hash and s.badge_uid for s in full.staff)
    assert [s.name for s in full.staff] == [s.name for s in cfg.staff]  # what screens show stays as it was


@pytest.mark.parametrize(("secrets", "key", "line", "words"), [
    ('[[staff]]\nid = "s001"\npassword_hash = "x"\n', "staff[0].password_hash", 3, "pbkdf2_sha256$ITER$SALT$HASH"),
    (f'[[staff]]\nid = "s001"\n\n[[staff]]\nid = "s999"\npassword_hash = "{HASH}"\n', "staff[1].id", 5, "no staff"),
    ('[[staff]]\nid = "s001"\npasword_hash = "x"\n', "staff[0].pasword_hash", 3, "unknown key"),
    ('[[staff]]\nid = "s001"\n[[staff]]\nid = "s001"\n', "staff[1].id", 4, "used twice"),
    ('[[staff]]\nbadge_uid = "01"\n', "staff[0].id", 1, "required"),
])
def test_errors_name_the_secrets_file_its_line_and_key(
    tmp_path: Path, secrets: str, key: str, line: int, words: str
) -> None:
    path, sec = hall_with_secrets(tmp_path, secrets)
    with pytest.raises(ConfigError) as err:
        merged(path)
    assert err.value.path == str(sec) and err.value.key == key and err.value.line == line, str(err.value)
    assert words in str(err.value)


def test_a_missing_file_and_a_badge_given_twice_are_refused(tmp_path: Path) -> None:
    path, sec = hall_with_secrets(tmp_path, "")
    sec.unlink()
    with pytest.raises(ConfigError, match="file not found"):
        merged(path)
    path, sec = hall_with_secrets(
        tmp_path, '[[staff]]\nid = "s001"\nbadge_uid = "04:AA"\n[[staff]]\nid = "s002"\nbadge_uid = "04aa"\n')
    with pytest.raises(ConfigError, match="given to s001 and to s002"):
        merged(path)


def test_an_old_hall_toml_still_works_warns_and_the_file_wins(tmp_path: Path) -> None:
    path, _sec = hall_with_secrets(tmp_path, f'[[staff]]\nid = "s002"\npassword_hash = "{HASH}"\n')
    text = path.read_text(encoding="utf-8").replace(
        'id = "s001"\n', 'id = "s001"\nbadge_uid = "0a0b0c"\npassword_hash = "inline"\n', 1).replace(
        'id = "s002"\n', 'id = "s002"\npassword_hash = "inline-2"\n', 1)
    cfg = parse_config(text, path)
    assert inline_secret_ids(cfg) == ["s001", "s002"]
    assert "copied to every node" in (inline_warning(cfg) or "")
    full = with_staff_secrets(cfg)
    s1, s2 = full.staff_member("s001"), full.staff_member("s002")
    assert s1 is not None and s1.badge_uid == "0a0b0c" and s1.password_hash == "inline"
    assert s2 is not None and s2.password_hash == HASH


@pytest.mark.parametrize("privacy", ["keep", "none", "absent"])
def test_split_leaves_the_node_file_without_a_secret(tmp_path: Path, privacy: str) -> None:
    text = helpers.test_config_text(tmp_path).replace('id = "s003"\n', 'id = "s003"\nbadge_uid = "0a0b0c0d"\n'
                                               f'password_hash = "{HASH}"\n', 1)
    if privacy != "keep":
        text = re.sub(r"(?m)^staff_secrets_file = .*\n", "", text)
    if privacy == "absent":
        text = re.sub(r"(?m)^\[privacy\]\n", "", text).replace("\nkey_file = ", "\n# key_file = ", 1)
    path = tmp_path / "old.toml"
    path.write_text(text, encoding="utf-8")
    nodes, secrets = split_config(parse_config(text, path), str(tmp_path / "sec.toml"))
    assert "0a0b0c0d" not in nodes and HASH not in nodes and "password_hash" not in nodes
    (tmp_path / "sec.toml").write_text(secrets, encoding="utf-8")
    node_cfg = parse_config(nodes, tmp_path / "new.toml")
    assert node_cfg.privacy.staff_secrets_file == str(tmp_path / "sec.toml")
    s3 = with_staff_secrets(node_cfg).staff_member("s003")
    assert s3 is not None
    if privacy == "keep":  # a secrets file was named already: it won at run time, so it wins in the split
        assert s3.badge_uid == "04a1b2c3030e80" and s3.password_hash != HASH
    else:
        assert s3.badge_uid == "0a0b0c0d" and s3.password_hash == HASH


def test_login_limits_are_checked(tmp_path: Path) -> None:
    text = helpers.test_config_text(tmp_path, extra="[login]\nbackoff_s = 60\nmax_backoff_s = 10\n")
    with pytest.raises(ConfigError) as err:
        parse_config(text, "hall.toml")
    assert err.value.key == "login.max_backoff_s" and err.value.line is not None


def test_a_secrets_file_every_user_may_read_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path, sec = hall_with_secrets(tmp_path, f'[[staff]]\nid = "s001"\npassword_hash = "{HASH}"\n')
    sec.chmod(0o640)
    merged(path)
    assert "readable by every user" not in caplog.text
    sec.chmod(0o644)
    merged(path)
    assert "readable by every user" in caplog.text and "chmod 640" in caplog.text
