"""The shell's view-model: language, elderly mode, broker banner, clock, idle countdown. Shared by every role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Property, QObject, QTimer, Signal, Slot

from hallbus.config import HallConfig
from hallbus.schemas import HallNotice, now
from kiosk.common.i18n import LANGUAGES, Catalogue
from kiosk.common.idle import IdleTimer
from kiosk.common.notice import NoticeState
from kiosk.qt.compat import emit

_WEEKDAYS_ZH = "一二三四五六日"


def date_text(lang: str, when: dt.datetime) -> str:
    """The date as a person reads it in `lang`."""
    if lang == "en":
        return when.strftime("%a %d %b %Y")
    return f"{when.year}年{when.month}月{when.day}日 星期{_WEEKDAYS_ZH[when.weekday()]}"


class ShellViewModel(QObject):
    """What every role's frame shows; QML reads `strings[key]` so a language switch re-renders all text."""

    languageChanged = Signal()
    elderlyChanged = Signal()
    connectionChanged = Signal()
    clockChanged = Signal()
    idleChanged = Signal()
    resetRequested = Signal()
    noticeChanged = Signal()

    def __init__(
        self,
        cfg: HallConfig,
        catalogue: Catalogue,
        *,
        role: str,
        language: str | None = None,
        elderly: bool = False,
        offline_grace_s: float = 3.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self.cat = catalogue
        self._role = role
        self._default_language = language or cfg.kiosk.language
        self._default_elderly = elderly
        self._language = self._default_language
        self._strings = catalogue.table(self._language)
        self._elderly = elderly
        self._connected = False
        self._offline = False
        self._clock = ""
        self._date = ""
        self._idle_left = 0
        self.notices = NoticeState(cfg.hall)
        self.idle = IdleTimer(cfg.kiosk.idle_s, cfg.kiosk.countdown_s)
        self.has_session: Callable[[], bool] = lambda: False
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self._grace = QTimer(self)
        self._grace.setSingleShot(True)
        self._grace.setInterval(int(offline_grace_s * 1000))
        self._grace.timeout.connect(self._grace_over)
        self._update_clock()

    def start(self) -> None:
        """Start the clock and idle timer, and the grace period before an offline banner."""
        self._timer.start()
        self._grace.start()

    def stop(self) -> None:
        """Stop the timers."""
        self._timer.stop()
        self._grace.stop()

    # --- language -------------------------------------------------------------------------

    def _get_language(self) -> str:
        return self._language

    def _set_language(self, lang: str) -> None:
        if lang not in LANGUAGES or lang == self._language:
            return
        self._language = lang
        self._strings = self.cat.table(lang)
        self._update_clock()
        emit(self.languageChanged)
        emit(self.noticeChanged)

    language = Property(str, _get_language, _set_language, notify=languageChanged)

    def _get_strings(self) -> dict[str, str]:
        return self._strings

    strings = Property("QVariantMap", _get_strings, notify=languageChanged)

    @Slot(str)
    def setLanguage(self, lang: str) -> None:  # noqa: N802 (Qt naming)
        """Switch the language of every text."""
        self._set_language(lang)

    @Slot()
    def toggleLanguage(self) -> None:  # noqa: N802
        """zh_CN <-> en."""
        self._set_language("en" if self._language == "zh_CN" else "zh_CN")

    def text(self, key: str, **params: Any) -> str:
        """One catalogue string in the current language."""
        return self.cat.get(self._language, key, **params)

    # --- elderly mode (适老化) ---------------------------------------------------------------

    def _get_elderly(self) -> bool:
        return self._elderly

    def _set_elderly(self, on: bool) -> None:
        if on != self._elderly:
            self._elderly = on
            emit(self.elderlyChanged)

    elderly = Property(bool, _get_elderly, _set_elderly, notify=elderlyChanged)

    @Slot()
    def toggleElderly(self) -> None:  # noqa: N802
        """Large print and high contrast on/off."""
        self._set_elderly(not self._elderly)

    # --- broker connection ----------------------------------------------------------------

    @Slot(bool)
    def setConnected(self, up: bool) -> None:  # noqa: N802
        """The bus went up or down (from the bridge, on the GUI thread)."""
        self._connected = up
        if up:
            self._grace.stop()
        self._offline = not up and not self._grace.isActive()
        emit(self.connectionChanged)

    def _grace_over(self) -> None:
        if not self._connected:
            self._offline = True
            emit(self.connectionChanged)

    def _get_connected(self) -> bool:
        return self._connected

    connected = Property(bool, _get_connected, notify=connectionChanged)

    def _get_offline(self) -> bool:
        return self._offline

    offline = Property(bool, _get_offline, notify=connectionChanged)

    # --- hall, clock ----------------------------------------------------------------------

    def _get_hall_name(self) -> str:
        if self._language == "en" and self.cfg.hall.name_en:
            return self.cfg.hall.name_en
        return self.cfg.hall.name

    hallName = Property(str, _get_hall_name, notify=languageChanged)

    def _get_notice(self) -> str:
        return self.notices.text(self._language)

    notice = Property(str, _get_notice, notify=noticeChanged)

    def on_notice(self, notice: HallNotice) -> None:
        """The controller's retained notice (a manager changed it, or it came on connecting), on the GUI thread."""
        if self.notices.on_notice(notice):
            emit(self.noticeChanged)

    def _get_role(self) -> str:
        return self._role

    role = Property(str, _get_role, constant=True)

    def _get_clock(self) -> str:
        return self._clock

    clock = Property(str, _get_clock, notify=clockChanged)

    def _get_date(self) -> str:
        return self._date

    date = Property(str, _get_date, notify=clockChanged)

    def _update_clock(self) -> None:
        t = now()
        clock, date = t.strftime("%H:%M"), date_text(self._language, t)
        if (clock, date) != (self._clock, self._date):
            self._clock, self._date = clock, date
            emit(self.clockChanged)

    # --- idle -----------------------------------------------------------------------------

    def _get_idle_left(self) -> int:
        return self._idle_left

    idleLeft = Property(int, _get_idle_left, notify=idleChanged)

    @Slot()
    def touched(self) -> None:
        """Someone touched the screen."""
        self.idle.touch()
        if self._idle_left:
            self._idle_left = 0
            emit(self.idleChanged)

    @Slot()
    def tick(self) -> None:
        """Once a second: clock, and the idle countdown of the role's session."""
        self._update_clock()
        self.idle.arm(self.has_session())
        phase, left = self.idle.phase()
        if phase == "expired":
            self.resetNow()
            return
        if left != self._idle_left:
            self._idle_left = left
            emit(self.idleChanged)

    @Slot()
    def resetNow(self) -> None:  # noqa: N802
        """Forget the last person: the role resets, the language and print size go back to default."""
        self._idle_left = 0
        emit(self.idleChanged)
        self._set_language(self._default_language)
        self._set_elderly(self._default_elderly)
        self.idle.touch()
        emit(self.resetRequested)
