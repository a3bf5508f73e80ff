"""The command line: every group's subcommands, with the options every command takes."""

from __future__ import annotations

import argparse

from tui import __version__
from tui.cli import archives, check, fleet, inventory, prune, schedules
from tui.cli import run as run_commands
from tui.cli.common import (
    Parser,
)


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: the options are accepted before and after the subcommand without the
    # subcommand's defaults overwriting what was given before it; COMMON_DEFAULTS fills the gaps.
    common = Parser(add_help=False)
    common.add_argument(
        "--dsn", default=argparse.SUPPRESS, help="connection string (default: $DATABASE_URL, else libpq's PG* defaults)"
    )
    common.add_argument(
        "--lock-timeout", default=argparse.SUPPRESS, help="give up waiting for a lock after this (default 5s)"
    )
    common.add_argument("--statement-timeout", default=argparse.SUPPRESS, help="limit for one write (default 1h)")
    common.add_argument(
        "--read-timeout",
        default=argparse.SUPPRESS,
        help="limit for one read (default 10min); a server silent past a limit is given up on",
    )
    common.add_argument(
        "--as-of",
        default=argparse.SUPPRESS,
        metavar="TIME",
        help="what-if: evaluate the retention policy as of this time (previews only; nothing is deleted under it)",
    )

    parser = Parser(
        prog="backup-tui", parents=[common], description="Browse, create and prune table-level PostgreSQL backups."
    )
    parser.add_argument("--version", action="version", version=f"backup-tui {__version__}")
    parser.add_argument("--read-only", action="store_true", help="open the TUI in a read-only session")
    parser.set_defaults(func=run_commands.cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    inventory.add_parsers(sub, common)
    prune.add_parsers(sub, common)
    check.add_parsers(sub, common)
    archives.add_parsers(sub, common)
    schedules.add_parsers(sub, common)
    fleet.add_parsers(sub, common)
    run_commands.add_parsers(sub, common)
    return parser
