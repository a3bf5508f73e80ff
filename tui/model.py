"""The domain's words as types, and the plain data the CLI and the UI render; no SQL, no Textual.

Statuses, decisions, rules and check categories are closed sets (the SQL's rule table in
sql/definitions/plan.sql and tui/db/check.py produce exactly these). Kinds are rows of
backup.retention_policy, which a DBA may extend: the seeded ones are members, others become
members of their own when first read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID


class Word(str, enum.Enum):
    """A closed set of the domain's words: each member is its own text (str(), f-strings, JSON)."""

    def __str__(self) -> str:
        return str(self.value)


class Status(Word):
    """A backup's state in the inventory (the plan's rule, in inventory words)."""

    KEEP = "keep"
    EXPIRED = "expired"  # due for deletion
    REVIEW = "review"
    ARCHIVE = "archive"  # due for cold storage
    ARCHIVED = "archived"  # in cold storage; the row stays with its location
    MISSING = "missing"  # a metadata row whose table is gone
    UNREGISTERED = "unregistered"  # a table in schema backup without a metadata row

    @property
    def short(self) -> str:
        """At most 8 characters, for a narrow column: 'unreg.'; the others are short already."""
        return "unreg." if self is Status.UNREGISTERED else self.value


class Decision(Word):
    """What the retention policy does to a backup; in the order things happen."""

    DELETE = "delete"
    ARCHIVE = "archive"
    REVIEW = "review"
    KEEP = "keep"


class Rule(Word):
    """Which rule of the policy decided (sql/definitions/plan.sql: one table gives each its
    decision, status and reason)."""

    UNREGISTERED = "unregistered"
    ARCHIVED = "archived"
    ARCHIVE_DAMAGED = "archive-damaged"
    MISSING = "missing"
    HELD = "held"  # kept on purpose (backup-tui hold): never deleted or archived by the plan
    INVALID_DATE = "invalid-date"  # its backup_date is not a date a client can hold ('infinity', BC)
    FOREVER_REVIEW_DUE = "forever-review-due"
    FOREVER = "forever"
    YOUNG = "young"
    REVIEWED = "reviewed"
    EXPIRED_DELETE = "expired-delete"
    EXPIRED_REVIEW = "expired-review"
    EXPIRED_ARCHIVE = "expired-archive"
    NEWEST = "newest"
    REDUNDANT = "redundant"  # identical to a newer backup, dropped on request (prune --redundant)
    DEPENDED = "depended"


class Kind(Word):
    """A retention kind. The seeded six are members; a kind a DBA added to the policy becomes a
    member of its own the first time it is read (Kind("quarterly") works)."""

    PRE_MIGRATION = "pre-migration"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CRITICAL = "critical"
    MANUAL = "manual"

    @classmethod
    def _missing_(cls, value: object) -> Kind | None:
        if not isinstance(value, str) or not value:
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        cls._value2member_map_[value] = member
        return member


class Category(Word):
    """A kind of `check` finding, in the order the report lists them."""

    NOT_INSTALLED = "not installed"  # no backup schema: nothing else can be checked
    MISSING = "missing"
    UNREGISTERED = "unregistered"
    DRIFT = "drift"
    DEPENDANTS = "dependants"
    ARCHIVE = "archive"  # an archive whose last verification found it damaged or unreadable
    EXPOSURE = "exposure"  # grants that reach the backups from anon, authenticated, PUBLIC; PostgREST
    SEARCH_PATH = "search_path"  # splinter's function_search_path_mutable, for our functions
    DEFINER = "definer"  # splinter's security-definer lints (views; functions anon/authenticated run)
    RESTORED = "restored"  # a table restore made that anon/authenticated/PUBLIC can read, or without RLS in public
    SCHEDULE = "schedule"  # a schedule whose last run failed or that is overdue; a failed pg_cron job of ours
    FOREIGN = "foreign"  # in schema backup: an object we did not create, another role's, or a right outside the model

    @property
    def heading(self) -> str:
        """The heading of this category's findings in a report (the `!` screen's)."""
        return _CATEGORY_TITLES[self]


