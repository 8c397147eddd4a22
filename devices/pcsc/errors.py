"""Typed PC/SC errors with plain messages in zh_CN and English."""

from __future__ import annotations


class PcscError(Exception):
    """Base of every PC/SC error; `str()` gives the zh_CN sentence then the English one."""

    code = "pcsc_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} ({message_en})")
        self.message_zh = message_zh
        self.message_en = message_en


class PcscdNotRunning(PcscError):
    """The PC/SC service (pcscd) is not running or cannot be reached."""

    code = "pcscd_not_running"

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "智能卡服务 pcscd 未运行，请执行 systemctl start pcscd 后重试。",
            f"The smart card service pcscd is not running; start it (systemctl start pcscd) and try again. {detail}".strip(),
        )


class NoReaderError(PcscError):
    """No PC/SC reader is connected, or the named one does not exist."""

    code = "no_reader"

    def __init__(self, reader: str = "") -> None:
        what = f"“{reader}”" if reader else ""
        super().__init__(
            f"未找到读卡器{what}，请检查读卡器的 USB 连接。",
            f"No card reader {reader!r} found; check the reader's USB cable."
            if reader
            else "No card reader found; check the reader's USB cable.",
        )


class ReaderGoneError(PcscError):
    """The reader disappeared during a transaction (unplugged)."""

    code = "reader_gone"

    def __init__(self, reader: str) -> None:
        super().__init__(
            f"读卡器“{reader}”已断开，请重新插好后再试。",
            f"The reader {reader!r} was disconnected; plug it back in and try again.",
        )


class NoCardError(PcscError):
    """No card in the reader."""

    code = "no_card"

    def __init__(self, reader: str) -> None:
        super().__init__(
            f"读卡器“{reader}”上没有卡片，请插入或放置卡片。",
            f"No card in reader {reader!r}; insert or tap a card.",
        )


class CardRemovedError(PcscError):
    """The card was removed (or reset) in the middle of a transaction."""

    code = "card_removed"

    def __init__(self, reader: str) -> None:
        super().__init__(
            "读卡过程中卡片被移开，请重新放置卡片并保持不动。",
            f"The card left reader {reader!r} during the transaction; place it again and hold it still.",
        )


class CardAnswerError(PcscError):
    """The card answered something this driver cannot use."""

    code = "card_answer"
