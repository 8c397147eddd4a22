"""The evaluation tablet end to end: real QML, the real broker and controller, the durable outbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kiosk.helpers import find, item, text_of, touch
from tests.kiosk.rolefixtures import RoleHall, issue, login, state_of


def _served(role_hall: RoleHall, window: str, staff: str) -> str:
    """A ticket issued, called and finished at `window`: its rating request is open."""
    terminal = role_hall.rpc("terminal-1", "terminal")
    counter = role_hall.rpc(f"counter-{window}", "counter")
    login(counter, window, staff)
    number = issue(terminal, "A")
    counter.call("window.call_next", {"window": window})
    counter.call("window.finish", {"window": window})
    return number


@pytest.mark.slow
def test_a_rating_survives_a_broker_outage_and_a_restart_and_arrives_once(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any, tmp_path: Any
) -> None:
    data = tmp_path / "tablet-data"
    tablet = start_kiosk("tablet", "tablet-1", data=data)
    number = _served(role_hall, "1", "s001")
    item(qtbot, tablet.window, "tablet_faces")

    role_hall.broker.stop()  # between the tap and the acknowledgement
    qtbot.waitUntil(lambda: not tablet.bus.connected, timeout=5000)
    touch(qtbot, tablet.window, "face_4")  # 满意: no reasons needed
    item(
        qtbot, tablet.window, "tablet_thanks"
    )  # thanks at once: the rating is stored on the tablet
    outbox = tablet.role.keep[1]
    assert [i.body["level"] for i in outbox.pending()] == [4]
    touch(qtbot, tablet.window, "tablet_thanks")  # a second tap does nothing
    assert state_of(tablet).submitted == 1

    tablet.stop()  # the tablet is switched off with the rating still in its outbox
    role_hall.broker.start()
    again = start_kiosk("tablet", "tablet-1", data=data)
    qtbot.waitUntil(lambda: not again.role.keep[1].pending(), timeout=10000)
    rows = role_hall.query("SELECT level, window, ticket, staff FROM rec_ratings")
    assert rows == [(4, "1", number, "s001")]
    # the request is answered: the restarted tablet does not offer the faces again
    qtbot.waitUntil(
        lambda: state_of(again).state is not None and state_of(again).state.rating_request is None,
        timeout=5000,
    )
    assert state_of(again).screen == "idle"
    assert role_hall.query("SELECT COUNT(*) FROM rec_ratings") == [(1,)]


def test_a_rating_not_given_times_out_or_expires_and_records_nothing(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    tablet = start_kiosk("tablet", "tablet-2")
    st = state_of(tablet)
    st.timeout_s = 1.5  # [ratings] tablet_timeout_s, shortened for the test
    _served(role_hall, "2", "s002")
    item(qtbot, tablet.window, "tablet_faces")
    qtbot.waitUntil(lambda: st.screen == "idle", timeout=5000)  # nobody touched it
    item(qtbot, tablet.window, "tablet_idle")

    _served(role_hall, "2", "s002")  # the next person: faces again, then the request expires
    st.timeout_s = 600
    qtbot.waitUntil(lambda: st.screen == "faces", timeout=5000)
    role_hall.clock.advance(role_hall.config.ratings.request_ttl_s + 1)
    qtbot.waitUntil(lambda: st.screen == "idle", timeout=5000)
    assert role_hall.query("SELECT COUNT(*) FROM rec_ratings") == [
        (0,)
    ]  # never a default "satisfied"
    assert st.submitted == 0


def test_idle_shows_who_serves_and_a_paused_window(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    counter = role_hall.rpc("counter-4", "counter")
    tablet = start_kiosk("tablet", "tablet-4")
    login(counter, "4", "s004")
    name = item(qtbot, tablet.window, "tablet_staff_name")
    qtbot.waitUntil(lambda: text_of(name) == "刘洋", timeout=5000)
    assert "s004" in text_of(item(qtbot, tablet.window, "tablet_staff_id"))
    assert text_of(item(qtbot, tablet.window, "tablet_stars")).strip() == "4.7"
    assert find(tablet.window, "tablet_paused") is None
    counter.call("window.pause", {"window": "4", "reason": "业务培训"})
    item(qtbot, tablet.window, "tablet_paused")
    assert state_of(tablet).view("idle")["pauseReason"] == "业务培训"


def test_the_next_persons_faces_show_while_the_last_one_is_still_thanked(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    tablet = start_kiosk("tablet", "tablet-3")
    st = state_of(tablet)
    _served(role_hall, "3", "s003")
    item(qtbot, tablet.window, "tablet_faces")
    touch(qtbot, tablet.window, "face_5")
    item(qtbot, tablet.window, "tablet_thanks")
    second = _served(role_hall, "3", "s003")  # a quick matter: finished before the thanks are over
    qtbot.waitUntil(lambda: st.screen == "faces", timeout=5000)
    assert st.request is not None and st.request.ticket == second
    item(qtbot, tablet.window, "tablet_faces")
