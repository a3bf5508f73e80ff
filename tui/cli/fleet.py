"""`fleet`: every database at once."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from tui import format as fmt
from tui.cli.common import (
    BOM_HELP,
    CSV_HELP,
    UserError,
    at_least_one,
    configured,
    csv_rows,
    json_value,
    metric_labels,
    who_asks,
    write_out,
)
from tui.cli.table import fit_table, terminal_width, wrapped
from tui.db import Database, Settings
from tui.model import (
    FleetRow,
    FleetTarget,
)


def _fleet_targets(args: argparse.Namespace) -> list[FleetTarget]:
    config = configured()  # a config that cannot be read is said, not taken for "no targets"
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

        return run(
            Prefetch(Database(Settings(connect_timeout=args.connect_timeout, requested_by=who_asks(args.by)))),
            fleet=chosen,
        )
    if args.action == "check":
        return _fleet_check(args, chosen)
    order = {t.label: i for i, t in enumerate(chosen)}
    rows = sorted(
        Database.fleet_summaries(chosen, args.workers, args.connect_timeout, args.read_timeout),
        key=lambda r: order[r.target.label],
    )
    if args.prometheus:
        from tui.metrics import MetricsUnavailable, exposition, write_textfile

        _, extra = metric_labels(args.label)
        try:
            if args.output:
                write_textfile(args.output, rows, extra=extra)
            else:
                sys.stdout.write(exposition(rows, extra=extra))
        except MetricsUnavailable as exc:
            raise UserError(str(exc)) from exc
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    elif args.json:
        write_out(json.dumps([_fleet_json(r) for r in rows], ensure_ascii=False) + "\n", args.output)
    elif args.csv:
        keys = list(_fleet_json(rows[0]).keys()) if rows else []
        cells = ([json.dumps(v) if isinstance(v, dict) else v for v in _fleet_json(row).values()] for row in rows)
        write_out(csv_rows(keys, cells, args.bom), args.output)
    else:
        write_out(_fleet_table(rows, None if args.output else terminal_width()), args.output)
    return _fleet_exit(rows)


_FLEET_COLUMNS = ("target", "where", "version", "schema", "backups", "size", "reclaimable", "oldest", "findings")
_FLEET_TITLES = {c: c for c in _FLEET_COLUMNS} | {"where": "host/database"}
# At 80 columns: the oldest backup's date, then where and which server give way; the figures on-call
# reads (schema, backups, size, reclaimable, findings) stay, under whole-word headers.
_FLEET_GIVE_WAY = ("oldest", "where", "version")


def _fleet_table(rows: list[FleetRow], width: int | None) -> str:
    cells = []
    notes: dict[int, str] = {}
    total = FleetRow(FleetTarget("", "total"))
    for r in rows:
        cells.append(
            {
                "target": fmt.printable(r.target.label),
                "where": fmt.printable(f"{r.host}/{r.dbname}") if r.reachable else "—",
                "version": fmt.printable(r.version or "—") if r.reachable else "—",
                "schema": "unreachable" if not r.reachable else (r.state.value if r.state else "?"),
                "backups": f"{r.backups:,}" if r.reachable else "",
                "size": fmt.size(r.size) if r.reachable else "",
                "reclaimable": fmt.size(r.reclaimable) if r.reachable else "",
                "oldest": fmt.date(r.oldest) if r.oldest else "—",
                "findings": str(r.findings) if r.reachable else "",
            }
        )
        if not r.reachable:
            notes[len(cells)] = fmt.printable(r.error or "")  # under its row: the why, whole
        total = replace(
            total,
            backups=total.backups + r.backups,
            size=total.size + r.size,
            reclaimable=total.reclaimable + r.reclaimable,
            findings=total.findings + r.findings,
        )
    lines = fit_table(
        cells,
        _FLEET_COLUMNS,
        width,
        titles=_FLEET_TITLES,
        right={"backups", "size", "reclaimable", "findings"},
        give_way=_FLEET_GIVE_WAY,
        cut="target",  # a long DSN as a label is shortened (with …) before the figures go
    )
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i in notes:
            out.extend(wrapped(f"  └ {notes[i]}", width, hang=4))
    reachable = sum(1 for r in rows if r.reachable)
    footer = (
        f"{len(rows)} databases ({len(rows) - reachable} unreachable): {total.backups:,} backups, "
        f"{fmt.size(total.size)}, {fmt.size(total.reclaimable)} reclaimable now, {total.findings} findings"
    )
    return "\n".join([*out, "", *wrapped(footer, width)]) + "\n"


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
    fmt_group.add_argument("--csv", action="store_true", help=CSV_HELP)
    p.add_argument("--bom", action="store_true", help=BOM_HELP)
    fmt_group.add_argument("--prometheus", action="store_true", help="Prometheus text format (the metrics extra)")
    fmt_group.add_argument("--tui", action="store_true", help="the fleet screen (enter opens a database)")
    p.add_argument("--output", metavar="FILE", help="write to FILE atomically (node_exporter's textfile collector)")
    p.add_argument(
        "--label", action="append", metavar="KEY=VALUE", help="with --prometheus: add a label to every sample"
    )
    p.add_argument("--workers", type=at_least_one, default=8, help="databases queried at once (default 8)")
    p.add_argument("--connect-timeout", type=at_least_one, default=5, help="seconds per connection (default 5)")
    p.add_argument(
        "--read-timeout",
        default="30s",
        help="limit for each query of a target (default 30s); a target silent past it (and 5 s) is marked stalled",
    )
    p.set_defaults(func=cmd_fleet)
