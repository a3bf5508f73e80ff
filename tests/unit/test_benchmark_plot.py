"""The benchmark plot picks its runs as it says: the newest of each size, all from one server."""

import json
from pathlib import Path

from benchmarks.budget import Budget
from benchmarks.plot import load, newest_per_size


def _store(results: Path, stamp: str, n: int, server: str, value: float, quick: bool = False) -> None:
    figure = {"name": "plan_prune() over the inventory", "value": value, "unit": "s", "baseline": None}
    data = {"n": n, "quick": quick, "server": server, "figures": [figure | {"budget": "< 1 s"}]}
    (results / f"{stamp}-n{n}.json").write_text(json.dumps(data))


def test_newest_run_of_each_size_on_the_server_with_most_sizes(tmp_path: Path) -> None:
    _store(tmp_path, "20261101T000000", 1_000, "PostgreSQL 15.8", 0.1)
    _store(tmp_path, "20261102T000000", 1_000, "PostgreSQL 15.8", 0.05)  # newer: wins
    _store(tmp_path, "20261101T000000", 10_000, "PostgreSQL 15.8", 0.5)
    _store(tmp_path, "20261103T000000", 100_000, "PostgreSQL 18.0", 9.0)  # another server, one size only
    _store(tmp_path, "20261104T000000", 100_000, "PostgreSQL 15.8", 5.0, quick=True)  # a smoke run
    runs = newest_per_size(load(tmp_path, quick=False))
    assert [(r.n, r.server) for r in runs] == [(1_000, "PostgreSQL 15.8"), (10_000, "PostgreSQL 15.8")]
    assert runs[0].figures["plan_prune() over the inventory"]["value"] == 0.05
    assert [r.n for r in newest_per_size(load(tmp_path, quick=True))] == [100_000]
    assert newest_per_size(load(tmp_path / "absent", quick=False)) == []


def test_budgets_in_the_figures_unit() -> None:
    assert Budget.of("≤ 50 ms") == Budget(0.05, ratio=False, strict=False)
    assert Budget.of("< 150 MB") == Budget(150.0, ratio=False, strict=True)
    assert Budget.of("≤ 1.5×") == Budget(1.5, ratio=True, strict=False)
    assert Budget.of("≤ 1.0× (10k)") == Budget(1.0, ratio=True, strict=False)
    assert Budget.of("") is None
    assert Budget.of("< 1 s").holds(0.99) and not Budget.of("< 1 s").holds(1.0)
    assert Budget.of("≤ 2×").holds(2.0)
