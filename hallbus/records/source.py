"""Where cases and appointments come from: a file (CSV/JSON) or an upstream HTTP JSON platform.

Both are a `RecordSource`: numbered records in the import format (docs/import-format.md)
that the `Importer` checks and writes. The HTTP adapter fetches a JSON document, finds
the list of records at `items_path`, renames fields with a mapping (their name or dotted
path -> our field) and translates values (e.g. their status codes -> ours), so a hall
points at its provincial platform with a small JSON file instead of code.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hallbus.records.importer import ImportFault, read_records

MAX_PAGES = 1000


class RecordSource(Protocol):
    """Numbered records in the import format."""

    @property
    def name(self) -> str:
        """What the report calls the source."""
        ...

    @property
    def where(self) -> str:
        """What the record numbers count: "line" (CSV) or "record" (JSON)."""
        ...

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        """Fetch every record (raises ImportFault when the source cannot be read at all)."""
        ...


@dataclass
class FileSource:
    """A CSV or JSON file, in UTF-8 or GBK/GB18030 (detected) or a given encoding."""

    path: Path
    encoding: str | None = None
    used_encoding: str | None = None

    @property
    def name(self) -> str:
        """The file name, for the report."""
        return str(self.path)

    @property
    def where(self) -> str:
        """CSV rows are counted by line, JSON by record."""
        return "record" if self.path.suffix.lower() == ".json" else "line"

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        """Every record of the file."""
        self.used_encoding, recs = read_records(self.path, self.encoding)
        return recs


def _get_path(obj: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        if isinstance(obj, Mapping):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


@dataclass
class HttpSource:
    """An upstream platform's JSON API: URL (optionally with `{page}`), field mapping and value maps."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)  # our field -> their field (dotted path)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # our field -> {their value: ours}
    items_path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    kind: str | None = None

    @property
    def name(self) -> str:
        """The URL, for the report."""
        return self.url

    @property
    def where(self) -> str:
        """Upstream records are counted by record."""
        return "record"

    @classmethod
    def from_file(cls, path: Path, url: str | None = None) -> HttpSource:
        """From a mapping file: {"url", "items_path", "fields", "values", "headers", "kind"}."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ImportFault("bad_mapping", f"无法读取字段映射文件 {path}：{err}", f"Cannot read mapping {path}: {err}") from err
        target = url or doc.get("url")
        if not target:
            raise ImportFault("bad_mapping", "字段映射文件缺少 url。", "The mapping file has no url.")
        return cls(
            url=target,
            fields=dict(doc.get("fields") or {}),
            values={k: {str(a): str(b) for a, b in v.items()} for k, v in (doc.get("values") or {}).items()},
            items_path=str(doc.get("items_path") or ""),
            headers=dict(doc.get("headers") or {}),
            timeout=float(doc.get("timeout", 10.0)),
            kind=doc.get("kind"),
        )

    def _fetch(self, url: str) -> Any:
        req = urllib.request.Request(url, headers={"Accept": "application/json", **self.headers})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - a configured URL
                data = resp.read()
        except urllib.error.HTTPError as err:
            raise ImportFault(
                "upstream_error", f"上游平台返回错误 {err.code}：{url}", f"The upstream platform answered HTTP {err.code}: {url}"
            ) from err
        except (urllib.error.URLError, OSError) as err:
            raise ImportFault(
                "upstream_unreachable", f"无法连接上游平台：{url}（{err}）", f"Cannot reach the upstream platform {url}: {err}"
            ) from err
        try:
            return json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ImportFault("bad_json", f"上游平台返回的不是有效的 JSON：{url}", f"The upstream answer is not JSON: {url}") from err

    def map_record(self, item: Any) -> dict[str, Any]:
        """One upstream record in our field names and values."""
        if not isinstance(item, Mapping):
            return {"_not_an_object": True}
        rec: dict[str, Any] = {k: v for k, v in item.items() if isinstance(k, str)}
        for ours, theirs in self.fields.items():
            rec[ours] = _get_path(item, theirs)
        for ours, table in self.values.items():
            v = rec.get(ours)
            if v is not None and str(v) in table:
                rec[ours] = table[str(v)]
        if self.kind and "kind" not in self.fields:
            rec["kind"] = self.kind
        return rec

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        """Every record, following `{page}` from 1 until a page comes back empty."""
        pages = range(1, MAX_PAGES + 1) if "{page}" in self.url else [0]
        out: list[tuple[int, dict[str, Any]]] = []
        for page in pages:
            doc = self._fetch(self.url.replace("{page}", str(page)))
            items = _get_path(doc, self.items_path) if self.items_path else doc
            if not isinstance(items, list):
                raise ImportFault(
                    "bad_json", f"上游平台返回的 {self.items_path or '顶层'} 不是列表。",
                    f"The upstream answer has no list at {self.items_path or 'the top level'}.",
                )
            if not items:
                break
            out.extend((len(out) + 1, self.map_record(it)) for it in items)
        return out