_CATEGORY_TITLES = {
    Category.NOT_INSTALLED: "Not installed — there is no backup schema",
    Category.MISSING: "Missing — metadata rows whose table is gone",
    Category.UNREGISTERED: "Unregistered — tables in schema backup without metadata",
    Category.DRIFT: "Row drift — recorded row count differs from the table",
    Category.DEPENDANTS: "Dependants — objects that use a backup table",
    Category.ARCHIVE: "Archives — damaged or unreadable at their last verification",
    Category.EXPOSURE: "Exposure — privileges that reach the backups",
    Category.SEARCH_PATH: "Search path — functions of ours without a fixed search_path",
    Category.DEFINER: "Definer rights — what anon/authenticated could run as the owner",
    Category.RESTORED: "Restored tables — readable by anon/authenticated/PUBLIC, or without RLS in public",
    Category.SCHEDULE: "Schedules — failed last runs, overdue schedules, failed pg_cron jobs",
    Category.FOREIGN: "Foreign objects — in schema backup, not ours, another role's, or rights outside the model",
}


class ListOrder(Word):
    """How `list` orders the inventory: newest first unless asked."""

    NEWEST = "newest"
    SIZE = "size"  # biggest first
    AGE = "age"  # oldest first
    NAME = "name"


@dataclass(frozen=True)
class ListQuery:
    """What `list` shows: every format (human, JSON, CSV) is the same query's rows, in its order."""

    order: ListOrder = ListOrder.NEWEST
    reverse: bool = False
    limit: int | None = None
    status: Status | None = None
    kind: str | None = None
    source: str | None = None  # a source table, as `orders` or `schema.orders`


@dataclass(frozen=True, slots=True)
class Schedule:
    """One row of backup.schedule_rows(): a schedule, its words, next run, last result, output."""

    id: int
    source_schema: str
    source_table: str
    backup_kind: str
    cron: str
    words: str
    reason: str
    enabled: bool
    next_run: datetime | None
    due_since: datetime | None
    last_run_at: datetime | None
    last_attempt_at: datetime | None
    last_result: str | None  # ok, failed, or None before its first run
    last_error: str | None
    last_backup: str | None
    backups: int
    backup_bytes: int
    overdue: bool

    @property
    def source(self) -> str:
        return qualified_source(self.source_schema, self.source_table)

    @property
    def failed(self) -> bool:
        return self.last_result == "failed"


@dataclass(frozen=True, slots=True)
class DueRun:
    """A backup a schedule would make now (run-due --dry-run)."""

    id: int
    source_schema: str
    source_table: str
    backup_kind: str
    slot: datetime


@dataclass(frozen=True, slots=True)
class CronState:
    """Where pg_cron is for this database: `here`, in `cron_database` on this server, or not at all."""

    installed: bool
    here: bool
    cron_database: str | None
    database: str
    version: str | None = None
    # False when this role may not see where pg_cron lives: cron.database_name is readable only by
    # superusers and pg_read_all_settings, and pg_cron is not in this database.
    visible: bool = True
    # Whether this role may read pg_cron's job and run tables here (our jobs are read only then).
    jobs_readable: bool = False


@dataclass(frozen=True, slots=True)
class CronJob:
    """One of our pg_cron jobs and its last run (cron.job_run_details)."""

    jobid: int
    jobname: str
    schedule: str
    command: str
    active: bool
    last_status: str | None  # succeeded, failed, running, …
    last_start: datetime | None
    last_end: datetime | None
    last_message: str | None


