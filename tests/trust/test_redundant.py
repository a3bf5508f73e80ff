"""#27 redundant copies: a backup identical to a newer backup of its table (kept at least as long)
is found once, confirmed exactly, said by the plan and the list, and dropped only on request;
held backups, the newest and anything something depends on stay; a forged fingerprint match
(different rows) is never called redundant."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.conftest import scalar
from tui.cli import main
from tui.db.backups import create_backup


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def copies(installed: psycopg.Connection) -> dict[str, str]:
    """Three daily copies of an unchanged table (payload json: compared as text), then one after a
    change; an older monthly of the same rows (a newer daily does not make it redundant)."""
    installed.execute("CREATE TABLE public.prices (id int PRIMARY KEY, payload json, tags text[])")
    installed.execute(
        "INSERT INTO public.prices SELECT g, json_build_object('g', g), ARRAY['x'] FROM generate_series(1, 50) g"
    )
    names = {"monthly": create_backup(installed, "prices", "month end", "monthly")}
    for i in range(3):
        names[f"daily{i}"] = create_backup(installed, "prices", f"nightly {i}", "daily")
    installed.execute("UPDATE public.prices SET tags = ARRAY['y'] WHERE id = 7")
    names["changed"] = create_backup(installed, "prices", "after the change", "daily")
    return names


def _plan(conn: psycopg.Connection, redundant: bool) -> dict[str, tuple[str, str]]:
    conn.execute("SELECT set_config('backup.prune_redundant', %s, false)", ("on" if redundant else "",))
    rows = conn.execute("SELECT backup_table_name, decision, reason FROM backup.plan_prune()").fetchall()
    return {name: (decision, reason) for name, decision, reason in rows}


def test_identical_copies_are_found_said_and_dropped_only_on_request(
    copies: dict[str, str], installed: psycopg.Connection, dsn: str, capsys
) -> None:
    found = dict(installed.execute("SELECT * FROM backup.find_redundant()").fetchall())
    # daily0 and daily1 equal daily2 (the newest identical); daily2 differs from 'changed'; the
    # monthly equals the dailies but they are not kept as long.
    assert found == {copies["daily0"]: copies["daily2"], copies["daily1"]: copies["daily2"]}
    plan = _plan(installed, redundant=False)
    assert plan[copies["daily0"]][0] == "keep"
    assert plan[copies["daily0"]][1].endswith(f"; identical to {copies['daily2']} (newer): redundant")
    plan = _plan(installed, redundant=True)
    assert plan[copies["daily0"]] == ("delete", f"identical to {copies['daily2']} (newer): redundant")
    assert plan[copies["daily2"]][0] == "keep" and plan[copies["monthly"]][0] == "keep"
    installed.execute("RESET backup.prune_redundant")
    code, out, _ = run(capsys, "list", "--json", "--dsn", dsn)
    marked = {r["backup_table_name"]: r["redundant_of"] for r in json.loads(out) if r["redundant_of"]}
    assert marked == found
    assert run(capsys, "prune", "--apply", "--yes", "--dsn", dsn)[0] == 0  # not asked: nothing goes
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 5
    installed.execute(
        "SELECT backup.hold_backup(%s::text, 'keep this one'::text, NULL::timestamptz)", (copies["daily1"],)
    )
    code, out, _ = run(capsys, "prune", "--redundant", "--apply", "--yes", "--dsn", dsn)
    assert code == 0 and "dropped 1" in out
    left = {r[0] for r in installed.execute("SELECT backup_table_name FROM backup.backup_metadata")}
    assert left == {copies["monthly"], copies["daily1"], copies["daily2"], copies["changed"]}  # the held one stays


def test_a_forged_fingerprint_match_is_confirmed_and_refused(
    copies: dict[str, str], installed: psycopg.Connection
) -> None:
    installed.execute("SELECT * FROM backup.find_redundant()")
    # 'changed' differs from daily2 in one row; give daily2 its fingerprint as if the hashes collided.
    installed.execute(
        "UPDATE backup.backup_metadata SET fingerprint = (SELECT fingerprint FROM backup.backup_metadata "
        "WHERE backup_table_name = %s), redundant_of = NULL WHERE backup_table_name = %s",
        (copies["changed"], copies["daily2"]),
    )
    found = dict(installed.execute("SELECT * FROM backup.find_redundant()").fetchall())
    assert copies["daily2"] not in found


def test_a_redundant_copy_that_something_depends_on_is_reviewed_not_dropped(
    copies: dict[str, str], installed: psycopg.Connection
) -> None:
    installed.execute("SELECT * FROM backup.find_redundant()")
    installed.execute(f'CREATE VIEW public.leans AS SELECT * FROM backup."{copies["daily0"]}"')
    plan = _plan(installed, redundant=True)
    assert plan[copies["daily0"]][0] == "review" and "depends on it" in plan[copies["daily0"]][1]
