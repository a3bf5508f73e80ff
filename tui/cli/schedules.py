"""`schedule ...` and `run-due`: scheduled backups."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from tui import format as fmt
from tui.actions import cadence_warning
from tui.cli.common import (
    Parser,
    UserError,
    confirm,
    database_of,
    json_value,
    on_terminal,
    require_current,
    require_installed,
    time_of_day,
)
from tui.cli.table import say
from tui.db import Database
from tui.model import (
    CronJob,
    Schedule,
)


def _schedule_id(database: Database, key: str) -> int:
    """The one schedule `key` (an id or a table) names; a table with several: say which ids."""
    ids = database.schedule_ids(key)
    if not ids:
        raise UserError(f"no schedule {key!r}: `backup-tui schedule list` shows them")
    if len(ids) > 1:
        raise UserError(f"{key!r} has {len(ids)} schedules ({', '.join(map(str, ids))}): name one by its id")
    return ids[0]


def _schedule_json(s: Schedule) -> dict[str, Any]:
    return {f: json_value(getattr(s, f)) for f in Schedule.__dataclass_fields__}


def cmd_schedule_list(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        current, overview = database.schedule_overview()
        require_current(current)
        assert overview is not None
        rows, state, jobs = overview
    if args.json:
        json.dump(
            {
                "schedules": [_schedule_json(s) for s in rows],
                "pg_cron": {
                    "installed": state.installed if state.visible else None,
                    "here": state.here,
                    "database": state.cron_database,
                },
                "jobs": [{f: json_value(getattr(j, f)) for f in CronJob.__dataclass_fields__} for j in jobs],
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
        # Two lines a schedule: what and when, then how it went (80 columns: no word cut in two).
        say(f"{s.id:>4}  {fmt.printable(s.source)}  {s.backup_kind}  {fmt.printable(s.words)}  [{state_word}]", hang=4)
        say(
            f"      next {fmt.date(s.next_run) if s.next_run else '—'}  ·  {last}  ·  "
            f"{s.backups} backup(s), {fmt.size(s.backup_bytes)}",
            hang=2,
        )
        if s.failed:
            say(f"      error: {fmt.printable(s.last_error)}", hang=2)
    print()
    if state.here:
        if not jobs:
            say("pg_cron is installed here, but our jobs are not: backup-tui schedule cron --install")
        for j in jobs:
            run = (
                f"last run {fmt.date(j.last_start)} {j.last_status}"
                + (f" in {(j.last_end - j.last_start).total_seconds():.1f} s" if j.last_end and j.last_start else "")
                + (f": {fmt.printable(j.last_message)}" if j.last_message else "")
                if j.last_start
                else "has not run yet"
            )
            say(f"pg_cron job {fmt.printable(j.jobname)} ({j.schedule}{'' if j.active else ', inactive'}): {run}")
    elif state.installed:
        say(
            f"pg_cron lives in database {state.cron_database!r}: create the jobs there with "
            "`backup-tui schedule cron --install` (it prints the statements)"
        )
    elif not state.visible:
        say("pg_cron is not in this database; where else it may be only a superuser can see (cron.database_name)")
    else:
        say("pg_cron is not installed: run `backup-tui run-due` every minute from cron or a systemd timer")
    return 0


def cmd_schedule_add(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        require_installed(database)
        new_id = database.add_schedule(args.table, args.kind, args.cron, args.reason, args.schema)
        words, upcoming = database.cron_preview(args.cron)
    print(f"schedule {new_id}: {args.kind} backup of {fmt.printable(args.table)}, {words}")
    print("next runs: " + ", ".join(f"{fmt.date(t)} UTC" for t in upcoming))
    warning = cadence_warning(args.kind, upcoming)
    if warning:
        say(f"backup-tui: {warning}", file=sys.stderr)
    return 0


def cmd_schedule_change(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        require_installed(database)
        schedule_id = _schedule_id(database, args.schedule)
        if args.schedule_command == "remove":
            if not args.yes and not on_terminal():
                raise UserError("refusing to remove a schedule without confirmation: pass --yes when not on a terminal")
            if not args.yes and not confirm(f"remove schedule {schedule_id}? (its backups stay)", str(schedule_id)):
                print("nothing removed")
                return 1
            database.remove_schedule(schedule_id)
            print(f"removed schedule {schedule_id} (its backups stay)")
        else:
            database.update_schedule(schedule_id, enabled=args.schedule_command == "resume")
            print(f"schedule {schedule_id} {'resumed' if args.schedule_command == 'resume' else 'paused'}")
    return 0


def cmd_schedule_run(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        require_installed(database)
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
    with database_of(args) as database:
        require_installed(database)
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
    with database_of(args) as database:
        require_installed(database)
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


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser("schedule", parents=[common], help="scheduled backups: list, add, remove, pause, resume, run")
    ssub = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True, parser_class=Parser)
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
        type=time_of_day,
        metavar="HH:MM",
        help="the nightly prune's time, UTC (default 03:00)",
    )
    q.set_defaults(func=cmd_schedule_cron)

    p = sub.add_parser("run-due", parents=[common], help="make the scheduled backups that are due (for cron/systemd)")
    p.add_argument("--dry-run", action="store_true", help="only say what is due")
    p.add_argument("--at", metavar="TIME", help="as if it were this time (ISO 8601; default now)")
    p.set_defaults(func=cmd_run_due)
