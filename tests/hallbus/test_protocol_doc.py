"""docs/protocol.md and the schemas cannot drift: the reference part is generated and compared."""

import msgspec

from hallbus import docs, schemas
from hallbus.topics import CATALOGUE


def test_protocol_doc_matches_the_schemas() -> None:
    current = docs.DOC_PATH.read_text(encoding="utf-8")
    assert docs.render(current) == current, "docs/protocol.md is out of date: run `hallbus docs`"


def test_every_topic_method_and_payload_is_documented() -> None:
    text = docs.DOC_PATH.read_text(encoding="utf-8")
    for spec in CATALOGUE:
        assert f"`{spec.pattern}`" in text
        assert spec.payload in schemas.PAYLOADS
    for method in schemas.RPC_METHODS:
        assert f"`{method}`" in text


def test_every_reply_type_is_documented_with_its_method() -> None:
    text = docs.DOC_PATH.read_text(encoding="utf-8")
    for method, m in schemas.RPC.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{method}` |"))
        assert f"[{m.reply.__name__}](#{m.reply.__name__.lower()})" in row, row
        assert all(f"`{code}`" in row for code in m.errors), row
        assert f"### {m.reply.__name__}\n" in text
        for field in msgspec.structs.fields(m.reply):
            assert f"| `{field.encode_name}` |" in text
