"""One rating vocabulary (issue 16 item 12): the tablet, the terminal and the controller share levels,
reasons, words, the rule and the promise, from `hallbus.schemas.rating`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.records import ratings as controller
from hallbus.rpc import RpcFault
from hallbus.schemas import rating
from kiosk.common.i18n import Catalogue
from kiosk.common.rating import level_choices, reason_choices, thanks_text
from kiosk.qt.drive import visible_items
from kiosk.tablet.state import TabletState
from tests.kiosk.helpers import item, text_of
from tests.kiosk.statepayloads import CAT, CFG, TS, Sink, wstate

I18N = Path(__file__).resolve().parents[2] / "assets" / "i18n"


def _bigrams(text: str) -> set[str]:
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return {a + b for a, b in itertools.pairwise(han)}


def test_the_controller_accepts_exactly_the_vocabulary_the_screens_show() -> None:
    assert controller.LEVELS is rating.LEVELS and controller.REASONS is rating.REASONS
    shown_levels = [c["level"] for c in level_choices()]
    assert shown_levels == [5, 4, 3, 2, 1]
    shown = [c["code"] for c in reason_choices()]
    assert shown == list(rating.REASONS)
    for code in shown:
        assert controller.check_level_and_reasons(1, [code], "说明") == [code]
    for stale in ("overdue", "come_again", "material_demands"):
        try:
            controller.check_level_and_reasons(1, [stale], "说明")
        except RpcFault as e:
            assert e.code == "bad_reason"
        else:
            raise AssertionError(f"the controller still accepts {stale!r}")


def test_no_two_reasons_say_nearly_the_same_thing() -> None:
    words = {code: zh for code, (zh, _en) in rating.REASONS.items()}
    for (a, wa), (b, wb) in itertools.combinations(words.items(), 2):
        shared = _bigrams(wa) & _bigrams(wb)
        assert not shared, f"{a} ({wa}) and {b} ({wb}) share {shared}: one complaint, two buttons"


def test_the_words_live_in_one_place_not_in_the_catalogues() -> None:
    for path in I18N.glob("*.json"):
        keys = json.loads(path.read_text(encoding="utf-8"))
        copies = [k for k in keys if k.startswith(("rating_level_", "rating_reason_"))]
        assert not copies, f"{path.name} repeats the rating vocabulary: {copies}"
        promises = [k for k, v in keys.items() if "规定时间" in v or ("工作日内" in v and "{n}" not in v)]
        assert not promises, f"{path.name}: a follow-up promise not taken from [ratings] followup_days: {promises}"


def test_the_tablet_and_the_terminal_apply_the_controllers_rule() -> None:
    cases = [(5, [], ""), (2, [], ""), (2, ["attitude"], ""), (1, ["other"], ""), (1, ["other"], "  "),
             (1, ["other", "integrity"], "窗口要求送礼"), (1, ["attitude"], "x" * 201), (9, [], "")]
    for level, reasons, comment in cases:
        try:
            controller.check_level_and_reasons(level, reasons, comment)
            refused = None
        except RpcFault as e:
            refused = e.code
        problem = rating.rating_problem(level, reasons, comment)
        assert (problem[0] if problem else None) == refused, (level, reasons, comment)


def test_the_tablet_asks_for_a_comment_with_other_and_promises_the_configured_days() -> None:
    cfg = msgspec.structs.replace(CFG, ratings=msgspec.structs.replace(CFG.ratings, followup_days=7))
    sink = Sink()
    tablet = TabletState(cfg, CAT, sink, window="1")
    rr = schemas.RatingRequest(ticket="A001", staff="s001", expires_at=TS, request_id="r1")
    tablet.on_window_state(wstate("1", rating_request=rr))
    tablet.choose_level(1)
    tablet.toggle_reason("other")
    tablet.send()
    assert sink.items == [] and tablet.error is not None and "其他" in tablet.error["zh_CN"]
    tablet.set_comment("材料清单和窗口说法不一致")
    tablet.send()
    assert sink.items and sink.items[0]["comment"] == "材料清单和窗口说法不一致"
    thanks = tablet.view("rating")["thanks"]
    assert "7个工作日内" in thanks["zh_CN"] and "7 working days" in thanks["en"]
    assert thanks == thanks_text(Catalogue(), cfg, 1)


def test_the_terminal_draws_the_tablets_faces_with_the_same_words(kiosk: Any, qtbot: Any) -> None:
    """The terminal's five levels are the tablet's faces (components/RatingFace.qml), not stars."""
    state = kiosk.role.keep[0]
    state.go("rate")
    state.rate.chosen = {"caseNo": "ZW2026030300001", "item": "个体工商户设立登记"}
    state.rate.step = "level"
    state.rate.changed()
    for level, (zh, _en) in rating.LEVELS.items():
        tile = item(qtbot, kiosk.window, f"rate_level_{level}")
        faces = [i for i in visible_items(tile) if i.objectName() == f"rating_face_{level}"]
        assert faces and "RatingFace" in faces[0].metaObject().className()
        assert zh in [text_of(i) for i in visible_items(tile) if i.property("text") is not None]
        assert "★" not in " ".join(str(i.property("text")) for i in visible_items(tile) if i.property("text"))
