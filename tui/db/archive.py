"""Cold storage: a backup streamed out with COPY into a compressed, self-describing, verified
archive, then dropped (the metadata row stays, `archived`); verification of archives later; and
restore, from an archive (by catalogue name or by location) or from a backup still in the
database, always into a new table.

Archive layout (see tui/storage.py for where it lives, a directory or S3, and its folder names):
    FOLDER/manifest.json  what it is: source, date, kind, reason, columns and types, rows, sha256
                          of the uncompressed data, compressed size, PostgreSQL and tool versions
    FOLDER/data.csv.zst   the rows as `COPY ... (FORMAT csv)` wrote them, zstd-compressed (with
                          zstd's own frame checksum); archives written before zstd have data.csv.gz
The whole archive runs in one transaction that holds the backup (backup.hold_for_archive: readers
go on, writers and a second archive of it wait): what was verified is what is dropped, and
backup.archive_table_backup, the commit step, counts the table's rows against the manifest.
Memory stays flat: COPY streams, and each block is hashed, compressed and written as it comes.
Any failure or cancellation removes what was written and leaves the table where it was.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any, cast

import psycopg
import zstandard
from psycopg import errors as pgerrors
from psycopg import pq, sql

from tui import __version__
from tui.db.connection import Settings, transaction, write_transaction
from tui.db.errors import DatabaseError, ErrorKind, friendly_message, kind_of
from tui.model import Archived, ItemResult, Outcome, Restored, Transfer, Verification, Verified
from tui.storage import ArchiveFiles, StorageError, Target, open_archive

FORMAT = "csv+zstd"
DATA_FILES = {"csv+zstd": "data.csv.zst", "csv+gzip": "data.csv.gz"}
Progress = Callable[[Transfer], None]
REPORT_EVERY = 0.1  # seconds between progress reports (and cancellation checks)
READ_BLOCK = 1 << 20
Manifest = dict[str, Any]  # an archive's manifest.json, as _manifest_problem accepted it
Piece = bytes | memoryview  # COPY data as gathered, or as libpq handed over one huge row
CHUNK = 1 << 20  # COPY rows are gathered into pieces this big before hashing and compressing
ZSTD_THREADS = min(4, os.cpu_count() or 1)
ZSTD_JOB = 2 << 20


class _Reporter:
    """Rate-limits progress callbacks; the callback may raise Cancelled to stop the transfer."""

    def __init__(
        self, progress: Progress | None, name: str, phase: str, total_rows: int | None, total_bytes: int | None = None
    ) -> None:
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


def _storage_error(name: str, where: str, exc: BaseException) -> DatabaseError:
    """A full disk, a file too big (ulimit -f), a read-only or vanished target, an S3 refusal: one
    line naming the backup and the cause."""
    cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return DatabaseError(f"cannot archive {name} to {where}: {cause}; the backup stays", ErrorKind.STORAGE)


def archive_backup(
    conn: psycopg.Connection, settings: Settings, name: str, target: Target, progress: Progress | None = None
) -> ItemResult:
    """Write, verify, then drop, in one transaction that this function commits itself (run it with
    Session.run_own). Raises DatabaseError (nothing dropped, no archive left) on any failure,
    Cancelled when `progress` raised it. A complete archive of this backup already in the target
    (a run cut off between its archive and its drop) is checked against the table and finished."""
    with transaction(conn, settings):
        meta = conn.execute(
            "SELECT m.original_table_name, m.source_schema, m.backup_kind, backup.valid_date(m.backup_date), "
            "       m.backup_reason, "
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
        existing = target.complete(name)
        if existing is None and target.blocked(name):
            raise DatabaseError(
                f"something that is not an archive is in {target.url} where {name}'s archive would go: "
                "refusing to overwrite it",
                ErrorKind.REFUSED,
            )
        if existing is not None:
            return _finish_interrupted(conn, settings, name, existing, progress)
        staging = target.begin(name)
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    total_rows = meta[5] if meta[5] is not None else (meta[6] if meta[6] and meta[6] > 0 else None)
    committed = False
    try:
        with write_transaction(conn, settings):
            # Nobody writes to the backup between the COPY and the drop (lock_timeout bounds the wait).
            conn.execute("SELECT backup.hold_for_archive(%s::text)", (name,))
            writing = _Reporter(progress, name, "archiving", total_rows)
            digest, rows, written, stored, stored_digest = _write_data(
                conn, name, staging.create(DATA_FILES[FORMAT]), writing
            )
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
                "row_security": meta[7],
                "sha256": digest,
                "csv_bytes": written,
                "stored_bytes": stored,
                "stored_sha256": stored_digest,
                "postgresql": conn.info.parameter_status("server_version"),
                "tool": f"backup-tui {__version__}",
                "archived_at": datetime.now(timezone.utc).isoformat(),
            }
            staging.put_manifest(json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            _check_written(staging.files(), manifest, progress)  # re-read what was written before anything is dropped
            location = staging.commit()
            committed = True
            row = conn.execute(
                "SELECT backup.archive_table_backup(%s::text, %s::text, %s::jsonb)",
                (name, location, json.dumps(manifest)),
            ).fetchone()
    except BaseException as exc:
        if committed and (conn.broken or conn.closed):
            # The connection died around the COMMIT: the drop may or may not have happened, so the
            # verified archive is the one copy we can vouch for. Keep it: archiving again finishes.
            raise DatabaseError(
                f"the connection was lost while dropping backup.{name}; its verified archive is kept at "
                f"{location}: archive it again to finish (the archive is checked against the table)",
                ErrorKind.CONNECTION_LOST,
            ) from exc
        staging.abort()  # also removes a committed archive whose drop failed: the table is still here
        if isinstance(exc, StorageError):
            raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
        if isinstance(exc, OSError):
            raise _storage_error(name, target.url, exc) from exc
        if isinstance(exc, psycopg.Error) and committed:
            raise DatabaseError(
                f"{friendly_message(exc)}; the table stays, the archive was removed", kind_of(exc)
            ) from exc
        raise
    assert row is not None
    return ItemResult(name, Outcome.DONE, row[0], archived=Archived(location, rows, written, stored))


def _finish_interrupted(
    conn: psycopg.Connection, settings: Settings, name: str, files: ArchiveFiles, progress: Progress | None
) -> ItemResult:
    """The archive is complete but the table is still here: verify the archive, then check that it
    holds exactly the table's rows (the sha256 of a fresh COPY under the archive's lock), and drop."""
    manifest = verify_archive(files, progress)
    with write_transaction(conn, settings):
        conn.execute("SELECT backup.hold_for_archive(%s::text)", (name,))
        digest, rows = _table_digest(conn, name, _Reporter(progress, name, "comparing", manifest.get("row_count")))
        if digest != manifest.get("sha256") or rows != manifest.get("row_count"):
            raise DatabaseError(
                f"an archive of {name} with other content is at {files.location}: refusing to overwrite it "
                "or to drop the table on its word; move it away and archive again",
                ErrorKind.REFUSED,
            )
        row = conn.execute(
            "SELECT backup.archive_table_backup(%s::text, %s::text, %s::jsonb)",
            (name, files.location, json.dumps(manifest)),
        ).fetchone()
    assert row is not None
    archived = Archived(files.location, rows, manifest.get("csv_bytes", 0), manifest.get("stored_bytes", 0))
    return ItemResult(name, Outcome.DONE, row[0], archived=archived)


class _Counting(io.RawIOBase):
    """Passes writes or reads through, counting the bytes (compressed sizes for progress)."""

    def __init__(self, inner: Any, sha: Any = None) -> None:
        self.inner, self.count, self.sha = inner, 0, sha  # sha: also hash what is written

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.inner.write(data)
        if self.sha is not None:
            self.sha.update(data)
        self.count += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.inner.read(size)
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


def _copy_out(conn: psycopg.Connection, name: str, take: Callable[[Piece, int], None]) -> int:
    """COPY backup.<name> TO STDOUT (FORMAT csv), handing `take` pieces of about CHUNK bytes (and
    their row count); returns the rows COPY reported.

    PostgreSQL sends one COPY message per row: this reads them straight from libpq, which costs
    half the CPU of psycopg's per-row Copy iteration (3,000,000 rows: 0.9 s against 1.8 s), and
    waits for the socket with select(), so the thread compressing the last piece keeps running.
    An exception from `take` (a cancel, a full disk) stops the COPY on the server.
    """
    pg = conn.pgconn
    pg.send_query(sql.SQL("COPY backup.{} TO STDOUT (FORMAT csv)").format(sql.Identifier(name)).as_bytes(conn))
    first = _result(pg)
    if first.status != pq.ExecStatus.COPY_OUT:
        _drain(pg)
        raise pgerrors.error_from_result(first, encoding=conn.info.encoding)
    buffer = bytearray()
    rows = 0
    get = pg.get_copy_data
    try:
        while True:
            size, data = get(1)
            if size >= CHUNK:
                # A row as big as a piece (one huge value) goes on as libpq gave it: gathering it
                # would copy it twice more (0.2 held ~4 copies of a 192 MB value: 826 MB).
                if buffer:
                    take(bytes(buffer), rows)
                    buffer.clear()
                    rows = 0
                take(data, 1)
            elif size > 0:
                buffer += data
                rows += 1
                if len(buffer) >= CHUNK:
                    take(bytes(buffer), rows)
                    buffer.clear()
                    rows = 0
            elif size == 0:  # nothing buffered yet: wait for the server without holding the GIL
                select.select([pg.socket], [], [])
                pg.consume_input()
            else:
                break
        if buffer:
            take(bytes(buffer), rows)
    except BaseException:
        conn.cancel_safe()  # stop the server's COPY, then read what is left so the line is usable
        _drain(pg)
        raise
    done = _result(pg)
    _drain(pg)
    if done.status != pq.ExecStatus.COMMAND_OK:
        raise pgerrors.error_from_result(done, encoding=conn.info.encoding)
    return int(done.command_tuples or 0)


def _result(pg: Any) -> Any:
    while pg.is_busy():
        select.select([pg.socket], [], [])
        pg.consume_input()
    result = pg.get_result()
    assert result is not None
    return result


def _drain(pg: Any) -> None:
    """Read the rest of a COPY (after a cancel) and every pending result, whatever state it is in."""
    with contextlib.suppress(psycopg.OperationalError):  # no COPY in progress (any more)
        while pg.get_copy_data(0)[0] > 0:
            pass
    while pg.get_result() is not None:
        pass


def _pipeline(conn: psycopg.Connection, name: str, work: Callable[[Piece], None], report: _Reporter) -> int:
    """_copy_out with `work` (hash, compress, write) done on each piece in a second thread: hashlib
    and zstd release the GIL, so reading the next rows overlaps the work on the last ones. The
    queue between them is bounded: memory stays at a few pieces whatever the table's size."""
    chunks: queue.Queue[Piece | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def consume() -> None:
        while (chunk := chunks.get()) is not None:
            if failed:
                continue  # keep draining so the reader never blocks on a full queue
            try:
                work(chunk)
            except BaseException as exc:  # a full disk, an S3 error: reported to the reader
                failed.append(exc)

    def take(chunk: Piece, rows: int) -> None:
        if failed:
            raise failed[0]
        chunks.put(chunk)
        report.add(rows, len(chunk))  # may raise Cancelled

    worker = threading.Thread(target=consume, name=f"archive-{name}", daemon=True)
    worker.start()
    try:
        rows = _copy_out(conn, name, take)
    finally:
        chunks.put(None)
        worker.join()
    if failed:
        raise failed[0]
    report.report(rows)
    return rows


def _write_data(
    conn: psycopg.Connection, name: str, sink: IO[bytes], report: _Reporter
) -> tuple[str, int, int, int, str]:
    """COPY the table into `sink`, compressed: (sha256 of the CSV, rows, CSV bytes, stored bytes,
    sha256 of the stored bytes)."""
    sha = hashlib.sha256()
    counted = _Counting(sink, hashlib.sha256())
    # zstd's own worker threads (up to 4): measured on 3,000,000 rows, 2 cores, the archive's time
    # went from 1.5x to 1.25x that of `psql -c "COPY ..." | zstd -3`. Jobs of 2 MiB rather than
    # zstd's default 8 MiB: on 451 MB of CSV, 2 threads took +16 MB instead of +49 MB (the same
    # speed within 10%, the same size), so the archive stays under 100 MB whatever the table.
    params = zstandard.ZstdCompressionParameters.from_level(
        3, threads=ZSTD_THREADS, job_size=ZSTD_JOB, write_checksum=True
    )
    compressor = zstandard.ZstdCompressor(compression_params=params)
    out = compressor.stream_writer(cast(IO[bytes], counted), closefd=True)

    def work(chunk: Piece) -> None:
        sha.update(chunk)
        out.write(chunk)

    try:
        rows = _pipeline(conn, name, work, report)
    except BaseException:
        with contextlib.suppress(Exception):  # the file is removed anyway; a full disk fails again here
            out.close()  # type: ignore[no-untyped-call]  # zstandard's stub leaves close() untyped
        raise
    out.close()  # type: ignore[no-untyped-call]  # ends the zstd frame and closes the sink (an S3 upload completes here)
    return sha.hexdigest(), rows, report.bytes, counted.count, counted.sha.hexdigest()


def _table_digest(conn: psycopg.Connection, name: str, report: _Reporter) -> tuple[str, int]:
    """The sha256 and row count the table's COPY would archive now."""
    sha = hashlib.sha256()
    rows = _pipeline(conn, name, sha.update, report)
    return sha.hexdigest(), rows


def _open_data(files: ArchiveFiles, manifest: Manifest) -> tuple[IO[bytes], _Counting, int]:
    """The archive's uncompressed CSV as a stream, the counter of compressed bytes read, and their total."""
    fmt = manifest.get("format")
    if fmt not in DATA_FILES:
        raise DatabaseError(f"archive {files.location} has an unknown format {fmt!r}", ErrorKind.DAMAGED)
    data_file = DATA_FILES[fmt]
    total = files.size(data_file)
    raw = _Counting(files.open(data_file))
    if fmt == "csv+gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw, total  # type: ignore[return-value]
    return zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], raw), read_across_frames=True), raw, total


