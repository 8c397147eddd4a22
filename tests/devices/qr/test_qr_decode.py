"""The decoding cascade on generated codes and on the real photographs."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.qr.decode import QrDecoder, decode_image_file, isolate_label, to_gray
from devices.qr.text import normalise
from tests.devices.qr.qrimages import on_canvas, qr_image


def test_utf8_code_on_a_frame() -> None:
    codes = QrDecoder().decode(on_canvas(qr_image("https://hall.example.cn/t/A012?d=2024-05-01")))
    assert [c.text for c in codes] == ["https://hall.example.cn/t/A012?d=2024-05-01"]
    assert codes[0].format == "QR_CODE"
    assert codes[0].strategy == "plain"


def test_gbk_receipt_without_eci_comes_out_right() -> None:
    text = "受理回执|案号:440100-2024-000123|申请人:张三|事项:不动产登记"
    codes = QrDecoder().decode(on_canvas(qr_image(text.encode("gbk"))))
    assert [c.text for c in codes] == [text]
    assert codes[0].raw == text.encode("gbk")


def test_zbar_fallback_also_returns_raw_gbk_bytes() -> None:
    from devices.qr.zbar import zbar_qr_bytes

    text = "办件查询 张三"
    assert zbar_qr_bytes(qr_image(text.encode("gbk"))) == [text.encode("gbk")]


def test_empty_frame_has_no_codes_and_fast_mode_skips_retries() -> None:
    decoder = QrDecoder()
    frame = np.random.default_rng(1).integers(0, 255, (480, 640), dtype=np.uint8)
    assert decoder.decode(frame) == []
    assert decoder.decode(frame, deep=False) == []


def test_dark_background_label_is_isolated() -> None:
    code = qr_image("label", border=1)
    frame = np.full((480, 640), 20, np.uint8)
    frame[100 : 100 + code.shape[0], 200 : 200 + code.shape[1]] = code
    label = isolate_label(frame)
    assert label is not None
    assert label.shape == (460, 460)
    assert label[0, 0] == 255


def test_frames_of_other_shapes() -> None:
    code = qr_image("shapes")
    bgra = cv2.cvtColor(code, cv2.COLOR_GRAY2BGRA)
    wide = code.astype(np.uint16) * 200
    assert QrDecoder().decode(bgra)[0].text == "shapes"
    assert QrDecoder().decode(wide)[0].text == "shapes"
    with pytest.raises(ValueError):
        to_gray(np.zeros((0,), np.uint8))


def test_corrupt_file_raises_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ValueError, match="corrupt"):
        decode_image_file(str(bad))


def test_real_photos_at_least_136_of_144(shared_dir: Path) -> None:
    """The quality bar on real photographs (also measured, with timings, by bench/qr_photos.py)."""
    root = shared_dir / "data" / "qr-photos"
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    decoder = QrDecoder()
    good = wrong = 0
    for item in manifest:
        texts = [normalise(c.text) for c in decoder.decode(cv2.imread(str(root / item["image"])))]
        if normalise(item["expected"]) in texts:
            good += 1
        elif texts:
            wrong += 1
    assert wrong == 0
    assert good >= 136
