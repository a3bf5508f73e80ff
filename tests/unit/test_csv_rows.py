"""The archive's row counter, against Python's CSV parser."""

from __future__ import annotations

import io


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
