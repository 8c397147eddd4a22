"""The hall's notice on a screen (Qt-free): hall.toml's until the controller's retained `hall/notice` says otherwise.

A manager changes the notice in the console (SPEC 12.2); the controller publishes it retained,
so a screen that starts later gets it at once. Without it (an older controller, the bus not
yet up) the screen shows `[hall] notice` / `notice_en` of its own hall.toml. The text is
shown as plain text, never as markup (QML `textFormat: Text.PlainText`).
"""

from __future__ import annotations

from hallbus.config import HallSection
from hallbus.schemas import HallNotice


class NoticeState:
    """The notice now, in each language."""

    def __init__(self, hall: HallSection) -> None:
        self.zh = hall.notice
        self.en = hall.notice_en

    def on_notice(self, notice: HallNotice) -> bool:
        """Take the controller's notice; True when the text changed."""
        new = (notice.text, notice.text_en)
        if new == (self.zh, self.en):
            return False
        self.zh, self.en = new
        return True

    def text(self, language: str) -> str:
        """The notice in `language` (the Chinese one when there is no English)."""
        return self.en if language == "en" and self.en else self.zh
