"""Cold storage: a backup streamed out with COPY into a compressed, self-describing, verified
archive, then dropped (the metadata row stays, `archived`); and restore, from an archive or
from a backup still in the database, always into a new table.

Archive layout (see tui/storage.py for where it lives, a directory or S3):
    NAME/manifest.json   what it is: source, date, kind, reason, columns and types, rows, sha256
                         of the uncompressed data, compressed size, PostgreSQL and tool versions
    NAME/data.csv.zst    the rows as `COPY ... (FORMAT csv)` wrote them, zstd-compressed (with
                         zstd's own frame checksum); archives written before zstd have data.csv.gz
The whole archive runs in one transaction that holds a SHARE lock on the backup table: nobody
can write to it between the COPY and the drop, so what was verified is what is dropped.
Memory stays flat: COPY streams, and each block is hashed, compressed and written as it comes.
Any failure or cancellation removes what was written and leaves the table where it was.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any

import psycopg
import zstandard
from psycopg import sql

from tui import __version__
from tui.db.connection import Settings, transaction, write_transaction
from tui.db.errors import DatabaseError, ErrorKind, friendly_message, kind_of
from tui.model import Archived, ItemResult, Outcome, Restored, Transfer
from tui.storage import ArchiveFiles, StorageError, Target, open_archive

FORMAT = "csv+zstd"
DATA_FILES = {"csv+zstd": "data.csv.zst", "csv+gzip": "data.csv.gz"}
Progress = Callable[[Transfer], None]
REPORT_EVERY = 0.1  # seconds between progress reports (and cancellation checks)
READ_BLOCK = 1 << 20
CHUNK = 1 << 20  # COPY rows are gathered into pieces this big before hashing and compressing


class _Reporter:
    """Rate-limits progress callbacks; the callback may raise Cancelled to stop the transfer."""

    def __init__(self, progress: Progress | None, name: str, phase: str, total_rows: int | None, total_bytes=None):
        self.progress, self.name, self.phase = progress, name, phase
        self.total_rows, self.total_bytes = total_rows, total_bytes
        self.rows = self.bytes = 0
        self._last = 0.0

    def add(self, rows: int, nbytes: int) -> None:
        self.rows += rows
        self.bytes += nbytes
        now = time.monotonic()
        if self.progress and now - self._last >= REPORT_EVERY:
            self._last = now
            self.report()

    def report(self, rows: int | None = None) -> None:
        if self.progress:
            self.progress(
                Transfer(
                    self.name,
                    self.phase,
                    self.rows if rows is None else rows,
                    self.total_rows,
                    self.bytes,
                    self.total_bytes,
                )
            )


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
    conn: psycopg.Connection, settings: Settings, name: str, target: Target, progress: Progress | None = None
) -> ItemResult:
    """Write, verify, then drop, in one transaction that this function commits itself (run it with
    Session.run_own). Raises DatabaseError (nothing dropped, no archive left) on any failure,
    Cancelled when `progress` raised it."""
    with transaction(conn, settings):
        meta = conn.execute(
            "SELECT m.original_table_name, m.source_schema, m.backup_kind, m.backup_date, m.backup_reason, "
            "       m.row_count, c.reltuples::bigint, coalesce(c.relrowsecurity, false) "
            "FROM backup.backup_metadata m LEFT JOIN pg_class c "
            "  ON c.relnamespace = 'backup'::regnamespace AND c.relname = m.backup_table_name::name "
            "WHERE m.backup_table_name = %s",
            (name,),
        ).fetchone()
        columns = _columns(conn, name)
    if meta is None:
        raise DatabaseError(f"no registered backup named {name} in schema backup", ErrorKind.NOT_FOUND)
    if not columns:
        raise DatabaseError(f"backup.{name} has no table to archive (already archived or missing)", ErrorKind.REFUSED)
    try:
        if target.exists(name):
            raise DatabaseError(
                f"{target.url}/{name} already exists: refusing to overwrite an archive", ErrorKind.REFUSED
            )
        staging = target.begin(name)
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    total_rows = meta[5] if meta[5] is not None else (meta[6] if meta[6] and meta[6] > 0 else None)
    row_security = meta[7]
    committed = False
    try:
        with write_transaction(conn, settings):
            # Nobody writes to the backup between the COPY and the drop (lock_timeout bounds the wait).
            conn.execute("SELECT backup.hold_for_archive(%s)", (name,))
            writing = _Reporter(progress, name, "archiving", total_rows)
            digest, rows, written, stored = _write_data(conn, name, staging.create(DATA_FILES[FORMAT]), writing)
            manifest = {
                "format": FORMAT,
                "data_file": DATA_FILES[FORMAT],
                "backup_table_name": name,
                "source_schema": meta[1],
                "source_table": meta[0],
                "backup_kind": meta[2],
                "backup_date": meta[3].isoformat() if meta[3] else None,
                "backup_reason": meta[4],
                "recorded_row_count": meta[5],
                "row_count": rows,
                "columns": columns,
                "row_security": row_security,
                "sha256": digest,
                "csv_bytes": written,
                "stored_bytes": stored,
                "postgresql": conn.info.parameter_status("server_version"),
                "tool": f"backup-tui {__version__}",
                "archived_at": datetime.now(timezone.utc).isoformat(),
            }
            staging.put_manifest(json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            verify_archive(staging.files(), progress)  # re-read everything before anything is dropped
            location = staging.commit()
            committed = True
            row = conn.execute(
                "SELECT backup.archive_table_backup(%s, %s, %s)", (name, location, json.dumps(manifest))
            ).fetchone()
    except BaseException as exc:
        if committed and (conn.broken or conn.closed):
            # The connection died around the COMMIT: the drop may or may not have happened, so the
            # verified archive is the one copy we can vouch for. Keep it.
            raise DatabaseError(
                f"the connection was lost while dropping backup.{name}; its verified archive is kept at "
                f"{location}: check whether the table still exists before archiving it again",
                ErrorKind.CONNECTION_LOST,
            ) from exc
        staging.abort()  # also removes a committed archive whose drop failed: the table is still here
        if isinstance(exc, StorageError):
            raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
        if isinstance(exc, psycopg.Error) and committed:
            raise DatabaseError(
                f"{friendly_message(exc)}; the table stays, the archive was removed", kind_of(exc)
            ) from exc
        raise
    assert row is not None
    return ItemResult(name, Outcome.DONE, row[0], archived=Archived(location, rows, written, stored))


class _Counting(io.RawIOBase):
    """Passes writes or reads through, counting the bytes (compressed sizes for progress)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.count = inner, 0

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def write(self, data: Any) -> int:  # type: ignore[override]
        self.inner.write(data)
        self.count += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.inner.close()
        super().close()


