"""The `backup-tui` command: one function per subcommand, one clear line and an exit status on errors.

Every database call goes through tui.db.Database; this module only parses, asks and words.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

from tui import __version__
from tui import format as fmt
from tui.db import FIX_EXPOSURE, Database, DatabaseError, ErrorKind, Settings
from tui.model import (
    INVENTORY_COLUMNS,
    PLAN_COLUMNS,
    Backup,
    Category,
    CronJob,
    Decision,
    FleetRow,
    FleetTarget,
    ItemResult,
    ListOrder,
    ListQuery,
    PlanRow,
    Schedule,
    SchemaState,
    Status,
    WriteResult,
)
from tui.storage import StorageError, default_target, open_target
from tui.terminal import ItemBar, TransferBar


class UserError(Exception):
    """Wrong usage or input: reported as one line, exit 1."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        dsn=args.dsn,
        read_only=getattr(args, "read_only", False),
        lock_timeout=args.lock_timeout,
        statement_timeout=args.statement_timeout,
        read_timeout=args.read_timeout,
        as_of=args.as_of,
    )


def _database(args: argparse.Namespace) -> Database:
    return Database(_settings(args))


def _require_installed(database: Database) -> None:
    state = database.schema_state()
    if state is SchemaState.ABSENT:
        raise UserError("there is no backup schema in this database; run `backup-tui install` first")
    if state is SchemaState.LEGACY:
        raise UserError(
            "the backup schema has the 2025 layout; run `backup-tui install` to upgrade it "
            "(every row is kept) before changing backups"
        )
    if state is SchemaState.OUTDATED:
        raise UserError("the backup schema is older than this backup-tui; run `backup-tui install` to upgrade it")
    if state is SchemaState.NEWER:
        raise UserError("the backup schema was installed by a newer backup-tui; use that version to change backups")


def cmd_install(args: argparse.Namespace) -> int:
    with _database(args) as database:
        report = database.install(take_ownership=args.take_ownership)
        for statement in report.taken:
            print(f"took over: {fmt.printable(statement)}")
        for statement in report.revoked:
            print(f"revoked (outside the role model): {fmt.printable(statement)}")
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
                print(f"{verb}: applied {'; '.join(parts)}")
        exposed = database.exposure()
        for finding in exposed:
            print(f"warning: {fmt.printable(finding.detail)}", file=sys.stderr)
        if exposed:
            print(
                f"warning: {len(exposed)} grant(s) let anon, authenticated or PUBLIC reach the backups; "
                f"revoke them all with: {FIX_EXPOSURE}  (or: backup-tui check --fix exposure)",
                file=sys.stderr,
            )
    return 0


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)  # text, and the enums (their value), UUIDs


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
        "status": str(b.status),
        "reason": fmt.text(b.backup_reason),
    }


def _terminal_width() -> int | None:
    """The width human output fits: the terminal's (or $COLUMNS); None when piped (nothing cut)."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return shutil.get_terminal_size().columns
    return None


def _print_table(backups: list[Backup], width: int | None) -> None:
    rows = [{k: fmt.printable(v) for k, v in _cells(b).items()} for b in backups]
    shown = list(_HEADERS)

    def widths() -> dict[str, int]:
        return {h: max([len(h)] + [fmt.cell_len(r[h]) for r in rows]) for h in shown}

    def total(w: dict[str, int]) -> int:
        return sum(w.values()) + 2 * (len(w) - 1)

    w = widths()
    if width is not None and total(w) > width:
        # The reason is cut first (down to 10 cells); then other columns give way, in order, until
        # it fits at 10; only then does the reason go, and last the name is squeezed (date kept).
        reason = 10
        for column in _GIVE_WAY:
            if total(w) - w["reason"] + min(reason, w["reason"]) <= width:
                break
            shown.remove(column)
            w = widths()
        if total(w) - w["reason"] + min(reason, w["reason"]) <= width:
            w["reason"] = width - (total(w) - w["reason"])
        else:
            shown.remove("reason")
            w = widths()
            if total(w) > width:
                w["backup"] = max(24, w["backup"] - (total(w) - width))
    for line in (dict(zip(_HEADERS, _HEADERS, strict=True)), *rows):
        cells = []
        for h in shown:
            text = line[h]
            text = fmt.squeeze_name(text, w[h]) if h == "backup" else fmt.truncate(text, w[h])
            pad = " " * (w[h] - fmt.cell_len(text))
            cells.append(pad + text if h in _RIGHT else text + pad)
        print("  ".join(cells).rstrip())
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


def cmd_list(args: argparse.Namespace) -> int:
    if args.prometheus:  # this database's summary, as `fleet --prometheus` writes it for many
        from tui.metrics import MetricsUnavailable, exposition, write_textfile

        settings = _settings(args)
        row = Database.fleet_summary(FleetTarget(settings.resolved_dsn(), args.label or "default"))
        try:
            if args.output:
                write_textfile(args.output, [row])
            else:
                sys.stdout.write(exposition([row]))
        except MetricsUnavailable as exc:
            raise UserError(str(exc)) from exc
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
        return 0 if row.reachable else 2
    query = _list_query(args)
    with _database(args) as database:
        state = database.schema_state()
        if state is SchemaState.ABSENT:
            raise UserError("there is no backup schema in this database: run `backup-tui install` to create it")
        if args.json:
            # PostgreSQL builds the JSON (the view's own column names, ISO 8601 dates); the client
            # only passes it on, so a Python process costs little more than psql here.
            sys.stdout.write(database.inventory_json(state, query))
            sys.stdout.write("\n")
            return 0
        backups = database.listed(state, query)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(INVENTORY_COLUMNS)
        for b in backups:
            writer.writerow(["" if v is None else _json_value(v) for v in _values(b)])
    elif not backups:
        if query.status or query.kind or query.source:
            print("no backups match")
        else:
            print("no backups yet; create one with: backup-tui create TABLE --reason TEXT")
    else:
        _print_table(backups, _terminal_width())
    return 0


def _values(b: Backup) -> tuple[object, ...]:
    """The inventory row's values in column order (dataclasses.astuple deep-copies: too slow here)."""
    return tuple(getattr(b, c) for c in INVENTORY_COLUMNS)


