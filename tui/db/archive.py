"""Cold storage: a backup streamed out with COPY into a compressed, self-describing, verified
archive, then dropped (the metadata row stays, `archived`); and restore, from an archive or
from a backup still in the database, always into a new table.

Archive layout, one directory per backup under the target:
    <target>/<backup name>/manifest.json   what it is: source, date, kind, reason, columns,
                                           rows, sha256 of the data, PostgreSQL and tool versions
    <target>/<backup name>/data.csv.gz     the rows, COPY ... (FORMAT csv), gzip-compressed
Written into a hidden temporary directory and renamed only once verified, so an interrupted
archive leaves nothing that looks complete, and the table is dropped only after verification.
Memory stays flat: COPY streams in blocks, compressed and hashed as it goes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

from tui import __version__
from tui.db.connection import Settings, write_transaction
from tui.db.errors import DatabaseError

DEFAULT_TARGET = Path("~/.local/share/backup-tui/archive")
FORMAT = "csv+gzip"
Progress = Callable[[int, int], None]  # (rows so far, bytes so far)


@dataclass(frozen=True, slots=True)
class Archived:
    name: str
    location: str
    rows: int
    bytes_written: int
    freed_bytes: int


def _columns(conn: psycopg.Connection, name: str) -> list[dict[str, str]]:
    rows = conn.execute(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        (name,),
    ).fetchall()
    return [{"name": n, "type": t} for n, t in rows]


def archive_backup(
    conn: psycopg.Connection, settings: Settings, name: str, target: Path, progress: Progress | None = None
) -> Archived:
    """Write, verify, then drop. Raises DatabaseError (nothing dropped) on any failure."""
    meta = conn.execute(
        "SELECT original_table_name, source_schema, backup_kind, backup_date, backup_reason, row_count "
        "FROM backup.backup_metadata WHERE backup_table_name = %s",
        (name,),
    ).fetchone()
    if meta is None:
        raise DatabaseError(f"no registered backup named {name} in schema backup")
    columns = _columns(conn, name)
    if not columns:
        raise DatabaseError(f"backup.{name} has no table to archive (already archived or missing)")
    target = target.expanduser()
    final = target / name
    if final.exists():
        raise DatabaseError(f"{final} already exists: refusing to overwrite an archive")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f".{name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    try:
        digest, rows, written = _write_data(conn, name, partial / "data.csv.gz", progress)
        manifest = {
            "format": FORMAT,
            "backup_table_name": name,
            "source_schema": meta[1],
            "source_table": meta[0],
            "backup_kind": meta[2],
            "backup_date": meta[3].isoformat() if meta[3] else None,
            "backup_reason": meta[4],
            "recorded_row_count": meta[5],
            "row_count": rows,
            "columns": columns,
            "sha256": digest,
            "postgresql": conn.info.parameter_status("server_version"),
            "tool": f"backup-tui {__version__}",
            "archived_at": datetime.now(timezone.utc).isoformat(),
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        verify_archive(partial)  # re-read everything before anything is dropped
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    with write_transaction(conn, settings):
        row = conn.execute(
            "SELECT backup.archive_table_backup(%s, %s, %s)",
            (name, str(final), json.dumps(manifest)),
        ).fetchone()
    assert row is not None
    return Archived(name, str(final), rows, written, row[0])


def _write_data(conn: psycopg.Connection, name: str, path: Path, progress: Progress | None) -> tuple[str, int, int]:
    sha = hashlib.sha256()
    written = 0
    with conn.cursor() as cur, gzip.open(path, "wb", compresslevel=6) as out:
        copy_sql = sql.SQL("COPY backup.{} TO STDOUT (FORMAT csv)").format(sql.Identifier(name))
        with cur.copy(copy_sql) as copy:
            for block in copy:
                sha.update(block)
                out.write(block)
                written += len(block)
                if progress:
                    progress(-1, written)
        rows = cur.rowcount
    return sha.hexdigest(), rows, written


def read_manifest(location: Path) -> dict:
    try:
        return json.loads((location / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise DatabaseError(f"cannot read the archive's manifest in {location}: {exc}") from exc


def verify_archive(location: Path) -> dict:
    """Re-read the data: its sha256 and row count must match the manifest. Returns the manifest."""
    manifest = read_manifest(location)
    sha = hashlib.sha256()
    rows = 0
    try:
        with gzip.open(location / "data.csv.gz", "rb") as raw:
            text = io.TextIOWrapper(_Hashing(raw, sha), encoding="utf-8", newline="")
            for _ in csv.reader(text):
                rows += 1
    except (OSError, EOFError, ValueError, csv.Error) as exc:
        raise DatabaseError(f"archive {location} is damaged: {exc}") from exc
    if sha.hexdigest() != manifest.get("sha256"):
        raise DatabaseError(f"archive {location} is damaged: checksum mismatch")
    if rows != manifest.get("row_count"):
        raise DatabaseError(f"archive {location} is damaged: {rows} rows, manifest says {manifest.get('row_count')}")
    return manifest


class _Hashing(io.RawIOBase):
    """A read-through stream that hashes what passes."""

    def __init__(self, inner: io.BufferedIOBase, sha: hashlib._Hash) -> None:
        self.inner, self.sha = inner, sha

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.sha.update(data)
        buffer[: len(data)] = data
        return len(data)


def restore_backup(conn: psycopg.Connection, settings: Settings, name: str, as_table: str, schema: str) -> int:
    """Bring a backup back as a new table schema.as_table (never over an existing one); returns rows."""
    meta = conn.execute(
        "SELECT archive_location FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)
    ).fetchone()
    in_db = conn.execute(
        "SELECT 1 FROM pg_class WHERE relnamespace = 'backup'::regnamespace AND relname = %s", (name,)
    ).fetchone()
    exists = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
        "AND c.relname = %s",
        (schema, as_table),
    ).fetchone()
    if exists:
        raise DatabaseError(f"{schema}.{as_table} already exists: restore never writes over a table")
    target = sql.Identifier(schema, as_table)
    if in_db:
        with write_transaction(conn, settings):
            conn.execute(sql.SQL("CREATE TABLE {} AS TABLE backup.{}").format(target, sql.Identifier(name)))
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()
        return rows[0] if rows else 0
    if meta is None or meta[0] is None:
        raise DatabaseError(f"no backup or archive named {name}")
    location = Path(meta[0])
    manifest = verify_archive(location)  # a damaged archive is refused before anything is created
    with write_transaction(conn, settings):
        for column in manifest["columns"]:
            conn.execute("SELECT %s::regtype", (column["type"],))  # a type, or the archive is refused
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(c["type"])) for c in manifest["columns"]
        )
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
        with conn.cursor() as cur:
            with (
                cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy,
                gzip.open(location / "data.csv.gz", "rb") as data,
            ):
                while block := data.read(1 << 20):
                    copy.write(block)
            rows = cur.rowcount
    return rows
