"""A figure's budget as the figure states it; read by the run's verdicts and by the plot, so
neither imports the other."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A budget as each figure states it: "≤ 1 s", "< 150 MB", "≤ 50 ms", or a ratio to the baseline
# ("≤ 1.5×"). verdict() and the plot both read it from there: the figure's text is the one place.
_BUDGET = re.compile(r"([≤<])\s*([\d.]+)\s*(ms|s|MB|×)")


@dataclass(frozen=True)
class Budget:
    limit: float  # in the figure's own unit (seconds, MB), or a ratio to the baseline
    ratio: bool
    strict: bool  # "<" rather than "≤"

    @classmethod
    def of(cls, text: str) -> Budget | None:
        match = _BUDGET.search(text or "")
        if match is None:
            return None
        op, value, unit = match.group(1), float(match.group(2)), match.group(3)
        return cls(value / 1000 if unit == "ms" else value, unit == "×", op == "<")

    def holds(self, measured: float) -> bool:
        return measured < self.limit if self.strict else measured <= self.limit
