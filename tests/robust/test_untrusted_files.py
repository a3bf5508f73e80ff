"""Untrusted files are opened safely (#23). 0.2 hung on a FIFO as `manifest.json` or `data.csv.zst`
(`adopt --from`, `restore --from`, and `verify --all` through a catalogue row pointing at such a
folder) and on a FIFO planted as a target's writer lock (every `archive` into it); read a manifest
symlinked to /dev/zero until MemoryError; gave a RecursionError traceback on deeply nested JSON;
and let a 5.6 KB zstd bomb claiming 2 rows write 231 MiB of WAL before the checksum refused it.
Each runs the installed command in a subprocess with a deadline: a hang is a failure, not a stuck CI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
import zstandard

from tests.conftest import installed_script, make_table, scalar


def _cli(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([installed_script(), *argv], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def archive(installed: psycopg.Connection, dsn: str, tmp_path: Path) -> Path:
    """An archived and then forgotten backup's folder (the files stay), and an empty target."""
    make_table(installed, "t", rows=5)
    name = scalar(installed, "SELECT backup.create_table_backup('t'::text, 'r'::text, 'manual'::text, 'public'::text)")
    done = _cli("archive", name, "--to", str(tmp_path / "cold"), "--yes", "--dsn", dsn)
    assert done.returncode == 0, done.stderr
    assert _cli("drop", name, "--forget-archive", "--yes", "--dsn", dsn).returncode == 0
    return tmp_path / "cold" / name


def _one_line(done: subprocess.CompletedProcess, says: str) -> None:
    assert done.returncode in (1, 2) and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.parametrize("filename", ["manifest.json", "data.csv.zst"])
def test_a_fifo_in_an_archive_is_refused_not_waited_on(archive: Path, dsn: str, filename: str) -> None:
    (archive / filename).unlink()
    os.mkfifo(archive / filename)
    for argv in (("adopt", "--from", str(archive)), ("restore", "--from", str(archive), "--as", "back")):
        _one_line(_cli(*argv, "--dsn", dsn), "not a regular file")


def test_verify_all_does_not_hang_on_a_catalogue_row_pointing_at_a_fifo(
    archive: Path, installed: psycopg.Connection, dsn: str
) -> None:
    manifest = json.loads((archive / "manifest.json").read_text())
    assert _cli("adopt", "--from", str(archive), "--dsn", dsn).returncode == 0
    (archive / "data.csv.zst").unlink()
    os.mkfifo(archive / "data.csv.zst")
    done = _cli("verify", "--all", "--dsn", dsn)
    assert done.returncode == 1 and "unreadable" in done.stdout and "not a regular file" in done.stdout, done
    assert (
        scalar(
            installed,
            "SELECT verify_result FROM backup.backup_metadata WHERE backup_table_name = %s::text",
            (manifest["backup_table_name"],),
        )
        == "unreadable"
    )


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/hostname"])
def test_a_manifest_that_is_a_symlink_is_refused(archive: Path, dsn: str, target: str) -> None:
    (archive / "manifest.json").unlink()
    (archive / "manifest.json").symlink_to(target)
    _one_line(_cli("adopt", "--from", str(archive), "--dsn", dsn), "symbolic link")


def test_a_huge_manifest_is_refused_unread(archive: Path, dsn: str) -> None:
    with (archive / "manifest.json").open("r+b") as f:
        f.truncate(100 << 20)  # 100 MiB (sparse: costs no disk)
    _one_line(_cli("adopt", "--from", str(archive), "--dsn", dsn), "more than any manifest")


def test_a_deeply_nested_manifest_is_damaged_not_a_traceback(archive: Path, dsn: str) -> None:
    (archive / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    _one_line(_cli("restore", "--from", str(archive), "--as", "back", "--dsn", dsn), "nested too deeply")


def test_a_fifo_planted_as_a_writer_lock_does_not_stop_archives(
    archive: Path, installed: psycopg.Connection, dsn: str
) -> None:
    cold = archive.parent
    planted = cold / ".x.partial-deadbeef"
    planted.mkdir()
    os.mkfifo(planted / ".writer.lock")
    name = scalar(
        installed, "SELECT backup.create_table_backup('t'::text, 'again'::text, 'manual'::text, 'public'::text)"
    )
    done = _cli("archive", name, "--to", str(cold), "--yes", "--dsn", dsn)
    assert done.returncode == 0, done.stderr
    assert planted.exists()  # not ours to remove: left alone


def test_a_zstd_bomb_stops_at_what_the_manifest_says(archive: Path, installed: psycopg.Connection, dsn: str) -> None:
    manifest = json.loads((archive / "manifest.json").read_text())
    bomb = zstandard.ZstdCompressor(level=3).compress(b"1,x,{}\n" * ((64 << 20) // 7))  # 64 MiB of rows
    (archive / "data.csv.zst").write_bytes(bomb)
    manifest.update(row_count=2, csv_bytes=8, stored_bytes=len(bomb))
    (archive / "manifest.json").write_text(json.dumps(manifest))
    wal_before = scalar(installed, "SELECT pg_current_wal_lsn()::text")
    done = _cli("restore", "--from", str(archive), "--as", "back", "--dsn", dsn)
    _one_line(done, "goes on past the 2 rows")
    written = scalar(installed, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (wal_before,))
    assert written < 8 << 20, f"{written:,} bytes of WAL for a refused restore"
    assert scalar(installed, "SELECT to_regclass('public.back') IS NULL")