def _write_data(conn: psycopg.Connection, name: str, sink: IO[bytes], report: _Reporter) -> tuple[str, int, int, int]:
    """COPY the table into `sink`, compressed: (sha256 of the CSV, rows, CSV bytes, stored bytes).

    PostgreSQL sends one COPY message per row; they are gathered into CHUNK-sized pieces that a
    second thread hashes, compresses and writes (hashlib and zstd release the GIL), so reading
    the next rows overlaps with the work on the last ones. The queue between them is bounded:
    memory stays at a few chunks whatever the table's size.
    """
    sha = hashlib.sha256()
    counted = _Counting(sink)
    out = zstandard.ZstdCompressor(level=3, write_checksum=True).stream_writer(counted, closefd=True)
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def consume() -> None:
        while (chunk := chunks.get()) is not None:
            if failed:
                continue  # keep draining so the reader never blocks on a full queue
            try:
                sha.update(chunk)
                out.write(chunk)
            except BaseException as exc:  # a full disk, an S3 error: reported to the reader
                failed.append(exc)

    worker = threading.Thread(target=consume, name=f"archive-{name}", daemon=True)
    worker.start()
    buffer = bytearray()
    rows = pending_rows = 0
    try:
        with conn.cursor() as cur:
            copy_sql = sql.SQL("COPY backup.{} TO STDOUT (FORMAT csv)").format(sql.Identifier(name))
            with cur.copy(copy_sql) as copy:
                for block in copy:
                    buffer += block
                    pending_rows += 1
                    if len(buffer) >= CHUNK:
                        chunks.put(bytes(buffer))
                        report.add(pending_rows, len(buffer))  # may raise Cancelled
                        buffer.clear()
                        pending_rows = 0
                        if failed:
                            raise failed[0]
            rows = cur.rowcount
        if buffer:
            chunks.put(bytes(buffer))
            report.add(pending_rows, len(buffer))
    finally:
        chunks.put(None)
        worker.join()
    if failed:
        raise failed[0]
    out.close()  # ends the zstd frame and closes the sink (an S3 upload completes here)
    report.report(rows)
    return sha.hexdigest(), rows, report.bytes, counted.count


