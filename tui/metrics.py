"""The fleet summary in Prometheus' text exposition format, for node_exporter's textfile collector,
written with the maintained prometheus_client library (the optional `metrics` extra)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone

from tui.model import FleetRow

PREFIX = "backup_tui"


class MetricsUnavailable(Exception):
    """prometheus_client is not installed."""


def label_value(category: str) -> str:
    """A finding category as a label value in Prometheus' convention: 'not installed' -> not_installed."""
    return re.sub(r"[^a-z0-9_]+", "_", category.lower()).strip("_")


def registry_of(  # type: ignore[no-untyped-def]
    rows: Iterable[FleetRow], now: datetime | None = None, extra: dict[str, str] | None = None
):
    """A CollectorRegistry with one sample per database (labels: target, host, database, and the
    `extra` ones given with --label key=value, the same on every sample)."""
    try:
        from prometheus_client import CollectorRegistry, Gauge
    except ImportError as exc:
        raise MetricsUnavailable(
            "Prometheus output needs prometheus_client: pip install 'backup-tui[metrics]'"
        ) from exc
    now = now or datetime.now(timezone.utc)
    registry = CollectorRegistry()
    extra = extra or {}
    labels = ["target", "host", "database", *extra]

    def gauge(name: str, text: str, extra: list[str] | None = None) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", text, labels + (extra or []), registry=registry)

    up = gauge("up", "1 when the database answered the fleet summary")
    backups = gauge("backups", "backups in schema backup (registered, unregistered, archived)")
    size = gauge("backup_bytes", "size of the backups' tables (catalog estimates)")
    reclaimable = gauge("reclaimable_bytes", "size of the expired backups: what prune frees now")
    database = gauge("database_bytes", "size of the whole database (pg_database_size)")
    oldest = gauge("oldest_backup_age_seconds", "age of the oldest backup")
    findings = gauge("findings", "check --fast findings, by category", ["category"])
    scheduled = gauge("last_scheduled_backup_timestamp_seconds", "when a scheduled backup last succeeded")
    for row in rows:
        key = (row.target.label, row.host or "", row.dbname or "", *extra.values())
        up.labels(*key).set(1 if row.reachable else 0)
        if not row.reachable:
            continue
        backups.labels(*key).set(row.backups)
        size.labels(*key).set(row.size)
        reclaimable.labels(*key).set(row.reclaimable)
        if row.database_size is not None:
            database.labels(*key).set(row.database_size)
        if row.oldest is not None:
            oldest.labels(*key).set((now - row.oldest).total_seconds())
        for category, count in row.categories:
            findings.labels(*key, label_value(category)).set(count)
        if row.last_scheduled_ok is not None:
            scheduled.labels(*key).set(row.last_scheduled_ok.timestamp())
    return registry


def exposition(rows: Iterable[FleetRow], now: datetime | None = None, extra: dict[str, str] | None = None) -> str:
    from prometheus_client import generate_latest

    return generate_latest(registry_of(rows, now, extra)).decode()


def write_textfile(
    path: str, rows: Iterable[FleetRow], now: datetime | None = None, extra: dict[str, str] | None = None
) -> None:
    """Atomically (a temp file renamed over `path`): the collector never reads half a file."""
    from prometheus_client import write_to_textfile

    write_to_textfile(path, registry_of(rows, now, extra))
