"""Archives are first-class (#14): check, drop and restore understand them; verify; restore and
adopt from a location; faults that end cleanly; a cut-off run finished by the next."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import subprocess
from pathlib import Path

import psycopg
import pytest
import zstandard
from psycopg import sql

from tests.archives import backup_table_exists, unzstd
from tests.cli.test_cli import run
from tests.conftest import installed_script, make_table, scalar
from tui.db import Database, Settings
from tui.storage import DirectoryTarget, folder_name


def _archive(capsys, dsn: str, name: str, to: Path) -> Path:
    code, _, err = run(capsys, "archive", name, "--to", str(to), "--yes", "--dsn", dsn)
    assert code == 0, err
    return to / folder_name(name)


@pytest.fixture
def archived(awkward_backup: str, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[str, Path]:
    return awkward_backup, _archive(capsys, dsn, awkward_backup, tmp_path / "cold")


def _tamper_consistently(folder: Path) -> None:
    """What a careful forger does: change a value in the data, and put the new sha256 (and sizes)
    in the manifest, so the archive agrees with itself."""
    data = unzstd((folder / "data.csv.zst").read_bytes()).replace(b"line one", b"LINE 111")
    (folder / "data.csv.zst").write_bytes(zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["stored_bytes"] = (folder / "data.csv.zst").stat().st_size
    (folder / "manifest.json").write_text(json.dumps(manifest))


# -- 1. check knows archives; 4. verify --------------------------------------------------------


def test_check_is_clean_when_the_only_archives_verify(
    archived: tuple[str, Path], dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--json", "--dsn", dsn)
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(capsys, "verify", "--all", "--json", "--dsn", dsn)
    assert code == 0 and [v["result"] for v in json.loads(out)] == ["ok"]


def test_a_consistent_tamper_is_caught_by_verify_check_and_restore(
    archived: tuple[str, Path], installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name, folder = archived
    _tamper_consistently(folder)
    code, out, _ = run(capsys, "verify", name, "--json", "--dsn", dsn)
    [verified] = json.loads(out)
    assert code == 1 and verified["result"] == "damaged" and "does not match the catalogue" in verified["detail"]
    assert scalar(
        installed, "SELECT verify_result FROM backup.backup_metadata WHERE backup_table_name = %s", (name,)
    ) == ("damaged")
    findings = json.loads(run(capsys, "check", "--json", "--dsn", dsn)[1])
    assert [(f["category"], f["subject"]) for f in findings] == [("archive", name)]
    status = scalar(
        installed, "SELECT policy_reason FROM backup.backup_inventory WHERE backup_table_name = %s", (name,)
    )
    assert "the last verification found it damaged" in status
    for argv in (("restore", name), ("restore", "--from", str(folder))):
        code, _, err = run(capsys, *argv, "--as", "tampered_back", "--dsn", dsn)
        assert code == 1 and "does not match the catalogue" in err
    assert scalar(installed, "SELECT to_regclass('public.tampered_back')") is None


def test_verify_says_unreadable_when_the_files_are_gone_and_exits_2_on_an_unknown_name(
    archived: tuple[str, Path], dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name, folder = archived
    (folder / "data.csv.zst").unlink()
    code, out, _ = run(capsys, "verify", "--all", "--dsn", dsn)
    assert code == 1 and out.startswith("unreadable")
    code, _, err = run(capsys, "verify", "no_such_backup", "--dsn", dsn)
    assert code == 2 and "no archived backup named no_such_backup" in err


# -- 2. dropping an archived backup is forgetting it; 3. restore and adopt from a location ----


def test_drop_refuses_an_archived_backup_and_forget_keeps_the_files(
    archived: tuple[str, Path], installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name, folder = archived
    code, _, err = run(capsys, "drop", name, "--yes", "--dsn", dsn)
    assert code == 1 and "exist only in their archive" in err and "--forget-archive" in err
    with pytest.raises(psycopg.errors.WrongObjectType, match="exists only in its archive"):
        installed.execute("SELECT backup.drop_table_backup(%s)", (name,))
    code, out, err = run(capsys, "drop", name, "--yes", "--forget-archive", "--dsn", dsn)
    assert code == 0 and "forgot 1" in out, err
    assert (folder / "manifest.json").exists() and (folder / "data.csv.zst").exists()
    audit = installed.execute(
        "SELECT detail->>'location' FROM backup.backup_audit WHERE action = 'forget' AND backup_table_name = %s",
        (name,),
    ).fetchone()
    assert audit == (str(folder),)
    code, _, err = run(capsys, "restore", name, "--as", "back_by_name", "--dsn", dsn)
    assert code == 1 and "no backup or archive named" in err
    code, out, err = run(capsys, "restore", "--from", str(folder), "--as", "back_from_folder", "--dsn", dsn)
    assert code == 0 and "4 rows" in out, err
    code, out, err = run(capsys, "adopt", "--from", str(folder), "--dsn", dsn)
    assert code == 0 and "registered the archive" in out, err
    row = installed.execute(
        "SELECT archive_location, row_count, backup_kind FROM backup.backup_metadata WHERE backup_table_name = %s",
        (name,),
    ).fetchone()
    assert row == (str(folder), 4, "monthly")
    assert json.loads(run(capsys, "verify", name, "--json", "--dsn", dsn)[1])[0]["result"] == "ok"


def test_restore_from_an_s3_prefix_alone(
    awkward_backup: str, installed: psycopg.Connection, dsn: str, s3: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "archive", awkward_backup, "--to", s3, "--yes", "--dsn", dsn)[0] == 0
    location = f"{s3}/{folder_name(awkward_backup)}"
    assert run(capsys, "drop", awkward_backup, "--yes", "--forget-archive", "--dsn", dsn)[0] == 0
    code, out, err = run(capsys, "restore", "--from", location, "--as", "from_s3", "--dsn", dsn)
    assert code == 0 and "4 rows" in out, err


# -- 5. safe folder names ------------------------------------------------------------------------


HOSTILE_NAMES = ["a/b", "../escape", "..", ".", ".hidden", "x\x1b[2Jy", "é" * 31, "a" * 63, "%2F", "~user", " sp "]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_every_name_maps_to_one_folder_inside_the_target_and_back(name: str, tmp_path: Path) -> None:
    from tui.storage import backup_name

    folder = folder_name(name)
    assert "/" not in folder and not folder.startswith(".") and folder not in ("", ".", "..")
    assert (tmp_path / folder).resolve().parent == tmp_path.resolve()
    assert backup_name(folder) == name and len(folder.encode()) <= 255


def test_names_that_would_escape_the_target_archive_inside_it(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_table(installed, "t", rows=3)
    target = tmp_path / "cold"
    (target / "...").mkdir(parents=True)  # the folder 0.1's '../name' walked into
    for name in ("../t_escape", "a/b_backup", ".t_hidden"):
        installed.execute(f'CREATE TABLE backup."{name}" AS TABLE public.t')
        installed.execute("SELECT backup.adopt_backup(%s, 't', 'manual', 'odd name')", (name,))
        _archive(capsys, dsn, name, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["...", *map(folder_name, ["../t_escape", "a/b_backup", ".t_hidden"])]
    )
    assert list(tmp_path.iterdir()) == [target]


# -- 6. faults end cleanly -------------------------------------------------------------------


class FullDisk(DirectoryTarget):
    """A directory whose data file stops taking bytes after 64 KiB: ENOSPC, as a full disk says."""

    def begin(self, name: str):
        staging = super().begin(name)
        create = staging.create

        def limited(filename: str):
            real = create(filename)

            class Writer:
                written = 0

                def write(self, data):
                    Writer.written += len(data)
                    if Writer.written > 64 << 10:
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    return real.write(data)

                def close(self):
                    real.close()

                def flush(self):
                    real.flush()

            return Writer()

        staging.create = limited
        return staging


def test_a_full_disk_is_one_line_removes_the_partial_archive_and_keeps_the_table(
    installed: psycopg.Connection, dsn: str, tmp_path: Path
) -> None:
    installed.execute("CREATE TABLE public.big AS SELECT g, md5(g::text) AS label FROM generate_series(1, 200000) g")
    name = scalar(installed, "SELECT backup.create_table_backup('big', 'to a full disk', 'monthly')")
    with Database(Settings(dsn=dsn)) as database:
        from tui.db import archive

        with pytest.raises(Exception) as err:
            database.session.run_own(archive.archive_backup, database.settings, name, FullDisk(tmp_path))
    assert f"cannot archive {name} to {tmp_path}: No space left on device; the backup stays" == str(err.value)
    assert backup_table_exists(installed, name) and list(tmp_path.iterdir()) == []


def test_a_file_size_limit_mid_archive_is_one_line_from_the_command(
    installed: psycopg.Connection, dsn: str, tmp_path: Path
) -> None:
    installed.execute("CREATE TABLE public.big AS SELECT g, md5(g::text) AS label FROM generate_series(1, 300000) g")
    name = scalar(installed, "SELECT backup.create_table_backup('big', 'ulimit -f', 'monthly')")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    done = subprocess.run(
        [installed_script(), "archive", name, "--to", str(tmp_path), "--yes", "--dsn", dsn],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"failed {name}: cannot archive {name} to {tmp_path}: File too large" in done.stderr
    assert backup_table_exists(installed, name) and list(tmp_path.iterdir()) == []


def test_a_target_that_cannot_be_written_is_one_line(
    awkward_backup: str, installed: psycopg.Connection, dsn: str, capsys, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(a_file / "cold"), "--yes", "--dsn", dsn)
    assert code == 1 and err.count("\n") == 1 and "cannot write to" in err and "Not a directory" in err
    assert backup_table_exists(installed, awkward_backup)


def test_prune_with_archives_on_a_full_disk_still_drops_every_delete_and_exits_1(
    installed: psycopg.Connection, dsn: str, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui import storage

    make_table(installed, "t", rows=50)
    for kind, days in (("monthly", 400), ("monthly", 390), ("daily", 20), ("daily", 15), ("daily", 0)):
        name = scalar(installed, "SELECT backup.create_table_backup('t', 'r', %s)", (kind,))
        installed.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - make_interval(days => %s) "
            "WHERE backup_table_name = %s",
            (days, name),
        )
    monkeypatch.setattr(storage, "DirectoryTarget", FullDisk)
    for name in [
        r[0]
        for r in installed.execute("SELECT backup_table_name FROM backup.backup_metadata WHERE backup_kind = 'monthly'")
    ]:
        installed.execute(  # enough data that no compression fits it in the full disk's 64 KiB
            f'INSERT INTO backup."{name}" SELECT g, repeat(md5(g::text), 4), NULL FROM generate_series(100, 60000) g'
        )
    code, out, err = run(capsys, "prune", "--apply", "--yes", "--archive-to", str(tmp_path), "--dsn", dsn)
    assert code == 1
    assert err.count("No space left on device") == 2 and "Traceback" not in err
    assert "archived 0, dropped 2, freed" in out and "failed 2" in out  # the TUI's words (tui.actions)


# -- 6. a cut-off run is finished by the next; dead runs' partial folders go --------------------


def test_archive_again_after_a_hang_up_finishes_the_job(
    installed: psycopg.Connection, awkward_backup: str, dsn: str, capsys, tmp_path: Path
) -> None:
    """The archive folder was committed and the drop was not (the session died in between): the
    table and a complete archive are both there. Archiving again checks one against the other and
    drops the table, instead of refusing "already exists"."""
    first = _archive(capsys, dsn, awkward_backup, tmp_path / "first")
    table = sql.Identifier("backup", awkward_backup)
    installed.execute(  # as if the drop never committed: the table back, the row not archived
        sql.SQL('CREATE TABLE {} AS TABLE public."Odd ""Table"" é"').format(table)
    )
    installed.execute(
        "UPDATE backup.backup_metadata SET archived_at = NULL, archive_location = NULL, archive_manifest = NULL "
        "WHERE backup_table_name = %s",
        (awkward_backup,),
    )
    target = tmp_path / "cold"
    target.mkdir()
    first.rename(target / first.name)
    code, out, err = run(capsys, "archive", awkward_backup, "--to", str(target), "--yes", "--dsn", dsn)
    assert code == 0 and "archived" in out, err
    assert not backup_table_exists(installed, awkward_backup)
    # Another table's content under that archive: refused, the table stays.
    installed.execute(sql.SQL('CREATE TABLE {} AS SELECT * FROM public."Odd ""Table"" é" LIMIT 1').format(table))
    installed.execute(
        "UPDATE backup.backup_metadata SET archived_at = NULL, archive_location = NULL, archive_manifest = NULL "
        "WHERE backup_table_name = %s",
        (awkward_backup,),
    )
    code, _, err = run(capsys, "archive", awkward_backup, "--to", str(target), "--yes", "--dsn", dsn)
    assert code == 1 and "with other content" in err and backup_table_exists(installed, awkward_backup)


def test_the_next_run_removes_partial_folders_whose_writer_died_and_only_those(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path)
    alive = target.begin("alive")  # this process holds its lock
    dead = tmp_path / ".dead.partial-0000"
    dead.mkdir()
    (dead / ".writer.lock").touch()  # a lock file nobody holds: its writer is gone
    old = tmp_path / ".old.partial-1111"
    old.mkdir()
    os.utime(old, (0, 0))  # no lock (written before 0.2) and old
    fresh = tmp_path / ".fresh.partial-2222"
    fresh.mkdir()  # no lock, but new: maybe a 0.1 run still writing
    held = tmp_path / ".held.partial-3333"
    held.mkdir()
    (held / ".writer.lock").touch()
    holder = subprocess.Popen(  # another process, alive, holding its partial folder's lock
        [
            "python3",
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(held / ".writer.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        removed = {p.name for p in target.remove_dead_partials()}
    finally:
        holder.kill()
        holder.wait()
        alive.abort()
    assert removed == {".dead.partial-0000", ".old.partial-1111"}


# -- 7. the SQL cannot record a fake archive --------------------------------------------------


def test_the_commit_step_refuses_a_fake_archive(installed: psycopg.Connection) -> None:
    make_table(installed, "t", rows=7)
    name = scalar(installed, "SELECT backup.create_table_backup('t', 'real', 'monthly')")
    for manifest, why in (
        ('{"sha256": "fake"}', "no sha256"),
        ('{"sha256": "' + "a" * 64 + '"}', "no row count"),
        ('{"sha256": "' + "a" * 64 + '", "row_count": 3}', "says 3 rows"),
    ):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=why):
            installed.execute("SELECT backup.archive_table_backup(%s, '/nowhere', %s)", (name, manifest))
    assert backup_table_exists(installed, name)
    assert (
        scalar(installed, "SELECT archive_location FROM backup.backup_metadata WHERE backup_table_name = %s", (name,))
        is None
    )
