"""Where archives live: a local directory or an S3 bucket. No SQL, no Textual.

An archive is a folder (a key prefix on S3) with two files: `manifest.json` and the data
(`data.csv.zst`; `data.csv.gz` for archives written before zstd). The manifest is written
last, when the data is complete and verified: a folder without one is not an archive.

Every backup name maps to one folder inside the target (folder_name): `/`, `..`, leading dots,
control characters, anything outside [A-Za-z0-9_-] are percent-encoded, reversibly, so no name
reaches outside the target.

Archives are untrusted input (anyone who may write to the target wrote them): only regular files
are read (a FIFO, a device or a symbolic link in an archive's folder is refused, never opened to
block or to read what it points at), and a manifest bigger than MANIFEST_LIMIT is refused unread.

- Directory: written into a hidden `.NAME.partial-*` folder, renamed into place on commit. The
  folder holds a lock (flock) while its writer lives; the next run into the target removes the
  partial folders whose writer died.
- S3 (`s3://bucket/prefix`, boto3 from the optional extra `s3`): the data goes up as a
  multipart upload in 8 MiB parts (memory stays flat, nothing is visible before it completes);
  the manifest is put on commit. Abort deletes what was uploaded. Credentials, region and
  endpoint come the standard AWS way (environment, ~/.aws, AWS_ENDPOINT_URL for S3-compatible
  stores such as MinIO).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar
from urllib.parse import quote, unquote

TARGET_ENV = "BACKUP_TUI_ARCHIVE_TO"  # overrides default_folder() for the CLI and the TUI
PART_BYTES = 8 << 20  # S3 multipart part size (S3's minimum is 5 MiB)


T = TypeVar("T")
STALE_UNLOCKED = 3600  # seconds: a partial folder with no lock (written before 0.2) is stale after this
MANIFEST_LIMIT = 16 << 20  # bytes: ours is a few KiB (a 1,600-column table: ~100 KiB)


class StorageError(Exception):
    """An archive target cannot be read or written; phrased for the user."""


def default_folder() -> str:
    """$XDG_DATA_HOME/backup-tui/archive, else ~/.local/share/backup-tui/archive (as it is shown)."""
    data_home = os.environ.get("XDG_DATA_HOME")
    return os.path.join(data_home, "backup-tui", "archive") if data_home else "~/.local/share/backup-tui/archive"


_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def folder_name(name: str) -> str:
    """The one folder (or S3 key segment) a backup's archive lives in: the name itself when it is
    all [A-Za-z0-9_-], else every other character percent-encoded (UTF-8), so `/`, `..`, a leading
    dot or a control character can never point anywhere but inside the target. Reversible:
    backup_name(folder_name(n)) == n."""
    if _SAFE.match(name):
        return name
    return quote(name, safe="").replace(".", "%2E").replace("~", "%7E")


def backup_name(folder: str) -> str:
    return unquote(folder)


class ArchiveFiles(Protocol):
    """An archive's files, for reading (complete, or staged and not yet committed)."""

    location: str

    def read_manifest(self) -> bytes: ...
    def open(self, filename: str) -> IO[bytes]: ...
    def size(self, filename: str) -> int: ...


class Staging(Protocol):
    """An archive being written: nothing is visible as an archive until commit(); abort()
    removes everything written, before or after the commit."""

    def create(self, filename: str) -> IO[bytes]: ...
    def put_manifest(self, data: bytes) -> None: ...
    def files(self) -> ArchiveFiles: ...
    def commit(self) -> str: ...
    def abort(self) -> None: ...


class Target(Protocol):
    url: str

    def complete(self, name: str) -> ArchiveFiles | None:
        """The complete archive (manifest and all) already there under this name, if any."""

    def blocked(self, name: str) -> bool:
        """Something not ours is where this name's archive would go (never overwritten)."""

    def begin(self, name: str) -> Staging: ...


def open_target(url: str | Path) -> Target:
    """The target for a directory path or an s3:// URL."""
    text = str(url)
    if text.startswith("s3://"):
        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not bucket:
            raise StorageError(f"{text}: an S3 target needs a bucket (s3://bucket/prefix)")
        return S3Target(bucket, prefix.strip("/"))
    return DirectoryTarget(Path(text).expanduser())


def open_archive(location: str) -> ArchiveFiles:
    """A committed archive, from the location recorded in the metadata."""
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://") :].partition("/")
        return S3Files(_s3_client(), bucket, key.strip("/"), manifest=None)
    return DirectoryFiles(Path(location))


# -- a local directory ---------------------------------------------------------------------------


