"""Human output that fits the terminal: a table whose columns give way in a stated order, and
prose wrapped at spaces. Piped (no terminal, no $COLUMNS), nothing is cut or wrapped: a script
reads whole lines."""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import TextIO

from tui import format as fmt


def terminal_width() -> int | None:
    """The width human output fits: the terminal's (or $COLUMNS); None when piped (nothing cut)."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return shutil.get_terminal_size().columns
    return None


def say(line: str, hang: int = 2, file: TextIO | None = None) -> None:
    """print(line), wrapped to the terminal's width (see wrapped); piped, the line as it is."""
    print("\n".join(wrapped(line, terminal_width(), hang)), file=file or sys.stdout)


def wrapped(line: str, width: int | None, hang: int = 2) -> list[str]:
    """`line` in lines of at most `width` cells, broken at spaces (never a word cut in two), the
    continuation lines indented `hang` more than the line's own indent; None: the line whole."""
    if width is None or fmt.cell_len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip(" ")))
    kept = _UNIT.sub("\\1\0\\2", line.strip(" "))  # "5.8 MiB" and "3 months" stay on one line
    lines = textwrap.wrap(
        kept,
        width=max(width, 20),
        initial_indent=indent,
        subsequent_indent=indent + " " * hang,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [part.replace("\0", " ") for part in lines]


_UNIT = re.compile(r"(\d) (Bytes|KiB|MiB|GiB|TiB|PiB|EiB|days?|weeks?|months?|years?|hours?|minutes?|seconds?)\b")


def fit_table(
    rows: Sequence[Mapping[str, str]],
    columns: Sequence[str],
    width: int | None,
    *,
    titles: Mapping[str, str] | None = None,
    right: Collection[str] = (),
    give_way: Sequence[str] = (),
    cut: str | None = None,
    squeeze: str | None = None,
) -> list[str]:
    """The lines of a table (a header, then `rows`; cells already printable) within `width`.

    Too wide: the `cut` column is shortened first (down to 10 cells, with …); then the `give_way`
    columns go, in order, until it fits with `cut` at 10; then `cut` goes; last the `squeeze`
    column is squeezed (tui.format.squeeze_name: a backup keeps its date). Headers are whole words.
    """
    titles = titles or {c: c for c in columns}
    widths = _layout([titles, *rows], columns, width, give_way, cut, squeeze)
    lines = []
    for line in (titles, *rows):
        cells = []
        for c, w in widths.items():
            text = fmt.squeeze_name(line[c], w) if c == squeeze else fmt.truncate(line[c], w)
            pad = " " * (w - fmt.cell_len(text))
            cells.append(pad + text if c in right else text + pad)
        lines.append("  ".join(cells).rstrip())
    return lines


_CUT_FLOOR = 10  # the cut column is never shortened below this: it goes instead


def _layout(
    lines: Sequence[Mapping[str, str]],
    columns: Sequence[str],
    width: int | None,
    give_way: Sequence[str],
    cut: str | None,
    squeeze: str | None,
) -> dict[str, int]:
    """The columns shown and their widths, in display order (see fit_table)."""
    shown = list(columns)

    def measure() -> dict[str, int]:
        return {c: max(fmt.cell_len(line[c]) for line in lines) for c in shown}

    def total(w: dict[str, int]) -> int:
        return sum(w.values()) + 2 * (len(w) - 1)

    def fits_with_cut(w: dict[str, int]) -> bool:
        cut_width = w.get(cut, 0) if cut is not None else 0
        return total(w) - cut_width + min(_CUT_FLOOR, cut_width) <= (width or 0)

    w = measure()
    if width is None or total(w) <= width:
        return w
    for column in give_way:
        if fits_with_cut(w):
            break
        shown.remove(column)
        w = measure()
    if cut in w and fits_with_cut(w):
        w[cut] = min(w[cut], width - (total(w) - w[cut]))
    elif cut in w:
        shown.remove(cut)
        w = measure()
    if squeeze is not None and total(w) > width:
        w[squeeze] = max(24, w[squeeze] - (total(w) - width))
    return w
