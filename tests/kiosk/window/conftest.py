"""Role test fixtures: the real broker and controller, and kiosk windows (see tests/kiosk/rolefixtures.py)."""

from tests.kiosk.rolefixtures import hall_extra, role_hall, start_kiosk  # noqa: F401
