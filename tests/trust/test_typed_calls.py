"""Calls that cannot be captured (#22.1): every argument our SQL and our Python pass to a function
of ours is typed, so PostgreSQL finds an exact match among every overload it can see, and a
look-alike in schema backup or anywhere else (an untyped literal prefers `text`; psycopg sends a
Python str untyped and a small int as smallint) is never chosen.

Derived from the source: every call site of `backup.<function>(` in sql/definitions/*.sql and in
tui/db/*.py (the only Python that speaks SQL). tests/trust/test_overloads.py then plants the
look-alikes and runs the calls.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from tui.db.schema import sql_dir

ROOT = Path(__file__).resolve().parents[2]
_CALL = re.compile(r"\bbackup\.([a-z_][a-z0-9_]*)\s*\(")
_DEFINES = re.compile(r"(FUNCTION|PROCEDURE|ON FUNCTION|ON PROCEDURE)\s+$", re.IGNORECASE)


def _args(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose "(" is at text[start - 1]."""
    depth, quote, args, current = 0, None, [], []
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch in "([":
            depth += 1
            current.append(ch)
        elif ch in ")]":
            if depth == 0:
                break
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    last = "".join(current).strip()
    return [*args, last] if (args or last) else []


def call_sites(text: str) -> list[tuple[str, list[str]]]:
    """(function, arguments) of every call of a backup.* function in `text`, not counting the
    CREATE/GRANT/ALTER lines that name one."""
    sites = []
    for match in _CALL.finditer(text):
        if _DEFINES.search(text[max(0, match.start() - 40) : match.start()]):
            continue
        if text[match.start() - 1 : match.start()] == "'":
            continue  # a name inside a string ('backup.apply_prune(%' in a LIKE): not a call
        sites.append((match[1], _args(text, match.end())))
    return sites


def _untyped(arg: str) -> str | None:
    """Why an argument is untyped, or None: a placeholder, a quoted literal, NULL or a number
    without a cast after it."""
    value = re.sub(r"^[a-z_]+\s*=>\s*", "", arg.strip(), flags=re.IGNORECASE)  # named argument
    if re.fullmatch(r"%s", value):
        return "a placeholder psycopg sends untyped (str) or as smallint (int)"
    if re.fullmatch(r"'(?:[^']|'')*'", value):
        return "an untyped literal (PostgreSQL prefers a text overload)"
    if re.fullmatch(r"(?i)null", value):
        return "an untyped NULL"
    if re.fullmatch(r"-?\d+\.\d*", value):
        return "a numeric literal"
    return None


def _sources() -> list[tuple[str, str]]:
    files = sorted((sql_dir() / "definitions").glob("*.sql")) + sorted((ROOT / "tui" / "db").glob("*.py"))
    return [(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p), p.read_text()) for p in files]


def test_every_argument_we_pass_to_a_function_of_ours_is_typed(installed: psycopg.Connection) -> None:
    integer_params = {
        (name, i)
        for name, types in installed.execute(
            "SELECT p.proname::text, p.proargtypes::oid[]::regtype[]::text[] FROM pg_proc p "
            "WHERE p.pronamespace = 'backup'::regnamespace"
        )
        for i, t in enumerate(types)
        if t == "integer"
    }
    ours = {
        r[0] for r in installed.execute("SELECT proname::text FROM pg_proc WHERE pronamespace = 'backup'::regnamespace")
    }
    faults, seen = [], 0
    for path, text in _sources():
        for name, args in call_sites(text):
            if name not in ours:
                continue  # a table or view followed by "(" in prose
            seen += 1
            for i, arg in enumerate(args):
                why = _untyped(arg)
                if why is None and re.fullmatch(r"-?\d+", arg.strip()) and (name, i) not in integer_params:
                    why = "an integer literal where the parameter is not integer"
                if why:
                    faults.append(f"{path}: backup.{name}(... {arg} ...): {why}")
    assert seen > 60, f"only {seen} call sites found: the scanner is broken"
    assert faults == [], "\n".join(faults)


def test_the_scanner_finds_what_it_must() -> None:
    text = "SELECT backup.f(%s, 'x'::text, 'y', NULL, 3); CREATE FUNCTION backup.g(a text)"
    assert call_sites(text) == [("f", ["%s", "'x'::text", "'y'", "NULL", "3"])]
    assert [_untyped(a) is not None for a in ["%s", "'x'::text", "'y'", "NULL", "%s::bigint", "f(x)"]] == [
        True,
        False,
        True,
        True,
        False,
        False,
    ]