_DAMAGE = (OSError, EOFError, ValueError, zstandard.ZstdError)


def read_manifest(files: ArchiveFiles) -> Manifest:
    try:
        manifest = json.loads(files.read_manifest())
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    except ValueError as exc:
        raise DatabaseError(
            f"cannot read the archive's manifest in {files.location}: {exc}", ErrorKind.DAMAGED
        ) from exc
    except RecursionError as exc:  # [[[[...]]]] deeper than the parser goes
        raise DatabaseError(
            f"cannot read the archive's manifest in {files.location}: nested too deeply", ErrorKind.DAMAGED
        ) from exc
    problem = _manifest_problem(manifest)
    if problem:
        raise DatabaseError(
            f"the manifest in {files.location} is not a backup-tui manifest: {problem}", ErrorKind.DAMAGED
        )
    return cast(Manifest, manifest)  # _manifest_problem found it an object with our keys


def _manifest_problem(manifest: object) -> str | None:
    """What makes a manifest (untrusted input: anyone who can write to the archive's folder wrote
    it) unusable, in words; None when its shape is what backup-tui writes."""
    if not isinstance(manifest, dict):
        return "not a JSON object"
    columns = manifest.get("columns")
    if not isinstance(columns, list) or not columns:
        return "no list of columns"
    for column in columns:
        if not (
            isinstance(column, dict) and isinstance(column.get("name"), str) and isinstance(column.get("type"), str)
        ):
            return "a column is not a {name, type} pair of strings"
        if not column["name"] or "\x00" in column["name"] or len(column["name"].encode()) > 63:
            return f"column name {column['name']!r} is not a PostgreSQL column name"
    for key in ("row_count", "csv_bytes"):
        value = manifest.get(key)
        if (key == "row_count" or value is not None) and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            return f"no {key.replace('_', ' ')}"
    sha = manifest.get("sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        return "no sha256"
    for key in ("backup_table_name", "source_table", "source_schema", "format"):
        if key in manifest and not isinstance(manifest[key], str):
            return f"{key} is not a string"
    return None


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


def _check_written(files: ArchiveFiles, manifest: Manifest, progress: Progress | None) -> None:
    """Right after writing, before anything is dropped: read the stored file back and check that it
    is, byte for byte, what was written (its size and the sha256 of the compressed bytes, hashed
    as they were written). That proves the storage kept it; the compressed bytes are zstd's output
    for exactly the CSV that was hashed, with zstd's own checksum inside. Decompressing it again
    here would cost a fifth of the archive's time: `verify` does that, and recomputes everything."""
    data_file = DATA_FILES[manifest["format"]]
    try:
        total = files.size(data_file)
        report = _Reporter(progress, manifest["backup_table_name"], "verifying", manifest.get("row_count"), total)
        sha = hashlib.sha256()
        size = 0
        with contextlib.closing(files.open(data_file)) as raw:
            while block := raw.read(READ_BLOCK):
                sha.update(block)
                size += len(block)
                report.bytes = size
                report.add(0, 0)
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc
    except (OSError, EOFError, ValueError) as exc:
        raise DatabaseError(f"archive {files.location} cannot be read back: {exc}", ErrorKind.STORAGE) from exc
    if size != manifest["stored_bytes"] or sha.hexdigest() != manifest["stored_sha256"]:
        raise DatabaseError(
            f"archive {files.location} is damaged: {size} bytes read back, {manifest['stored_bytes']} written, "
            "and they differ",
            ErrorKind.DAMAGED,
        )
    report.report(manifest.get("row_count"))


def verify_archive(files: ArchiveFiles, progress: Progress | None = None, recorded: Manifest | None = None) -> Manifest:
    """Re-read an archive: its zstd frames, its sha256 and its CSV row count must match its
    manifest, and, when the catalogue recorded the archive (`recorded`: the manifest it stored at
    archive time), what the catalogue says: a consistent rewrite of data and manifest is caught.
    Returns the manifest; raises DatabaseError (DAMAGED, or STORAGE when unreadable)."""
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
    _against_catalogue(files.location, manifest, recorded)
    report.bytes = total
    report.report(rows)
    return manifest


def _against_catalogue(location: str, manifest: Manifest, recorded: Manifest | None) -> None:
    """The database recorded the archive's sha256 and rows when it was made: a manifest that says
    otherwise was rewritten since."""
    if not recorded:
        return
    for key, what in (("sha256", "checksum"), ("row_count", "row count")):
        if recorded.get(key) is not None and recorded.get(key) != manifest.get(key):
            raise DatabaseError(
                f"archive {location} does not match the catalogue: its {what} is not the one recorded when it "
                "was archived (data and manifest were rewritten)",
                ErrorKind.DAMAGED,
            )


def _archive_of(conn: psycopg.Connection, name: str) -> tuple[str | None, Manifest | None]:
    row = conn.execute(
        "SELECT archive_location, archive_manifest FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _files(location: str) -> ArchiveFiles:
    try:
        return open_archive(location)
    except StorageError as exc:
        raise DatabaseError(str(exc), ErrorKind.STORAGE) from exc


def verify_backup(
    conn: psycopg.Connection,
    settings: Settings,
    name: str | None = None,
    location: str | None = None,
    progress: Progress | None = None,
) -> Verified:
    """Verify an archived backup (by its catalogue name) or an archive (by location), and record
    the result on the catalogue row when there is one. Never raises for what it finds: the
    archive is ok, damaged or unreadable."""
    recorded = None
    if name is not None:
        with transaction(conn, settings):
            location, recorded = _archive_of(conn, name)
        if location is None:
            raise DatabaseError(f"no archived backup named {name}", ErrorKind.NOT_FOUND)
    assert location is not None
    try:
        manifest = verify_archive(_files(location), progress, recorded)
        result, detail = Verification.OK, f"{manifest.get('row_count'):,} rows, sha256 {manifest['sha256'][:12]}…"
        name = name or manifest.get("backup_table_name")
    except DatabaseError as exc:
        if exc.kind not in (ErrorKind.DAMAGED, ErrorKind.STORAGE):
            raise
        result = Verification.DAMAGED if exc.kind is ErrorKind.DAMAGED else Verification.UNREADABLE
        detail = str(exc)
    stored = True  # or nothing to record: an archive no catalogue row names
    if recorded is not None:
        with write_transaction(conn, settings):
            # Recording is an operator's: a reviewer who could record 'ok' could hide a damaged archive.
            if conn.execute(
                "SELECT has_function_privilege('backup.record_verification(text,text,text)', 'EXECUTE')"
            ).fetchone()[0]:  # type: ignore[index]
                conn.execute(
                    "SELECT backup.record_verification(%s::text, %s::text, %s::text)", (name, str(result), detail)
                )
            else:
                stored = False
    return Verified(name or location, location, result, detail, stored)


def adopt_archive(conn: psycopg.Connection, settings: Settings, location: str, progress: Progress | None = None) -> str:
    """Register an archive found at `location` back into the catalogue, as archived, once it
    verifies (backup.adopt_archive); returns its backup's name."""
    files = _files(location)
    manifest = verify_archive(files, progress)
    with transaction(conn, settings):
        _refuse_untrusted_types(conn, files.location, manifest["columns"], for_others=True)
        row = conn.execute(
            "SELECT backup.adopt_archive(%s::text, %s::jsonb)", (files.location, json.dumps(manifest))
        ).fetchone()
    assert row is not None
    return str(row[0])


def restore_backup(
    conn: psycopg.Connection,
    settings: Settings,
    name: str | None,
    as_table: str,
    schema: str,
    progress: Progress | None = None,
    location: str | None = None,
) -> Restored:
    """Bring a backup back as a new table schema.as_table (never over an existing one).

    From the database when the backup table is there; else from its archive (the catalogue's, or
    `location` alone, with no catalogue row needed), in one pass and one transaction: rows are
    copied in as they are read and hashed, and a checksum or row-count mismatch (with the manifest,
    and with what the catalogue recorded at archive time) rolls everything back, so a damaged
    archive never leaves a table behind. Either way backup.finish_restore then gives the table the
    backup's row-level security and takes back what default privileges handed anon,
    authenticated and PUBLIC (its words come back in `actions`).
    """
    recorded = None
    in_db = None
    if name is not None:
        recorded_location, recorded = _archive_of(conn, name)
        in_db = conn.execute(
            "SELECT c.relrowsecurity, backup.not_ours(c.oid) FROM pg_class c "
            "WHERE c.relnamespace = 'backup'::regnamespace AND c.relname = %s::text",
            (name,),
        ).fetchone()
        location = location or recorded_location
    exists = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
        "AND c.relname = %s",
        (schema, as_table),
    ).fetchone()
    if exists:
        raise DatabaseError(f"{schema}.{as_table} already exists: restore never writes over a table", ErrorKind.REFUSED)
    target = sql.Identifier(schema, as_table)
    if in_db:
        assert name is not None  # in_db was looked up by it
        if in_db[1]:
            raise DatabaseError(
                f"cannot restore backup.{name}: {in_db[1]}; restore reads it with your rights", ErrorKind.REFUSED
            )
        with write_transaction(conn, settings):
            conn.execute(sql.SQL("CREATE TABLE {} AS TABLE backup.{}").format(target, sql.Identifier(name)))
            counted = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()
            actions = _finish_restore(conn, target, name, None, in_db[0])
        return Restored(counted[0] if counted else 0, actions)
    if location is None:
        raise DatabaseError(f"no backup or archive named {name}", ErrorKind.NOT_FOUND)
    files = _files(location)
    manifest = read_manifest(files)
    if recorded is None and manifest.get("backup_table_name"):
        _, recorded = _archive_of(conn, manifest["backup_table_name"])  # the catalogue knows it after all
    _against_catalogue(files.location, manifest, recorded)
    name = name or manifest.get("backup_table_name") or as_table
    sha = hashlib.sha256()
    try:
        with write_transaction(conn, settings):
            _refuse_untrusted_types(conn, files.location, manifest["columns"])
            definition = sql.SQL(", ").join(
                # The type's text as the manifest has it: restorable_types accepted it as exactly one
                # type name (no comment, semicolon or control character), built of trusted types only.
                sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(c["type"]))
                for c in manifest["columns"]
            )
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
            stream, raw, total = _open_data(files, manifest)
            report = _Reporter(progress, name, "restoring", manifest.get("row_count"), total)
            # The manifest says how much there is: a block that would pass it is never sent (a
            # 5 KiB zstd bomb claiming 8 bytes once wrote 231 MiB of WAL before the checksum said no).
            most_bytes, most_rows = manifest.get("csv_bytes"), manifest["row_count"]
            counter, sent = CsvRows(), 0
            with conn.cursor() as cur:
                with cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy:
                    while block := stream.read(READ_BLOCK):
                        sent += len(block)
                        counter.feed(block)
                        if (most_bytes is not None and sent > most_bytes) or counter.rows > most_rows:
                            raise DatabaseError(
                                f"archive {files.location} is damaged: its data goes on past the "
                                f"{most_rows:,} rows ({most_bytes or 0:,} bytes) its manifest says; "
                                "nothing was restored",
                                ErrorKind.DAMAGED,
                            )
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


