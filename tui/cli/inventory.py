"""`install`, `list`, `create`, `drop`, `adopt`: the inventory and single backups."""

from __future__ import annotations

import argparse
import difflib
import sys
from threading import Event
from typing import Any

from tui import format as fmt
from tui.actions import DropJob
from tui.cli.common import (
    BOM_HELP,
    CSV_HELP,
    UserError,
    at_least_one,
    chosen,
    confirm_job,
    csv_rows,
    database_of,
    json_value,
    metric_labels,
    no_transfer,
    point_in_time,
    print_item,
    require_installed,
    settings_of,
    siblings_unless,
    stopped,
)
from tui.cli.table import fit_table, say, terminal_width
from tui.db import FIX_EXPOSURE, Database, DatabaseError, ErrorKind
from tui.model import (
    INVENTORY_COLUMNS,
    Backup,
    FleetTarget,
    ListOrder,
    ListQuery,
    SchemaState,
    Status,
    qualified_source,
)
from tui.terminal import TransferBar


def cmd_install(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        report = database.install(take_ownership=args.take_ownership)
        for statement in report.taken:
            print(f"took over: {fmt.printable(statement)}")
        for statement in report.revoked:
            say(f"revoked (outside the role model): {fmt.printable(statement)}", hang=4)
        if not report.changed:
            print("backup schema is up to date; nothing to do")
        else:
            verb = "upgraded the 2025 backup schema" if report.before is SchemaState.LEGACY else "installed"
            if report.before is SchemaState.OUTDATED:
                verb = "upgraded"
            parts = []
            if report.migrations:
                parts.append(f"migrations {', '.join(report.migrations)}")
            if report.definitions:
                parts.append(f"definitions {', '.join(report.definitions)}")
            if parts:
                say(f"{verb}: applied {'; '.join(parts)}", hang=4)
        exposed = database.exposure()
        for finding in exposed:
            say(f"warning: {fmt.printable(finding.detail)}", hang=4, file=sys.stderr)
        if exposed:
            print(
                f"warning: {len(exposed)} grant(s) let anon, authenticated or PUBLIC reach the backups; "
                f"revoke them all with: {FIX_EXPOSURE}  (or: backup-tui check --fix exposure)",
                file=sys.stderr,
            )
    return 0


# `list`'s columns, and the order they give way in on a narrow terminal: the reason is cut first
# (down to 10 cells), then the created date, source, rows and kind go, then the reason; the name,
# age, size and status always stay (the name's date too: tui.format.squeeze_name).
_HEADERS = ("backup", "source", "kind", "created", "age", "rows", "size", "status", "reason")


_RIGHT = {"rows", "size"}


_GIVE_WAY = ("created", "source", "rows", "kind")


def _cells(b: Backup) -> dict[str, str]:
    return {
        "backup": b.backup_table_name,
        "source": fmt.text(b.source),
        "kind": fmt.text(b.backup_kind),
        "created": fmt.date(b.backup_date),
        "age": fmt.text(b.age_words),
        "rows": fmt.count(b.row_count),
        "size": ("~" if not b.size_exact and b.size_bytes is not None else "") + fmt.size(b.size_bytes),
        "status": b.status_words,
        "reason": fmt.text(b.backup_reason),
    }


def _print_table(backups: list[Backup], width: int | None) -> None:
    rows = [{k: fmt.printable(v) for k, v in _cells(b).items()} for b in backups]
    for line in fit_table(rows, _HEADERS, width, right=_RIGHT, give_way=_GIVE_WAY, cut="reason", squeeze="backup"):
        print(line)
    size = sum(b.size_bytes or 0 for b in backups)
    print(f"\n{len(backups)} backup{'s' if len(backups) != 1 else ''}, {fmt.size(size)}")


def _list_query(args: argparse.Namespace) -> ListQuery:
    return ListQuery(
        order=ListOrder(args.sort),
        reverse=args.reverse,
        limit=args.limit,
        status=Status(args.status) if args.status else None,
        kind=args.kind,
        source=args.source,
    )


def _list_prometheus(args: argparse.Namespace) -> int:
    """This database's summary, as `fleet --prometheus` writes it for many."""
    from tui.metrics import MetricsUnavailable, exposition, write_textfile

    settings = settings_of(args)
    target, extra = metric_labels(args.label)
    row = Database.fleet_summary(FleetTarget(settings.resolved_dsn(), target or "default"))
    try:
        if args.output:
            write_textfile(args.output, [row], extra=extra)
        else:
            sys.stdout.write(exposition([row], extra=extra))
    except MetricsUnavailable as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 0 if row.reachable else 2


def cmd_list(args: argparse.Namespace) -> int:
    if args.prometheus:
        return _list_prometheus(args)
    query = _list_query(args)
    absent = "there is no backup schema in this database: run `backup-tui install` to create it"
    with database_of(args) as database:
        if args.json:
            # PostgreSQL builds the JSON (the view's own column names, ISO 8601 dates); the client
            # only passes it on, so a Python process costs little more than psql here.
            state, text = database.inventory_json(query)
            if state is SchemaState.ABSENT:
                raise UserError(absent)
            sys.stdout.write(text)
            sys.stdout.write("\n")
            return 0
        state, backups = database.listed(query)
        if state is SchemaState.ABSENT:
            raise UserError(absent)
    if args.csv:
        sys.stdout.write(csv_rows(INVENTORY_COLUMNS, ([json_value(v) for v in _values(b)] for b in backups), args.bom))
    elif not backups:
        if query.status or query.kind or query.source:
            print("no backups match")
        else:
            print("no backups yet; create one with: backup-tui create TABLE --reason TEXT")
    else:
        _print_table(backups, terminal_width())
    return 0


def _values(b: Backup) -> tuple[object, ...]:
    """The inventory row's values in column order (dataclasses.astuple deep-copies: too slow here)."""
    return tuple(getattr(b, c) for c in INVENTORY_COLUMNS)


def cmd_create(args: argparse.Namespace) -> int:
    if not args.reason or not args.reason.strip():
        raise UserError("a reason is required (--reason TEXT): say why this backup exists")
    schema, table = args.schema, args.table
    if schema is None:  # schema.table, as the TUI's dialog takes it (a dotted name in public: --schema public)
        schema, _, rest = table.partition(".") if "." in table and not table.startswith(".") else ("public", "", table)
        table = rest or table
    with database_of(args) as database:
        require_installed(database)
        try:
            name = database.create(table, args.reason.strip(), args.kind, schema)
        except DatabaseError as exc:
            if exc.kind is not ErrorKind.NOT_FOUND:
                raise
            raise UserError(f"{exc}{_did_you_mean(database, qualified_source(schema, table))}") from None
    print(name)
    return 0


def _did_you_mean(database: Database, typed: str) -> str:
    """'; did you mean orders?' when a table of a close name exists (a typo is the usual cause)."""
    try:
        known = [t.typed for t in database.source_tables()]
    except DatabaseError:
        return ""
    close = difflib.get_close_matches(typed, known, n=3, cutoff=0.7)
    return f"; did you mean {' or '.join(fmt.printable(c) for c in close)}?" if close else ""


def cmd_hold(args: argparse.Namespace) -> int:
    if not args.reason or not args.reason.strip():
        raise UserError("a reason is required (--reason TEXT): say why these backups must be kept")
    with database_of(args) as database:
        require_installed(database)
        result = database.hold_many(args.names, args.reason.strip(), args.until, print_item("held", freed=False))
    print(f"held {len(result.done)}, failed {len(result.failed)}")
    return 0 if result.complete else 1


def cmd_release(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        require_installed(database)
        result = database.release_many(args.names, print_item("released", freed=False))
    print(f"released {len(result.done)}, failed {len(result.failed)}")
    return 0 if result.complete else 1


def cmd_drop(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        require_installed(database)
        backups = chosen(database, args.names, args.yes)
        job = DropJob(database, backups, siblings_unless(database, backups, args.yes))
        archived = [b for b in job.backups if b.status is Status.ARCHIVED]
        if archived and not args.forget_archive:
            where = "; ".join(f"{b.backup_table_name}: {b.policy_reason}" for b in archived)
            raise UserError(
                f"{len(archived)} backup(s) exist only in their archive ({where}): dropping would lose the way "
                "back to it; pass --forget-archive to stop tracking them (the files stay)"
            )
        if not confirm_job(job, args.yes):
            print("nothing dropped")
            return 1
        forget = job.forgotten
        result = job.run(
            lambda item: print_item("forgot" if item.name in forget else "dropped")(item), no_transfer, Event()
        )
    print(stopped(job.summary(result), result))
    return 0 if result.complete else 1


def cmd_adopt(args: argparse.Namespace) -> int:
    if (args.name is None) == (args.location is None):
        raise UserError("adopt takes a table in schema backup, or --from LOCATION (an archive), not both")
    with database_of(args) as database:
        require_installed(database)
        if args.location is not None:
            line = TransferBar()
            try:
                name = database.adopt_archive(args.location, line)
            finally:
                line.close()
            print(f"registered the archive of {fmt.printable(name)} at {fmt.printable(args.location)} (verified)")
            return 0
        source, rows = database.adopt(args.name, args.source, args.kind, args.reason, args.schema)
    print(f"registered {fmt.printable(args.name)}: source {fmt.printable(source)}, {rows:,} rows")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser("install", parents=[common], help="install or upgrade the backup schema (idempotent)")
    p.add_argument(
        "--take-ownership",
        action="store_true",
        help="make you the owner of schema backup and everything in it, where another role owns some of it",
    )
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("list", parents=[common], help="print the inventory")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="JSON: one object per backup, keys = inventory columns")
    out.add_argument("--csv", action="store_true", help=CSV_HELP)
    out.add_argument("--prometheus", action="store_true", help="this database's summary as Prometheus metrics")
    p.add_argument("--bom", action="store_true", help=BOM_HELP)
    p.add_argument("--output", metavar="FILE", help="with --prometheus: write FILE atomically")
    p.add_argument(
        "--label",
        action="append",
        metavar="NAME|KEY=VALUE",
        help="with --prometheus: NAME is the target label (default 'default'); KEY=VALUE adds a label (repeatable)",
    )
    p.add_argument(
        "--sort",
        choices=[o.value for o in ListOrder],
        default=ListOrder.NEWEST.value,
        help="newest first (default), size (biggest first), age (oldest first) or name",
    )
    p.add_argument("--reverse", action="store_true", help="the other way round")
    p.add_argument("--limit", type=at_least_one, metavar="N", help="only the first N")
    p.add_argument("--status", choices=[s.value for s in Status], help="only backups with this status")
    p.add_argument("--kind", help="only backups of this kind")
    p.add_argument("--source", metavar="TABLE", help="only backups of this source table (TABLE or SCHEMA.TABLE)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("create", parents=[common], help="back up a table; prints the new backup's name")
    p.add_argument("table", help="the table to copy: TABLE in public, or SCHEMA.TABLE (exact name, any case)")
    p.add_argument("--reason", required=True, help="why this backup exists (required)")
    p.add_argument("--kind", default="manual", help="retention kind (default manual)")
    p.add_argument(
        "--schema", default=None, help="the table's schema (default: the part before a dot in TABLE, else public)"
    )
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("drop", parents=[common], help="drop backups (asks unless --yes)")
    p.add_argument("names", nargs="+", metavar="NAME", help="backup table name(s) in schema backup")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--forget-archive", action="store_true", help="also stop tracking archived ones (their files stay)")
    p.set_defaults(func=cmd_drop)

    p = sub.add_parser(
        "hold", parents=[common], help="keep backups on purpose: never deleted or archived until released"
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="backup table name(s) in schema backup")
    p.add_argument("--reason", required=True, help="why they must be kept (required)")
    p.add_argument("--until", type=point_in_time, metavar="TIME", help="the hold ends then (default: until released)")
    p.set_defaults(func=cmd_hold)

    p = sub.add_parser("release", parents=[common], help="end the hold on backups: the policy applies again")
    p.add_argument("names", nargs="+", metavar="NAME", help="backup table name(s) in schema backup")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("adopt", parents=[common], help="register a stray table in schema backup, or an archive")
    p.add_argument("name", nargs="?", help="the table in schema backup")
    p.add_argument("--from", dest="location", metavar="LOCATION", help="an archive folder or s3:// prefix instead")
    p.add_argument("--source", help="its source table (default: inferred from the name)")
    p.add_argument("--kind", default="manual", help="retention kind (default manual)")
    p.add_argument("--reason", help="why it exists")
    p.add_argument("--schema", default="public", help="the source table's schema (default public)")
    p.set_defaults(func=cmd_adopt)
