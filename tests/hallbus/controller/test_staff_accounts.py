"""Staff accounts changed in the console (`admin.staff.*`): each change and each refusal, in the controller.

The controller is built with the console's modules over a real store; requests run as the
RPC server runs them (the slow work on this thread first, then the writer's batch). What a
change does is checked where it counts: window.login by password and by badge, the console's
login and sessions, the window state's staff card, the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.admin import admin_module
from hallbus.controller.app import build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.staff_accounts import staff_accounts_module
from hallbus.passwords import hash_password
from hallbus.reports.module import ReportsModule
from hallbus.rpc import RpcFault
from tests.hallbus.controller import test_admin_sessions as sessions
from tests.hallbus.controller.helpers import RecordingPublisher
from tests.hallbus.controller.test_admin_sessions import code_of, login, rpc

NEW_PASSWORD = "Kaimen-2026"


config = sessions.config  # the sample hall: s001 a manager, s002 a supervisor, [login] limits


@pytest.fixture
def ctl(config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Controller]:
    c = build_controller(
        config, tmp_path / "data", clock=clock, hall_key=b"k" * 32, publisher=RecordingPublisher(),
        factories=[admin_module, staff_accounts_module], refresh_async=False,
    )
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def manager(ctl: Controller) -> str:
    return login(ctl, "s001", "hall001")[0]


def staff_rpc(ctl: Controller, method: str, session: str, **body: Any) -> dict[str, Any]:
    return rpc(ctl, f"admin.staff.{method}", {"session": session, "client": "10.0.0.5", **body})


def listed(ctl: Controller, session: str) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in staff_rpc(ctl, "list", session)["staff"]}


def counter_login(ctl: Controller, window: str, **body: Any) -> str:
    return code_of(lambda: rpc(ctl, "window.login", {"window": window, **body}, caller=f"counter-{window}"))


def audit_lines(ctl: Controller) -> list[tuple[str, str, str | None, str | None]]:
    rows = ctl.store.conn.execute(
        "SELECT action, subject, before, after FROM audit_log WHERE action LIKE 'staff.%' ORDER BY id"
    ).fetchall()
    return [(str(a), str(s), b, c) for a, s, b, c in rows]


def test_a_member_added_with_a_password_signs_in_at_a_counter_and_shows_on_the_window(
    ctl: Controller, manager: str
) -> None:
    added = staff_rpc(ctl, "add", manager, id="s101", name="周新", title="科员", department="综合窗口",
                      password=NEW_PASSWORD, badge_uid="04:AA:BB:CC:DD:EE:01")["member"]
    assert added["source"] == "console" and added["version"] == 1 and added["has_password"] is True
    assert added["badge"] == "…ee01", "the list shows a badge's last 4 characters only"
    assert counter_login(ctl, "1", staff="s101", password="wrong-pass") == "login_failed"
    state = rpc(ctl, "window.login", {"window": "1", "staff": "s101", "password": NEW_PASSWORD}, caller="counter-1")
    assert state["window"]["staff"]["name"] == "周新" and state["window"]["staff"]["title"] == "科员"
    rpc(ctl, "window.logout", {"window": "1"}, caller="counter-1")
    assert counter_login(ctl, "2", badge_uid="04aabbccddee01") == "ok", "the badge signs them in too"
    # the reply stored for redelivery and the audit log hold no password and no hash
    stored = repr(ctl.store.conn.execute("SELECT reply FROM rpc_replies").fetchall())
    assert NEW_PASSWORD not in stored and "pbkdf2" not in stored
    lines = audit_lines(ctl)
    assert [a for a, *_ in lines] == ["staff.add"]
    assert NEW_PASSWORD not in repr(lines) and "pbkdf2" not in repr(lines) and "04aabbccddee01" not in repr(lines)
    assert json.loads(lines[0][3] or "{}")["password"] == "set"


def test_disabling_refuses_counter_and_console_logins_and_ends_sessions(ctl: Controller, manager: str) -> None:
    s3_session, _ = login(ctl, "s003", "hall003")
    version = listed(ctl, manager)["s003"]["version"]
    assert version == 0, "a hall.toml member never changed in the console"
    after = staff_rpc(ctl, "disable", manager, id="s003", version=version)["member"]
    assert after["disabled"] is True and "disabled" in after["changed"]
    assert code_of(lambda: rpc(ctl, "admin.session", {"session": s3_session})) == "session_invalid"
    assert ctl.store.conn.execute("SELECT COUNT(*) FROM admin_sessions WHERE staff = 's003'").fetchone()[0] == 0
    assert counter_login(ctl, "1", staff="s003", password="hall003") == "login_failed"
    assert counter_login(ctl, "1", badge_uid="04a1b2c3030e80") == "login_failed", "their badge no longer works"
    assert code_of(lambda: login(ctl, "s003", "hall003")) == "login_failed"
    staff_rpc(ctl, "enable", manager, id="s003", version=after["version"])
    assert counter_login(ctl, "1", staff="s003", password="hall003") == "ok"
    actions = [(a, json.loads(b or "null"), json.loads(c or "null")) for a, _s, b, c in audit_lines(ctl)]
    assert actions == [("staff.disable", {"disabled": False}, {"disabled": True, "sessions_ended": 1}),
                       ("staff.enable", {"disabled": True}, {"disabled": False})]


def test_a_reset_password_replaces_the_old_one_everywhere(ctl: Controller, manager: str) -> None:
    version = listed(ctl, manager)["s004"]["version"]
    staff_rpc(ctl, "password", manager, id="s004", version=version, password=NEW_PASSWORD)
    assert counter_login(ctl, "1", staff="s004", password="hall004") == "login_failed"
    assert counter_login(ctl, "1", staff="s004", password=NEW_PASSWORD) == "ok"
    token, data = login(ctl, "s004", NEW_PASSWORD)
    assert data["account"]["id"] == "s004"
    (action, subject, before, after), = audit_lines(ctl)
    assert (action, subject, json.loads(before or ""), json.loads(after or "")) == (
        "staff.password", "staff-s004", {"password": "set"}, {"password": "new"})
    too_short = code_of(lambda: staff_rpc(ctl, "password", manager, id="s004", version=1, password="short"))
    assert too_short == "bad_password"


def test_a_role_change_counts_at_the_next_request(ctl: Controller, manager: str) -> None:
    supervisor, _ = login(ctl, "s002", "hall002")
    assert "s001" in listed(ctl, supervisor), "a supervisor reads the list"
    assert code_of(lambda: staff_rpc(ctl, "disable", supervisor, id="s005", version=0)) == "forbidden"
    staff_rpc(ctl, "update", manager, id="s002", version=0, role="staff")
    assert code_of(lambda: listed(ctl, supervisor)) == "forbidden", "demoted: refused at once, same session"
    staff_rpc(ctl, "update", manager, id="s002", version=1, role="manager")
    assert staff_rpc(ctl, "disable", supervisor, id="s005", version=0)["member"]["disabled"] is True


def test_staff_and_non_web_nodes_are_refused(ctl: Controller) -> None:
    staff, _ = login(ctl, "s005", "hall005")
    assert code_of(lambda: staff_rpc(ctl, "list", staff)) == "forbidden"
    assert code_of(lambda: staff_rpc(ctl, "add", staff, id="s102", name="x")) == "forbidden"
    assert code_of(lambda: staff_rpc(ctl, "list", "no-such-session")) == "session_invalid"


def test_a_stale_version_is_refused_and_changes_nothing(ctl: Controller, manager: str) -> None:
    staff_rpc(ctl, "update", manager, id="s006", version=0, title="副科长")
    with pytest.raises(RpcFault) as err:
        staff_rpc(ctl, "update", manager, id="s006", version=0, name="别人改的")
    assert err.value.code == "conflict" and "s001" in err.value.message
    m = listed(ctl, manager)["s006"]
    assert (m["name"], m["title"], m["version"]) == ("杨磊", "副科长", 1)
    assert m["changed"] == ["title"]
    # setting it back to hall.toml's value: no longer shown as changed
    back = staff_rpc(ctl, "update", manager, id="s006", version=1, title="一级科员")["member"]
    assert back["changed"] == [] and back["version"] == 2


def test_a_badge_is_one_persons(ctl: Controller, manager: str) -> None:
    with pytest.raises(RpcFault) as err:
        staff_rpc(ctl, "update", manager, id="s006", version=0, badge_uid="04 A1 B2 C3 01 00 80")
    assert err.value.code == "badge_in_use" and "李明" in err.value.message and "s001" in err.value.message
    assert code_of(lambda: staff_rpc(ctl, "update", manager, id="s006", version=0, badge_uid="zz")) == "bad_badge"
    # s001's badge taken away, then given to s006: it signs s006 in
    staff_rpc(ctl, "update", manager, id="s001", version=0, badge_uid="")
    staff_rpc(ctl, "update", manager, id="s006", version=0, badge_uid="04a1b2c3010080")
    state = rpc(ctl, "window.login", {"window": "1", "badge_uid": "04a1b2c3010080"}, caller="counter-1")
    assert state["window"]["staff"]["id"] == "s006"


def test_a_manager_keeps_their_own_rights(ctl: Controller, manager: str) -> None:
    assert code_of(lambda: staff_rpc(ctl, "disable", manager, id="s001", version=0)) == "own_account"
    assert code_of(lambda: staff_rpc(ctl, "update", manager, id="s001", version=0, role="staff")) == "own_account"
    # another manager may demote the first; they cannot disable themselves, the hall's last manager now
    staff_rpc(ctl, "update", manager, id="s007", version=0, role="manager")
    other, _ = login(ctl, "s007", "hall007")
    staff_rpc(ctl, "update", other, id="s001", version=0, role="supervisor")
    assert code_of(lambda: staff_rpc(ctl, "disable", other, id="s007", version=1)) == "own_account"
    assert listed(ctl, other)["s001"]["role"] == "supervisor"


def test_bad_fields_are_refused_with_their_reason(ctl: Controller, manager: str) -> None:
    def add(**body: Any) -> str:
        return code_of(lambda: staff_rpc(ctl, "add", manager, **{"id": "s110", "name": "新人", **body}))

    assert add(id="bad id!") == "bad_id"
    assert add(id="s001") == "staff_exists"
    assert add(name="  ") == "bad_name"
    assert add(name="x" * 41) == "bad_name"
    assert add(title="\x07") == "bad_title"
    assert add(department="部" * 41) == "bad_department"
    assert add(photo="javascript:alert(1)") == "bad_photo"
    assert add(photo="../secrets/x.png") == "bad_photo"
    assert add(password="s110") == "bad_password"
    assert listed(ctl, manager).get("s110") is None, "nothing was added"
    assert add(photo="photos/s110.jpg") == "ok"
    assert add() == "staff_exists"


def test_a_changed_name_reaches_the_seated_windows_state(ctl: Controller, manager: str) -> None:
    rpc(ctl, "window.login", {"window": "3", "staff": "s008", "password": "hall008"}, caller="counter-3")
    xss = "<script>alert(1)</script>王"
    staff_rpc(ctl, "update", manager, id="s008", version=0, name=xss, photo="https://intranet.example/p/s008.png")
    published = ctl.publisher.states  # type: ignore[attr-defined]
    state = schemas.decode(published[ctl.topics.window_state("3")], schemas.WindowState)
    assert state.staff is not None and (state.staff.name, state.staff.photo_url) == (
        xss, "https://intranet.example/p/s008.png")


def test_a_console_member_survives_a_restart_and_their_wrong_passwords_back_off(
    config: HallConfig, clock: ManualClock, tmp_path: Path
) -> None:
    def controller() -> Controller:
        return build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32,
                                publisher=RecordingPublisher(), factories=[admin_module, staff_accounts_module],
                                refresh_async=False)

    first = controller()
    try:
        staff_rpc(first, "add", login(first, "s001", "hall001")[0], id="s120", name="吴新", password=NEW_PASSWORD)
    finally:
        first.close()
    again = controller()
    try:
        again.publish_all()  # as the running controller does at start
        assert counter_login(again, "1", staff="s120", password=NEW_PASSWORD) == "ok"
        rpc(again, "window.logout", {"window": "1"}, caller="counter-1")
        # the console's member has a back-off key of their own, as hall.toml's staff do ([login] 3 free attempts)
        tries = [counter_login(again, str(1 + i % 2), staff="s120", password=f"guess-{i}") for i in range(4)]
        assert tries == ["login_failed"] * 3 + ["login_throttled"]
        assert counter_login(again, "3", staff="s120", password=NEW_PASSWORD) == "login_throttled", "from any window"
    finally:
        again.close()


def test_the_staff_report_names_console_members(config: HallConfig, clock: ManualClock, tmp_path: Path) -> None:
    c = build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32, publisher=RecordingPublisher(),
                         factories=[admin_module, staff_accounts_module, ReportsModule], refresh_async=False)
    try:
        boss = login(c, "s001", "hall001")[0]
        staff_rpc(c, "add", boss, id="s130", name="郑新", password=NEW_PASSWORD)
        staff_rpc(c, "update", boss, id="s002", version=0, name="王芳芳")
        day = clock().date().isoformat()
        report = rpc(c, "report.query", {"kind": "staff", "from": day, "to": day, "session": boss})
        keys = [col["key"] for col in report["columns"]]
        rows = {row[keys.index("key")]: row for row in report["rows"]}
        assert rows["s130"][keys.index("name")] == "郑新" and rows["s002"][keys.index("name")] == "王芳芳"
    finally:
        c.close()


def test_a_later_change_in_the_files_wins_over_an_older_one_in_the_console(
    config: HallConfig, clock: ManualClock, tmp_path: Path
) -> None:
    """`hallbus staff-secrets create-manager` (a new hash in the secrets file) or an edit of hall.toml is newer."""
    def controller(cfg: HallConfig) -> Controller:
        return build_controller(cfg, tmp_path / "data", clock=clock, hall_key=b"k" * 32,
                                publisher=RecordingPublisher(), factories=[admin_module, staff_accounts_module],
                                refresh_async=False)

    first = controller(config)
    try:
        boss = login(first, "s001", "hall001")[0]
        staff_rpc(first, "password", boss, id="s004", version=0, password=NEW_PASSWORD)
        staff_rpc(first, "update", boss, id="s006", version=0, name="杨磊磊", title="副科长")
    finally:
        first.close()
    # the secrets file gets a new hash for s004, hall.toml a new name for s006 (not a new title)
    secrets_file = config.resolve(config.privacy.staff_secrets_file or "")
    text = secrets_file.read_text(encoding="utf-8")
    s004 = text.index('id = "s004"')
    old_hash = text[s004:].split("password_hash = ", 1)[1].split("\n", 1)[0]
    mine = tmp_path / "staff-secrets.toml"
    mine.write_text(text.replace(old_hash, json.dumps(hash_password("reset-by-cli-1"))), encoding="utf-8")
    staff = [msgspec.structs.replace(s, name="杨石") if s.id == "s006" else s for s in config.staff]
    privacy = msgspec.structs.replace(config.privacy, staff_secrets_file=str(mine))
    later = controller(msgspec.structs.replace(config, staff=staff, privacy=privacy))
    try:
        later.publish_all()
        assert counter_login(later, "1", staff="s004", password=NEW_PASSWORD) == "login_failed"
        assert counter_login(later, "1", staff="s004", password="reset-by-cli-1") == "ok"
        m = listed(later, login(later, "s001", "hall001")[0])["s006"]
        assert (m["name"], m["title"], m["changed"]) == ("杨石", "副科长", ["title"])
    finally:
        later.close()


def test_a_member_changes_their_own_password_with_the_old_one(ctl: Controller) -> None:
    mine, _ = login(ctl, "s005", "hall005")  # a staff account: its own password only

    def own(**body: str) -> str:
        return code_of(lambda: staff_rpc(ctl, "own_password", mine, **{"staff": "s005", **body}))

    assert own(staff="s006", old_password="hall006", new_password=NEW_PASSWORD) == "forbidden"
    assert own(old_password="hall005", new_password="short") == "bad_password"
    assert own(old_password="hall005", new_password=NEW_PASSWORD) == "ok"
    assert counter_login(ctl, "1", staff="s005", password="hall005") == "login_failed"
    assert counter_login(ctl, "1", staff="s005", password=NEW_PASSWORD) == "ok"
    # wrong old passwords back off like wrong console passwords ([login] 3 free), and are audited
    assert [own(old_password=f"guess-{i}", new_password="Another-2026") for i in range(4)] == (
        ["wrong_password"] * 3 + ["login_throttled"])
    assert code_of(lambda: login(ctl, "s005", NEW_PASSWORD)) == "login_throttled", "the same key as console logins"
    actions = [a for a, *_ in audit_lines(ctl)]
    assert actions == ["staff.own_password"] + ["staff.own_password_failed"] * 3
    assert NEW_PASSWORD not in repr(audit_lines(ctl))