def _refuse_untrusted_types(
    conn: psycopg.Connection, location: str, columns: list[dict[str, str]], *, for_others: bool = False
) -> None:
    """Refuse (one line naming the column and its type) a column type the manifest names that is not
    a type name, or whose code was written by someone the restoring role does not trust: besides
    the system, itself and the backup schema's owner; or the owner only (`for_others`: adopt
    registers an archive that others will restore)."""
    trusted = "ARRAY[backup.owner_role()]" if for_others else "ARRAY[current_user::text, backup.owner_role()]"
    rows = conn.execute(
        sql.SQL(
            "SELECT ord, problem FROM backup.restorable_types(%s::text[], {}) WHERE problem IS NOT NULL "
            "ORDER BY ord LIMIT 1"
        ).format(sql.SQL(trusted)),
        ([c["type"] for c in columns],),
    ).fetchall()
    if rows:
        column = columns[rows[0][0] - 1]
        raise DatabaseError(
            f"archive {location}: column {column['name']!r} has type {column['type']!r}, which {rows[0][1]}; "
            f"nothing was {'registered' if for_others else 'restored'}",
            ErrorKind.REFUSED,
        )


def _finish_restore(
    conn: psycopg.Connection, target: sql.Identifier, name: str, location: str | None, row_security: bool
) -> tuple[str, ...]:
    rows = conn.execute(
        sql.SQL("SELECT backup.finish_restore({}::regclass, %s::text, %s::text, %s::boolean)").format(
            sql.Literal(target.as_string(conn))
        ),
        (name, location, row_security),
    ).fetchall()
    return tuple(r[0] for r in rows)
