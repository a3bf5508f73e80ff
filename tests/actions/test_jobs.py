"""Each action of tui.actions on a real PostgreSQL, as both front ends run it: what it does, the
words it asks with, its per-item results (a failure is an item, never an exception), stop, and
the one summary both front ends print."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from tests.archives import backup_table_exists
from tests.conftest import make_table, scalar
from tui import format as fmt
from tui.actions import ArchiveJob, DropJob, Failed, Forms, PruneJob, VerifyJob, siblings_of
from tui.db import Database, Settings
from tui.db.backups import create_backup
from tui.model import Backup, ItemResult, Outcome, SchemaState, StopReason, Transfer, WriteResult


class Seen:
    """What a job reported while it ran."""

    def __init__(self) -> None:
        self.items: list[ItemResult] = []
        self.transfers: list[Transfer] = []

    def item(self, item: ItemResult) -> None:
        self.items.append(item)

    def transfer(self, transfer: Transfer) -> None:
        self.transfers.append(transfer)


def _backup(conn: psycopg.Connection, table: str, kind: str, days: float = 0, rows: int = 50) -> str:
    """A backup of a new table `table`, `days` old. An old one gets a newer sibling: the newest
    backup of a table is kept whatever its age, and these are meant to be past their retention."""
    make_table(conn, table, rows)
    name = create_backup(conn, table, f"{kind} copy of {table}", kind)
    if days:
        conn.execute(
            "UPDATE backup.backup_metadata SET backup_date = now() - %s WHERE backup_table_name = %s",
            (timedelta(days=days), name),
        )
        create_backup(conn, table, "the newest, kept", kind)
    return name


def _rows(database: Database, *names: str) -> list[Backup]:
    by_name = {b.backup_table_name: b for b in database.inventory(SchemaState.CURRENT)}
    return [by_name[n] for n in names]


def _run(job: object, stop: threading.Event | None = None) -> tuple[WriteResult, Seen]:
    seen = Seen()
    result = job.run(seen.item, seen.transfer, stop or threading.Event())  # type: ignore[attr-defined]
    return result, seen


@pytest.fixture
def database(installed: psycopg.Connection, settings: Settings):
    with Database(settings) as db:
        yield db


def test_drop_job_drops_forgets_and_counts_them_apart(
    installed: psycopg.Connection, database: Database, tmp_path: Path
) -> None:
    kept = _backup(installed, "orders", "daily")
    gone = _backup(installed, "events", "daily", days=30)
    filed = _backup(installed, "ledger", "monthly", days=400)
    database.archive_many([filed], str(tmp_path), lambda _: None, lambda _: None, threading.Event())
    backups = _rows(database, gone, filed)
    job = DropJob(database, backups)
    assert job.expected == "2" and "Type 2 to confirm" in job.prompt()
    assert any("exists only in its archive" in note for note in job.notes())
    assert job.risks() == ["1 only in its archive (forgotten: the files stay)"]
    result, seen = _run(job)
    assert [i.outcome for i in result.items] == [Outcome.DONE, Outcome.DONE]
    assert {i.name for i in seen.items} == {gone, filed}
    assert not backup_table_exists(installed, gone)
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata WHERE backup_table_name = %s", (filed,)) == 0
    assert any(tmp_path.iterdir())  # forgetting leaves the archive's files where they are
    assert backup_table_exists(installed, kept)
    summary = job.summary(result)
    assert summary.startswith("dropped 1, freed ") and summary.endswith("; forgot 1")


def test_drop_job_words_a_single_risky_backup(installed: psycopg.Connection, database: Database) -> None:
    newest = _backup(installed, "orders", "critical")
    job = DropJob(database, _rows(database, newest))
    assert job.expected == newest
    assert job.risks() == ["critical", "still inside its retention"]
    assert job.prompt() == "Type the backup's name to confirm (it is critical):"


def test_drop_job_says_which_are_the_newest_and_which_tables_would_be_left_with_none(
    installed: psycopg.Connection, database: Database
) -> None:
    older = _backup(installed, "orders", "manual", days=3)  # and a newer one, "the newest, kept"
    newest = next(b for b in database.inventory(SchemaState.CURRENT) if b.source == "orders" and b.name != older)
    lone = _backup(installed, "events", "manual")
    everything = database.inventory(SchemaState.CURRENT)
    # Both backups of orders: the newest and every one of them, counted once each in the prompt.
    both = _rows(database, older, newest.name)
    job = DropJob(database, both, siblings_of(both, everything))
    assert "1 is the newest of its table" in job.risks()
    assert "every backup of orders that has a table: none would be left" in job.risks()
    assert job.prompt() == "Type 2 to confirm (2 of them at risk, see above):"
    # The older one alone: only its retention is at stake.
    alone = _rows(database, older)
    assert DropJob(database, alone, siblings_of(alone, everything)).risks() == ["still inside its retention"]
    # The CLI reads the same facts from the database.
    single = _rows(database, lone)
    job = DropJob(database, single, database.siblings([lone]))
    assert job.risks() == ["the newest backup of its table", "the only backup of events that has a table"]
    assert job.prompt() == "Type the backup's name to confirm (it is the newest backup of its table):"


def test_a_backup_gone_meanwhile_fails_alone(installed: psycopg.Connection, database: Database) -> None:
    first = _backup(installed, "orders", "daily", days=30)
    second = _backup(installed, "events", "daily", days=30)
    job = DropJob(database, _rows(database, first, second))  # the rows as the user saw them
    installed.execute("SELECT backup.drop_table_backup(%s::text)", (first,))  # another session was quicker
    result, seen = _run(job)
    outcomes = {i.name: i for i in result.items}
    assert outcomes[first].outcome is Outcome.FAILED and outcomes[first].error
    assert outcomes[second].outcome is Outcome.DONE
    assert len(seen.items) == 2 and not backup_table_exists(installed, second)
    assert "failed 1" in job.summary(result)


def test_a_stopped_job_attempts_nothing(installed: psycopg.Connection, database: Database) -> None:
    names = [_backup(installed, f"t{i}", "daily", days=30) for i in range(3)]
    stop = threading.Event()
    stop.set()
    result, _ = _run(DropJob(database, _rows(database, *names)), stop)
    assert result.stopped is StopReason.CANCELLED
    assert all(i.outcome is Outcome.NOT_ATTEMPTED for i in result.items)
    assert all(backup_table_exists(installed, n) for n in names)


def test_archive_then_verify_and_a_damaged_archive_is_an_item(
    installed: psycopg.Connection, database: Database, tmp_path: Path
) -> None:
    one = _backup(installed, "orders", "monthly", rows=500)
    two = _backup(installed, "events", "monthly", rows=500)
    job = ArchiveJob(database, _rows(database, one, two), str(tmp_path))
    result, seen = _run(job)
    assert [i.outcome for i in result.items] == [Outcome.DONE, Outcome.DONE]
    assert seen.transfers and all(i.archived is not None for i in result.items)
    assert job.summary(result).startswith("archived 2, ")
    assert not backup_table_exists(installed, one) and not backup_table_exists(installed, two)
    # Damage one archive's data file: verify says so for that one and goes on with the next.
    location, _ = database.archive_entry(two)
    assert location is not None
    data = next(p for p in Path(location).iterdir() if p.name.startswith("data"))
    data.write_bytes(data.read_bytes()[:-8] + b"\x00" * 8)
    verify = VerifyJob(database, _rows(database, one, two))
    assert not verify.typed and verify.risks() == []
    checked, _ = _run(verify)
    outcomes = {i.name: i for i in checked.items}
    assert outcomes[one].outcome is Outcome.DONE
    assert outcomes[two].outcome is Outcome.FAILED and outcomes[two].error
    assert verify.summary(checked) == "verified 1, damaged or unreadable 1"
    recorded = "SELECT verify_result FROM backup.backup_metadata WHERE backup_table_name = %s"
    assert scalar(installed, recorded, (two,)) != "ok"


def test_verify_job_reports_an_archive_forgotten_meanwhile(
    installed: psycopg.Connection, database: Database, tmp_path: Path
) -> None:
    name = _backup(installed, "orders", "monthly")
    _run(ArchiveJob(database, _rows(database, name), str(tmp_path)))
    job = VerifyJob(database, _rows(database, name))
    installed.execute("SELECT backup.forget_archive(%s::text)", (name,))
    result, _ = _run(job)
    assert [i.outcome for i in result.items] == [Outcome.FAILED]


def test_prune_job_archives_the_archive_decisions_then_drops_the_deletes(
    installed: psycopg.Connection, database: Database, tmp_path: Path
) -> None:
    expired = [_backup(installed, f"daily{i}", "daily", days=30) for i in range(3)]
    old_monthly = _backup(installed, "ledger", "monthly", days=400)
    fresh = _backup(installed, "orders", "daily")
    plan = database.plan()
    backups = database.inventory(SchemaState.CURRENT)
    job = PruneJob(database, plan, backups, target=str(tmp_path), batch_size=2)
    assert sorted(job.due) == sorted(expired) and job.to_archive == [old_monthly]
    # The figures are the plan's, as the preview's totals give them: each part's size, and their sum.
    sizes = {r.backup_table_name: r.size_bytes or 0 for r in plan}
    archive_bytes, delete_bytes = sizes[old_monthly], sum(sizes[n] for n in expired)
    assert job.question() == (
        f"Prune: archive 1 ({fmt.size(archive_bytes)}, verified, then dropped) and delete 3 "
        f"({fmt.size(delete_bytes)}), freeing {fmt.size(archive_bytes + delete_bytes)}?"
    )
    result, _ = _run(job)
    assert len(result.done) == 4 and not result.failed
    assert job.summary(result).startswith("archived 1, dropped 3, freed ")
    assert all(not backup_table_exists(installed, n) for n in expired)
    archived = "SELECT archive_location IS NOT NULL FROM backup.backup_metadata WHERE backup_table_name = %s"
    assert scalar(installed, archived, (old_monthly,)) is True
    assert backup_table_exists(installed, fresh)


def test_prune_job_without_a_target_leaves_the_archive_decisions(
    installed: psycopg.Connection, database: Database
) -> None:
    expired = _backup(installed, "daily0", "daily", days=30)
    old_monthly = _backup(installed, "ledger", "monthly", days=400)
    job = PruneJob(database, database.plan(), database.inventory(SchemaState.CURRENT), scope="the 2 rows shown")
    assert job.to_archive == [] and job.action_label == "Drop"
    assert job.question().startswith("Prune the 2 rows shown: delete 1 (")
    result, _ = _run(job)
    assert [i.name for i in result.done] == [expired]
    assert backup_table_exists(installed, old_monthly)
    assert job.summary(result).startswith("dropped 1, freed ")


def test_forms_create_adopt_and_schedule(installed: psycopg.Connection, database: Database) -> None:
    forms = Forms(database)
    make_table(installed, "orders", 20)
    name = forms.create("orders", "before the migration", "pre-migration")
    assert backup_table_exists(installed, name)
    installed.execute("CREATE TABLE backup.orders_backup_2020_01_01_000000 AS TABLE public.orders")
    source, rows = forms.adopt("orders_backup_2020_01_01_000000", None, "manual", "found lying around")
    assert (source, rows) == ("orders", 20)
    schedule = forms.save_schedule(None, "orders", "daily", "0 2 * * *", "nightly", "public")
    assert forms.save_schedule(schedule, "orders", "weekly", "0 3 * * 1", "weekly now", "public") == schedule
    saved = "SELECT backup_kind || ' ' || cron FROM backup.backup_schedule WHERE id = %s"
    assert scalar(installed, saved, (schedule,)) == "weekly 0 3 * * 1"
    words, runs = forms.cron_preview("*/15 * * * *")
    assert words and len(runs) == 3
    with pytest.raises(Failed) as bad:
        forms.cron_preview("61 * * * *")
    assert "\n" not in str(bad.value)
    with pytest.raises(Failed):
        forms.create("no_such_table", "why not", "manual")
