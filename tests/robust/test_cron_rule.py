"""The cron rule is pg_cron's (#23). pg_cron and the system's cron (vixie cron) treat a day field
that *starts* with `*` (`*/2`) as unrestricted for the OR rule, and then require both day fields
to match; 0.2 did so only for a bare `*` and ORed the two: `0 2 */2 * 1-5` ran here on Tue 8, Wed 9,
Thu 10, Fri 11, Sun 13, where pg_cron runs it on Wed 9, Fri 11, Tue 15, Thu 17. Checked against a
reference (croniter with implement_cron_bug: vixie's rule) on a few hundred expressions across
month ends, leap days and year ends. Never-firing expressions are refused at add, and a schedule
never disappears from the list."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timezone

import psycopg
import pytest
from croniter import croniter

from tests.cli.test_cli import run
from tests.conftest import make_table, scalar

DOM = ["*", "*/2", "*/3", "1", "1,15", "13", "28", "29", "31", "1-7", "10-20/5", "*/7", "2-30/4"]
DOW = ["*", "*/2", "0", "1-5", "MON", "5", "6,0", "*/3", "7", "SUN-TUE"]
MONTH = ["*", "2", "*/2", "1,7", "2-3", "12"]
STARTS = [
    datetime(2026, 12, 7, 0, 0, tzinfo=timezone.utc),  # a Monday
    datetime(2027, 12, 31, 23, 59, tzinfo=timezone.utc),  # a year's end
    datetime(2028, 2, 28, 12, 0, tzinfo=timezone.utc),  # before a leap day
    datetime(2026, 4, 30, 23, 30, tzinfo=timezone.utc),  # a 30-day month's end
]


def _expressions() -> list[str]:
    every = [f"0 2 {d} {m} {w}" for d, m, w in itertools.product(DOM, MONTH, DOW)]
    return sorted(random.Random(22).sample(every, 300)) + ["*/15 * * * *", "30 3 * * 0", "@daily", "@weekly"]


def test_the_reference_is_vixie_crons_rule() -> None:
    it = croniter("0 2 */2 * 1-5", datetime(2026, 12, 8, tzinfo=timezone.utc), implement_cron_bug=True)
    assert [it.get_next(datetime).day for _ in range(4)] == [9, 11, 15, 17]


def test_next_runs_match_pg_crons_rule(installed: psycopg.Connection) -> None:
    mismatches, compared = [], 0
    for expr in _expressions():
        if scalar(installed, "SELECT backup.cron_never(%s::text)", (expr,)) is not None:
            continue
        for start in STARTS:
            ours = scalar(
                installed, "SELECT ARRAY(SELECT backup.cron_next(%s::text, %s::timestamptz, 4))", (expr, start)
            )
            it = croniter(expr, start, implement_cron_bug=True)
            horizon = start.replace(year=start.year + 28, day=min(start.day, 28))  # ours looks 28 years ahead
            reference = [r for r in (it.get_next(datetime) for _ in range(4)) if r <= horizon]
            compared += 1
            if ours != reference:
                mismatches.append(f"{expr} after {start:%Y-%m-%d %H:%M}: ours {ours}, pg_cron's {reference}")
    assert compared > 1000
    assert mismatches == [], "\n".join(mismatches[:10])


@pytest.mark.parametrize("expr", ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6 *", "0 0 30,31 2 */2"])
def test_an_expression_that_never_fires_is_refused_at_add(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], expr: str
) -> None:
    make_table(installed, "orders")
    code, _, err = run(capsys, "schedule", "add", "orders", "--kind", "daily", "--cron", expr, "--dsn", dsn)
    assert code == 1 and "never runs" in err and err.count("\n") == 1, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule") == 0


def test_the_or_rule_still_fires_on_the_weekday(installed: psycopg.Connection) -> None:
    """Both day fields restricted: either matches (February has no 30th, but has Mondays)."""
    assert scalar(installed, "SELECT backup.cron_never('0 0 30 2 1'::text)") is None
    first = scalar(installed, "SELECT backup.cron_next('0 0 30 2 1'::text, '2027-01-01'::timestamptz, 1)")
    assert first == datetime(2027, 2, 1, tzinfo=timezone.utc)


def test_a_schedule_that_never_fires_stays_listed_and_is_a_finding(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "orders")
    installed.execute(
        "SELECT backup.add_schedule('orders'::text, 'daily'::text, '0 2 * * *'::text, NULL::text, 'public'::text)"
    )
    installed.execute("ALTER TABLE backup.backup_schedule DISABLE TRIGGER backup_schedule_check")
    installed.execute("UPDATE backup.backup_schedule SET cron = '0 0 30 2 *'")  # as 0.2 accepted it
    installed.execute("ALTER TABLE backup.backup_schedule ENABLE TRIGGER backup_schedule_check")
    code, out, err = run(capsys, "schedule", "list", "--dsn", dsn)
    assert code == 0 and "orders" in out, err
    code, out, _ = run(capsys, "check", "--fast", "--dsn", dsn)
    assert code == 1 and "never fires" in out


def test_run_due_at_far_from_now_is_refused_unless_a_dry_run(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(installed, "orders")
    installed.execute(
        "SELECT backup.add_schedule('orders'::text, 'daily'::text, '0 2 * * *'::text, NULL::text, 'public'::text)"
    )
    installed.execute("UPDATE backup.backup_schedule SET created_at = now() - interval '3 days'")
    code, _, err = run(capsys, "run-due", "--at", "9999-12-31T23:59", "--dsn", dsn)
    assert code == 1 and "more than a day from now" in err and err.count("\n") == 1
    assert scalar(installed, "SELECT count(*) FROM backup.backup_metadata") == 0
    code, out, _ = run(capsys, "run-due", "--dry-run", "--at", "9999-12-31T23:59", "--dsn", dsn)
    assert code == 0 and "due: schedule" in out
    # Through the SQL API a future minute is never recorded: the schedule stays due at the next one.
    installed.execute("CALL backup.run_due_backups('2100-01-01'::timestamptz)")
    assert scalar(installed, "SELECT last_run_at <= now() FROM backup.backup_schedule")


@pytest.mark.parametrize("key", ["²", "٣", "3 ", "0x3"])
def test_schedule_ids_are_ascii_digits(
    installed: psycopg.Connection, dsn: str, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    make_table(installed, "orders")
    for _ in range(3):
        installed.execute(
            "SELECT backup.add_schedule('orders'::text, 'daily'::text, %s::text, NULL::text, 'public'::text)",
            (f"{_} 2 * * *",),
        )
    code, _, err = run(capsys, "schedule", "pause", key, "--dsn", dsn)
    assert code == 1 and "Traceback" not in err and err.count("\n") == 1, err
    assert scalar(installed, "SELECT count(*) FROM backup.backup_schedule WHERE NOT enabled") == 0


def test_prune_at_out_of_range_is_a_usage_error(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "schedule", "cron", "--install", "--prune-at", "25:00", "--dsn", dsn)
    assert exit_.value.code == 2 and "not a time of day" in capsys.readouterr().err
