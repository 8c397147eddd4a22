"""Typed errors of the ID card reader, each with a plain message in zh_CN and English."""

from __future__ import annotations


class IdCardError(Exception):
    """Base of every ID card reader error; `str()` gives the zh_CN sentence then the English one."""

    code = "idcard_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} ({message_en})")
        self.message_zh = message_zh
        self.message_en = message_en


class PortError(IdCardError):
    """The serial port cannot be opened, or it disappeared (USB reader unplugged)."""

    code = "port_error"


class ReaderNotAnswering(IdCardError):
    """No complete reply arrived within the timeout."""

    code = "reader_not_answering"


class FrameError(IdCardError):
    """A reply frame was damaged: bad checksum, impossible length, or truncated."""

    code = "frame_error"


class UnexpectedReply(IdCardError):
    """A well-formed reply that does not answer the command that was sent."""

    code = "unexpected_reply"


class CardDataError(IdCardError):
    """The card's text block could not be understood."""

    code = "card_data_error"


class SamError(IdCardError):
    """The SAM module answered with a status code (SW3) meaning failure."""

    code = "sam_error"

    def __init__(self, sw3: int, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.sw3 = sw3


class NoCardError(SamError):
    """No card on the reader (find failed), or the card left during the transaction."""

    code = "no_card"


class SelectFailed(SamError):
    """The card was found but could not be selected (moved away, or a second card)."""

    code = "select_failed"


class CardReadError(SamError):
    """The card was selected but reading it failed."""

    code = "read_failed"


class CardAuthError(SamError):
    """Card and SAM did not authenticate each other (card not genuine or damaged)."""

    code = "card_auth_failed"


class UnsupportedCard(SamError):
    """The card on the reader is not a kind the SAM can read."""

    code = "unsupported_card"


class SamFault(SamError):
    """The SAM module itself reports a fault (self-test, command or link errors)."""

    code = "sam_fault"


# SW3 -> (class, zh_CN, English); SPEC section 6.
SW3_ERRORS: dict[int, tuple[type[SamError], str, str]] = {
    0x10: (
        SamFault,
        "阅读器收到的命令校验和错误，请重试。",
        "The reader got a command with a bad checksum; try again.",
    ),
    0x11: (
        SamFault,
        "阅读器收到的命令长度错误，请重试。",
        "The reader got a command with a bad length; try again.",
    ),
    0x21: (
        SamFault,
        "阅读器不认识该命令，请检查阅读器型号。",
        "The reader does not know this command; check the reader model.",
    ),
    0x23: (
        SamFault,
        "阅读器拒绝执行越权操作。",
        "The reader refused an operation it is not allowed to do.",
    ),
    0x24: (
        SamFault,
        "阅读器报告无法识别的错误，请重启阅读器。",
        "The reader reports an unknown error; restart the reader.",
    ),
    0x31: (
        CardAuthError,
        "证卡认证失败，请重新放卡；如仍失败，证件可能已损坏。",
        "The card failed to authenticate the reader; place it again, the card may be damaged.",
    ),
    0x32: (
        CardAuthError,
        "阅读器认证证卡失败，请重新放卡；如仍失败，证件可能已损坏。",
        "The reader failed to authenticate the card; place it again, the card may be damaged.",
    ),
    0x33: (
        CardAuthError,
        "证卡信息验证错误，请重新放卡。",
        "The card's data failed verification; place the card again.",
    ),
    0x40: (
        UnsupportedCard,
        "无法识别的证件类型，请放置居民身份证或居住证。",
        "Unknown card type; place a resident ID card or residence permit.",
    ),
    0x41: (
        CardReadError,
        "读卡失败，请把证件平放在感应区，不要移动。",
        "Reading the card failed; lay it flat on the reader and do not move it.",
    ),
    0x47: (
        SamFault,
        "阅读器取随机数失败，请重试。",
        "The reader could not get a random number; try again.",
    ),
    0x60: (
        SamFault,
        "阅读器安全模块自检失败，请联系技术人员。",
        "The reader's SAM failed its self-test; call a technician.",
    ),
    0x66: (
        SamFault,
        "阅读器安全模块未经授权，请联系技术人员。",
        "The reader's SAM is not authorised; call a technician.",
    ),
    0x80: (
        NoCardError,
        "未检测到证件，请把身份证放在感应区。",
        "No card found; place the ID card on the reader.",
    ),
    0x81: (
        SelectFailed,
        "选卡失败，请重新放置证件，一次只放一张。",
        "Selecting the card failed; place it again, one card at a time.",
    ),
    0x91: (CardReadError, "证件中此项无内容。", "The card holds no data for this item."),
}


def sam_error(sw3: int) -> SamError:
    """The typed error for a failing SW3 status byte."""
    cls, zh, en = SW3_ERRORS.get(
        sw3,
        (
            SamFault,
            f"阅读器返回未知状态码 0x{sw3:02X}，请重试或联系技术人员。",
            f"The reader returned unknown status 0x{sw3:02X}; retry or call a technician.",
        ),
    )
    return cls(sw3, zh, en)