@dataclass(frozen=True, slots=True)
class FleetTarget:
    """One database of the fleet: how libpq reaches it (`service=NAME` or a DSN) and its label."""

    dsn: str
    label: str


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One database's summary on the fleet screen and in `backup-tui fleet`."""

    target: FleetTarget
    host: str | None = None
    port: str | None = None
    dbname: str | None = None
    version: str | None = None
    state: SchemaState | None = None
    backups: int = 0
    size: int = 0
    reclaimable: int = 0
    expired: int = 0
    oldest: datetime | None = None
    database_size: int | None = None
    findings: int = 0
    error: str | None = None  # unreachable, or the summary failed: the reason in one phrase
    categories: tuple[tuple[str, int], ...] = ()  # findings by category
    last_scheduled_ok: datetime | None = None  # the last successful scheduled backup, if schedules exist

    @property
    def reachable(self) -> bool:
        return self.error is None

    def with_totals(
        self,
        backups: int,
        size: int,
        reclaimable: int,
        expired: int,
        oldest: datetime | None,
        database_size: int | None,
        findings: list[Finding] | tuple[Finding, ...] = (),
        last_scheduled_ok: datetime | None = None,
    ) -> FleetRow:
        """This row with its database's totals and its `check --fast` findings."""
        by: dict[str, int] = {}
        for finding in findings:
            by[str(finding.category)] = by.get(str(finding.category), 0) + 1
        return replace(
            self,
            backups=backups,
            size=size,
            reclaimable=reclaimable,
            expired=expired,
            oldest=oldest,
            database_size=database_size,
            findings=len(findings),
            categories=tuple(sorted(by.items())),
            last_scheduled_ok=last_scheduled_ok,
        )


class SchemaState(enum.Enum):
    """How far the database's `backup` schema is from what this version installs."""

    ABSENT = "absent"  # no backup schema at all
    LEGACY = "legacy"  # the 2025 layout, not upgraded: browse only
    OUTDATED = "outdated"  # installed by an older backup-tui: browse, install upgrades
    CURRENT = "current"
    NEWER = "newer"  # installed by a newer backup-tui: browse; this version never downgrades it

    @property
    def writable(self) -> bool:
        """Whether this version may create, drop or prune here."""
        return self is SchemaState.CURRENT

    @property
    def upgraded(self) -> bool:
        """Whether backup-tui's functions and views are there (any version)."""
        return self in (SchemaState.CURRENT, SchemaState.OUTDATED, SchemaState.NEWER)


@dataclass(frozen=True, slots=True)
class TableEstimate:
    """A table that can be backed up, with the catalog's estimates of its size (as of the last
    VACUUM or ANALYZE: reading them takes no lock)."""

    schema: str
    name: str
    size_bytes: int
    rows: float  # -1: never analyzed (PostgreSQL does not know yet)

    @property
    def typed(self) -> str:
        """How a user types it: bare in public, schema-qualified elsewhere."""
        return qualified_source(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class KindChoice:
    """A backup kind of the retention policy and its retention in words ('kept 7 days, then deleted')."""

    kind: Kind
    words: str


def qualified_source(schema: str | None, table: str | None) -> str:
    """Source table, schema-qualified when not in public; '' when unknown."""
    if table and schema and schema != "public":
        return f"{schema}.{table}"
    return table or ""


@dataclass(slots=True)
class Backup:
    """One row of `backup.backup_inventory`; field names are the view's column names."""

    id: UUID | None
    original_table_name: str | None
    backup_table_name: str
    backup_date: datetime | None
    row_count: int | None
    backup_reason: str | None
    created_at: datetime | None
    created_by: str | None
    backup_size: str | None
    source_schema: str | None
    backup_kind: Kind | None
    size_bytes: int | None
    expires_at: datetime | None
    status: Status
    policy_reason: str | None = None
    age_words: str | None = None  # how old, in words (backup.age_words), as of the load
    size_exact: bool = False  # False: the catalog's estimate (a lock held elsewhere, or a quick load)
    locked_by: int | None = None  # the backend holding (or awaiting) an exclusive lock on it
    verified_at: datetime | None = None  # an archive's last verification (backup-tui verify)
    verify_result: str | None = None  # ok, damaged, unreadable
    rule: Rule | None = None  # the policy's rule that decided its status (None on the 2025 layout)
    requested_by: str | None = None  # the person it was made for (--by; migration 014), not the role
    redundant_of: str | None = None  # a newer backup of the same table it is identical to (find_redundant)

    @classmethod
    def unknown(cls, name: str) -> Backup:
        """A name the inventory does not list (asked for anyway, with --yes): the SQL API says why not."""
        return cls(None, None, name, None, None, None, None, None, None, None, None, None, None, Status.MISSING)

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        if self.rule is not None:
            self.rule = Rule(self.rule)
        if self.backup_kind is not None:
            self.backup_kind = Kind(self.backup_kind)

    @property
    def name(self) -> str:
        return self.backup_table_name

    def set_size(self, size_bytes: int | None, backup_size: str | None, exact: bool, locked_by: int | None) -> None:
        """Its exact size after an estimate, in place. The exact step of a load writes four values
        into the rows already on screen rather than building every row again (at 100,000 backups a
        second set of rows was ~45 MB of the step's peak). A row drawn meanwhile may pair its new
        size with the old mark for one frame; the step's own delivery redraws it."""
        self.size_bytes, self.backup_size, self.size_exact, self.locked_by = size_bytes, backup_size, exact, locked_by

    @property
    def source(self) -> str:
        return qualified_source(self.source_schema, self.original_table_name)

    @property
    def status_words(self) -> str:
        """The status as lists show it: 'held' for a backup kept on purpose (its status is keep)."""
        return "held" if self.rule is Rule.HELD else str(self.status)


INVENTORY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Backup))


