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
from tui.diff_report import plain, report
from tui.model import DiffResult


def cmd_diff(args: argparse.Namespace) -> int:
    sections = args.sections  # checked by the parser (_sections): a usage error, exit 2
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
    for line in report(r):
        say(plain(line), hang=4)


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
        type=_sections,
        default=",".join(SECTIONS),
        help="with --sql: which statements, of insert,update,delete (default all)",
    )
    p.set_defaults(func=cmd_diff)
