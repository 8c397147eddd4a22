"""Every QML file compiles: a page that does not (a property set twice, a type it cannot find) is
not drawn at all, and the role shows nothing where its home page should be.

A merge once left `textFormat` twice in the terminal's home page and the hall screen's notice;
the screens' own tests failed only as "notice_text never appeared". This names the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtQml import QQmlComponent, QQmlEngine

from kiosk.app import QML_DIR

FILES = sorted(Path(QML_DIR).rglob("*.qml"))


def test_there_are_qml_files() -> None:
    assert len(FILES) > 20, QML_DIR


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(QML_DIR)) for p in FILES])
def test_the_qml_file_compiles(qapp: Any, qtbot: Any, path: Path) -> None:
    engine = QQmlEngine()
    engine.addImportPath(str(QML_DIR))
    try:
        component = QQmlComponent(engine, QUrl.fromLocalFile(str(path)))
        qtbot.waitUntil(lambda: component.status() != QQmlComponent.Status.Loading, timeout=5000)
        errors = [e.toString() for e in component.errors()]
        assert component.status() == QQmlComponent.Status.Ready and errors == [], errors
    finally:
        engine.deleteLater()
