"""Each figure against the number of backups, beside its baseline and its budget, as one PNG.

    python -m benchmarks.run --plot            # from the newest stored run of each size
    python -m benchmarks.run --plot --quick    # the smoke runs' figures (CI: the script must not rot)

It draws what `benchmarks/results/` holds (the JSON every run writes): the newest run of each
number of backups on one server, so 1,000 / 10,000 / 100,000 come from the same PostgreSQL. Both
axes are logarithmic and a grey line through the smallest run grows like n: a figure that stays
beside it grows linearly, one that climbs away from it grows worse than linearly.

matplotlib is in the `bench` extra, never a runtime dependency of backup-tui.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.budget import Budget


@dataclass(frozen=True)
class Run:
    n: int
    server: str
    stamp: str  # the file name's UTC time stamp: newest wins
    figures: dict[str, dict]


def load(results: Path, quick: bool) -> list[Run]:
    """Every stored run (quick or full), O(files)."""
    runs = []
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        if bool(data.get("quick")) != quick:
            continue
        figures = {f["name"]: f for f in data["figures"]}
        runs.append(Run(data["n"], data.get("server", "unknown server"), path.name.split("-")[0], figures))
    return runs


def newest_per_size(runs: Iterable[Run]) -> list[Run]:
    """The newest run of each size on the server with the most sizes (ties: the newest server)."""
    by_server: dict[str, dict[int, Run]] = {}
    for run in sorted(runs, key=lambda r: r.stamp):
        by_server.setdefault(run.server, {})[run.n] = run
    if not by_server:
        return []
    server = max(by_server, key=lambda s: (len(by_server[s]), max(r.stamp for r in by_server[s].values())))
    return sorted(by_server[server].values(), key=lambda r: r.n)


def plot(results: Path, output: Path, quick: bool = False) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    runs = newest_per_size(load(results, quick))
    if not runs:
        raise SystemExit(f"no {'quick ' if quick else ''}runs stored in {results}: run the benchmark first")
    names = list(dict.fromkeys(name for run in runs for name in run.figures))
    sizes = [run.n for run in runs]
    columns = 4
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.1 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        points = [(run.n, run.figures[name]) for run in runs if name in run.figures]
        xs = [n for n, _ in points]
        unit = points[0][1]["unit"]
        scale, label = (1.0, "MB") if unit == "MB" else (1000.0, "ms")
        ours = [f["value"] * scale for _, f in points]
        ax.plot(xs, ours, "o-", color="tab:blue", label="backup-tui")
        baselines = [(n, f["baseline"] * scale) for n, f in points if f.get("baseline")]
        if baselines:
            ax.plot(*zip(*baselines, strict=True), "s--", color="tab:orange", label="baseline")
        budget = Budget.of(points[0][1].get("budget") or "")
        if budget is not None:
            value, ratio = budget.limit, budget.ratio
            if ratio and baselines:
                ax.plot(
                    [n for n, _ in baselines], [b * value for _, b in baselines], ":", color="tab:red", label="budget"
                )
            elif not ratio:
                ax.axhline(value * scale, linestyle=":", color="tab:red", label="budget")
        if len(xs) > 1 and ours[0] > 0:
            # What linear growth from the smallest run would look like.
            ax.plot(xs, [ours[0] * n / xs[0] for n in xs], color="0.75", linewidth=1, zorder=0, label="∝ n")
        ax.set_xscale("log")
        if min(ours) > 0:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.set_ylabel(label)
        ax.set_title("\n".join(textwrap.wrap(name, 38)), fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)
    fig.legend(handles.values(), handles.keys(), loc="upper right", ncol=len(handles), frameon=False)
    server = runs[0].server
    fig.suptitle(f"backup-tui benchmarks against the number of backups ({server}; medians; log-log)", x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=90)
    plt.close(fig)
    return output