def open_regular(path: Path, limit: int | None = None) -> IO[bytes]:
    """`path` opened for reading when it is a regular file (at most `limit` bytes long); a FIFO,
    a device, a directory or a symbolic link raises StorageError without blocking: it is opened
    non-blocking and without following a link, then looked at."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: the last component is a symbolic link
            raise StorageError(f"{path} is a symbolic link: an archive's files are regular files") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StorageError(f"{path} is not a regular file (a FIFO, device or directory): refused")
        if limit is not None and info.st_size > limit:
            raise StorageError(f"{path} is {info.st_size:,} bytes, more than any manifest ({limit:,}): refused")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(stream: IO[bytes], limit: int, what: str) -> bytes:
    """At most `limit` bytes of `stream`; more (a file that grew, an S3 object that lied about its
    length) raises StorageError."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise StorageError(f"{what} is more than {limit:,} bytes: refused")
    return data


class DirectoryFiles:
    def __init__(self, folder: Path, location: str | None = None) -> None:
        self.folder = folder
        self.location = location or str(folder)

    def read_manifest(self) -> bytes:
        def read() -> bytes:
            with open_regular(self.folder / "manifest.json", MANIFEST_LIMIT) as f:
                return read_capped(f, MANIFEST_LIMIT, f"{self.location}/manifest.json")

        return self._guard(read)

    def open(self, filename: str) -> IO[bytes]:
        return self._guard(lambda: open_regular(self.folder / filename))

    def size(self, filename: str) -> int:
        def regular_size() -> int:
            info = os.lstat(self.folder / filename)
            if not stat.S_ISREG(info.st_mode):
                raise StorageError(f"{self.folder / filename} is not a regular file: refused")
            return info.st_size

        return self._guard(regular_size)

    def _guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except OSError as exc:
            raise StorageError(f"cannot read the archive in {self.location}: {exc.strerror or exc}") from exc


_LOCK = ".writer.lock"


