"""`backup-tui fleet`: every service of the service file, in parallel; JSON, CSV, Prometheus."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures import TOTAL
from tests.fleet.conftest import Fleet
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_service_gets_a_row_and_the_dead_ones_say_why(capsys, fleet: Fleet) -> None:
    code, out, _ = run(capsys, "fleet", "--json", "--connect-timeout", "2")
    assert code == 2  # unreachable targets
    rows = {r["target"]: r for r in json.loads(out)}
    assert list(rows) == ["prod", "empty", "legacy", "down", "silent"]  # the service file's order
    prod = rows["prod"]
    assert prod["schema"] == "current" and prod["backups"] == TOTAL and prod["reachable"]
    assert prod["reclaimable_bytes"] > 0 and prod["findings"] >= 2  # the fixture's missing and unregistered
    assert prod["findings_by_category"]["missing"] == 1
    assert rows["empty"]["schema"] == "absent" and rows["empty"]["backups"] == 0
    assert rows["empty"]["findings_by_category"] == {"not installed": 1}
    assert rows["legacy"]["schema"] == "legacy" and rows["legacy"]["backups"] > 0
    assert rows["down"]["error"] == "connection refused" and not rows["down"]["reachable"]
    assert rows["silent"]["error"].startswith("timeout")


def test_named_targets_csv_and_the_exit_status_of_a_clean_fleet(capsys, fleet: Fleet) -> None:
    code, out, _ = run(capsys, "fleet", "--csv", "--service", "empty", "--dsn", fleet.dsns["legacy"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["schema"] for r in rows] == ["absent", "legacy"]
    assert code == 1  # both reachable; "not installed" and the legacy layout's findings
    code, out, _ = run(capsys, "fleet", "--service", "prod")
    assert code == 1 and "prod" in out and "1 databases (0 unreachable)" in out


def test_prometheus_output_parses_back_and_is_written_atomically(capsys, fleet: Fleet, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "fleet", "--prometheus", "--service", "prod", "--service", "down")
    families = {f.name: f for f in text_string_to_metric_families(out)}
    up = {s.labels["target"]: s.value for s in families["backup_tui_up"].samples}
    assert up == {"prod": 1.0, "down": 0.0}
    backups = [s for s in families["backup_tui_backups"].samples if s.labels["target"] == "prod"]
    assert backups[0].value == TOTAL
    missing = [s for s in families["backup_tui_findings"].samples if s.labels["category"] == "missing"]
    assert missing[0].value == 1
    assert families["backup_tui_database_bytes"].samples[0].value > families["backup_tui_backup_bytes"].samples[0].value
    (tmp_path / "textfile").mkdir()
    target = tmp_path / "textfile" / "backup_tui.prom"
    target.write_text("old content\n")
    code, out, _ = run(capsys, "fleet", "--prometheus", "--service", "prod", "--output", str(target))
    assert out == "" and "backup_tui_backups" in target.read_text() and "old content" not in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["backup_tui.prom"]  # no temp file left behind
    code, out, _ = run(capsys, "list", "--prometheus", "--label", "one", "--dsn", fleet.dsns["prod"])
    assert code == 0 and 'target="one"' in out


def test_metrics_follow_prometheus_conventions_and_others_can_read_the_files(
    capsys, fleet: Fleet, tmp_path: Path
) -> None:
    """#26: an unreachable target is labelled with the host and database its service names;
    --label key=value adds a label (a bare name stays the target); category values are snake_case;
    files written with --output are readable by the collector's user (not mkstemp's 0600)."""
    code, out, _ = run(capsys, "fleet", "--prometheus", "--service", "prod", "--service", "down", "--label", "env=prod")
    families = {f.name: f for f in text_string_to_metric_families(out)}
    down = next(s for s in families["backup_tui_up"].samples if s.labels["target"] == "down")
    assert (down.labels["host"], down.labels["database"], down.value) == ("127.0.0.1", "x", 0.0)
    assert all(s.labels["env"] == "prod" for f in families.values() for s in f.samples)
    categories = {s.labels["category"] for s in families["backup_tui_findings"].samples}
    assert categories and all(c == c.lower() and " " not in c for c in categories)
    code, _, err = run(capsys, "fleet", "--prometheus", "--service", "prod", "--label", "host=x")
    assert code == 1 and "--label host=x" in err
    umask = os.umask(0o022)
    try:
        for options in (["--json"], ["--csv"], ["--prometheus"]):
            path = tmp_path / f"out{options[0]}"
            run(capsys, "fleet", *options, "--service", "prod", "--output", str(path))
            assert path.stat().st_mode & 0o777 == 0o644, options
    finally:
        os.umask(umask)


def test_fleet_check_runs_check_everywhere(capsys, fleet: Fleet) -> None:
    code, out, _ = run(capsys, "fleet", "check", "--json", "--service", "prod", "--service", "down")
    result = {r["target"]: r for r in json.loads(out)}
    assert code == 2 and not result["down"]["reachable"] and result["down"]["error"] == "connection refused"
    assert {f["category"] for f in result["prod"]["findings"]} >= {"missing", "unregistered"}


def test_no_targets_is_one_line(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "none.conf"))
    monkeypatch.setenv("PGSYSCONFDIR", str(tmp_path))
    code, _, err = run(capsys, "fleet")
    assert code == 1 and "no targets" in err and len(err.strip().splitlines()) == 1


def test_the_readme_alert_rules_use_metrics_we_write(capsys, fleet: Fleet) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rules = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)  # type: ignore[union-attr]
    used = set(re.findall(r"\b(backup_tui_[a-z_]+)", rules))
    _, out, _ = run(capsys, "fleet", "--prometheus", "--service", "prod")
    written = {f.name for f in text_string_to_metric_families(out)}
    assert used and used <= written


def test_the_readme_textfile_crontab_line_is_valid_cron(capsys, fleet: Fleet) -> None:
    import re

    from tui.cli import build_parser

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (line,) = [b.strip() for b in re.findall(r"```crontab\n(.*?)```", readme, re.S) if "fleet" in b]
    when, command = " ".join(line.split()[:5]), line.split(None, 5)[5]
    with __import__("psycopg").connect(fleet.dsns["prod"]) as conn:
        assert conn.execute("SELECT backup.cron_words(%s)", (when,)).fetchone()[0] == "every 5 minutes"
    args = build_parser().parse_args(command.split()[1:])  # the options are ours
    assert args.prometheus and args.output.endswith(".prom")
