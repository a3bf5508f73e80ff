"""The one door into PostgreSQL for the CLI, the TUI and the demo: a typed method per operation of
the SQL API, run on one Session; and one loop for writes that act on many backups."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import psycopg

from tui.db import activity, archive, backups, check, details, diff, fleet, inventory, plan, sample, schedules, schema
from tui.db.connection import Settings, send_server_info, server_info
from tui.db.errors import Cancelled, DatabaseError, ErrorKind
from tui.db.schedules import Overview
from tui.db.session import Session
from tui.model import (
    Backup,
    BackupDetails,
    CronState,
    DiffResult,
    DueRun,
    Finding,
    FleetRow,
    FleetTarget,
    InstallReport,
    ItemResult,
    Kind,
    KindChoice,
    ListQuery,
    Outcome,
    PlanRow,
    Restored,
    Schedule,
    SchemaState,
    ServerInfo,
    StopReason,
    TableEstimate,
    Transfer,
    Verified,
    WriteResult,
)
from tui.storage import StorageError, open_target

Progress = Callable[[ItemResult], None]
T = TypeVar("T")
# The server, the schema's state, about how many backups, and (when few and current) every one.
FirstLook = tuple[ServerInfo, SchemaState, int | None, list[Backup] | None]
TransferProgress = Callable[[Transfer], None]


class Database:
    """Every operation a front end needs, each one call of the SQL API in its own transaction.

    Errors are DatabaseErrors with a kind (tui.db.errors); words for a particular front end (which
    key to press, an exit status) are the front end's business.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = Session(settings)
        self._watcher: Session | None = None  # a second connection, to look at the first while it waits

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()

    def cancel(self) -> None:
        """Cancel the statement running now (from any thread)."""
        self.session.cancel()

    def close(self) -> None:
        self.session.close()
        if self._watcher is not None:
            self._watcher.close()

    def lock_holder(self) -> str | None:
        """Whose lock the statement running now waits for ('held by pid 4242 (alice, psql, idle in
        transaction for 3 minutes)'), asked on a second connection; None when it waits for nobody."""
        pid = self.session.backend_pid
        if pid is None:
            return None
        if self._watcher is None:
            self._watcher = Session(self.settings)
        return self._watcher.run(activity.lock_holder, pid)

    # -- the schema -------------------------------------------------------------------------
    def server_info(self) -> ServerInfo:
        return self.session.run(server_info)

    def schema_state(self) -> SchemaState:
        """Two round trips: which of our tables exist, then what they hold with the COMMIT."""
        return self.session.read(schema.send_state)

    def install(self, take_ownership: bool = False) -> InstallReport:
        """Install or upgrade the backup schema (idempotent); refuses objects another role owns
        unless `take_ownership`."""
        try:
            return self.session.write(schema.install, take_ownership)
        except RuntimeError as exc:  # a newer backup-tui installed it; another role owns some of it
            raise DatabaseError(str(exc), ErrorKind.REFUSED) from exc

    def exposure(self) -> list[Finding]:
        return self.session.run(check.exposure)

    def revoke_exposure(self) -> list[str]:
        return self.session.write(check.revoke_exposure)

    def role_grants(self, role: str, level: str) -> list[str]:
        return self.session.run(check.role_grants, role, level)

    def grant_role(self, role: str, level: str) -> list[str]:
        return self.session.write(check.grant_role, role, level)

    def seed_demo_schedules(self) -> None:
        """The demo's two schedules, for a demo cluster made before schedules existed."""
        self.session.run(sample.seed_schedules)

    def seed_demo(self) -> None:
        """Live tables and ~60 backups of every kind and age (an empty database only)."""
        self.session.run(sample.seed_demo)

    # -- reading --------------------------------------------------------------------------
    def inventory(
        self,
        state: SchemaState,
        *,
        estimate_sizes: bool = False,
        biggest: int | None = None,
        names: list[str] | None = None,
    ) -> list[Backup]:
        if names is not None and not estimate_sizes:
            return self.session.run(inventory.named_inventory, state, names)  # two round trips
        return self.session.run(inventory.load_inventory, state, estimate_sizes, biggest, names)

    def siblings(self, names: list[str]) -> dict[str, list[str]]:
        """Each source table of these backups with its backups that still have a table, newest first."""
        return self.session.run(inventory.siblings, names)

    def with_exact_sizes(self, rows: list[Backup]) -> list[Backup]:
        """Rows loaded with size estimates, given their exact sizes (a CURRENT schema)."""
        return self.session.run(inventory.with_exact_sizes, rows)

    def inventory_json(self, query: ListQuery | None = None) -> tuple[SchemaState, str]:
        """The schema's state and `list --json`'s array: one round trip on a current schema."""
        return self._by_state(lambda conn, state: inventory.inventory_json(conn, state, query))

    def listed(self, query: ListQuery) -> tuple[SchemaState, list[Backup]]:
        """The schema's state and `list`'s rows (filtered, ordered and limited by PostgreSQL, as
        the JSON's): one round trip on a current schema (the state's two statements and the rows
        with BEGIN and COMMIT)."""
        return self._by_state(lambda conn, state: inventory.list_inventory(conn, state, query))

    def _by_state(self, send: Callable[[psycopg.Connection, SchemaState], Callable[[], T]]) -> tuple[SchemaState, T]:
        """What `send` reads for the schema's state: on the bet that it is current (_if_current);
        another version's schema, or none, is read as it is, after."""
        state, answer = self._if_current(lambda conn: send(conn, SchemaState.CURRENT))
        if answer is not None:
            return state, answer
        return state, self.session.read(send, state)

    def first_look(self, rows_below: int = 0) -> FirstLook:
        """Who and where we are, the schema's state, about how many backups (None: unknown, never
        analyzed) and, when fewer than `rows_below` and the schema is current, every backup with
        exact sizes: one transaction of two round trips (it was four transactions, seventeen). The
        rows are sent with the state's second statement, on the bet that the schema is current;
        they are kept only if it was."""

        def look(
            conn: psycopg.Connection,
        ) -> Callable[[], tuple[ServerInfo, SchemaState, int | None, list[Backup] | None]]:
            info = send_server_info(conn)
            count = inventory.send_approximate_count(conn)
            state = schema.send_state(conn)  # waits for its first statement: the count came with it
            n = count()
            rows = inventory.send_small_inventory(conn) if n is not None and n < rows_below else None

            def read() -> FirstLook:
                known = state()
                return info(), known, n, rows() if rows is not None and known is SchemaState.CURRENT else None

            return read

        return self.session.read(look)

    def small_inventory(self, state: SchemaState) -> list[Backup]:
        """Every backup with exact sizes in one statement (two round trips): a small inventory's."""
        return self.session.run(inventory.small_inventory, state)

    def source_tables(self) -> list[TableEstimate]:
        return self.session.run(inventory.source_tables)

    def kinds(self) -> list[KindChoice]:
        return self.session.run(backups.backup_kinds)

    def details(self, name: str, state: SchemaState) -> BackupDetails:
        return self.session.run(details.backup_details, name, state)

    def count_rows(self, name: str) -> int:
        return self.session.run(details.count_rows, name)

    def archive_entry(self, name: str) -> tuple[str | None, dict[str, Any] | None]:
        return self.session.run(inventory.archive_entry, name)

    def plan(self) -> list[PlanRow]:
        return self.session.run(plan.load_plan)

    def database_size(self) -> int | None:
        """The whole database's size on disk (None when this role may not know it)."""
        return self.session.run(plan.database_size)

    def plan_and_size(self) -> tuple[list[PlanRow], int | None]:
        """The plan and the database's size (what the backups take a share of): one round trip."""
        return self.session.read(plan.send_plan_and_size)

    def plan_if_current(self) -> tuple[SchemaState, list[PlanRow] | None]:
        """The schema's state and, when it is CURRENT, the plan: two round trips (was four)."""
        return self._if_current(plan.send_plan)

    def _if_current(self, send: Callable[[psycopg.Connection], Callable[[], T]]) -> tuple[SchemaState, T | None]:
        """The schema's state and what `send` asks of a CURRENT schema, in one transaction: the
        state's statements and `send`'s travel together with BEGIN and COMMIT, on the bet that the
        schema is ours and current (the usual case): one round trip, plus one for each answer
        `send` waits for. The answer is kept only if the bet held. A schema of another version, or
        none, may make them fail: then the state alone is asked (two round trips more, only then)."""

        def both(conn: psycopg.Connection) -> Callable[[], tuple[SchemaState, T | None]]:
            state = schema.bet_state(conn)
            answer = send(conn)

            def read() -> tuple[SchemaState, T | None]:
                known = state()
                return known, answer() if known is SchemaState.CURRENT else None

            return read

        try:
            return self.session.read(both)
        except DatabaseError as exc:
            if exc.kind in _NOT_A_LOST_BET:
                raise
            state = self.schema_state()
            if state is SchemaState.CURRENT:
                raise
            return state, None

    def check(self, state: SchemaState, *, fast: bool = True, roles: Sequence[str] = ()) -> list[Finding]:
        return self.session.read(check.run_check, state, fast=fast, roles=roles)

    def check_if_current(
        self, *, fast: bool = True, roles: Sequence[str] = ()
    ) -> tuple[SchemaState, list[Finding] | None]:
        """The schema's state and, when it is CURRENT, the check: three round trips in all."""
        return self._if_current(lambda conn: check.run_check(conn, SchemaState.CURRENT, fast=fast, roles=roles))

    def flags(self, state: SchemaState) -> list[Finding]:
        """The findings the inventory flags on its rows (drift from estimates, dependants)."""
        return self.session.read(check.flags, state)

    # -- writes to one backup -------------------------------------------------------------
    def create(self, table: str, reason: str, kind: str = Kind.MANUAL, schema_name: str = "public") -> str:
        return self.session.send_write(backups.send_create, table, reason, kind, schema_name)

    def drop(self, name: str) -> int:
        return self.session.send_write(backups.send_drop, name)

    def adopt(
        self, name: str, source: str | None, kind: str, reason: str | None, schema_name: str = "public"
    ) -> tuple[str, int]:
        return self.session.write(backups.adopt_backup, name, source, kind, reason, schema_name)

    def mark_reviewed(self, name: str, note: str) -> None:
        self.session.write(backups.mark_reviewed, name, note)

    def diff(self, name: str, against: str | None = None, limit: int = 10) -> DiffResult:
        """What changed between backup `name` and its live table (or `against`: a table or a backup)."""
        return self.session.run(diff.compare, name, against, limit)

    def repair_sql(self, name: str, against: str | None, sections: Sequence[str]) -> str:
        """The statements that would put the live rows back as backup `name` has them (not run)."""
        return self.session.run(diff.repair_sql, name, against, sections)

    def find_redundant(self) -> list[tuple[str, str]]:
        """Which backups are identical to a newer one of the same table (each backup read once, ever)."""
        return self.session.write(backups.find_redundant)

    def hold_many(
        self, names: Sequence[str], reason: str, until: str | None, progress: Progress | None = None
    ) -> WriteResult:
        """Hold each backup (its own transaction): one that cannot be held fails alone."""
        return self._each(names, lambda batch: self._one(backups.hold, batch, reason, until), 1, progress, None)

    def release_many(self, names: Sequence[str], progress: Progress | None = None) -> WriteResult:
        """Release each backup's hold (its own transaction)."""
        return self._each(names, lambda batch: self._one(backups.release, batch), 1, progress, None)

    def _one(self, write: Callable[..., None], batch: list[str], *args: object) -> list[ItemResult]:
        (name,) = batch
        self.session.write(write, name, *args)
        return [ItemResult(name, Outcome.DONE)]

    def restore(
        self,
        name: str | None,
        as_table: str,
        schema_name: str,
        progress: TransferProgress | None = None,
        location: str | None = None,
    ) -> Restored:
        """From the database, from the backup's archive, or from an archive `location` alone."""
        return self.session.run(archive.restore_backup, self.settings, name, as_table, schema_name, progress, location)

    def verify(
        self, name: str | None = None, location: str | None = None, progress: TransferProgress | None = None
    ) -> Verified:
        """Re-read an archive (by catalogue name or location) against its manifest and the catalogue."""
        return self.session.run_own(archive.verify_backup, self.settings, name, location, progress)

    def archived_names(self) -> list[str]:
        return self.session.run(inventory.archived_names)

    # -- the fleet: many databases, each in its own short session --------------------------
    @staticmethod
    def fleet_targets(services: Sequence[str], dsns: Sequence[str], configured: Sequence[str]) -> list[FleetTarget]:
        return fleet.targets(services, dsns, configured)

    @staticmethod
    def fleet_summaries(
        targets: list[FleetTarget],
        workers: int = 8,
        connect_timeout: int = 5,
        read_timeout: str = fleet.SUMMARY_TIMEOUT,
    ) -> Iterator[FleetRow]:
        """Every target's summary row, as each arrives (a bounded pool of `workers` connections);
        one whose server stops answering is given up on after `read_timeout` and a grace."""
        return fleet.summaries(targets, workers, connect_timeout, read_timeout)

    @staticmethod
    def fleet_summary(target: FleetTarget, connect_timeout: int = 5) -> FleetRow:
        return fleet.summary(target, connect_timeout)

    @staticmethod
    def fleet_checks(
        targets: list[FleetTarget], workers: int = 8, connect_timeout: int = 5
    ) -> list[tuple[list[Finding], str | None]]:
        """`check` (exact) on every target: its findings, or the error that stopped it."""

        def one(target: FleetTarget) -> tuple[list[Finding], str | None]:
            try:
                with Database(Settings(dsn=target.dsn, read_only=True, connect_timeout=connect_timeout)) as db:
                    return db.check(db.schema_state(), fast=False), None
            except DatabaseError as exc:
                return [], fleet.phrase(str(exc))

        return fleet.run_everywhere(targets, one, workers)  # type: ignore[return-value]

    # -- schedules ------------------------------------------------------------------------
    def schedules(self, at: datetime | None = None) -> list[Schedule]:
        return self.session.run(schedules.list_schedules, at)

    def add_schedule(
        self, table: str, kind: str, cron: str, reason: str | None = None, schema_name: str = "public"
    ) -> int:
        return self.session.write(schedules.add_schedule, table, kind, cron, reason, schema_name)

    def update_schedule(self, schedule_id: int, **changes: object) -> None:
        self.session.write(schedules.update_schedule, schedule_id, **changes)  # type: ignore[arg-type]

    def remove_schedule(self, schedule_id: int) -> None:
        self.session.write(schedules.remove_schedule, schedule_id)

    def run_schedule(self, schedule_id: int) -> tuple[str | None, str | None]:
        return self.session.write(schedules.run_schedule, schedule_id)

    def schedule_ids(self, key: str) -> list[int]:
        return self.session.run(schedules.schedules_of, key)

    def due(self, at: datetime | None = None) -> list[DueRun]:
        return self.session.run(schedules.due, at)

    def run_due(self, at: datetime | None = None) -> None:
        """Every due scheduled backup, one committed transaction each (the procedure commits)."""
        self.session.run_own(schedules.run_due, at)

    def cron_preview(self, cron: str, count: int = 3) -> tuple[str, list[datetime]]:
        """A cron expression's words and next runs (raises DatabaseError when it does not parse)."""
        return self.session.run(schedules.preview, cron, count)

    def cron_state(self) -> CronState:
        return self.session.read(schedules.send_cron_state)

    def schedule_overview(self, at: datetime | None = None) -> tuple[SchemaState, Overview | None]:
        """The schema's state and, when it is CURRENT, the schedules, where pg_cron is and our jobs
        there, in one transaction of two round trips (was thirteen)."""
        return self._if_current(lambda conn: schedules.send_overview(conn, at))

    def schedules_and_cron(self) -> Overview:
        """The schedules, where pg_cron is and our jobs there, in one transaction (the Schedules
        screen: it opens on a schema known to have them)."""
        return self.session.read(schedules.send_overview)

    @staticmethod
    def cron_commands(state: CronState, prune_at: str = "03:00") -> list[str]:
        """The statements that create our jobs where pg_cron lives (to run there by hand)."""
        return schedules.cron_commands(state, prune_at)

    def install_cron(self, prune_at: str = "03:00") -> list[str]:
        return self.session.write(schedules.install_cron, prune_at)

    def remove_cron(self) -> list[str]:
        return self.session.write(schedules.remove_cron)

    def adopt_archive(self, location: str, progress: TransferProgress | None = None) -> str:
        """Register an archive found at `location` back into the catalogue (once it verifies)."""
        return self.session.run_own(archive.adopt_archive, self.settings, location, progress)

    def forget_many(
        self, names: Sequence[str], progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> WriteResult:
        """Stop tracking archived backups (their files stay), each in its own transaction."""

        def forget_one(batch: list[str]) -> list[ItemResult]:
            self.session.write(backups.forget_archive, batch[0])
            return [ItemResult(batch[0], Outcome.DONE)]

        return self._each(names, forget_one, 1, progress, cancel)

    # -- writes to many backups -------------------------------------------------------------
    def drop_many(
        self,
        names: Sequence[str],
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        batch_size: int = 50,
    ) -> WriteResult:
        """Drop backups in committed batches, one call each (backup.drop_table_backups: a round
        trip a batch, with its COMMIT; it was two a backup); a failure is reported per backup and the rest go on; a
        missing privilege or a stop undoes its batch and ends the run."""

        def drop_batch(batch: list[str]) -> list[ItemResult]:
            return self.session.send_write(backups.send_drops, batch)

        return self._each(names, drop_batch, batch_size, progress, cancel)

    def archive_many(
        self,
        names: Sequence[str],
        target: str,
        progress: Progress | None = None,
        transfer: TransferProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> WriteResult:
        """Archive each backup to `target` (a directory or s3:// URL): write, verify, then drop.

        A failure is reported and the rest go on; `cancel` stops the one in flight (its archive
        is removed, its table stays) and the ones after it. `transfer` gets bytes/rows progress.
        """
        try:
            store = open_target(target)
        except StorageError as exc:
            result = WriteResult()
            for name in names:
                result.items.append(ItemResult(name, Outcome.FAILED, error=str(exc)))
                if progress:
                    progress(result.items[-1])
            return result

        def watched(t: Transfer) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled: the archive was removed, the backup stays in the database")
            if transfer:
                transfer(t)

        def archive_one(batch: list[str]) -> list[ItemResult]:
            return [self.session.run_own(archive.archive_backup, self.settings, batch[0], store, watched)]

        return self._each(names, archive_one, 1, progress, cancel)

    def apply_prune(
        self,
        names: Sequence[str],
        progress: Progress | None = None,
        batch_size: int = 100,
        cancel: threading.Event | None = None,
    ) -> WriteResult:
        """Drop the planned deletes in committed batches (backup.prune_batch re-checks each against a
        fresh plan); `cancel` stops before the next batch."""

        def one_batch(batch: list[str]) -> list[ItemResult]:
            return self.session.send_write(plan.send_prune_batch, batch)

        return self._each(names, one_batch, batch_size, progress, cancel)

    @staticmethod
    def _each(
        names: Sequence[str],
        step: Callable[[list[str]], list[ItemResult]],
        batch_size: int,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> WriteResult:
        """The one loop for writes to many backups: `step` acts on a batch in one transaction.

        A failed batch is reported and the rest go on. A lost connection or a cancel stops the run:
        the batch in flight is reported failed (its transaction changed nothing) and the rest as
        not attempted; batches already committed stay done.
        """
        result = WriteResult()

        def record(items: list[ItemResult]) -> None:
            for item in items:
                result.items.append(item)
                if progress:
                    progress(item)

        pending = list(names)
        while pending:
            if cancel is not None and cancel.is_set():
                result.stopped, result.stop_message = StopReason.CANCELLED, "cancelled"
                break
            batch, pending = pending[:batch_size], pending[batch_size:]
            try:
                record(step(batch))
            except DatabaseError as exc:
                record([ItemResult(n, Outcome.FAILED, error=str(exc)) for n in batch])
                stop = _stop_reason(exc, cancel)
                if stop is not None:
                    result.stopped, result.stop_message = stop, str(exc)
                    break
        if result.stopped is not None:
            record(
                [ItemResult(n, Outcome.NOT_ATTEMPTED, error=f"not attempted: {result.stopped.value}") for n in pending]
            )
        return result


# Failures that say nothing of the schema: the bet of _if_current is not what went wrong.
_NOT_A_LOST_BET = (ErrorKind.CONNECTION_LOST, ErrorKind.CANNOT_CONNECT, ErrorKind.CANCELLED, ErrorKind.LOCK_TIMEOUT)


def _stop_reason(exc: DatabaseError, cancel: threading.Event | None) -> StopReason | None:
    """Whether an error ends a multi-backup write: a lost connection, a missing privilege or the
    user's stop does; a refusal, a lock timeout or a statement_timeout affects only its backup."""
    if exc.kind is ErrorKind.CONNECTION_LOST:
        return StopReason.CONNECTION_LOST
    if exc.kind is ErrorKind.PERMISSION:
        return StopReason.PERMISSION  # the next backup would be refused the same way
    if isinstance(exc, Cancelled) or (cancel is not None and cancel.is_set()):
        return StopReason.CANCELLED
    return None
