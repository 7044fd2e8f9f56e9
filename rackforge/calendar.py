"""Quarters: ``"2027Q1"`` at the edges, :class:`datetime.date` (the quarter's first day) inside.

Shared by the stages that plan over time (sourcing, deploy). A quarter is represented by the date
of its first day; :func:`quarter_index` counts quarters from a start, so arrays indexed by quarter
line up across stages.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

WEEKS_PER_QUARTER = 13.0
HOURS_PER_YEAR = 8760.0
QUARTERS_PER_YEAR = 4

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def parse_quarter(value: object) -> date:
    """``"2027Q1"`` (or ``"2027-Q1"``, or a date) -> the first day of that quarter.

    Raises :class:`ValueError` (turned into an InputError by the loaders) for anything else.
    """
    if isinstance(value, date):
        return quarter_start(value)
    match = _QUARTER.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a quarter (expected e.g. '2027Q1')")
    year, q = int(match.group(1)), int(match.group(2))
    return date(year, 3 * (q - 1) + 1, 1)


def quarter_start(day: date) -> date:
    """First day of the quarter containing `day`."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def format_quarter(day: date) -> str:
    """``date(2027, 1, 1)`` -> ``"2027Q1"``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def add_quarters(day: date, n: int) -> date:
    """The quarter `n` quarters after the one containing `day` (n may be negative)."""
    k = day.year * 4 + (day.month - 1) // 3 + n
    return date(k // 4, 3 * (k % 4) + 1, 1)


def quarter_index(day: date, start: date) -> int:
    """Number of quarters from `start` to `day` (0 when they are in the same quarter)."""
    return (day.year - start.year) * 4 + (day.month - 1) // 3 - (start.month - 1) // 3


def quarter_range(start: date, end: date) -> list[date]:
    """Quarters from `start` to `end`, both included (empty when end is before start)."""
    return [add_quarters(start, k) for k in range(quarter_index(end, start) + 1)]


def quarter_end(day: date) -> date:
    """First day after the quarter containing `day` (exclusive end)."""
    return add_quarters(day, 1)


def hours_between(start: date, end: date) -> float:
    """Hours from the start of day `start` to the start of day `end` [h]."""
    return (end - start).days * 24.0


def step_schedule(points: dict[date, float], quarters: list[date], before: float = 0.0
                  ) -> list[float]:
    """Value in each quarter of a step function given at some quarters, held until the next.

    Quarters before the first point take `before`.
    """
    keys = sorted(points)
    out, value, k = [], before, 0
    for q in quarters:
        while k < len(keys) and keys[k] <= q:
            value, k = points[keys[k]], k + 1
        out.append(value)
    return out


# A pydantic field holding a quarter: accepts "2027Q1" and serializes back to it.
Quarter = Annotated[date, BeforeValidator(parse_quarter), PlainSerializer(format_quarter,
                                                                          return_type=str)]


def quarters_as_text(obj: object) -> object:
    """`obj` with every date inside (dicts, lists, tuples) written as its quarter, for JSON."""
    if isinstance(obj, date):
        return format_quarter(obj)
    if isinstance(obj, dict):
        return {k: quarters_as_text(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [quarters_as_text(v) for v in obj]
    return obj