def cmd_create(args: argparse.Namespace) -> int:
    if not args.reason or not args.reason.strip():
        raise UserError("a reason is required (--reason TEXT): say why this backup exists")
    with _database(args) as database:
        _require_installed(database)
        name = database.create(args.table, args.reason.strip(), args.kind, args.schema)
    print(name)
    return 0


def _on_terminal() -> bool:
    """Whether a person can answer: stdin is a terminal (and not closed: `<&-` leaves it None)."""
    return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()


def _confirm(question: str, expected: str = "yes") -> bool:
    print(f"{question} type {expected} to confirm: ", end="", flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # the terminal went away while asking
        return False
    return answer.strip().lower() == expected.lower()


def cmd_drop(args: argparse.Namespace) -> int:
    with _database(args) as database:
        _require_installed(database)
        known = {b.backup_table_name: b for b in database.inventory(SchemaState.CURRENT, names=args.names)}
        archived = [known[n] for n in args.names if n in known and known[n].status is Status.ARCHIVED]
        if archived and not args.forget_archive:
            where = "; ".join(f"{b.backup_table_name}: {b.policy_reason}" for b in archived)
            raise UserError(
                f"{len(archived)} backup(s) exist only in their archive ({where}): dropping would lose the way "
                "back to it; pass --forget-archive to stop tracking them (the files stay)"
            )
        if not args.yes:
            if not _on_terminal():
                raise UserError("refusing to drop without confirmation: pass --yes when not on a terminal")
            unknown = [n for n in args.names if n not in known]
            if unknown:
                raise UserError(f"no backup named {', '.join(unknown)} in schema backup")
            chosen = [known[n] for n in args.names]
            for b in chosen:
                print(
                    f"  {fmt.printable(b.backup_table_name)}  {fmt.count(b.row_count)} rows  "
                    f"{fmt.size(b.size_bytes)}  {b.status}"
                )
            if archived:
                print(
                    f"{len(archived)} of them exist only in their archive: their files stay where they are, and "
                    "backup-tui will no longer know about them (`adopt --from LOCATION` brings one back)"
                )
            total = fmt.size(sum(b.size_bytes or 0 for b in chosen if b.status is not Status.ARCHIVED))
            if not _confirm(f"drop {len(chosen)} backup(s), freeing {total}?"):
                print("nothing dropped")
                return 1
        forget = {b.backup_table_name for b in archived}
        result = database.drop_many([n for n in args.names if n not in forget], progress=_print_item("dropped"))
        if forget:
            forgotten = database.forget_many([n for n in args.names if n in forget], progress=_print_item("forgot"))
            print(_summary("forgot", forgotten))
            result = WriteResult(result.items + forgotten.items, result.stopped or forgotten.stopped)
    print(_summary("dropped", result))
    return 0 if result.complete else 1


def _print_item(verb: str) -> Callable[[ItemResult], None]:
    def show(item: ItemResult) -> None:
        if item.ok:
            print(f"{verb} {fmt.printable(item.name)} ({fmt.size(item.freed_bytes)})", flush=True)
        else:
            print(f"failed {fmt.printable(item.name)}: {fmt.printable(item.error)}", file=sys.stderr, flush=True)

    return show


def _summary(verb: str, result: WriteResult) -> str:
    """'dropped 5, freed 1.2 GiB, failed 1, not attempted 2; stopped: connection lost (…)'."""
    line = result.summary(verb, fmt.size(result.freed_bytes))
    if result.stopped is not None:
        line += f"; stopped: {fmt.printable(result.stop_message)}"
    return line


def _print_plan(plan: list[PlanRow]) -> None:
    by_source: dict[str, list[PlanRow]] = {}
    for row in plan:
        by_source.setdefault(row.source or "(unknown source)", []).append(row)
    width = max((len(r.backup_table_name) for r in plan), default=0)
    for source in sorted(by_source, key=str.casefold):
        print(fmt.printable(source))
        rows = sorted(by_source[source], key=lambda r: (r.backup_date is None, r.backup_date), reverse=True)
        for r in rows:
            name = fmt.printable(r.backup_table_name)
            print(f"  {r.decision:<7} {name:<{width}}  {fmt.size(r.size_bytes):>10}  {fmt.printable(r.reason)}")
    print()
    print(plan_totals(plan))


def plan_totals(plan: list[PlanRow]) -> str:
    """'delete 37 (4.2 GiB) · archive 3 (1.1 GiB) · review 5 (...) · keep 60 (...)'."""
    parts = []
    for decision in Decision:
        rows = [r for r in plan if r.decision is decision]
        parts.append(f"{decision} {len(rows)} ({fmt.size(sum(r.size_bytes or 0 for r in rows))})")
    return " · ".join(parts)


def cmd_prune(args: argparse.Namespace) -> int:
    with _database(args) as database:
        _require_installed(database)
        plan = database.plan()
        if args.json:
            json.dump(
                [{c: _json_value(getattr(r, c)) for c in PLAN_COLUMNS} for r in plan], sys.stdout, ensure_ascii=False
            )
            sys.stdout.write("\n")
        else:
            _print_plan(plan)
        if not args.apply:
            return 0
        if args.as_of:
            raise UserError(
                f"--as-of {args.as_of} is a what-if: the plan above is a preview, and --apply deletes only at the "
                "real current time; run it again without --as-of"
            )
        out = sys.stderr if args.json else sys.stdout
        due = [r.backup_table_name for r in plan if r.decision is Decision.DELETE]
        to_archive = [r.backup_table_name for r in plan if r.decision is Decision.ARCHIVE] if args.archive_to else []
        if not due and not to_archive:
            print("nothing to delete", file=out)
            return 0
        if not args.yes and not _confirm_prune(plan, due, to_archive):
            print("nothing dropped", file=out)
            return 1
        complete = True
        if to_archive:
            line = TransferBar()
            try:
                archived = database.archive_many(to_archive, args.archive_to, transfer=line)
            finally:
                line.close()
            for item in archived.items:
                name = fmt.printable(item.name)
                print(
                    f"archived {name}" if item.ok else f"failed to archive {name}: {fmt.printable(item.error)}",
                    file=out if item.ok else sys.stderr,
                )
            complete = archived.complete
        progress = ItemBar(len(due))
        try:
            result = database.apply_prune(due, progress, batch_size=args.batch_size)
        finally:
            progress.close()
    print(_summary("dropped", result), file=out)
    return 0 if complete and result.complete else 1


def _confirm_prune(plan: list[PlanRow], due: list[str], to_archive: list[str]) -> bool:
    """Like drop: on a terminal the count is typed; without one, --yes is required."""
    count = len(due) + len(to_archive)
    due_names = set(due)
    freed = fmt.size(sum(r.size_bytes or 0 for r in plan if r.backup_table_name in due_names))
    what = f"drop {len(due)} backup(s), freeing {freed}" + (
        f", and archive {len(to_archive)} then drop them" if to_archive else ""
    )
    if not _on_terminal():
        raise UserError(f"refusing to {what} without confirmation: pass --yes when not on a terminal")
    return _confirm(f"{what}?", expected=str(count))


class CheckFailed(Exception):
    """`check` could not run: exit 2 (findings are exit 1)."""


def cmd_check(args: argparse.Namespace) -> int:
    try:
        with _database(args) as database:
            state = database.schema_state()
            if args.fix:
                _fix_exposure(database, state, args.yes)
            findings = database.check(state, fast=args.fast, roles=args.role or ())
    except (DatabaseError, UserError) as exc:
        raise CheckFailed(str(exc)) from exc
    if args.json:
        json.dump(
            [{"category": str(f.category), "subject": f.subject, "detail": f.detail, "fix": f.fix} for f in findings],
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    elif not findings:
        print("clean: no missing or unregistered tables, no drift, no dependants, nothing exposed")
    else:
        for category in Category:
            group = [f for f in findings if f.category is category]
            if not group:
                continue
            print(f"{category} ({len(group)})")
            for f in group:
                print(f"  {fmt.printable(f.subject)}: {fmt.printable(f.detail)}")
                if f.fix:
                    print(f"    fix: {fmt.printable(f.fix)}")
            if category is Category.EXPOSURE and state.upgraded:
                print(f"  fix them all: {FIX_EXPOSURE}  (or: backup-tui check --fix exposure)")
        print(f"\n{len(findings)} finding(s)")
    return 1 if findings else 0


def _fix_exposure(database: Database, state: SchemaState, yes: bool) -> None:
    """check --fix exposure: take back what reaches the backups from anon, authenticated, PUBLIC."""
    if not state.upgraded:
        raise UserError("--fix exposure needs the backup schema installed: run `backup-tui install` first")
    exposed = database.exposure()
    if not exposed:
        print("nothing exposed: nothing to revoke", file=sys.stderr)
        return
    if not yes:
        if not _on_terminal():
            raise UserError("refusing to revoke without confirmation: pass --yes when not on a terminal")
        for f in exposed:
            print(f"  {fmt.printable(f.detail)}")
        if not _confirm(f"revoke these {len(exposed)} grant(s) with {FIX_EXPOSURE}"):
            raise UserError("nothing revoked")
    for statement in database.revoke_exposure():
        print(f"ran: {fmt.printable(statement)}", file=sys.stderr)


def cmd_grant(args: argparse.Namespace) -> int:
    level = "operator" if args.operator else "reviewer"
    with _database(args) as database:
        _require_installed(database)
        statements = database.role_grants(args.role, level)
        for statement in statements:
            print(f"{fmt.printable(statement)};")
        if not args.yes:
            if not _on_terminal():
                print("(printed only: pass --yes to apply, or run the statements yourself)", file=sys.stderr)
                return 0
            if not _confirm(f"grant {fmt.printable(args.role)} these {level} rights?"):
                print("nothing granted")
                return 1
        database.grant_role(args.role, level)
    print(f"granted {fmt.printable(args.role)} the {level} rights", file=sys.stderr)
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    if (args.name is None) == (args.location is None):
        raise UserError("adopt takes a table in schema backup, or --from LOCATION (an archive), not both")
    with _database(args) as database:
        _require_installed(database)
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


def cmd_archive(args: argparse.Namespace) -> int:
    try:
        target = open_target(args.to or default_target())
    except StorageError as exc:
        raise UserError(str(exc)) from exc
    with _database(args) as database:
        _require_installed(database)
        if not args.yes:
            if not _on_terminal():
                raise UserError("refusing to archive without confirmation: pass --yes when not on a terminal")
            where = fmt.printable(target.url)
            if not _confirm(f"archive {len(args.names)} backup(s) to {where} and drop them from the database?"):
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
            result = database.archive_many(args.names, target.url, progress=show, transfer=line)
        finally:
            line.close()
    return 0 if result.complete else 1


def cmd_restore(args: argparse.Namespace) -> int:
    if (args.name is None) == (args.location is None):
        raise UserError("restore takes a backup's NAME, or --from LOCATION (an archive folder or s3:// prefix)")
    with _database(args) as database:
        _require_installed(database)
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


class VerifyFailed(Exception):
    """`verify` could not run: exit 2 (damaged or unreadable archives are exit 1)."""


def cmd_verify(args: argparse.Namespace) -> int:
    if bool(args.names) == bool(args.all):
        raise UserError("verify takes backup NAMEs, or --all")
    results = []
    try:
        with _database(args) as database:
            _require_installed(database)
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
        raise VerifyFailed(_error_line(exc)) from exc
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


# -- schedules ------------------------------------------------------------------------------------


def _schedule_id(database: Database, key: str) -> int:
    """The one schedule `key` (an id or a table) names; a table with several: say which ids."""
    ids = database.schedule_ids(key)
    if not ids:
        raise UserError(f"no schedule {key!r}: `backup-tui schedule list` shows them")
    if len(ids) > 1:
        raise UserError(f"{key!r} has {len(ids)} schedules ({', '.join(map(str, ids))}): name one by its id")
    return ids[0]


def _schedule_json(s: Schedule) -> dict[str, Any]:
    return {f: _json_value(getattr(s, f)) for f in Schedule.__dataclass_fields__}


def cmd_schedule_list(args: argparse.Namespace) -> int:
    with _database(args) as database:
        _require_installed(database)
        rows = database.schedules()
        state = database.cron_state()
        jobs = database.cron_jobs() if state.here else []
    if args.json:
        json.dump(
            {
                "schedules": [_schedule_json(s) for s in rows],
                "pg_cron": {
                    "installed": state.installed if state.visible else None,
                    "here": state.here,
                    "database": state.cron_database,
                },
                "jobs": [{f: _json_value(getattr(j, f)) for f in CronJob.__dataclass_fields__} for j in jobs],
            },
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("no schedules yet; add one with: backup-tui schedule add TABLE --kind daily --cron '0 2 * * *'")
    for s in rows:
        state_word = "paused" if not s.enabled else ("FAILED" if s.failed else ("overdue" if s.overdue else "ok"))
        last = f"last {fmt.date(s.last_attempt_at)}: {s.last_result}" if s.last_attempt_at is not None else "never ran"
        print(
            f"{s.id:>4}  {fmt.printable(s.source)}  {s.backup_kind}  {fmt.printable(s.words)}  "
            f"next {fmt.date(s.next_run) if s.next_run else '—'}  {last}  [{state_word}]  "
            f"{s.backups} backup(s), {fmt.size(s.backup_bytes)}"
        )
        if s.failed:
            print(f"        error: {fmt.printable(s.last_error)}")
    print()
    if state.here:
        if not jobs:
            print("pg_cron is installed here, but our jobs are not: backup-tui schedule cron --install")
        for j in jobs:
            run = (
                f"last run {fmt.date(j.last_start)} {j.last_status}"
                + (f" in {(j.last_end - j.last_start).total_seconds():.1f} s" if j.last_end and j.last_start else "")
                + (f": {fmt.printable(j.last_message)}" if j.last_message else "")
                if j.last_start
                else "has not run yet"
            )
            print(f"pg_cron job {fmt.printable(j.jobname)} ({j.schedule}{'' if j.active else ', inactive'}): {run}")
    elif state.installed:
        print(
            f"pg_cron lives in database {state.cron_database!r}: create the jobs there with "
            "`backup-tui schedule cron --install` (it prints the statements)"
        )
    elif not state.visible:
        print("pg_cron is not in this database; where else it may be only a superuser can see (cron.database_name)")
    else:
        print("pg_cron is not installed: run `backup-tui run-due` every minute from cron or a systemd timer")
    return 0


def cmd_schedule_add(args: argparse.Namespace) -> int:
    with _database(args) as database:
        _require_installed(database)
        new_id = database.add_schedule(args.table, args.kind, args.cron, args.reason, args.schema)
        words, upcoming = database.cron_preview(args.cron)
    print(f"schedule {new_id}: {args.kind} backup of {fmt.printable(args.table)}, {words}")
    print("next runs: " + ", ".join(f"{fmt.date(t)} UTC" for t in upcoming))
    return 0


def cmd_schedule_change(args: argparse.Namespace) -> int:
    with _database(args) as database:
        _require_installed(database)
        schedule_id = _schedule_id(database, args.schedule)
        if args.schedule_command == "remove":
            if not args.yes and not _on_terminal():
                raise UserError("refusing to remove a schedule without confirmation: pass --yes when not on a terminal")
            if not args.yes and not _confirm(f"remove schedule {schedule_id}? (its backups stay)", str(schedule_id)):
                print("nothing removed")
                return 1
            database.remove_schedule(schedule_id)
            print(f"removed schedule {schedule_id} (its backups stay)")
        else:
            database.update_schedule(schedule_id, enabled=args.schedule_command == "resume")
            print(f"schedule {schedule_id} {'resumed' if args.schedule_command == 'resume' else 'paused'}")
    return 0


def cmd_schedule_run(args: argparse.Namespace) -> int:
    with _database(args) as database:
        _require_installed(database)
        schedule_id = _schedule_id(database, args.schedule)
        name, error = database.run_schedule(schedule_id)
    if name is None:
        print(f"schedule {schedule_id} failed: {fmt.printable(error)}", file=sys.stderr)
        return 1
    print(name)
    return 0


def cmd_schedule_cron(args: argparse.Namespace) -> int:
    if args.install == args.remove:
        raise UserError("schedule cron takes --install or --remove")
    with _database(args) as database:
        _require_installed(database)
        state = database.cron_state()
        if not state.visible:
            raise UserError(
                "pg_cron is not in this database, and where else it may be only a superuser can see "
                "(cron.database_name): ask one to run `backup-tui schedule cron --install`"
            )
        if not state.installed:
            raise UserError(
                "pg_cron is not installed on this server; run `backup-tui run-due` every minute from the "
                "system's cron or a systemd timer instead (README: Scheduled backups)"
            )
        if not state.here:
            statements = database.cron_commands(state, args.prune_at) if args.install else []
            where = f"pg_cron lives in database {state.cron_database!r}, not {state.database!r}"
            if args.install:
                print(f"{where}: run these there (as a role pg_cron lets schedule jobs):")
                for statement in statements:
                    print(f"  {statement}")
            else:
                print(f"{where}: remove the jobs there with cron.unschedule(<job name>)")
            return 1
        if args.install:
            names = database.install_cron(args.prune_at)
            print("pg_cron jobs in place: " + "; ".join(names))
        else:
            names = database.remove_cron()
            print("removed: " + ("; ".join(names) if names else "nothing (no jobs of ours)"))
    return 0


def cmd_run_due(args: argparse.Namespace) -> int:
    at = _at(args.at) if args.at else None
    if at is not None and not args.dry_run and abs(at - datetime.now(timezone.utc)) > timedelta(days=1):
        # A real run records the minute it ran for: one run "at" 9999-12-31 would silence the
        # schedule for good (nothing ever due again). Previews may look anywhere.
        raise UserError(
            f"--at {args.at} is more than a day from now: a real run makes real backups now; "
            "preview other times with --dry-run"
        )
    with _database(args) as database:
        _require_installed(database)
        due = database.due(at)
        if args.dry_run:
            for d in due:
                table = fmt.printable(d.source_table)
                print(f"due: schedule {d.id} {table} {d.backup_kind} (for {fmt.date(d.slot)} UTC)")
            if not due:
                print("nothing is due")
            return 0
        database.run_due(at)
        after = {s.id: s for s in database.schedules()}
    failed = 0
    for d in due:
        s = after.get(d.id)
        if s is None:
            continue
        if s.failed and s.last_run_at == d.slot:
            failed += 1
            print(f"schedule {d.id} failed: {fmt.printable(s.last_error)}", file=sys.stderr)
        elif s.last_run_at == d.slot:
            print(fmt.printable(s.last_backup))
    return 1 if failed else 0


def _at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--at: not a time (ISO 8601, e.g. 2026-06-01T02:00Z): {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- fleet ----------------------------------------------------------------------------------------


def _fleet_targets(args: argparse.Namespace) -> list[FleetTarget]:
    from tui.config import load_config

    config, problems = load_config()
    for problem in problems:  # a config that cannot be read is said, not taken for "no targets"
        print(f"backup-tui: {fmt.printable(problem)}", file=sys.stderr)
    chosen = Database.fleet_targets(args.service or (), args.dsn or (), config.fleet)
    if not chosen:
        raise UserError(
            "no targets: name them with --service NAME / --dsn DSN, list them in the config's [fleet] targets, "
            "or define services in ~/.pg_service.conf"
        )
    return chosen


def _fleet_json(row: FleetRow) -> dict[str, Any]:
    return {
        "target": row.target.label,
        "host": row.host,
        "port": row.port,
        "database": row.dbname,
        "version": row.version,
        "schema": row.state.value if row.state else None,
        "backups": row.backups,
        "size_bytes": row.size,
        "reclaimable_bytes": row.reclaimable,
        "expired": row.expired,
        "oldest_backup": _json_value(row.oldest),
        "database_bytes": row.database_size,
        "findings": row.findings,
        "findings_by_category": dict(row.categories),
        "last_scheduled_backup": _json_value(row.last_scheduled_ok),
        "reachable": row.reachable,
        "error": row.error,
    }


def _write(text: str, output: str | None) -> None:
    """To stdout, or atomically to `output` (a temp file beside it, renamed over it)."""
    if output is None:
        sys.stdout.write(text)
        return
    target = os.path.abspath(output)
    fd, tmp = tempfile.mkstemp(prefix=".backup-tui-", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _fleet_exit(rows: list[FleetRow]) -> int:
    if any(not r.reachable for r in rows):
        return 2
    return 1 if any(r.findings for r in rows) else 0


def cmd_fleet(args: argparse.Namespace) -> int:
    chosen = _fleet_targets(args)
    if args.tui:
        from tui.app import run
        from tui.loading import Prefetch

        return run(Prefetch(Database(Settings(connect_timeout=args.connect_timeout))), fleet=chosen)
    if args.action == "check":
        return _fleet_check(args, chosen)
    order = {t.label: i for i, t in enumerate(chosen)}
    rows = sorted(
        Database.fleet_summaries(chosen, args.workers, args.connect_timeout, args.read_timeout),
        key=lambda r: order[r.target.label],
    )
    if args.prometheus:
        from tui.metrics import MetricsUnavailable, exposition, write_textfile

        try:
            if args.output:
                write_textfile(args.output, rows)
            else:
                sys.stdout.write(exposition(rows))
        except MetricsUnavailable as exc:
            raise UserError(str(exc)) from exc
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    elif args.json:
        _write(json.dumps([_fleet_json(r) for r in rows], ensure_ascii=False) + "\n", args.output)
    elif args.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        keys = list(_fleet_json(rows[0]).keys()) if rows else []
        writer.writerow(keys)
        for row in rows:
            writer.writerow(
                ["" if v is None else (json.dumps(v) if isinstance(v, dict) else v) for v in _fleet_json(row).values()]
            )
        _write(buffer.getvalue(), args.output)
    else:
        _write(_fleet_table(rows), args.output)
    return _fleet_exit(rows)


def _fleet_table(rows: list[FleetRow]) -> str:
    lines = []
    total = FleetRow(FleetTarget("", "total"))
    for r in rows:
        where = f"{r.host}/{r.dbname}" if r.reachable else "—"
        state = "unreachable" if not r.reachable else (r.state.value if r.state else "?")
        oldest = fmt.date(r.oldest) if r.oldest else "—"
        figures = (
            f"{r.backups:>7,}  {fmt.size(r.size):>10}  {fmt.size(r.reclaimable):>10}  {oldest:>16}  {r.findings:>4}"
            if r.reachable
            else fmt.printable(r.error or "")
        )
        lines.append(f"{fmt.printable(r.target.label):<20} {fmt.printable(where):<28} {state:<11} {figures}")
        total = replace(
            total,
            backups=total.backups + r.backups,
            size=total.size + r.size,
            reclaimable=total.reclaimable + r.reclaimable,
            findings=total.findings + r.findings,
        )
    header = (
        f"{'target':<20} {'host/database':<28} {'schema':<11} {'backups':>7}  {'size':>10}  {'reclaim.':>10}  "
        f"{'oldest':>16}  {'find':>4}"
    )
    reachable = sum(1 for r in rows if r.reachable)
    footer = (
        f"{len(rows)} databases ({len(rows) - reachable} unreachable): {total.backups:,} backups, "
        f"{fmt.size(total.size)}, {fmt.size(total.reclaimable)} reclaimable now, {total.findings} findings"
    )
    return "\n".join([header, *lines, "", footer]) + "\n"


def _fleet_check(args: argparse.Namespace, chosen: list[FleetTarget]) -> int:
    results = Database.fleet_checks(chosen, args.workers, args.connect_timeout)
    out = []
    for target, (findings, error) in zip(chosen, results, strict=True):
        out.append(
            {
                "target": target.label,
                "reachable": error is None,
                "error": error,
                "findings": [
                    {"category": str(f.category), "subject": f.subject, "detail": f.detail, "fix": f.fix}
                    for f in findings
                ],
            }
        )
    if args.json:
        _write(json.dumps(out, ensure_ascii=False) + "\n", args.output)
    else:
        text = []
        for item in out:
            head = f"{fmt.printable(item['target'])}: "
            if not item["reachable"]:
                text.append(head + f"unreachable: {fmt.printable(item['error'])}")
                continue
            text.append(head + (f"{len(item['findings'])} finding(s)" if item["findings"] else "clean"))
            for f in item["findings"]:
                text.append(f"  {f['category']}: {fmt.printable(f['subject'])}: {fmt.printable(f['detail'])}")
        _write("\n".join(text) + "\n", args.output)
    if any(not item["reachable"] for item in out):
        return 2
    return 1 if any(item["findings"] for item in out) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tui.demo import demo_database

    def say(line: str) -> None:
        print(f"backup-tui demo: {fmt.printable(line)}", file=sys.stderr, flush=True)

    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(demo_database(args.data_dir, keep=not args.temporary, fresh=args.fresh, say=say))
        if args.no_tui:
            print(dsn, flush=True)
            print("demo database ready; Ctrl-C stops it", file=sys.stderr, flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        settings = Settings(dsn=dsn, lock_timeout=args.lock_timeout, statement_timeout=args.statement_timeout)
        # A dropped SSH session skips the normal exit: stop the embedded server from the hang-up.
        return _run_tui(settings, on_hang_up=stack.close)


def _run_tui(settings: Settings, on_hang_up: Callable[[], object] | None = None) -> int:
    from tui.loading import Prefetch

    prefetch = Prefetch.start(Database(settings))  # connect and query while Textual imports: the two overlap
    from tui.app import run

    return run(prefetch, on_hang_up)


def cmd_tui(args: argparse.Namespace) -> int:
    return _run_tui(_settings(args))


_COMMON_DEFAULTS = {
    "dsn": None,
    "lock_timeout": "5s",
    "statement_timeout": "1h",
    "read_timeout": "10min",
    "as_of": None,
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (exit 2, as argparse and most tools do)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {fmt.printable(message)} (see {self.prog} --help)\n")


def _time_of_day(text: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
        raise argparse.ArgumentTypeError(f"not a time of day (HH:MM, 00:00 to 23:59): {text!r}")
    return text


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: the options are accepted before and after the subcommand without the
    # subcommand's defaults overwriting what was given before it; _COMMON_DEFAULTS fills the gaps.
    common = _Parser(add_help=False)
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

    parser = _Parser(
        prog="backup-tui", parents=[common], description="Browse, create and prune table-level PostgreSQL backups."
    )
    parser.add_argument("--version", action="version", version=f"backup-tui {__version__}")
    parser.add_argument("--read-only", action="store_true", help="open the TUI in a read-only session")
    parser.set_defaults(func=cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

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
    out.add_argument("--csv", action="store_true", help="CSV with a header row")
    out.add_argument("--prometheus", action="store_true", help="this database's summary as Prometheus metrics")
    p.add_argument("--output", metavar="FILE", help="with --prometheus: write FILE atomically")
    p.add_argument("--label", help="with --prometheus: the target label (default 'default')")
    p.add_argument(
        "--sort",
        choices=[o.value for o in ListOrder],
        default=ListOrder.NEWEST.value,
        help="newest first (default), size (biggest first), age (oldest first) or name",
    )
    p.add_argument("--reverse", action="store_true", help="the other way round")
    p.add_argument("--limit", type=_at_least_one, metavar="N", help="only the first N")
    p.add_argument("--status", choices=[s.value for s in Status], help="only backups with this status")
    p.add_argument("--kind", help="only backups of this kind")
    p.add_argument("--source", metavar="TABLE", help="only backups of this source table (TABLE or SCHEMA.TABLE)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("create", parents=[common], help="back up a table; prints the new backup's name")
    p.add_argument("table", help="the table to copy (exact name, any case)")
    p.add_argument("--reason", required=True, help="why this backup exists (required)")
    p.add_argument("--kind", default="manual", help="retention kind (default manual)")
    p.add_argument("--schema", default="public", help="the table's schema (default public)")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("drop", parents=[common], help="drop backups (asks unless --yes)")
    p.add_argument("names", nargs="+", metavar="NAME", help="backup table name(s) in schema backup")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--forget-archive", action="store_true", help="also stop tracking archived ones (their files stay)")
    p.set_defaults(func=cmd_drop)

    p = sub.add_parser("prune", parents=[common], help="the retention plan; deletes only with --apply")
    p.add_argument("--apply", action="store_true", help="drop the backups the plan deletes (batched)")
    p.add_argument("--yes", action="store_true", help="with --apply: do not ask for the count")
    p.add_argument("--json", action="store_true", help="the plan rows as JSON (keys = plan_prune's columns)")
    p.add_argument(
        "--batch-size", type=_at_least_one, default=100, help="drops per committed transaction (default 100)"
    )
    p.add_argument(
        "--archive-to", metavar="TARGET", help="with --apply: also archive the 'archive' decisions (DIR or s3://…)"
    )
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("check", parents=[common], help="integrity and exposure report; exit 1 on findings")
    p.add_argument("--json", action="store_true", help="findings as JSON")
    p.add_argument("--fast", action="store_true", help="row drift from estimates instead of exact counts")
    p.add_argument("--role", action="append", help="also report privileges of this role (repeatable)")
    p.add_argument(
        "--fix", choices=["exposure"], help="exposure: revoke what reaches the backups from anon/authenticated/PUBLIC"
    )
    p.add_argument("--yes", action="store_true", help="with --fix: do not ask for confirmation")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("grant", parents=[common], help="print (and apply) the grants an operator or reviewer needs")
    p.add_argument("role", help="an existing role")
    level = p.add_mutually_exclusive_group(required=True)
    level.add_argument("--operator", action="store_true", help="create, drop, prune, archive, adopt, review")
    level.add_argument("--reviewer", action="store_true", help="browse, check, plan (read-only)")
    p.add_argument("--yes", action="store_true", help="apply them without asking")
    p.set_defaults(func=cmd_grant)

    p = sub.add_parser("adopt", parents=[common], help="register a stray table in schema backup, or an archive")
    p.add_argument("name", nargs="?", help="the table in schema backup")
    p.add_argument("--from", dest="location", metavar="LOCATION", help="an archive folder or s3:// prefix instead")
    p.add_argument("--source", help="its source table (default: inferred from the name)")
    p.add_argument("--kind", default="manual", help="retention kind (default manual)")
    p.add_argument("--reason", help="why it exists")
    p.add_argument("--schema", default="public", help="the source table's schema (default public)")
    p.set_defaults(func=cmd_adopt)

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

    p = sub.add_parser("schedule", parents=[common], help="scheduled backups: list, add, remove, pause, resume, run")
    ssub = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True, parser_class=_Parser)
    q = ssub.add_parser("list", parents=[common], help="schedules, their last runs, and pg_cron's jobs")
    q.add_argument("--json", action="store_true", help="as JSON")
    q.set_defaults(func=cmd_schedule_list)
    q = ssub.add_parser("add", parents=[common], help="back up TABLE on a cron schedule (UTC)")
    q.add_argument("table")
    q.add_argument("--kind", required=True, help="retention kind of the backups it makes (daily, weekly, …)")
    q.add_argument("--cron", required=True, help="when, in UTC: '0 2 * * *' (every day at 02:00), @daily, …")
    q.add_argument("--reason", help="the backups' reason; {kind}, {table} and {date} are filled in")
    q.add_argument("--schema", default="public", help="the table's schema (default public)")
    q.set_defaults(func=cmd_schedule_add)
    for action, words in (
        ("remove", "remove a schedule (its backups stay)"),
        ("pause", "pause a schedule"),
        ("resume", "resume a paused schedule (missed runs are not made up)"),
    ):
        q = ssub.add_parser(action, parents=[common], help=words)
        q.add_argument("schedule", metavar="ID_OR_TABLE")
        if action == "remove":
            q.add_argument("--yes", action="store_true", help="do not ask")
        q.set_defaults(func=cmd_schedule_change)
    q = ssub.add_parser("run", parents=[common], help="run a schedule now")
    q.add_argument("schedule", metavar="ID_OR_TABLE")
    q.set_defaults(func=cmd_schedule_run)
    q = ssub.add_parser("cron", parents=[common], help="install or remove the pg_cron jobs")
    q.add_argument("--install", action="store_true", help="every minute: run due backups; nightly: apply_prune")
    q.add_argument("--remove", action="store_true", help="remove our jobs")
    q.add_argument(
        "--prune-at",
        default="03:00",
        type=_time_of_day,
        metavar="HH:MM",
        help="the nightly prune's time, UTC (default 03:00)",
    )
    q.set_defaults(func=cmd_schedule_cron)

    p = sub.add_parser("run-due", parents=[common], help="make the scheduled backups that are due (for cron/systemd)")
    p.add_argument("--dry-run", action="store_true", help="only say what is due")
    p.add_argument("--at", metavar="TIME", help="as if it were this time (ISO 8601; default now)")
    p.set_defaults(func=cmd_run_due)

    p = sub.add_parser(
        "fleet", help="every database at once: services (~/.pg_service.conf), --service, --dsn or the config's [fleet]"
    )
    p.add_argument("action", nargs="?", choices=["check"], help="check: run `check` on every target")
    p.add_argument("--service", action="append", metavar="NAME", help="a service of the service file (repeatable)")
    p.add_argument("--dsn", action="append", metavar="DSN", help="a connection string (repeatable)")
    fmt_group = p.add_mutually_exclusive_group()
    fmt_group.add_argument("--json", action="store_true", help="one object per database")
    fmt_group.add_argument("--csv", action="store_true", help="CSV with a header row")
    fmt_group.add_argument("--prometheus", action="store_true", help="Prometheus text format (the metrics extra)")
    fmt_group.add_argument("--tui", action="store_true", help="the fleet screen (enter opens a database)")
    p.add_argument("--output", metavar="FILE", help="write to FILE atomically (node_exporter's textfile collector)")
    p.add_argument("--workers", type=_at_least_one, default=8, help="databases queried at once (default 8)")
    p.add_argument("--connect-timeout", type=_at_least_one, default=5, help="seconds per connection (default 5)")
    p.add_argument(
        "--read-timeout",
        default="30s",
        help="limit for each query of a target (default 30s); a target silent past it (and 5 s) is marked stalled",
    )
    p.set_defaults(func=cmd_fleet)

    p = sub.add_parser("demo", parents=[common], help="embedded PostgreSQL with sample backups, then the TUI")
    p.add_argument("--no-tui", action="store_true", help="print the DSN and serve until interrupted")
    p.add_argument("--data-dir", help="keep the demo cluster here (default ~/.cache/backup-tui/demo; reused next time)")
    p.add_argument("--fresh", action="store_true", help="start over from an empty cluster")
    p.add_argument("--temporary", action="store_true", help="a cluster in a temp dir, removed on exit")
    p.set_defaults(func=cmd_demo)
    return parser


def _error_line(exc: DatabaseError) -> str:
    """A DatabaseError as the CLI words it."""
    if exc.kind is ErrorKind.CONNECTION_LOST:
        return f"{exc}; nothing more was done"
    return str(exc)


def _tolerant_streams() -> None:
    """Words this locale cannot encode (an ASCII terminal: LC_ALL=C, PYTHONIOENCODING=ascii) are
    written escaped (\\u2014), never a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null, so the interpreter's own final flush has
    nowhere to fail (it would print 'Exception ignored ... BrokenPipeError')."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    for arg in sys.argv[1:] if argv is None else argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal's locale could not decode (surrogate escapes)
            parser.error(f"an argument is not valid UTF-8: {arg.encode('utf-8', 'surrogateescape')!r}")
    _tolerant_streams()
    args = parser.parse_args(argv)
    for name, value in _COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    try:
        return args.func(args)
    except BrokenPipeError:
        # The reader went away (`backup-tui prune | head -1`): nothing more to say to it.
        _silence_stdout()
        return 1
    except (CheckFailed, VerifyFailed) as exc:
        print(f"backup-tui: {fmt.printable(exc)}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(f"backup-tui: {fmt.printable(_error_line(exc))}", file=sys.stderr)
    except UserError as exc:
        print(f"backup-tui: {fmt.printable(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("backup-tui: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
