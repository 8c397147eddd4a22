"""docs/protocol.md and the schemas cannot drift: the reference part is generated and compared."""

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