def _open_data(files: ArchiveFiles, manifest: dict) -> tuple[IO[bytes], _Counting, int]:
    """The archive's uncompressed CSV as a stream, the counter of compressed bytes read, and their total."""
    fmt = manifest.get("format")
    if fmt not in DATA_FILES:
        raise DatabaseError(f"archive {files.location} has an unknown format {fmt!r}", ErrorKind.DAMAGED)
    data_file = DATA_FILES[fmt]
    total = files.size(data_file)
    raw = _Counting(files.open(data_file))
    if fmt == "csv+gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw, total  # type: ignore[return-value]
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True), raw, total


_DAMAGE = (OSError, EOFError, ValueError, zstandard.ZstdError)


def read_manifest(files: ArchiveFiles) -> dict:
    try:
        manifest = json.loads(files.read_manifest())
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    except ValueError as exc:
        raise DatabaseError(
            f"cannot read the archive's manifest in {files.location}: {exc}", ErrorKind.DAMAGED
        ) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("columns"), list):
        raise DatabaseError(f"the manifest in {files.location} is not a backup-tui manifest", ErrorKind.DAMAGED)
    return manifest


class CsvRows:
    """Counts the rows of PostgreSQL CSV fed in pieces, in C-speed passes: a row ends at a newline
    outside quotes (values with newlines are quoted; a quote inside a value is doubled, which
    flips the state twice)."""

    def __init__(self) -> None:
        self.rows = 0
        self.inside = False

    def feed(self, data: bytes) -> None:
        parts = data.split(b'"')
        outside = parts[1::2] if self.inside else parts[0::2]
        self.rows += sum(part.count(b"\n") for part in outside)
        self.inside ^= (len(parts) - 1) % 2 == 1


def verify_archive(files: ArchiveFiles, progress: Progress | None = None) -> dict:
    """Re-read the data: its sha256 and its CSV row count must match the manifest. Returns the manifest."""
    manifest = read_manifest(files)
    sha = hashlib.sha256()
    counter = CsvRows()
    try:
        stream, raw, total = _open_data(files, manifest)
        report = _Reporter(progress, manifest.get("backup_table_name", ""), "verifying", manifest.get("row_count"))
        report.total_bytes = total
        while block := stream.read(READ_BLOCK):
            sha.update(block)
            counter.feed(block)
            report.bytes = raw.count
            report.rows = counter.rows
            report.add(0, 0)
        raw.close()
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    except _DAMAGE as exc:
        raise DatabaseError(f"archive {files.location} is damaged: {exc}", ErrorKind.DAMAGED) from exc
    rows = counter.rows
    if sha.hexdigest() != manifest.get("sha256"):
        raise DatabaseError(f"archive {files.location} is damaged: checksum mismatch", ErrorKind.DAMAGED)
    if rows != manifest.get("row_count") or counter.inside:
        raise DatabaseError(
            f"archive {files.location} is damaged: {rows} rows, manifest says {manifest.get('row_count')}",
            ErrorKind.DAMAGED,
        )
    report.bytes = total
    report.report(rows)
    return manifest


