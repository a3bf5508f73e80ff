"""`fleet`: every database at once."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import replace
from typing import Any

from tui import format as fmt
from tui.cli.common import (
    UserError,
    at_least_one,
    json_value,
    write_out,
)
from tui.db import Database, Settings
from tui.model import (
    FleetRow,
    FleetTarget,
)


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
        "oldest_backup": json_value(row.oldest),
        "database_bytes": row.database_size,
        "findings": row.findings,
        "findings_by_category": dict(row.categories),
        "last_scheduled_backup": json_value(row.last_scheduled_ok),
        "reachable": row.reachable,
        "error": row.error,
    }


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
        write_out(json.dumps([_fleet_json(r) for r in rows], ensure_ascii=False) + "\n", args.output)
    elif args.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        keys = list(_fleet_json(rows[0]).keys()) if rows else []
        writer.writerow(keys)
        for row in rows:
            writer.writerow(
                ["" if v is None else (json.dumps(v) if isinstance(v, dict) else v) for v in _fleet_json(row).values()]
            )
        write_out(buffer.getvalue(), args.output)
    else:
        write_out(_fleet_table(rows), args.output)
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
        write_out(json.dumps(out, ensure_ascii=False) + "\n", args.output)
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
        write_out("\n".join(text) + "\n", args.output)
    if any(not item["reachable"] for item in out):
        return 2
    return 1 if any(item["findings"] for item in out) else 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
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
    p.add_argument("--workers", type=at_least_one, default=8, help="databases queried at once (default 8)")
    p.add_argument("--connect-timeout", type=at_least_one, default=5, help="seconds per connection (default 5)")
    p.add_argument(
        "--read-timeout",
        default="30s",
        help="limit for each query of a target (default 30s); a target silent past it (and 5 s) is marked stalled",
    )
    p.set_defaults(func=cmd_fleet)
