"""archive and restore: a round trip of awkward data, verification before any drop."""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import zstandard
from psycopg import sql

from tests.cli.test_cli import run
from tests.conftest import scalar
from tui import db
from tui.db.archive import archive_backup
from tui.db.errors import Cancelled
from tui.storage import TARGET_ENV, open_target

AWKWARD = """
CREATE TABLE public."Odd ""Table"" é" (
    id int PRIMARY KEY,
    note text,
    blob bytea,
    doc jsonb,
    tags text[],
    at timestamptz,
    amount numeric(20, 6)
);
INSERT INTO public."Odd ""Table"" é" VALUES
    (1, E'line one\\nline two, with a comma and "quotes"', '\\x00ff10'::bytea, '{"a": [1, 2, {"b": null}]}',
     ARRAY['x', 'y,z', NULL], '2025-03-01 12:34:56.789+02', 12345678901234.123456),
    (2, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, '', '\\x'::bytea, '[]', '{}', '-infinity', -0.000001),
    (4, 'ünïcødé ✓', '\\xdeadbeef', '"just a string"', ARRAY['\\\\back\\\\slash'], 'infinity', 0);
"""


def _unzstd(data: bytes) -> bytes:
    """A streamed zstd frame (no size in its header) decompressed."""
    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()


def _backup_table_exists(conn: psycopg.Connection, name: str) -> bool:
    return scalar(conn, "SELECT to_regclass(format('backup.%%I', %s::text)) IS NOT NULL", (name,)) is True


def _restore_is_refused(capsys, conn: psycopg.Connection, dsn: str, name: str, as_table: str, why: str) -> None:
    """restore exits 1 saying `why`, and no table was created."""
    code, _, err = run(capsys, "restore", name, "--as", as_table, "--dsn", dsn)
    assert code == 1 and why in err, err
    assert scalar(conn, "SELECT to_regclass(%s)", (f"public.{as_table}",)) is None


@pytest.fixture
def awkward_backup(installed: psycopg.Connection) -> str:
    installed.execute(AWKWARD)
    return db.create_backup(installed, db.Settings(), 'Odd "Table" é', "before the archive test", "monthly")


def _rows(conn: psycopg.Connection, table: str) -> list[tuple]:
    """Each row as PostgreSQL's own text (compares infinities, bytea and numerics exactly)."""
    return conn.execute(f"SELECT t::text FROM {table} t ORDER BY id").fetchall()


