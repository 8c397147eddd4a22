"""What a person reads when a request to the controller failed (shared by every role that sends requests)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from hallbus.rpc import RpcFault
from kiosk.common.i18n import Catalogue, Text, both

log = logging.getLogger(__name__)


def fault_text(cat: Catalogue, err: BaseException, own_words: Mapping[str, str]) -> Text:
    """Our own words (catalogue key) for the fault codes in `own_words`, the controller's words for
    other faults, and "unexpected error" (logged) for anything that is not a fault at all."""
    if isinstance(err, RpcFault):
        key = own_words.get(err.code)
        if key:
            return cat.text(key)
        return both(err.message, err.message_en)
    log.error("unexpected error: %r", err)
    return cat.text("err_unexpected")
