"""archive and restore from the command line: a round trip of awkward data, verification before any drop."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import psycopg
import pytest
import zstandard
from psycopg import sql

from tests.archives import backup_table_exists, rows_text, s3_keys, unzstd
from tests.cli.test_cli import run
from tests.conftest import scalar
from tui.db.backups import create_backup
from tui.storage import folder_name


def _restore_is_refused(capsys, conn: psycopg.Connection, dsn: str, name: str, as_table: str, why: str) -> None:
    """restore exits 1 saying `why`, and no table was created."""
    code, _, err = run(capsys, "restore", name, "--as", as_table, "--dsn", dsn)
    assert code == 1 and why in err, err
    assert scalar(conn, "SELECT to_regclass(%s)", (f"public.{as_table}",)) is None


def test_archive_then_restore_round_trips_every_value(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    original = rows_text(installed, 'public."Odd ""Table"" é"')
    code, out, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 0, err
    assert "archived" in out and "4 rows" in out
    location = tmp_path / folder_name(awkward_backup)
    manifest = json.loads((location / "manifest.json").read_text())
    assert manifest["row_count"] == 4 and manifest["source_table"] == 'Odd "Table" é'
    assert manifest["backup_kind"] == "monthly" and len(manifest["sha256"]) == 64
    # The table left the database; the row stayed, archived, with its location.
    assert not backup_table_exists(installed, awkward_backup)
    status = installed.execute(
        "SELECT status, policy_reason FROM backup.backup_inventory WHERE backup_table_name = %s", (awkward_backup,)
    ).fetchone()
    assert status == ("archived", f"archived to {location}")
    code, out, err = run(capsys, "restore", awkward_backup, "--as", "odd_restored", "--dsn", dsn)
    assert code == 0 and "4 rows" in out, err
    assert rows_text(installed, "public.odd_restored") == original


def test_a_corrupted_archive_is_refused_on_restore(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    data = tmp_path / folder_name(awkward_backup) / "data.csv.zst"
    content = unzstd(data.read_bytes()).replace(b"line one", b"line ONE")
    data.write_bytes(zstandard.compress(content))
    _restore_is_refused(
        capsys, installed, dsn, awkward_backup, "odd_restored", "checksum mismatch; nothing was restored"
    )
    data.write_bytes(data.read_bytes()[:-20])  # cut short: zstd's frame is incomplete
    _restore_is_refused(capsys, installed, dsn, awkward_backup, "odd_restored", "is damaged")


def test_an_archive_written_with_gzip_before_zstd_still_restores(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    original = rows_text(installed, 'public."Odd ""Table"" é"')
    run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    location = tmp_path / folder_name(awkward_backup)
    manifest = json.loads((location / "manifest.json").read_text())
    csv_data = unzstd((location / "data.csv.zst").read_bytes())
    (location / "data.csv.zst").unlink()
    (location / "data.csv.gz").write_bytes(gzip.compress(csv_data))
    manifest["format"] = "csv+gzip"
    (location / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = run(capsys, "restore", awkward_backup, "--as", "from_gzip", "--dsn", dsn)
    assert code == 0, err
    assert rows_text(installed, "public.from_gzip") == original


def test_archive_with_a_dependant_drops_nothing_and_leaves_no_archive(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    installed.execute(
        sql.SQL("CREATE VIEW public.keeps_it AS SELECT * FROM {}").format(sql.Identifier("backup", awkward_backup))
    )
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "view public.keeps_it" in err and "the archive was removed" in err
    assert backup_table_exists(installed, awkward_backup)
    # The table stays, so its archive is removed: once the view is gone, archiving again just works.
    assert list(tmp_path.iterdir()) == []
    installed.execute("DROP VIEW public.keeps_it")
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 0, err


def test_restore_of_a_backup_still_in_the_database_and_never_over_a_table(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], awkward_backup: str
) -> None:
    code, out, _ = run(capsys, "restore", awkward_backup, "--as", "copy_back", "--dsn", dsn)
    assert code == 0 and "4 rows" in out
    code, _, err = run(capsys, "restore", awkward_backup, "--as", "copy_back", "--dsn", dsn)
    assert code == 1 and "already exists" in err


def test_archive_refuses_to_overwrite_and_to_run_unconfirmed_off_a_terminal(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--dsn", dsn)
    assert code == 1 and "--yes" in err
    (tmp_path / folder_name(awkward_backup)).mkdir()  # something else lives where its archive would go
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "refusing to overwrite it" in err
    assert backup_table_exists(installed, awkward_backup)


def test_prune_apply_archives_the_archive_decisions(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    installed.execute("UPDATE backup.backup_metadata SET backup_date = now() - interval '400 days'")
    newer = create_backup(installed, 'Odd "Table" é', "newer", "monthly")
    code, out, err = run(capsys, "prune", "--apply", "--yes", "--archive-to", str(tmp_path), "--dsn", dsn)
    assert code == 0, err
    assert f"archived {awkward_backup}" in out
    statuses = dict(installed.execute("SELECT backup_table_name, status FROM backup.backup_inventory").fetchall())
    assert statuses == {awkward_backup: "archived", newer: "keep"}


def test_s3_round_trip_in_parts_and_a_damaged_object_refused(
    installed: psycopg.Connection,
    dsn: str,
    capsys: pytest.CaptureFixture[str],
    awkward_backup: str,
    s3: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    import tui.storage

    monkeypatch.setattr(tui.storage, "PART_BYTES", 5 << 20)  # S3's minimum part: the data below takes two
    installed.execute(
        'INSERT INTO public."Odd ""Table"" é" (id, note) '
        "SELECT g, encode(sha512(g::text::bytea), 'base64') FROM generate_series(10, 120000) g"
    )
    name = create_backup(installed, 'Odd "Table" é', "bigger", "monthly")
    original = rows_text(installed, 'public."Odd ""Table"" é"')
    code, out, err = run(capsys, "archive", name, "--to", s3, "--yes", "--dsn", dsn)
    assert code == 0, err
    folder = f"team/backups/{folder_name(name)}"
    assert s3_keys() == [f"{folder}/data.csv.zst", f"{folder}/manifest.json"]
    status = installed.execute(
        "SELECT status, policy_reason FROM backup.backup_inventory WHERE backup_table_name = %s", (name,)
    ).fetchone()
    assert status == ("archived", f"archived to s3://cold/{folder}")
    code, out, err = run(capsys, "restore", name, "--as", "from_s3", "--dsn", dsn)
    assert code == 0, err
    assert rows_text(installed, "public.from_s3") == original
    # Someone rewrites the object: restore refuses it and creates nothing.
    client = boto3.client("s3")
    body = unzstd(client.get_object(Bucket="cold", Key=f"{folder}/data.csv.zst")["Body"].read())
    client.put_object(
        Bucket="cold", Key=f"{folder}/data.csv.zst", Body=zstandard.compress(body.replace("ünï".encode(), b"uni"))
    )
    _restore_is_refused(capsys, installed, dsn, name, "from_s3_again", "checksum mismatch")


def test_s3_errors_are_one_line_and_change_nothing(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], awkward_backup: str, s3: str
) -> None:
    code, _, err = run(capsys, "archive", awkward_backup, "--to", "s3://no-such-bucket/x", "--yes", "--dsn", dsn)
    assert code == 1 and "NoSuchBucket" in err and "Traceback" not in err
    assert backup_table_exists(installed, awkward_backup)
    code, _, err = run(capsys, "archive", awkward_backup, "--to", "s3://", "--yes", "--dsn", dsn)
    assert code == 1 and "needs a bucket" in err
    # An archive already at the target is never overwritten.
    code, _, _ = run(capsys, "archive", awkward_backup, "--to", s3, "--yes", "--dsn", dsn)
    assert code == 0
    again = create_backup(installed, 'Odd "Table" é', "again", "monthly")
    installed.execute(
        "UPDATE backup.backup_metadata SET archive_location = NULL WHERE backup_table_name = %s", (awkward_backup,)
    )
    import boto3

    boto3.client("s3").put_object(Bucket="cold", Key=f"team/backups/{folder_name(again)}/manifest.json", Body=b"{}")
    code, _, err = run(capsys, "archive", again, "--to", s3, "--yes", "--dsn", dsn)
    assert code == 1 and "not a backup-tui manifest" in err
