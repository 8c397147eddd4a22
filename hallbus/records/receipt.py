"""Receipt (受理回执) and appointment QR texts: what is printed and what a scan gives back.

Receipt QR, printed on the acceptance receipt (docs/records.md):

    ZWFW:CASE:<case_no>:<token>

where `token` is the first 16 hex digits of HMAC-SHA256(hall key, "receipt|" + case_no).
The token proves the holder has the receipt (like `case_no` + last 6 of the ID), so a
scan shows the case without an ID card. The URL form
`https://<any host>/case?no=<case_no>&t=<token>` is accepted too, for halls that print
a link a phone can open.

Appointment QR: `ZWFW:APPT:<code>`, or the bare appointment code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse

CASE_PREFIX = "ZWFW:CASE:"
APPT_PREFIX = "ZWFW:APPT:"
CASE_NO_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
APPT_CODE_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")


def receipt_token(key: bytes, case_no: str) -> str:
    """The 16-hex-digit token that binds a receipt QR to its case."""
    return hmac.new(key, f"receipt|{case_no.strip()}".encode(), hashlib.sha256).hexdigest()[:16]


def receipt_qr(key: bytes, case_no: str) -> str:
    """The QR text printed on a case's acceptance receipt."""
    return f"{CASE_PREFIX}{case_no}:{receipt_token(key, case_no)}"


def parse_receipt_qr(text: str) -> tuple[str, str] | None:
    """(case_no, token) from a receipt QR text in either form, or None when it is not one."""
    text = text.strip()
    if text.upper().startswith(CASE_PREFIX):
        rest = text[len(CASE_PREFIX) :]
        case_no, sep, token = rest.rpartition(":")
    elif text.lower().startswith(("http://", "https://")):
        url = urllib.parse.urlsplit(text)
        q = urllib.parse.parse_qs(url.query)
        case_no, token = (q.get("no") or [""])[0], (q.get("t") or [""])[0]
        sep = ":"
    else:
        return None
    if not sep or not CASE_NO_RE.match(case_no) or not re.fullmatch(r"[0-9a-f]{16}", token.lower()):
        return None
    return case_no, token.lower()


def check_receipt(key: bytes, case_no: str, token: str) -> bool:
    """Whether `token` is the receipt token of `case_no` (constant-time)."""
    return hmac.compare_digest(receipt_token(key, case_no), token.lower())


def appointment_qr(code: str) -> str:
    """The QR text of an appointment confirmation."""
    return f"{APPT_PREFIX}{code}"


def parse_appointment_code(text: str) -> str | None:
    """The appointment code in a scanned text (`ZWFW:APPT:<code>` or the bare code), or None."""
    text = text.strip()
    if text.upper().startswith(APPT_PREFIX):
        text = text[len(APPT_PREFIX) :]
    return text if APPT_CODE_RE.match(text) else None
