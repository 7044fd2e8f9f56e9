"""Building blocks of the report: tables, figures, SVG and text, rendered by one template.

Each stage's section (``report/sections.py``) is a title, a summary and a list of blocks. Table
cells keep their raw number in ``data-value`` so a test (or a reader's script) can compare the
page with ``results.json`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from rackforge.units import format_value


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | None = None
    css: str = ""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    kind: str = "table"


@dataclass(frozen=True)
class Figure:
    figure: go.Figure
    caption: str = ""
    kind: str = "figure"

    def json(self) -> str:
        return self.figure.to_json()


@dataclass(frozen=True)
class Svg:
    svg: str
    caption: str = ""
    kind: str = "svg"


@dataclass(frozen=True)
class Row:
    """Blocks side by side (an elevation beside its budget table)."""

    blocks: list[Any]
    kind: str = "row"


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    status: str
    summary: str
    blocks: list[Any] = field(default_factory=list)
    flagged: int = 0          # inputs of this section that are invented example data


def num(value: float | None, unit: str = "", css: str = "") -> Cell:
    """A numeric cell: formatted with its unit, raw value kept."""
    if value is None:
        return Cell("", None, css)
    return Cell(format_value(value, unit), float(value), css)


def txt(text: object, css: str = "") -> Cell:
    return Cell(str(text), None, css)


def table(headers: list[str], rows: list[list[Cell | str | float | None]],
          caption: str = "") -> Table:
    """A table; plain strings become text cells, floats numeric cells without unit."""
    return Table(headers, [[c if isinstance(c, Cell) else
                            num(c) if isinstance(c, float | int) and not isinstance(c, bool)
                            else txt("" if c is None else c) for c in row] for row in rows],
                 caption)
