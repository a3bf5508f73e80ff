"""sql/: the files the installer applies, and the order it applies them in (no database)."""

from __future__ import annotations

import re

from tui.db.schema import definitions, migrations


def test_migrations_are_numbered_once_each() -> None:
    versions = [m.version for m in migrations()]
    assert versions == sorted(set(versions)) and versions[0] == 1


def test_every_definition_comes_after_what_it_requires() -> None:
    seen: set[str] = set()
    for definition in definitions():
        assert set(definition.requires) <= seen, definition.name
        seen.add(definition.name)
    assert definitions()[-1].name == "privileges"  # requires: * — after all the others


def test_definitions_only_create_or_replace_and_migrations_never_define_functions() -> None:
    for definition in definitions():
        assert not re.search(r"^\s*CREATE\s+(UNLOGGED\s+)?TABLE", definition.sql, re.MULTILINE), definition.name
    for migration in migrations():
        assert "FUNCTION backup." not in migration.sql.replace("DROP FUNCTION", ""), migration.name