def test_archive_then_restore_round_trips_every_value(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    original = _rows(installed, 'public."Odd ""Table"" é"')
    code, out, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 0, err
    assert "archived" in out and "4 rows" in out
    location = tmp_path / awkward_backup
    manifest = json.loads((location / "manifest.json").read_text())
    assert manifest["row_count"] == 4 and manifest["source_table"] == 'Odd "Table" é'
    assert manifest["backup_kind"] == "monthly" and len(manifest["sha256"]) == 64
    # The table left the database; the row stayed, archived, with its location.
    assert not _backup_table_exists(installed, awkward_backup)
    status = installed.execute(
        "SELECT status, policy_reason FROM backup.backup_inventory WHERE backup_table_name = %s", (awkward_backup,)
    ).fetchone()
    assert status == ("archived", f"archived to {location}")
    code, out, _ = run(capsys, "restore", awkward_backup, "--as", "odd_restored", "--dsn", dsn)
    assert code == 0 and "4 rows" in out
    assert _rows(installed, "public.odd_restored") == original


def test_a_corrupted_archive_is_refused_on_restore(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    data = tmp_path / awkward_backup / "data.csv.zst"
    content = _unzstd(data.read_bytes()).replace(b"line one", b"line ONE")
    data.write_bytes(zstandard.compress(content))
    _restore_is_refused(
        capsys, installed, dsn, awkward_backup, "odd_restored", "checksum mismatch; nothing was restored"
    )
    data.write_bytes(data.read_bytes()[:-20])  # cut short: zstd's frame is incomplete
    _restore_is_refused(capsys, installed, dsn, awkward_backup, "odd_restored", "is damaged")


def test_an_archive_written_with_gzip_before_zstd_still_restores(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    original = _rows(installed, 'public."Odd ""Table"" é"')
    run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    location = tmp_path / awkward_backup
    manifest = json.loads((location / "manifest.json").read_text())
    csv_data = _unzstd((location / "data.csv.zst").read_bytes())
    (location / "data.csv.zst").unlink()
    (location / "data.csv.gz").write_bytes(gzip.compress(csv_data))
    manifest["format"] = "csv+gzip"
    (location / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = run(capsys, "restore", awkward_backup, "--as", "from_gzip", "--dsn", dsn)
    assert code == 0, err
    assert _rows(installed, "public.from_gzip") == original


def test_archive_with_a_dependant_drops_nothing_and_leaves_no_archive(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    installed.execute(
        sql.SQL("CREATE VIEW public.keeps_it AS SELECT * FROM {}").format(sql.Identifier("backup", awkward_backup))
    )
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "view public.keeps_it" in err and "the archive was removed" in err
    assert _backup_table_exists(installed, awkward_backup)
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
    (tmp_path / awkward_backup).mkdir()
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(tmp_path), "--yes", "--dsn", dsn)
    assert code == 1 and "already exists" in err
    assert _backup_table_exists(installed, awkward_backup)


def test_prune_apply_archives_the_archive_decisions(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, awkward_backup: str
) -> None:
    installed.execute("UPDATE backup.backup_metadata SET backup_date = now() - interval '400 days'")
    newer = db.create_backup(installed, db.Settings(), 'Odd "Table" é', "newer", "monthly")
    code, out, err = run(capsys, "prune", "--apply", "--archive-to", str(tmp_path), "--dsn", dsn)
    assert code == 0, err
    assert f"archived {awkward_backup}" in out
    statuses = dict(installed.execute("SELECT backup_table_name, status FROM backup.backup_inventory").fetchall())
    assert statuses == {awkward_backup: "archived", newer: "keep"}


async def test_archive_from_the_tui_with_the_typed_confirmation(
    installed: psycopg.Connection,
    dsn: str,
    awkward_backup: str,
    make_app,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.app.helpers import main_screen, screen_text, settle
    from tui.modals.drop import DropModal

    monkeypatch.setenv(TARGET_ENV, str(tmp_path))  # where this user keeps archives
    app = make_app(dsn)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("A")
        assert isinstance(app.screen, DropModal)
        app.screen.query_one("#confirm").value = awkward_backup  # quotes and spaces: set, not typed
        await pilot.press("enter")
        await settle(pilot)
        assert "archived 1" in screen_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert main_screen(pilot).listing.get(awkward_backup).status == "archived"
        await pilot.press("enter")  # details of an archived backup: its manifest
        await settle(pilot)
        assert '"sha256"' in screen_text(pilot) and str(tmp_path) in screen_text(pilot)
    assert (tmp_path / awkward_backup / "manifest.json").exists()


def test_archive_refuses_the_schemas_own_tables_even_with_a_forged_metadata_row(installed: psycopg.Connection) -> None:
    installed.execute(
        "INSERT INTO backup.backup_metadata (original_table_name, backup_table_name) VALUES ('x', 'retention_policy')"
    )
    with pytest.raises(psycopg.Error, match="part of the backup schema itself"):
        installed.execute("SELECT backup.archive_table_backup('retention_policy', '/tmp/x', '{}')")
    assert scalar(installed, "SELECT to_regclass('backup.retention_policy') IS NOT NULL") is True


def test_a_cancelled_archive_leaves_no_archive_and_no_dropped_table(
    installed: psycopg.Connection, settings: db.Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed.execute(
        "CREATE TABLE public.wide AS SELECT g AS id, repeat(md5(g::text), 8) AS t FROM generate_series(1, 50000) g"
    )
    name = db.create_backup(installed, settings, "wide", "cancel me", "monthly")
    seen = []

    def stop_midway(t) -> None:
        seen.append(t)
        if t.phase == "archiving" and 0 < t.rows < 50000:
            raise Cancelled("stopped by the user")

    import tui.db.archive as archive_module

    monkeypatch.setattr(archive_module, "REPORT_EVERY", 0)  # every block reports: the stop lands mid-COPY
    with pytest.raises(Cancelled):
        archive_backup(installed, settings, name, open_target(tmp_path), stop_midway)
    assert seen and seen[-1].rows < 50000
    assert list(tmp_path.iterdir()) == []  # no archive, no partial folder
    # The table is there, unchanged, and the session still works after the interrupted COPY.
    assert scalar(installed, f"SELECT count(*) FROM backup.{sql.Identifier(name).as_string(installed)}") == 50000
    status = scalar(installed, "SELECT status FROM backup.backup_inventory WHERE backup_table_name = %s", (name,))
    assert status != "archived"


async def test_stop_in_the_tui_cancels_the_archive_in_flight(
    installed: psycopg.Connection,
    dsn: str,
    awkward_backup: str,
    make_app,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Stop pressed while the archive streams: the worker is held at its first progress report
    until the key is in, so the test does not race the (small) archive."""
    from tests.app.helpers import screen_text, settle
    from tui.modals.drop import DropModal

    monkeypatch.setenv(TARGET_ENV, str(tmp_path))
    reported, released = threading.Event(), threading.Event()
    real = db.Database.archive_many

    def held(self, names, target, progress=None, transfer=None, cancel=None):
        def gate(t):
            reported.set()
            released.wait(timeout=30)
            if transfer:
                transfer(t)

        return real(self, names, target, progress, gate, cancel)

    monkeypatch.setattr(db.Database, "archive_many", held)
    import tui.db.archive as archive_module

    monkeypatch.setattr(archive_module, "REPORT_EVERY", 0)
    app = make_app(dsn)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("A")
        assert isinstance(app.screen, DropModal)
        app.screen.query_one("#confirm").value = awkward_backup
        await pilot.press("enter")
        while not reported.is_set():
            await pilot.pause()
        await pilot.click("#cancel")  # "Stop"
        released.set()
        await settle(pilot)
        text = screen_text(pilot)
        assert "cancelled" in text and "archived 0" in text
    assert list(tmp_path.iterdir()) == []
    assert _backup_table_exists(installed, awkward_backup)


async def test_prune_apply_in_the_tui_archives_the_archive_decisions(
    installed: psycopg.Connection,
    dsn: str,
    awkward_backup: str,
    make_app,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.app.helpers import screen_text, settle
    from tests.fixtures import FROZEN_NOW
    from tui.modals.drop import DropModal

    monkeypatch.setenv(TARGET_ENV, str(tmp_path))
    newer = db.create_backup(installed, db.Settings(), 'Odd "Table" é', "newer", "monthly")
    installed.execute(  # the app's clock is FROZEN_NOW: one backup 400 days before it, one just before
        "UPDATE backup.backup_metadata SET backup_date = %s - CASE backup_table_name WHEN %s THEN interval '400 days' "
        "ELSE interval '1 day' END",
        (FROZEN_NOW, awkward_backup),
    )
    app = make_app(dsn)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "1 to archive" in screen_text(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, DropModal)
        assert "archive 1 to" in screen_text(pilot)
        app.screen.query_one("#confirm").value = awkward_backup
        await pilot.press("enter")
        await settle(pilot)
        assert "archived or dropped 1" in screen_text(pilot)
    installed.execute("SELECT set_config('backup.as_of', %s, false)", (FROZEN_NOW.isoformat(),))
    statuses = dict(installed.execute("SELECT backup_table_name, status FROM backup.backup_inventory").fetchall())
    assert statuses == {awkward_backup: "archived", newer: "keep"}
    assert (tmp_path / awkward_backup / "manifest.json").exists()


# -- S3, against moto's S3 server on loopback (a real HTTP server; boto3 unpatched) ------------------


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 with an empty bucket; yields its s3:// URL."""
    pytest.importorskip("boto3", reason="S3 targets need the s3 extra (pip install -e '.[test]' has it)")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    import urllib.request

    import boto3

    # Moto keeps its buckets per process: start each test from an empty store.
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")).close()

    boto3.client("s3").create_bucket(Bucket="cold")
    try:
        yield "s3://cold/team/backups"
    finally:
        server.stop()


def _keys(bucket: str = "cold") -> list[str]:
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


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
    name = db.create_backup(installed, db.Settings(), 'Odd "Table" é', "bigger", "monthly")
    original = _rows(installed, 'public."Odd ""Table"" é"')
    code, out, err = run(capsys, "archive", name, "--to", s3, "--yes", "--dsn", dsn)
    assert code == 0, err
    folder = f"team/backups/{name}"
    assert _keys() == [f"{folder}/data.csv.zst", f"{folder}/manifest.json"]
    status = installed.execute(
        "SELECT status, policy_reason FROM backup.backup_inventory WHERE backup_table_name = %s", (name,)
    ).fetchone()
    assert status == ("archived", f"archived to s3://cold/{folder}")
    code, out, err = run(capsys, "restore", name, "--as", "from_s3", "--dsn", dsn)
    assert code == 0, err
    assert _rows(installed, "public.from_s3") == original
    # Someone rewrites the object: restore refuses it and creates nothing.
    client = boto3.client("s3")
    body = _unzstd(client.get_object(Bucket="cold", Key=f"{folder}/data.csv.zst")["Body"].read())
    client.put_object(
        Bucket="cold", Key=f"{folder}/data.csv.zst", Body=zstandard.compress(body.replace("ünï".encode(), b"uni"))
    )
    _restore_is_refused(capsys, installed, dsn, name, "from_s3_again", "checksum mismatch")


def test_s3_errors_are_one_line_and_change_nothing(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], awkward_backup: str, s3: str
) -> None:
    code, _, err = run(capsys, "archive", awkward_backup, "--to", "s3://no-such-bucket/x", "--yes", "--dsn", dsn)
    assert code == 1 and "NoSuchBucket" in err and "Traceback" not in err
    assert _backup_table_exists(installed, awkward_backup)
    code, _, err = run(capsys, "archive", awkward_backup, "--to", "s3://", "--yes", "--dsn", dsn)
    assert code == 1 and "needs a bucket" in err
    # An archive already at the target is never overwritten.
    code, _, _ = run(capsys, "archive", awkward_backup, "--to", s3, "--yes", "--dsn", dsn)
    assert code == 0
    again = db.create_backup(installed, db.Settings(), 'Odd "Table" é', "again", "monthly")
    installed.execute(
        "UPDATE backup.backup_metadata SET archive_location = NULL WHERE backup_table_name = %s", (awkward_backup,)
    )
    import boto3

    boto3.client("s3").put_object(Bucket="cold", Key=f"team/backups/{again}/manifest.json", Body=b"{}")
    code, _, err = run(capsys, "archive", again, "--to", s3, "--yes", "--dsn", dsn)
    assert code == 1 and "already exists" in err


def test_a_cancelled_s3_archive_leaves_no_object(
    installed: psycopg.Connection, settings: db.Settings, awkward_backup: str, s3: str
) -> None:
    def stop(t) -> None:
        if t.phase == "verifying":
            raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        archive_backup(installed, settings, awkward_backup, open_target(s3), stop)
    assert _keys() == []
    assert _backup_table_exists(installed, awkward_backup)


def test_the_row_counter_agrees_with_a_csv_parser_wherever_the_pieces_are_cut() -> None:
    """Verification counts rows without parsing: newlines outside quotes, fed in any pieces."""
    import csv
    import random

    from tui.db.archive import CsvRows

    rows = [["a\nb", 'say "hi"', "", "x,y"], ["\n\n", '"', "plain"], ["end"]] * 20
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    data = text.getvalue().encode()
    cuts = random.Random(7)
    for _ in range(100):
        counter, at = CsvRows(), 0
        while at < len(data):
            step = cuts.randint(1, 30)
            counter.feed(data[at : at + step])
            at += step
        assert (counter.rows, counter.inside) == (len(rows), False)


def test_a_connection_lost_around_the_drop_keeps_the_verified_archive(
    installed: psycopg.Connection, settings: db.Settings, dsn: str, tmp_path: Path, awkward_backup: str
) -> None:
    """When the session dies between the archive's commit and the drop's, nobody can tell whether
    the drop happened: the verified archive is kept (never risk losing both copies)."""
    session = db.connect(settings)
    target = open_target(tmp_path)
    begin = target.begin

    def begin_then_lose_the_connection_on_commit(name: str):
        staging = begin(name)
        commit = staging.commit

        def commit_and_kill() -> str:
            location = commit()
            with psycopg.connect(dsn, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (session.info.backend_pid,))
            return location

        staging.commit = commit_and_kill
        return staging

    target.begin = begin_then_lose_the_connection_on_commit
    with pytest.raises(db.DatabaseError, match="archive is kept"):
        archive_backup(session, settings, awkward_backup, target)
    session.close()
    assert (tmp_path / awkward_backup / "manifest.json").exists()
    # Here the drop never committed: the table is still there too.
    assert _backup_table_exists(installed, awkward_backup)