@dataclass(slots=True)
class PlanRow:
    """One row of backup.plan_prune(); field names are the function's column names."""

    backup_table_name: str
    original_table_name: str | None
    source_schema: str | None
    backup_kind: Kind | None
    backup_date: datetime | None
    age: timedelta | None
    size_bytes: int | None
    decision: Decision
    reason: str
    age_words: str | None
    rule: Rule
    size_exact: bool = False
    locked_by: int | None = None
    redundant_of: str | None = None  # identical to this newer backup of the same table

    def __post_init__(self) -> None:
        self.decision = Decision(self.decision)
        self.rule = Rule(self.rule)
        if self.backup_kind is not None:
            self.backup_kind = Kind(self.backup_kind)

    @property
    def source(self) -> str:
        return qualified_source(self.source_schema, self.original_table_name)


PLAN_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(PlanRow))


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Who and where we are connected, for headers and messages."""

    user: str
    host: str
    port: str
    dbname: str
    version: str
    read_only: bool

    @property
    def label(self) -> str:
        host = self.host if not self.host.startswith("/") else "local"
        return f"{self.user}@{host}:{self.port}/{self.dbname}"

    @property
    def place(self) -> str:
        """The database, whoever connects to it: what settings kept per database are keyed by."""
        return f"{self.host}:{self.port}/{self.dbname}"


class Outcome(enum.Enum):
    """What became of one backup in a multi-backup write."""

    DONE = "done"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"  # the run stopped first (cancelled, connection lost)


@dataclass(frozen=True, slots=True)
class Archived:
    """What an archive wrote: where, how many rows, how many bytes before and after compression."""

    location: str
    rows: int
    csv_bytes: int
    stored_bytes: int


class Verification(Word):
    """What re-reading an archive found."""

    OK = "ok"
    DAMAGED = "damaged"  # frames, checksum or rows disagree with the manifest or the catalogue
    UNREADABLE = "unreadable"  # missing files, a vanished target, no permission


@dataclass(frozen=True, slots=True)
class Verified:
    """One archive's verification."""

    name: str
    location: str
    result: Verification
    detail: str
    recorded: bool = True  # False: the catalogue has it, but this role may not record results (a reviewer)

    @property
    def ok(self) -> bool:
        return self.result is Verification.OK


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore made: how many rows, and what it did to keep the new table private."""

    rows: int
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One backup's result in a multi-backup write (drop, archive, prune): bytes freed, or why not."""

    name: str
    outcome: Outcome
    freed_bytes: int = 0
    error: str | None = None  # phrased for any front end
    archived: Archived | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


class StopReason(enum.Enum):
    CANCELLED = "cancelled"
    CONNECTION_LOST = "the connection was lost"
    PERMISSION = "permission denied"