def restore_backup(
    conn: psycopg.Connection,
    settings: Settings,
    name: str,
    as_table: str,
    schema: str,
    progress: Progress | None = None,
) -> Restored:
    """Bring a backup back as a new table schema.as_table (never over an existing one).

    From the database when the backup table is there; else from its archive, in one pass and one
    transaction: rows are copied in as they are read and hashed, and a checksum or row-count
    mismatch rolls everything back, so a damaged archive never leaves a table behind. Either way
    backup.finish_restore then gives the table the backup's row-level security and takes back what
    default privileges handed anon, authenticated and PUBLIC (its words come back in `actions`).
    """
    meta = conn.execute(
        "SELECT archive_location FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)
    ).fetchone()
    in_db = conn.execute(
        "SELECT c.relrowsecurity FROM pg_class c WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = %s",
        (name,),
    ).fetchone()
    exists = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
        "AND c.relname = %s",
        (schema, as_table),
    ).fetchone()
    if exists:
        raise DatabaseError(f"{schema}.{as_table} already exists: restore never writes over a table", ErrorKind.REFUSED)
    target = sql.Identifier(schema, as_table)
    if in_db:
        with write_transaction(conn, settings):
            conn.execute(sql.SQL("CREATE TABLE {} AS TABLE backup.{}").format(target, sql.Identifier(name)))
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()
            actions = _finish_restore(conn, target, name, None, in_db[0])
        return Restored(rows[0] if rows else 0, actions)
    if meta is None or meta[0] is None:
        raise DatabaseError(f"no backup or archive named {name}", ErrorKind.NOT_FOUND)
    try:
        files = open_archive(meta[0])
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    manifest = read_manifest(files)
    sha = hashlib.sha256()
    try:
        with write_transaction(conn, settings):
            for column in manifest["columns"]:
                conn.execute("SELECT %s::regtype", (column["type"],))  # a type, or the archive is refused
            definition = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(c["type"])) for c in manifest["columns"]
            )
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
            stream, raw, total = _open_data(files, manifest)
            report = _Reporter(progress, name, "restoring", manifest.get("row_count"), total)
            with conn.cursor() as cur:
                with cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy:
                    while block := stream.read(READ_BLOCK):
                        sha.update(block)
                        copy.write(block)
                        report.bytes = raw.count  # compressed bytes read so far, against their total
                        report.add(block.count(b"\n"), 0)
                rows = cur.rowcount
            raw.close()
            if sha.hexdigest() != manifest.get("sha256"):
                raise DatabaseError(
                    f"archive {files.location} is damaged: checksum mismatch; nothing was restored", ErrorKind.DAMAGED
                )
            if rows != manifest.get("row_count"):
                raise DatabaseError(
                    f"archive {files.location} is damaged: {rows} rows, manifest says {manifest.get('row_count')}; "
                    "nothing was restored",
                    ErrorKind.DAMAGED,
                )
            report.bytes = total
            report.report(rows)
            actions = _finish_restore(conn, target, name, files.location, bool(manifest.get("row_security")))
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    except _DAMAGE as exc:
        raise DatabaseError(
            f"archive {files.location} is damaged: {exc}; nothing was restored", ErrorKind.DAMAGED
        ) from exc
    except psycopg.errors.DataException as exc:
        raise DatabaseError(
            f"archive {files.location} is damaged: {friendly_message(exc)}; nothing was restored", ErrorKind.DAMAGED
        ) from exc
    return Restored(rows, actions)


def _finish_restore(
    conn: psycopg.Connection, target: sql.Identifier, name: str, location: str | None, row_security: bool
) -> tuple[str, ...]:
    rows = conn.execute(
        sql.SQL("SELECT backup.finish_restore({}::regclass, %s, %s, %s)").format(sql.Literal(target.as_string(conn))),
        (name, location, row_security),
    ).fetchall()
    return tuple(r[0] for r in rows)
