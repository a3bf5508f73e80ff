"""`archive`, `restore`, `verify`: cold storage."""

from __future__ import annotations

import argparse
import json
import sys
from threading import Event
from typing import Any

from tui import format as fmt
from tui.actions import ArchiveJob
from tui.cli.common import (
    UserError,
    VerifyFailed,
    chosen,
    configured_target,
    confirm_job,
    database_of,
    error_line,
    require_installed,
    siblings_unless,
    stopped,
)
from tui.db import DatabaseError
from tui.model import (
    ItemResult,
)
from tui.storage import StorageError, open_target
from tui.terminal import TransferBar


def cmd_archive(args: argparse.Namespace) -> int:
    try:
        target = open_target(args.to or configured_target())
    except StorageError as exc:
        raise UserError(str(exc)) from exc
    with database_of(args) as database:
        require_installed(database)
        backups = chosen(database, args.names, args.yes)
        job = ArchiveJob(database, backups, target.url, siblings_unless(database, backups, args.yes))
        if not confirm_job(job, args.yes):
            print("nothing archived")
            return 1
        line = TransferBar()

        def show(item: ItemResult) -> None:
            if item.ok and item.archived is not None:
                done = item.archived
                line.say(
                    f"archived {fmt.printable(item.name)}: {done.rows:,} rows to {fmt.printable(done.location)} "
                    f"({fmt.size(done.csv_bytes)} of CSV stored in {fmt.size(done.stored_bytes)}), "
                    f"freed {fmt.size(item.freed_bytes)}"
                )
            else:
                line.say(f"failed {fmt.printable(item.name)}: {fmt.printable(item.error)}", error=True)

        try:
            result = job.run(show, line, Event())
        finally:
            line.close()
    if len(job.backups) > 1:  # one backup's own line says it all
        print(stopped(job.summary(result), result), file=sys.stdout if result.complete else sys.stderr)
    return 0 if result.complete else 1


def cmd_restore(args: argparse.Namespace) -> int:
    if (args.name is None) == (args.location is None):
        raise UserError("restore takes a backup's NAME, or --from LOCATION (an archive folder or s3:// prefix)")
    with database_of(args) as database:
        require_installed(database)
        line = TransferBar()
        try:
            restored = database.restore(args.name, args.as_table, args.schema, line, location=args.location)
        finally:
            line.close()
    target = fmt.printable(f"{args.schema}.{args.as_table}")
    print(f"restored {fmt.printable(args.name or args.location)} as {target}: {restored.rows:,} rows")
    for action in restored.actions:
        print(f"  {fmt.printable(action)}")
    print("to put it in place of the live table (by hand, in a maintenance window):", file=sys.stderr)
    schema = fmt.printable(args.schema)
    print(
        f"  BEGIN; ALTER TABLE {schema}.<live> RENAME TO <live>_old; ALTER TABLE {target} RENAME TO <live>; COMMIT;",
        file=sys.stderr,
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    if bool(args.names) == bool(args.all):
        raise UserError("verify takes backup NAMEs, or --all")
    results = []
    try:
        with database_of(args) as database:
            require_installed(database)
            names = database.archived_names() if args.all else args.names
            for name in names:
                line = TransferBar()
                try:
                    results.append(database.verify(name, progress=line))
                finally:
                    line.close()
                if not args.json:
                    v = results[-1]
                    note = "" if v.recorded else "  (not recorded: recording a verification is an operator's)"
                    print(f"{v.result:<10} {fmt.printable(v.name)}  {fmt.printable(v.detail)}{note}", flush=True)
    except DatabaseError as exc:
        raise VerifyFailed(error_line(exc)) from exc
    if args.json:
        json.dump(
            [
                {
                    "name": v.name,
                    "location": v.location,
                    "result": str(v.result),
                    "detail": v.detail,
                    "recorded": v.recorded,
                }
                for v in results
            ],
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    elif not results:
        print("no archived backups to verify")
    return 0 if all(v.ok for v in results) else 1


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser("archive", parents=[common], help="export backups to cold storage (verified), then drop them")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument(
        "--to",
        metavar="TARGET",
        help="a directory or s3://bucket/prefix (default $BACKUP_TUI_ARCHIVE_TO or ~/.local/share/backup-tui/archive)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_archive)

    p = sub.add_parser("restore", parents=[common], help="bring a backup (archived or not) back as a new table")
    p.add_argument("name", nargs="?", help="the backup (in the database or archived)")
    p.add_argument("--from", dest="location", metavar="LOCATION", help="an archive folder or s3:// prefix instead")
    p.add_argument("--as", dest="as_table", required=True, help="the new table's name (must not exist)")
    p.add_argument("--schema", default="public", help="the new table's schema (default public)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("verify", parents=[common], help="re-read archives against their manifest and the catalogue")
    p.add_argument("names", nargs="*", metavar="NAME", help="archived backups")
    p.add_argument("--all", action="store_true", help="every archived backup")
    p.add_argument("--json", action="store_true", help="one object per archive")
    p.set_defaults(func=cmd_verify)
