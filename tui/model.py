"""Plain data the CLI and the UI render; no SQL, no Textual."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from uuid import UUID


def qualified_source(schema: str | None, table: str | None) -> str:
    """Source table, schema-qualified when not in public; '' when unknown."""
    if table and schema and schema != "public":
        return f"{schema}.{table}"
    return table or ""


class SchemaState(enum.Enum):
    """How far the database's `backup` schema is from what this version installs."""

    ABSENT = "absent"  # no backup schema at all
    LEGACY = "legacy"  # the 2025 layout, not upgraded: browse only
    OUTDATED = "outdated"  # installed by an older backup-tui: browse, install upgrades
    CURRENT = "current"


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
    backup_kind: str | None
    size_bytes: int | None
    expires_at: datetime | None
    status: str
    policy_reason: str | None = None

    @property
    def name(self) -> str:
        return self.backup_table_name

    @property
    def source(self) -> str:
        return qualified_source(self.source_schema, self.original_table_name)


INVENTORY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Backup))


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


@dataclass(frozen=True, slots=True)
class DropResult:
    """The outcome of dropping one backup: bytes freed, or why it was not dropped."""

    name: str
    freed_bytes: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


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
class BackupDetails:
    """What the details screen shows beyond the inventory row."""

    exists: bool
    columns: tuple[Column, ...] = ()
    table_bytes: int = 0
    index_bytes: int = 0
    toast_bytes: int = 0
    estimated_rows: int | None = None
    dependants: tuple[str, ...] = ()


@dataclass(slots=True)
class PlanRow:
    """One row of backup.plan_prune(); field names are the function's column names."""

    backup_table_name: str
    original_table_name: str | None
    source_schema: str | None
    backup_kind: str | None
    backup_date: datetime | None
    age: timedelta | None
    size_bytes: int | None
    decision: str
    reason: str

    @property
    def source(self) -> str:
        return qualified_source(self.source_schema, self.original_table_name)


PLAN_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(PlanRow))
DECISIONS: tuple[str, ...] = ("delete", "archive", "review", "keep")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem `check` reports: what kind, about what, in words, and the SQL that fixes it."""

    category: str  # missing, unregistered, drift, dependants, exposure, definer
    subject: str
    detail: str
    fix: str


CHECK_CATEGORIES: tuple[str, ...] = ("missing", "unregistered", "drift", "dependants", "exposure", "definer")
