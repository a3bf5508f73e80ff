"""The command line: every group's subcommands, with the options every command takes."""

from __future__ import annotations

import argparse

from tui import __version__
from tui.cli import archives, check, diff, fleet, inventory, prune, schedules, shell
from tui.cli import run as run_commands
from tui.cli.common import Parser, duration, point_in_time

EPILOG = """\
examples:
  backup-tui demo                                   sample database and the TUI
  backup-tui list --sort size --limit 20            the 20 biggest backups
  backup-tui create orders --reason "before migration 42" --kind pre-migration
  backup-tui prune                                  what the retention policy would do, and why
  backup-tui prune --apply                          do it (asks first; --yes in scripts)
  backup-tui check                                  integrity and exposure; exit 1 on findings

connection:
  --dsn, else $DATABASE_URL, else libpq's own: PGHOST, PGDATABASE, PGSERVICE..., ~/.pg_service.conf;
  passwords from ~/.pgpass (PGPASSFILE), never from backup-tui's files

config file: $XDG_CONFIG_HOME/backup-tui/config.toml (~/.config/backup-tui/config.toml)
  [keys]     binding id = key(s)             drop = "D"
  [archive]  target = DIR or s3://bucket/prefix (where archives go without --to)
  [ui]       theme = "textual-light"
  [fleet]    targets = ["service=prod", "postgresql://reporting.internal/app"]
  a bad entry is one line on stderr, and its default is used

environment:
  DATABASE_URL            the connection (after --dsn)
  BACKUP_TUI_ARCHIVE_TO   where archives go (before the config's [archive] target)
  NO_COLOR                no colours in the TUI
  XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_DATA_HOME, XDG_CACHE_HOME
                          config; remembered state and errors.log; default archive folder; demo cluster

exit codes:
  0    done
  1    an error (one line on stderr), findings (check), a damaged archive (verify), a failed or
       refused item, or nothing done (confirmation declined)
  2    wrong usage (an unknown option, a bad value), or check / verify could not run
  130  interrupted (Ctrl-C)

shell: backup-tui completion bash|zsh|tcsh; backup-tui man (the manual page)
"""


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: the options are accepted before and after the subcommand without the
    # subcommand's defaults overwriting what was given before it; COMMON_DEFAULTS fills the gaps.
    common = Parser(add_help=False)
    common.add_argument(
        "--dsn", default=argparse.SUPPRESS, help="connection string (default: $DATABASE_URL, else libpq's PG* defaults)"
    )
    common.add_argument(
        "--lock-timeout",
        default=argparse.SUPPRESS,
        type=duration,
        metavar="DURATION",
        help="give up waiting for a lock after this (default 5s)",
    )
    common.add_argument(
        "--statement-timeout",
        default=argparse.SUPPRESS,
        type=duration,
        metavar="DURATION",
        help="limit for one write (default 1h)",
    )
    common.add_argument(
        "--read-timeout",
        default=argparse.SUPPRESS,
        type=duration,
        metavar="DURATION",
        help="limit for one read (default 10min); a server silent past a limit is given up on",
    )
    common.add_argument(
        "--by",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="the person this is done for, recorded with backups, holds and the audit "
        "(default: your OS user, SUDO_USER, and the SSH client's address)",
    )
    common.add_argument(
        "--as-of",
        default=argparse.SUPPRESS,
        type=point_in_time,
        metavar="TIME",
        help="what-if: evaluate the retention policy as of this time (previews only; nothing is deleted under it)",
    )

    parser = Parser(
        prog="backup-tui",
        parents=[common],
        description="Browse, create and prune table-level PostgreSQL backups (schema backup). "
        "Without a command: the TUI.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"backup-tui {__version__}")
    parser.add_argument("--read-only", action="store_true", help="open the TUI in a read-only session")
    parser.set_defaults(func=run_commands.cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    inventory.add_parsers(sub, common)
    prune.add_parsers(sub, common)
    check.add_parsers(sub, common)
    archives.add_parsers(sub, common)
    diff.add_parsers(sub, common)
    schedules.add_parsers(sub, common)
    fleet.add_parsers(sub, common)
    run_commands.add_parsers(sub, common)
    shell.add_parsers(sub, build_parser)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Every subcommand's --help opens with what it does (its line in the command list), and says
    where the rest is: the same exit codes, environment and config as every command."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            line = helps.get(name, "")
            if sub.description is None and line:
                sub.description = f"{line[0].upper()}{line[1:]}."
            if sub.epilog is None:
                sub.epilog = "Exit codes, environment and the config file: backup-tui --help."
            _describe(sub)
