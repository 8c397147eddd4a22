"""The tablet's rating vocabulary is the controller's."""

from hallbus.records.ratings import LEVELS as CONTROLLER_LEVELS
from hallbus.records.ratings import REASONS as CONTROLLER_REASONS
from kiosk.common.i18n import Catalogue
from kiosk.common.rating import LEVELS, REASONS


def test_reason_codes_and_levels_are_the_controllers() -> None:
    assert list(REASONS) == list(CONTROLLER_REASONS)
    assert sorted(LEVELS) == sorted(CONTROLLER_LEVELS)
    cat = Catalogue()
    for code in REASONS:
        assert cat.get("zh_CN", f"rating_reason_{code}") != f"rating_reason_{code}"
        assert cat.get("en", f"rating_reason_{code}") != f"rating_reason_{code}"