class DirectoryTarget:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def _final(self, name: str) -> Path:
        return self.root / folder_name(name)

    def complete(self, name: str) -> ArchiveFiles | None:
        final = self._final(name)
        return DirectoryFiles(final) if (final / "manifest.json").is_file() else None

    def blocked(self, name: str) -> bool:
        """A folder is renamed into place whole: one without a manifest is not an archive of ours."""
        final = self._final(name)
        return final.exists() and not (final / "manifest.json").is_file()

    def begin(self, name: str) -> DirectoryStaging:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.remove_dead_partials()
            partial = self.root / f".{folder_name(name)}.partial-{uuid.uuid4().hex[:8]}"
            partial.mkdir()
            lock = os.open(partial / _LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise StorageError(f"cannot write to {self.root}: {exc.strerror or exc}") from exc
        return DirectoryStaging(partial, self._final(name), lock)

    def remove_dead_partials(self) -> list[Path]:
        """Partial folders whose writer is gone (its lock is free; no lock: older than an hour)."""
        removed = []
        for partial in self.root.glob(".*.partial-*"):
            if partial.is_symlink() or not partial.is_dir():
                continue
            lock_path = partial / _LOCK
            if lock_path.exists() or lock_path.is_symlink():
                try:
                    with open_regular(lock_path) as lock:
                        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its writer is alive
                except (OSError, StorageError):
                    continue  # not a lock of ours (a FIFO planted there would block for ever): left alone
            elif time.time() - partial.stat().st_mtime < STALE_UNLOCKED:
                continue
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
        return removed


class DirectoryStaging:
    def __init__(self, partial: Path, final: Path, lock: int) -> None:
        self.partial, self.final, self._lock = partial, final, lock
        self.committed = False

    def create(self, filename: str) -> IO[bytes]:
        return open(self.partial / filename, "wb")

    def put_manifest(self, data: bytes) -> None:
        (self.partial / "manifest.json").write_bytes(data)

    def files(self) -> ArchiveFiles:
        return DirectoryFiles(self.partial, str(self.final))

    def commit(self) -> str:
        if self.final.exists():
            raise StorageError(f"{self.final} appeared meanwhile: refusing to overwrite an archive")
        try:
            os.unlink(self.partial / _LOCK)
            self.partial.rename(self.final)
        except OSError as exc:
            raise StorageError(f"cannot write to {self.final.parent}: {exc.strerror or exc}") from exc
        self.committed = True
        self._release()
        return str(self.final)

    def abort(self) -> None:
        shutil.rmtree(self.final if self.committed else self.partial, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


# -- S3 -------------------------------------------------------------------------------------------


def _s3_client() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise StorageError("S3 targets need boto3: pip install 'backup-tui[s3]'") from exc
    return boto3.client("s3")


def _s3_error(exc: Exception, what: str) -> StorageError:
    """botocore's errors in one line: what failed, and the service's own words."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return StorageError(f"{what}: {error.get('Code', '')} {error.get('Message', '')}".strip())
    return StorageError(f"{what}: {exc}")


def _s3_call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(*args, **kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise _s3_error(exc, what) from exc


class S3Files:
    def __init__(self, client: Any, bucket: str, prefix: str, manifest: bytes | None) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.location = f"s3://{bucket}/{prefix}"
        self._manifest = manifest  # staged: held here until commit

    def _key(self, filename: str) -> str:
        return f"{self.prefix}/{filename}"

    def read_manifest(self) -> bytes:
        if self._manifest is not None:
            return self._manifest
        if self.size("manifest.json") > MANIFEST_LIMIT:
            raise StorageError(f"{self.location}/manifest.json is more than {MANIFEST_LIMIT:,} bytes: refused")
        return read_capped(self.open("manifest.json"), MANIFEST_LIMIT, f"{self.location}/manifest.json")

    def open(self, filename: str) -> IO[bytes]:
        response = _s3_call(
            f"cannot read {self.location}/{filename}",
            self.client.get_object,
            Bucket=self.bucket,
            Key=self._key(filename),
        )
        body: IO[bytes] = response["Body"]
        return body

    def size(self, filename: str) -> int:
        response = _s3_call(
            f"cannot read {self.location}/{filename}",
            self.client.head_object,
            Bucket=self.bucket,
            Key=self._key(filename),
        )
        return int(response["ContentLength"])


class S3Target:
    def __init__(self, bucket: str, prefix: str) -> None:
        self.client = _s3_client()
        self.bucket, self.prefix = bucket, prefix
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"

    def _folder(self, name: str) -> str:
        return f"{self.prefix}/{folder_name(name)}" if self.prefix else folder_name(name)

    def blocked(self, name: str) -> bool:
        """Data with no manifest under the prefix is what a dead run left (the manifest is put
        last): it is overwritten."""
        return False

    def complete(self, name: str) -> ArchiveFiles | None:
        from botocore.exceptions import ClientError

        files = S3Files(self.client, self.bucket, self._folder(name), manifest=None)
        try:
            self.client.head_object(Bucket=self.bucket, Key=f"{self._folder(name)}/manifest.json")
        except ClientError:
            return None
        return files

    def begin(self, name: str) -> S3Staging:
        return S3Staging(self.client, self.bucket, self._folder(name))


class S3Staging:
    def __init__(self, client: Any, bucket: str, folder: str) -> None:
        self.client, self.bucket, self.folder = client, bucket, folder
        self.location = f"s3://{bucket}/{folder}"
        self._written: list[str] = []
        self._uploads: list[_MultipartWriter] = []
        self._manifest: bytes | None = None

    def create(self, filename: str) -> IO[bytes]:
        key = f"{self.folder}/{filename}"
        self._written.append(key)
        writer = _MultipartWriter(self.client, self.bucket, key)
        self._uploads.append(writer)
        return writer  # type: ignore[return-value]  # buffers PART_BYTES itself

    def put_manifest(self, data: bytes) -> None:
        self._manifest = data

    def files(self) -> ArchiveFiles:
        return S3Files(self.client, self.bucket, self.folder, self._manifest)

    def commit(self) -> str:
        assert self._manifest is not None, "put_manifest before commit"
        _s3_call(
            f"cannot write {self.location}/manifest.json",
            self.client.put_object,
            Bucket=self.bucket,
            Key=f"{self.folder}/manifest.json",
            Body=self._manifest,
            ContentType="application/json",
        )
        self._written.append(f"{self.folder}/manifest.json")
        return self.location

    def abort(self) -> None:
        for upload in self._uploads:
            upload.abort()
        for key in self._written:
            # Best effort: an uncommitted archive has no manifest, so a leftover is never taken for one.
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=key)


class _MultipartWriter(io.RawIOBase):
    """A write-only stream that uploads PART_BYTES parts as they fill: memory stays flat."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._done = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        while len(self._buffer) >= PART_BYTES:
            self._upload(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]
        return len(data)

    def _upload(self, chunk: bytes) -> None:
        where = f"cannot write s3://{self.bucket}/{self.key}"
        if self._upload_id is None:
            self._upload_id = _s3_call(where, self.client.create_multipart_upload, Bucket=self.bucket, Key=self.key)[
                "UploadId"
            ]
        number = len(self._parts) + 1
        response = _s3_call(
            where,
            self.client.upload_part,
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=chunk,
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._done:
                where = f"cannot write s3://{self.bucket}/{self.key}"
                if self._upload_id is None:  # small enough for one request
                    _s3_call(where, self.client.put_object, Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer))
                else:
                    if self._buffer:
                        self._upload(bytes(self._buffer))
                    _s3_call(
                        where,
                        self.client.complete_multipart_upload,
                        Bucket=self.bucket,
                        Key=self.key,
                        UploadId=self._upload_id,
                        MultipartUpload={"Parts": self._parts},
                    )
                self._buffer.clear()
                self._done = True
        finally:
            super().close()

    def abort(self) -> None:
        """Forget the upload (an interrupted archive): S3 discards the parts."""
        if self._upload_id is not None and not self._done:
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
        self._done = True
        self._buffer.clear()
        super().close()
