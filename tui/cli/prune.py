"""`prune`: the retention plan, and applying it (tui.actions.PruneJob)."""

from __future__ import annotations

import argparse
import json
import sys
from threading import Event
from typing import Any

from tui import format as fmt
from tui.actions import PruneJob
from tui.cli.common import (
    UserError,
    at_least_one,
    confirm_job,
    database_of,
    json_value,
    require_current,
    require_installed,
    stopped,
)
from tui.cli.table import say
from tui.model import (
    PLAN_COLUMNS,
    Decision,
    ItemResult,
    PlanRow,
    SchemaState,
)
from tui.terminal import ItemBar, TransferBar


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
            say(f"  {r.decision:<7} {name:<{width}}  {fmt.size(r.size_bytes):>10}  {fmt.printable(r.reason)}", hang=4)
    print()
    say(plan_totals(plan))


def plan_totals(plan: list[PlanRow]) -> str:
    """'delete 37 (4.2 GiB) · archive 3 (1.1 GiB) · review 5 (...) · keep 60 (...)'."""
    parts = []
    for decision in Decision:
        rows = [r for r in plan if r.decision is decision]
        parts.append(f"{decision} {len(rows)} ({fmt.size(sum(r.size_bytes or 0 for r in rows))})")
    return " · ".join(parts)


def cmd_prune(args: argparse.Namespace) -> int:
    with database_of(args) as database:
        if args.redundant:
            require_installed(database)
            found = database.find_redundant()  # each backup is read once, ever: then it is recorded
            if not args.json:
                say(f"{len(found)} backup(s) identical to a newer backup of the same table")
        state, current_plan = database.plan_if_current()
        require_current(state)
        plan = current_plan or []
        if args.json:
            json.dump(
                [{c: json_value(getattr(r, c)) for c in PLAN_COLUMNS} for r in plan], sys.stdout, ensure_ascii=False
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
        wanted = [r.backup_table_name for r in plan if r.decision in (Decision.DELETE, Decision.ARCHIVE)]
        backups = database.inventory(SchemaState.CURRENT, names=wanted) if wanted else []
        job = PruneJob(database, plan, backups, args.archive_to, args.batch_size)
        if not job.backups:
            print("nothing to delete", file=out)
            return 0
        if not args.yes and not confirm_job(job, args.yes):
            print("nothing dropped", file=out)
            return 1
        line, bar = TransferBar(), ItemBar(len(job.due))

        def show(item: ItemResult) -> None:
            if item.archived is not None or (item.name in job.to_archive and not item.ok):
                verb = "archived" if item.ok else "failed to archive"
                text = f"{verb} {fmt.printable(item.name)}" + ("" if item.ok else f": {fmt.printable(item.error)}")
                line.say(text, error=not item.ok)
            else:
                bar(item)

        try:
            result = job.run(show, line, Event())
        finally:
            line.close()
            bar.close()
    print(stopped(job.summary(result), result), file=out)
    return 0 if result.complete else 1


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser("prune", parents=[common], help="the retention plan; deletes only with --apply")
    p.add_argument("--apply", action="store_true", help="drop the backups the plan deletes (batched)")
    p.add_argument(
        "--redundant",
        action="store_true",
        help="also delete backups identical to a newer backup of the same table kept at least as long "
        "(found first: a backup not yet fingerprinted is read once); held ones and the newest stay",
    )
    p.add_argument("--yes", action="store_true", help="with --apply: do not ask for the count")
    p.add_argument("--json", action="store_true", help="the plan rows as JSON (keys = plan_prune's columns)")
    p.add_argument("--batch-size", type=at_least_one, default=100, help="drops per committed transaction (default 100)")
    p.add_argument(
        "--archive-to", metavar="TARGET", help="with --apply: also archive the 'archive' decisions (DIR or s3://…)"
    )
    p.set_defaults(func=cmd_prune)
