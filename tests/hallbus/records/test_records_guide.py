"""The sample service guide: complete entries, sample files that exist, search by text and pinyin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hallbus.config import load_config
from hallbus.records.guide import ASSETS, CATALOGUE_PATH, Guide, GuideError, initials


@pytest.fixture(scope="module")
def guide() -> Guide:
    return Guide.load()


def test_catalogue_has_thirty_complete_items(guide: Guide) -> None:
    assert len(guide.items) >= 30
    services = {s.code for s in load_config().services}
    for item in guide.items.values():
        assert item.department and item.category and item.window, item.item
        assert item.materials and item.steps and item.legal_basis, item.item
        assert item.promised_days is not None and item.legal_days is not None, item.item
        assert item.promised_days <= item.legal_days or item.legal_days == 0, item.item
        assert item.service in services, item.item
        for m in item.materials:
            assert m.originals + m.copies >= 1, (item.item, m.name)
            if m.sample:
                assert (ASSETS / m.sample).is_file(), m.sample
    names = {i.name for i in guide.items.values()}
    for wanted in ("个体工商户设立登记", "城乡居民基本养老保险参保登记", "不动产转移登记（二手房买卖）", "居民身份证换领",
                   "结婚登记", "基本医疗保险异地就医备案"):
        assert wanted in names
    assert any(not i.one_trip for i in guide.items.values())


@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("gtgsh", "个体工商户设立登记"),
        ("个体工商户", "个体工商户设立登记"),
        ("jhdj", "结婚登记"),
        ("jiehun", "结婚登记"),
        ("身份证 补领", "居民身份证挂失补领"),
        ("ydjy", "基本医疗保险异地就医备案"),
        ("gjj tq", "住房公积金提取（购买自住住房）"),
    ],
)
def test_search(guide: Guide, q: str, first: str) -> None:
    assert guide.search(q)[0].name == first


def test_search_by_category_and_nothing_found(guide: Guide) -> None:
    civil = guide.search("", "婚姻登记")
    assert {i.name for i in civil} == {"结婚登记", "离婚登记"}
    assert guide.search("qqqqzzz") == []
    assert initials("不动产登记") == "bdcdj"


def test_a_broken_catalogue_names_the_item(tmp_path: Path) -> None:
    doc = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    doc["items"][3]["promised_days"] = "soon"
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(GuideError, match=doc["items"][3]["item"]):
        Guide.load(bad)
