"""The service guide (办事指南): the catalogue, searchable by text and by pinyin initials.

The catalogue is a JSON file (`assets/guide/catalogue.json`; format in docs/records.md).
At load time every item name gets its pinyin initials (个体工商户设立登记 -> gtgshsldj)
and its full pinyin, so a terminal keyboard without Chinese input finds it with "gtgsh".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from pypinyin import Style, lazy_pinyin

from hallbus import schemas
from hallbus.config import REPO_ROOT
from hallbus.controller.module import ControllerModule, ModuleContext, Tx, TxHandler
from hallbus.rpc import Request, RpcFault

CATALOGUE_PATH = REPO_ROOT / "assets" / "guide" / "catalogue.json"
ASSETS = REPO_ROOT / "assets"
MAX_RESULTS = 50

_ASCII_Q = re.compile(r"^[a-z0-9 ]+$")


class GuideError(Exception):
    """A catalogue file that cannot be used; names the file and the item."""


def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters in `text` (letters and digits kept, the rest dropped)."""
    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda s: s)
    return "".join(p for p in "".join(parts).lower() if p.isalnum())


def full_pinyin(text: str) -> str:
    """Full toneless pinyin of `text`, without separators."""
    parts = lazy_pinyin(text, errors=lambda s: s)
    return "".join(p for p in "".join(parts).lower() if p.isalnum())


@dataclass(frozen=True)
class _Entry:
    item: schemas.GuideItem
    initials: str
    pinyin: str
    text: str  # other searchable text: category, department, conditions, material names


class Guide:
    """The loaded catalogue with its search index."""

    def __init__(self, items: list[schemas.GuideItem]) -> None:
        self.items = {i.item: i for i in items}
        self._entries = [
            _Entry(
                i,
                initials(i.name),
                full_pinyin(i.name),
                " ".join([i.category, i.department, *i.conditions, *(m.name for m in i.materials)]).lower(),
            )
            for i in items
        ]
        self._by_name = {i.name: i for i in items}

    @classmethod
    def load(cls, path: Path = CATALOGUE_PATH) -> Guide:
        """Read and validate a catalogue file."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise GuideError(f"{path}: cannot read the service guide: {err}") from err
        raw = doc.get("items") if isinstance(doc, dict) else doc
        if not isinstance(raw, list):
            raise GuideError(f"{path}: expected {{'items': [...]}}")
        items = []
        for n, rec in enumerate(raw, start=1):
            try:
                items.append(msgspec.convert(rec, type=schemas.GuideItem))
            except msgspec.ValidationError as err:
                name = rec.get("item", "?") if isinstance(rec, dict) else "?"
                raise GuideError(f"{path}: item {n} ({name}): {err}") from err
        ids = [i.item for i in items]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise GuideError(f"{path}: item id(s) used twice: {', '.join(sorted(dup))}")
        return cls(items)

    def categories(self) -> list[dict[str, Any]]:
        """Categories with item counts, in catalogue order."""
        counts: dict[str, int] = {}
        for e in self._entries:
            counts[e.item.category] = counts.get(e.item.category, 0) + 1
        return [{"name": k, "count": v} for k, v in counts.items()]

    def search(self, q: str, category: str | None = None) -> list[schemas.GuideItem]:
        """Items matching every word of `q` (Chinese text, pinyin initials or full pinyin), best first."""
        words = q.strip().lower().split()
        scored: list[tuple[int, int, schemas.GuideItem]] = []
        for pos, e in enumerate(self._entries):
            if category and e.item.category != category:
                continue
            total = 0
            for w in words:
                s = self._score(e, w)
                if s == 0:
                    break
                total += s
            else:
                scored.append((-total, pos, e.item))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [t[2] for t in scored[:MAX_RESULTS]]

    @staticmethod
    def _score(e: _Entry, w: str) -> int:
        name = e.item.name.lower()
        if name == w:
            return 100
        if name.startswith(w):
            return 80
        if w in name:
            return 60
        if _ASCII_Q.match(w):
            if e.initials.startswith(w):
                return 50
            if w in e.initials:
                return 40
            if w in e.pinyin:
                return 30
            if w == e.item.item or w in e.item.item:
                return 20
        if w in e.text:
            return 10
        return 0

    def get(self, key: str) -> schemas.GuideItem | None:
        """An item by id or by exact name."""
        return self.items.get(key) or self._by_name.get(key.strip())

    def promised_days(self) -> dict[str, int]:
        """Item id and name -> promised working days (for imports without a time limit)."""
        out: dict[str, int] = {}
        for i in self.items.values():
            if i.promised_days is not None:
                out[i.item] = i.promised_days
                out[i.name] = i.promised_days
        return out


def summary(item: schemas.GuideItem) -> dict[str, Any]:
    """What `guide.list` shows of an item."""
    return {
        "item": item.item,
        "name": item.name,
        "department": item.department,
        "category": item.category,
        "promised_days": item.promised_days,
        "legal_days": item.legal_days,
        "fees": item.fees,
        "window": item.window,
        "one_trip": item.one_trip,
        "service": item.service,
    }


class GuideModule(ControllerModule):
    """`guide.list` and `guide.get` from the catalogue (read-only, no tables)."""

    name = "records.guide"

    def __init__(self, ctx: ModuleContext, guide: Guide | None = None) -> None:
        self.ctx = ctx
        self.guide = guide or Guide.load()

    def handlers(self) -> Mapping[str, TxHandler]:
        """`guide.list`, `guide.get`."""
        return {"guide.list": self.list_items, "guide.get": self.get_item}

    def list_items(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """Search the catalogue (an empty `q` lists everything, or a whole category)."""
        body = req.body
        assert isinstance(body, schemas.GuideListReq)
        found = self.guide.search(body.q, body.category)
        return {
            "items": [summary(i) for i in found],
            "total": len(found),
            "categories": self.guide.categories(),
        }

    def get_item(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """One full entry."""
        body = req.body
        assert isinstance(body, schemas.GuideGetReq)
        item = self.guide.get(body.item)
        if item is None:
            raise RpcFault(
                "guide_item_not_found",
                f"没有找到办事指南“{body.item}”，请返回列表重新选择或搜索。",
                f"No service guide item {body.item!r}. Go back to the list and search again.",
            )
        return {"item": schemas.to_builtins(item)}
