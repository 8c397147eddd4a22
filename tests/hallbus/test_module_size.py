"""No module in hallbus/ over 600 lines unless its docstring says why (a line starting `Long because:`).

A long file is usually several jobs in one (queue.py was six); when it truly is one,
the reason at its top saves the next reader the doubt.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 600


def test_long_modules_say_why() -> None:
    unexplained = []
    for path in sorted((ROOT / "hallbus").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines <= LIMIT:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if not any(line.startswith("Long because:") for line in doc.splitlines()):
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert unexplained == [], "over 600 lines without `Long because:` in the docstring: " + ", ".join(unexplained)
