"""A diff's result in words, for both front ends: lines of segments, each with a role (a heading,
a changed cell) that the TUI styles and the CLI prints as plain text. Values are written as JSON
and made safe for a terminal (tui.format.printable): hostile text stays literal."""

from __future__ import annotations

import json
from typing import Any

from tui import format as fmt
from tui.model import DiffResult, DiffSample

Segment = tuple[str, str | None]  # text, role: None, "heading", "changed"
Line = list[Segment]

KINDS = (("deleted", "deleted since (only in the backup)"), ("added", "added since"), ("changed", "changed"))


def report(r: DiffResult) -> list[Line]:
    by = f"by key {', '.join(r.key)}" if r.key else "as whole rows (no key both sides share)"
    lines: list[Line] = [[(f"{fmt.printable(r.backup)} against {fmt.printable(r.other)}, {by}", "heading")]]
    changes = [c for c in r.columns if c.change != "same"]
    for c in changes:
        types = {"added": c.other_type, "removed": c.backup_type, "retyped": f"{c.backup_type} -> {c.other_type}"}
        lines.append([(f"  column {fmt.printable(c.name)} {c.change} ({fmt.printable(types[c.change])})", None)])
    if not changes:
        lines.append([("  columns: the same", None)])
    rows = f"  rows: {r.only_backup:,} deleted since, {r.only_other:,} added since"
    if r.changed is not None:
        rows += f", {r.changed:,} changed"
        if r.changed_by_column:
            rows += " (" + ", ".join(f"{fmt.printable(c)} {n:,}" for c, n in r.changed_by_column.items()) + ")"
    lines.append([(rows, None)])
    for kind, words in KINDS:
        samples = r.samples.get(kind) or []
        if samples:
            lines.append([(f"{words}, the first {len(samples)}:", "heading")])
            lines.extend(_sample(s, kind) for s in samples)
    if r.identical:
        lines.append([("identical", "heading")])
    return lines


def plain(line: Line) -> str:
    return "".join(text for text, _ in line)


def _sample(s: DiffSample, kind: str) -> Line:
    key = ", ".join(f"{fmt.printable(k)}={value(v)}" for k, v in s.key.items())
    if kind == "changed" and s.backup_row is not None and s.other_row is not None:
        line: Line = [(f"  {key}: ", None)]
        for i, c in enumerate(s.changed):
            line.append((("; " if i else "") + f"{fmt.printable(c)}: {value(s.backup_row.get(c))} -> ", None))
            line.append((value(s.other_row.get(c)), "changed"))
        return line
    row = s.backup_row if kind == "deleted" else s.other_row
    return [(f"  {key + ': ' if key else ''}{value(row)}", None)]


def value(v: Any) -> str:
    """A value as JSON writes it (control characters as \\u001b), safe for a terminal."""
    return fmt.printable(json.dumps(v, ensure_ascii=False, default=str))
