"""The kiosk is laid out so a newcomer finds things in one guess, and the checks on its Qt-free part cover all of it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / "kiosk"
LONG = 600  # lines; a longer module says at its top why it is one piece


def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _imports_qt(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("PySide6"):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("PySide6") for a in node.names):
            return True
    return False


def test_each_role_lives_in_the_package_named_like_it_and_its_tests_beside_it() -> None:
    roles = {p.parent.name for p in KIOSK.glob("*/role.py")}
    assert roles == {"terminal", "counter", "tablet", "window", "hall"}
    for role in roles:
        assert (REPO / "tests" / "kiosk" / role).is_dir(), f"tests of the {role} role belong in tests/kiosk/{role}/"
    text = (KIOSK / "roles.py").read_text(encoding="utf-8")
    for role in roles:  # imported plainly: a role missing from an install fails at start
        assert f"from kiosk.{role} import role as {role}" in text
    assert "importlib" not in text


def test_every_qt_free_module_of_a_role_is_under_mypy_strict_and_the_qt_free_contract() -> None:
    cfg = _pyproject()
    mypy_files = set(cfg["tool"]["mypy"]["files"])  # type: ignore[index]
    contracts = cfg["tool"]["importlinter"]["contracts"]  # type: ignore[index]
    qt_free = next(c for c in contracts if c["name"].startswith("the kiosk's"))
    contract = set(qt_free["source_modules"])
    for path in KIOSK.glob("*/*.py"):
        rel = path.relative_to(REPO)
        # role.py builds the role from the Qt parts it is handed (RoleContext): not a Qt-free unit
        if path.name in ("__init__.py", "role.py") or _imports_qt(path) or rel.parts[1] == "qt":
            continue
        package = "/".join(rel.parts[:2])
        module = ".".join(rel.with_suffix("").parts)
        assert package in mypy_files or str(rel) in mypy_files, f"{rel} is Qt-free: list it under [tool.mypy] files"
        assert ".".join(rel.parts[:2]) in contract or module in contract, f"{module}: add it to the Qt-free import contract"


def test_no_kiosk_module_is_long_without_saying_why() -> None:
    for path in KIOSK.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LONG:
            doc = ast.get_docstring(ast.parse("\n".join(lines))) or ""
            assert "one piece" in doc or "long because" in doc, f"{path.relative_to(REPO)}: {len(lines)} lines; split it or say why at its top"