@dataclass(slots=True)
class WriteResult:
    """The result of a multi-backup write, item by item, and why it stopped early if it did."""

    items: list[ItemResult] = field(default_factory=list)
    stopped: StopReason | None = None
    stop_message: str | None = None

    def of(self, outcome: Outcome) -> list[ItemResult]:
        return [i for i in self.items if i.outcome is outcome]

    @property
    def done(self) -> list[ItemResult]:
        return self.of(Outcome.DONE)

    @property
    def failed(self) -> list[ItemResult]:
        return self.of(Outcome.FAILED)

    @property
    def not_attempted(self) -> list[ItemResult]:
        return self.of(Outcome.NOT_ATTEMPTED)

    @property
    def freed_bytes(self) -> int:
        return sum(i.freed_bytes for i in self.done)

    @property
    def complete(self) -> bool:
        """Everything asked for was done."""
        return all(i.ok for i in self.items)

    def summary(self, verb: str, size: str) -> str:
        """'dropped 5, freed 1.2 GiB, failed 1, not attempted 2': the one wording of a result, for
        every front end (`size` is the freed bytes as the front end writes sizes)."""
        line = f"{verb} {len(self.done)}, freed {size}, failed {len(self.failed)}"
        if self.not_attempted:
            line += f", not attempted {len(self.not_attempted)}"
        return line


@dataclass(frozen=True, slots=True)
class Transfer:
    """Progress of one archive or restore: its phase, rows and bytes so far, totals when known.

    Rows while archiving are COPY messages (PostgreSQL sends one per row); while restoring and
    verifying they are line ends, so values with newlines make the count run ahead. The exact
    count (COPY's own) is reported when the phase ends.
    """

    name: str
    phase: str  # "archiving", "verifying", "restoring"
    rows: int
    total_rows: int | None
    bytes: int
    total_bytes: int | None = None

    @property
    def fraction(self) -> float | None:
        """How far along, 0..1, from bytes when their total is known, else from rows."""
        if self.total_bytes:
            return min(1.0, self.bytes / self.total_bytes)
        if self.total_rows:
            return min(1.0, self.rows / self.total_rows)
        return None


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a backup table."""

    name: str
    type: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class DiffColumn:
    """A column of either side: the same, added since (only in the other), removed, or retyped."""

    name: str
    change: str  # same, added, removed, retyped
    backup_type: str | None
    other_type: str | None


@dataclass(frozen=True, slots=True)
class DiffSample:
    """One differing row: its key (empty without one), as in the backup and as in the other side."""

    key: dict[str, Any]
    backup_row: dict[str, Any] | None  # None: added since
    other_row: dict[str, Any] | None  # None: deleted since
    changed: list[str]  # the columns whose values differ (a changed row)


@dataclass(frozen=True)
class DiffResult:
    """backup-tui diff: what changed between a backup and a table (or another backup)."""

    backup: str
    other: str
    key: list[str] | None  # the columns rows are matched by; None: compared as multisets
    columns: list[DiffColumn]
    only_backup: int  # rows deleted since (only in the backup)
    only_other: int  # rows added since
    changed: int | None  # same key, other values (None without a key)
    changed_by_column: dict[str, int]
    samples: dict[str, list[DiffSample]]  # deleted, added, changed: the first ones, by key

    @property
    def identical(self) -> bool:
        return (
            not self.only_backup
            and not self.only_other
            and not self.changed
            and all(c.change == "same" for c in self.columns)
        )


@dataclass(frozen=True, slots=True)
class BackupDetails:
    """What the details screen shows beyond the inventory row."""

    exists: bool
    columns: tuple[Column, ...] = ()
    table_bytes: int = 0
    index_bytes: int = 0
    toast_bytes: int = 0
    estimated_rows: int | None = None
    dependants: tuple[str, ...] | None = ()  # None: not known on this layout (before install)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem `check` reports: what kind, about what, in words, and the SQL that fixes it."""

    category: Category
    subject: str
    detail: str
    fix: str


@dataclass(frozen=True, slots=True)
class InstallReport:
    """What `install` did: the migrations run and the definitions (re-)applied, by file name; the
    objects it took over (--take-ownership) and the grants outside the role model it revoked."""

    before: SchemaState
    migrations: tuple[str, ...] = ()
    definitions: tuple[str, ...] = ()
    taken: tuple[str, ...] = ()
    revoked: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.migrations or self.definitions or self.taken or self.revoked)
