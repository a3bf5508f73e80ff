"""Structure rules: data access never imports Textual; the CLI list path stays light."""

from __future__ import annotations

import ast
from pathlib import Path

import tui

PACKAGE = Path(tui.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_db_package_never_imports_textual() -> None:
    offenders = [p.name for p in (PACKAGE / "db").glob("*.py") if "textual" in _imports(p)]
    offenders += ["model.py"] if "textual" in _imports(PACKAGE / "model.py") else []
    assert offenders == []


def test_schema_files_ship_inside_the_package_or_beside_it() -> None:
    from tui.db.schema import migrations

    assert [m.version for m in migrations()] == sorted({m.version for m in migrations()})
