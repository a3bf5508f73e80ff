"""A Database: one connection shared by the app's worker threads, reconnecting after a loss."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

import psycopg

from tui.db import actions, archive, check, details, inventory, prune, schema
from tui.db.connection import Settings, connect, server_info
from tui.db.errors import Cancelled, DatabaseError, friendly_message
from tui.model import Backup, BackupDetails, DropResult, Finding, PlanRow, SchemaState, ServerInfo, Transfer
from tui.storage import StorageError, open_target

T = TypeVar("T")


# From this many backups on (catalog estimate), the first load is only the biggest FIRST_SCREEN
# of them (the default sort), so the first rows paint in O(screen), not O(inventory).
LARGE_INVENTORY = 2_000
FIRST_SCREEN = 200


@dataclass(frozen=True, slots=True)
class FirstLoad:
    info: ServerInfo
    state: SchemaState
    rows: list[Backup]
    estimated: bool
    partial_of: int | None = None  # rows holds only the biggest backups of about this many


class ConnectionLost(DatabaseError):
    """The server went away; the next call reconnects."""


class Database:
    """Serialises calls from worker threads onto one connection; psycopg errors become DatabaseError.

    After a lost connection the failed call reports it and the next call connects again, so the
    app recovers without restarting. Every write is one transaction, so a lost one changed nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()
        self._prefetch: Future[FirstLoad] | None = None

    def prefetch(self) -> None:
        """Start the first load in a thread now, while the caller imports the UI (they overlap)."""
        future: Future[FirstLoad] = Future()

        def load() -> None:
            try:
                future.set_result(self.first_load())
            except BaseException as exc:  # delivered to whoever takes the result
                future.set_exception(exc)

        threading.Thread(target=load, name="backup-tui-prefetch", daemon=True).start()
        self._prefetch = future

    def take_prefetch(self) -> FirstLoad | None:
        """The prefetched first load (waiting for it if needed), once; None when none was started."""
        future, self._prefetch = self._prefetch, None
        return future.result() if future is not None else None

    def first_load(self) -> FirstLoad:
        """Server, schema state and rows — with catalog size estimates when the schema has them,
        and only the biggest FIRST_SCREEN backups of a large inventory."""
        info = self.server_info()
        state = self.schema_state()
        estimated = state in (SchemaState.CURRENT, SchemaState.OUTDATED)
        if state is SchemaState.CURRENT:
            count = self._run(inventory.approximate_count)
            if count >= LARGE_INVENTORY:
                rows = self._run(inventory.load_inventory, state, True, FIRST_SCREEN)
                return FirstLoad(info, state, rows, True, partial_of=count)
        return FirstLoad(info, state, self.inventory(state, estimate_sizes=estimated), estimated)

    def _run(self, fn: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = connect(self.settings)
            conn = self._conn
            try:
                return fn(conn, *args)
            except psycopg.Error as exc:
                if conn.closed or conn.broken:
                    self._conn = None
                    raise ConnectionLost(
                        f"connection lost ({friendly_message(exc)}); the last action was not done — "
                        "press r to reconnect"
                    ) from exc
                raise DatabaseError(friendly_message(exc)) from exc

    def cancel(self) -> None:
        """Cancel the statement running now (from any thread); harmless when idle."""
        conn = self._conn
        if conn is not None and not conn.closed:
            conn.cancel_safe()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def server_info(self) -> ServerInfo:
        return self._run(server_info)

    def schema_state(self) -> SchemaState:
        return self._run(schema.schema_state)

    def inventory(self, state: SchemaState, estimate_sizes: bool = False) -> list[Backup]:
        return self._run(inventory.load_inventory, state, estimate_sizes)

    def details(self, name: str, state: SchemaState) -> BackupDetails:
        return self._run(details.backup_details, name, state)

    def count_rows(self, name: str) -> int:
        return self._run(details.count_rows, name)

    def install(self) -> list[str]:
        return self._run(schema.install)

    def create(self, table: str, reason: str, kind: str, schema_name: str) -> str:
        return self._run(actions.create_backup, self.settings, table, reason, kind, schema_name)

    def drop(self, name: str) -> int:
        return self._run(actions.drop_backup, self.settings, name)

    def drop_many(
        self,
        names: Iterable[str],
        progress: Callable[[DropResult], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[DropResult]:
        """Drop each backup in its own transaction; a failure is recorded and the rest go on."""
        return self._one_by_one(names, self.drop, progress, cancel)

    def _one_by_one(
        self,
        names: Iterable[str],
        act: Callable[[str], int],
        progress: Callable[[DropResult], None] | None,
        cancel: threading.Event | None = None,
    ) -> list[DropResult]:
        """Run `act` (returning bytes freed) for each name; a failure is recorded and the rest go on.

        A lost connection or a cancel stops the run: the backup in flight and the ones after it
        are reported as not done (each action is one transaction, so none of them half-happened).
        """
        results: list[DropResult] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            try:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("cancelled before it started")
                batch = [DropResult(name, freed_bytes=act(name))]
            except (ConnectionLost, Cancelled) as exc:
                why = "the connection was lost" if isinstance(exc, ConnectionLost) else "cancelled"
                batch = [DropResult(name, error=str(exc))]
                batch += [DropResult(n, error=f"not attempted: {why}") for n in pending]
                pending = []
            except DatabaseError as exc:
                batch = [DropResult(name, error=str(exc))]
            results.extend(batch)
            if progress:
                for result in batch:
                    progress(result)
        return results

    def kinds(self) -> list[tuple[str, str]]:
        return self._run(actions.backup_kinds)

    def source_tables(self) -> list[tuple[str, str, int, float]]:
        return self._run(inventory.source_tables)

    def plan(self) -> list[PlanRow]:
        return self._run(prune.load_plan)

    def apply_prune(
        self,
        names: list[str],
        progress: Callable[[DropResult], None] | None = None,
        batch_size: int = 100,
        cancel: threading.Event | None = None,
    ) -> list[DropResult]:
        """Drop the planned deletes in committed batches; a lost connection stops the run and
        reports the rest as not done (batches already committed stay done)."""
        done: list[DropResult] = []

        def one_batch(batch: list[str]) -> list[DropResult]:
            return self._run(prune.prune_batch, batch)

        def record(result: DropResult) -> None:
            done.append(result)
            if progress:
                progress(result)

        try:
            prune.apply_prune(one_batch, names, batch_size, record, cancel)
        except ConnectionLost as exc:
            finished = {r.name for r in done}
            for name in names:
                if name not in finished:
                    record(DropResult(name, error=f"not done: {exc}"))
        return done

    def mark_reviewed(self, name: str, note: str) -> None:
        self._run(prune.mark_reviewed, name, note)

    def check(self, state: SchemaState, fast: bool = True) -> list[Finding]:
        return self._run(lambda conn: check.run_check(conn, state, fast=fast))

    def adopt(self, name: str, source: str | None, kind: str, reason: str | None) -> None:
        def in_transaction(conn: psycopg.Connection) -> None:
            with conn.transaction():
                check.adopt(conn, name, source, kind, reason, "public")

        self._run(in_transaction)

    def archive_many(
        self,
        names: list[str],
        target: str,
        progress: Callable[[DropResult], None] | None = None,
        transfer: Callable[[Transfer], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[DropResult]:
        """Archive each backup to `target` (a directory or s3:// URL): write, verify, then drop.

        A failure is reported and the rest go on; `cancel` stops the one in flight (its archive
        is removed, its table stays) and the ones after it. `transfer` gets bytes/rows progress.
        """
        try:
            store = open_target(target)
        except StorageError as exc:
            return [DropResult(name, error=str(exc)) for name in names]

        def watched(t: Transfer) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled: the archive was removed, the backup stays in the database")
            if transfer:
                transfer(t)

        def one(name: str) -> int:
            return self._run(archive.archive_backup, self.settings, name, store, watched).freed_bytes

        return self._one_by_one(names, one, progress, cancel)

    def archive_manifest(self, name: str) -> tuple[str | None, dict | None]:
        def read(conn: psycopg.Connection) -> tuple[str | None, dict | None]:
            row = conn.execute(
                "SELECT archive_location, archive_manifest FROM backup.backup_metadata WHERE backup_table_name = %s",
                (name,),
            ).fetchone()
            return (row[0], row[1]) if row else (None, None)

        return self._run(read)
