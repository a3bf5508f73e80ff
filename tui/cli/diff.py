"""`diff`: what changed since a backup, against its live table (or another table or backup)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from tui import format as fmt
from tui.cli.common import at_least_one, database_of, require_installed, write_out
from tui.cli.table import say
from tui.db.diff import SECTIONS
from tui.model import DiffResult, DiffSample

_KINDS = (("deleted", "deleted since (only in the backup)"), ("added", "added since"), ("changed", "changed"))


def cmd_diff(args: argparse.Namespace) -> int:
    sections = _sections(args.sections)
    with database_of(args) as database:
        require_installed(database)
        result = database.diff(args.name, args.against, args.limit)
        if args.sql:
            write_out(database.repair_sql(args.name, args.against, sections), args.sql)
    if args.json:
        print(json.dumps(dataclasses.asdict(result), ensure_ascii=False, default=str))
    else:
        _print(result)
        if args.sql:
            say(f"statements written to {fmt.printable(args.sql)} (not run: review them first)")
    return 0 if result.identical else 1  # as diff(1): 0 the same, 1 different, 2 trouble (usage)


def _sections(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    wrong = [s for s in chosen if s not in SECTIONS]
    if wrong or not chosen:
        raise argparse.ArgumentTypeError(f"sections are {', '.join(SECTIONS)}, not {', '.join(wrong) or 'none'}")
    return chosen


def _print(r: DiffResult) -> None:
    by = f"by key {', '.join(r.key)}" if r.key else "as whole rows (no key both sides share)"
    say(f"{fmt.printable(r.backup)} against {fmt.printable(r.other)}, {by}")
    changes = [c for c in r.columns if c.change != "same"]
    if changes:
        for c in changes:
            types = {"added": c.other_type, "removed": c.backup_type, "retyped": f"{c.backup_type} -> {c.other_type}"}
            say(f"  column {fmt.printable(c.name)} {c.change} ({fmt.printable(types[c.change])})", hang=4)
    else:
        print("  columns: the same")
    rows = f"  rows: {r.only_backup:,} deleted since, {r.only_other:,} added since"
    if r.changed is not None:
        rows += f", {r.changed:,} changed"
        if r.changed_by_column:
            rows += " (" + ", ".join(f"{fmt.printable(c)} {n:,}" for c, n in r.changed_by_column.items()) + ")"
    say(rows, hang=4)
    for kind, words in _KINDS:
        samples = r.samples.get(kind) or []
        if samples:
            print(f"{words}, the first {len(samples)}:")
            for s in samples:
                say(f"  {_sample(s, kind)}", hang=4)
    if r.identical:
        print("identical")


def _sample(s: DiffSample, kind: str) -> str:
    key = ", ".join(f"{fmt.printable(k)}={_value(v)}" for k, v in s.key.items())
    if kind == "changed" and s.backup_row is not None and s.other_row is not None:
        cells = "; ".join(
            f"{fmt.printable(c)}: {_value(s.backup_row.get(c))} -> {_value(s.other_row.get(c))}" for c in s.changed
        )
        return f"{key}: {cells}"
    row = s.backup_row if kind == "deleted" else s.other_row
    return f"{key + ': ' if key else ''}{_value(row)}"


def _value(v: Any) -> str:
    """A value as JSON would write it, then made safe for a terminal (escapes written visibly)."""
    return fmt.printable(json.dumps(v, ensure_ascii=False, default=str))


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser(
        "diff",
        parents=[common],
        help="what changed since a backup: columns, rows deleted, added and changed, and how to put them back",
    )
    p.add_argument("name", metavar="NAME", help="the backup")
    p.add_argument(
        "--against", metavar="TABLE|BACKUP", help="compare with this table or backup (default: the live source)"
    )
    p.add_argument("--json", action="store_true", help="the whole result as one JSON object")
    p.add_argument("--limit", type=at_least_one, default=10, help="sample rows of each kind (default 10)")
    p.add_argument(
        "--sql",
        metavar="FILE",
        help="write the statements that would put the live rows back as the backup has them (not run)",
    )
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="with --sql: which statements, of insert,update,delete (default all)",
    )
    p.set_defaults(func=cmd_diff)
