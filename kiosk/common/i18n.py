"""String catalogues per language (assets/i18n/*.json): every text a person reads, by key.

A `Text` is one message in every language (`{"zh_CN": ..., "en": ...}`), so a screen can show
it in whichever language is chosen now, and switching language re-renders it without asking
the state again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hallbus.config import REPO_ROOT

I18N_DIR = REPO_ROOT / "assets" / "i18n"
LANGUAGES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

Text = dict[str, str]


class Catalogue:
    """All strings of all languages; missing keys fall back to zh_CN, then to the key itself."""

    def __init__(self, folder: Path = I18N_DIR) -> None:
        self.strings: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            data = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))
            self.strings[lang] = {k: v for k, v in data.items() if not k.startswith("_")}

    def table(self, lang: str) -> dict[str, str]:
        """Every string of `lang`, with zh_CN filling any gap (for QML bindings)."""
        base = dict(self.strings[DEFAULT_LANGUAGE])
        base.update(self.strings.get(lang, {}))
        return base

    def get(self, lang: str, key: str, **params: Any) -> str:
        """One string in `lang`, with `{name}` placeholders filled from `params`."""
        text = self.strings.get(lang, {}).get(key) or self.strings[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**params) if params else text

    def text(self, key: str, **params: Any) -> Text:
        """One message in every language."""
        return {lang: self.get(lang, key, **params) for lang in LANGUAGES}

    def missing(self) -> dict[str, set[str]]:
        """Keys some language lacks (a test keeps this empty)."""
        every = set().union(*(set(t) for t in self.strings.values()))
        return {lang: every - set(t) for lang, t in self.strings.items() if every - set(t)}


def both(zh: str, en: str) -> Text:
    """A message given in both languages by someone else (e.g. an error reply of the controller)."""
    return {"zh_CN": zh, "en": en or zh}
