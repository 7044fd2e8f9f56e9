"""The HTML report of a design-space sweep: summary, Pareto front, parallel coordinates, the
best points and the points that did not run.

A sweep writes one row per point to a table (``point``, ``key``, ``status``, ``error``, one
column per swept parameter named by its dotted path, and the headline figures). This module
turns that table into one self-contained page (Jinja2 template, Plotly inlined, works offline).
Any figure column may be missing or all-null; the page then leaves out what needs it and says
so. No NaN or Infinity reaches the page: missing and non-finite numbers show as "-".
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
from plotly.offline import get_plotlyjs

from rackforge.report.blocks import Cell, Table

TEMPLATES = Path(__file__).parent / "templates"
STATUSES = ("ok", "bad input", "failed")
BEST_COUNT = 10
MAX_PROBLEMS = 50
PARETO_BLOCK_ELEMENTS = 1 << 22  # row pairs compared at once by pareto_front (bytes per plane)
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
          "height": 440}

# headline figure column -> (label with unit, how its values are written)
FIGURES: dict[str, tuple[str, str]] = {
    "worst_margin": ("worst margin [% of limit]", "percent"),
    "worst_rule": ("worst rule", "text"),
    "design_passed": ("design passed", "text"),
    "step_s": ("step [s]", "number"),
    "mfu": ("MFU [%]", "percent"),
    "tokens_per_s_per_gpu": ("tokens/s per GPU", "number"),
    "cost_per_gpu_hour_usd": ("cost [USD/GPU-h]", "usd"),
    "landed_cost_usd": ("landed cost [USD]", "usd"),
    "domestic_share": ("domestic share [%]", "percent"),
    "racks_per_week": ("racks/week", "number"),
    "gw_by_end": ("GW by end", "number"),
    "racks_total": ("racks total", "number"),
}
COST_COLUMNS = ("cost_per_gpu_hour_usd", "landed_cost_usd")  # first present one is minimized
PERFORMANCE_COLUMNS = ("tokens_per_s_per_gpu", "mfu")  # first present one is maximized
SHARE_COLUMN = "domestic_share"  # maximized


@dataclass(frozen=True)
class Objective:
    """One axis of the Pareto front: `sense` is +1 to minimize the column, -1 to maximize."""

    name: str
    column: str
    sense: float


# ---------------------------------------------------------------- the Pareto front

def pareto_front(costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `costs` (N, K), every column to minimize
    (negate a column to maximize it); rows with NaN are never on the front. Vectorized.

    Row j dominates row i when it is no worse in every column and better in at least one, so
    duplicate rows never dominate each other: all copies of a front row are on the front.
    Rows are taken in order of their sum (a dominating row has the smaller sum), a block at a
    time, and every row a block dominates is dropped: about (front size x N x K) comparisons,
    N x N x K when every row is on the front."""
    costs = np.asarray(costs, dtype=float)
    if costs.ndim != 2:
        raise ValueError(f"pareto_front wants an (N, K) array, got shape {costs.shape}")
    complete = np.flatnonzero(~np.isnan(costs).any(axis=1))
    with np.errstate(invalid="ignore"):  # inf + -inf: the order is only a speed-up
        order = complete[np.argsort(costs[complete].sum(axis=1), kind="stable")]
    survivors, kept, done = costs[order], np.arange(len(order)), 0
    while done < len(survivors):
        size = max(1, PARETO_BLOCK_ELEMENTS // max(1, len(survivors)))
        stays = ~_dominated(survivors, survivors[done:done + size])
        done = int(stays[:done + size].sum())
        survivors, kept = survivors[stays], kept[stays]
    front = np.zeros(len(costs), dtype=bool)
    front[order[kept]] = True
    return front


def _dominated(rows: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Whether each of `rows` (M, K) is dominated by some row of `by` (N, K)."""
    no_worse = np.ones((len(rows), len(by)), dtype=bool)
    better = np.zeros((len(rows), len(by)), dtype=bool)
    for column in range(rows.shape[1]):  # K is small: (M, N) planes beat an (M, N, K) cube
        mine, theirs = rows[:, column, None], by[None, :, column]
        no_worse &= theirs <= mine
        better |= theirs < mine
    return (no_worse & better).any(axis=1)


# ---------------------------------------------------------------- reading the table

def _values(table: pa.Table, column: str) -> list:
    """The column as Python values, None for null; all None when the column is missing."""
    if column not in table.column_names:
        return [None] * table.num_rows
    return table.column(column).to_pylist()


def _is_numeric(table: pa.Table, column: str) -> bool:
    """Whether the column holds integers or floats (booleans and strings are categories)."""
    if column not in table.column_names:
        return False
    kind = table.schema.field(column).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _floats(table: pa.Table, column: str) -> np.ndarray:
    """The column as float64, NaN where null, missing or not a number."""
    if not _is_numeric(table, column):
        return np.full(table.num_rows, np.nan)
    return np.array([np.nan if v is None else float(v) for v in _values(table, column)])


def _shown_floats(table: pa.Table, column: str) -> np.ndarray:
    """The column as float64 in the unit of its label: fractions written as % times 100."""
    scale = 100.0 if FIGURES.get(column, ("", ""))[1] == "percent" else 1.0
    return scale * _floats(table, column)


def _has_values(table: pa.Table, column: str, rows: np.ndarray) -> bool:
    """Whether the column exists and holds a value in one of `rows` (bool mask): not null,
    and for a number column a finite number."""
    if _is_numeric(table, column):
        return bool(np.isfinite(_floats(table, column)[rows]).any())
    return any(v is not None for v, keep in zip(_values(table, column), rows, strict=True)
               if keep)


def _statuses(table: pa.Table) -> np.ndarray:
    return np.array([s or "" for s in _values(table, "status")], dtype=object)


def _eligible(table: pa.Table) -> np.ndarray:
    """Mask of the points that may be on the front: ok, and design rules passed or not judged."""
    passed = np.array([p is not False for p in _values(table, "design_passed")], dtype=bool)
    return (_statuses(table) == "ok") & passed


def _objectives(table: pa.Table, eligible: np.ndarray) -> list[Objective]:
    """Cost, performance and domestic share, each from its first column with values among
    the eligible points; an objective without one is left out."""
    groups = (("cost", COST_COLUMNS, 1.0), ("performance", PERFORMANCE_COLUMNS, -1.0),
              ("domestic share", (SHARE_COLUMN,), -1.0))
    chosen = []
    for name, columns, sense in groups:
        found = [c for c in columns if _has_values(table, c, eligible)]
        if found:
            chosen.append(Objective(name, found[0], sense))
    return chosen


def _front(table: pa.Table, objectives: list[Objective], eligible: np.ndarray) -> np.ndarray:
    """Mask of the Pareto-front points over `objectives` among the eligible points."""
    front = np.zeros(table.num_rows, dtype=bool)
    if not objectives:
        return front
    costs = np.column_stack([o.sense * _floats(table, o.column) for o in objectives])
    front[np.flatnonzero(eligible)] = pareto_front(costs[eligible])
    return front


# ---------------------------------------------------------------- writing numbers

def _finite(value) -> float | None:
    """`value` as a finite float, else None (strings, booleans, null, NaN, infinities)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.4g}"


def _format(column: str, value) -> str:
    """`value` of `column` for people: "-" for null and non-finite numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    number = _finite(value)
    if number is None:
        return "-" if value is None or isinstance(value, int | float) else str(value)
    style = FIGURES.get(column, ("", "parameter"))[1]
    if isinstance(value, int) and style == "parameter":
        return str(value)
    if style == "percent":
        return f"{number * 100:.1f}%"
    if style == "usd":
        return ("-$" if number < 0 else "$") + _number(abs(number))
    return f"{number:,.6g}" if style == "parameter" else _number(number)


def _cell(column: str, value) -> Cell:
    number = _finite(value)
    return Cell(_format(column, value), number, "num" if number is not None else "")


def _shown_columns(table: pa.Table, parameters: list[str]) -> list[str]:
    """Point, key, the swept parameters and the figures that have a value somewhere."""
    everywhere = np.ones(table.num_rows, dtype=bool)
    figures = [c for c in FIGURES if _has_values(table, c, everywhere)]
    return ["point", "key", *parameters, *figures]


def _points_table(table: pa.Table, rows: list[int], columns: list[str],
                  extra: tuple[str, list[Cell]] | None = None) -> Table:
    """One table row per point index in `rows`, with `columns` (and an `extra` first figure
    column: header and one cell per row)."""
    values = {c: _values(table, c) for c in columns}
    headers = [FIGURES.get(c, (c, ""))[0] for c in columns]
    body = [[_cell(c, values[c][i]) for c in columns] for i in rows]
    if extra:
        headers.insert(2, extra[0])
        body = [[*cells[:2], added, *cells[2:]] for cells, added in zip(body, extra[1],
                                                                         strict=True)]
    return Table(headers, body)


# ---------------------------------------------------------------- the sections

def _summary(table: pa.Table) -> str:
    """Points, how many are ok / bad input / failed, how many pass the design rules."""
    statuses = _statuses(table)
    counts = ", ".join(f"{int((statuses == s).sum()):,} {s}" for s in STATUSES)
    passed = _values(table, "design_passed")
    judged = sum(p is not None for p in passed)
    rules = (f"{sum(p is True for p in passed):,} of {judged:,} judged pass the design rules"
             if judged else "no point was judged against the design rules")
    return f"{table.num_rows:,} points: {counts}; {rules}."


def _front_summary(objectives: list[Objective], front: np.ndarray,
                   eligible: np.ndarray) -> str:
    if not objectives:
        return ("No objective has values among the ok points that pass the design rules "
                "(no cost, performance or domestic-share figure), so there is no front.")
    goals = ", ".join(f"{'minimize' if o.sense > 0 else 'maximize'} {o.name} "
                      f"({FIGURES[o.column][0]})" for o in objectives)
    what = "best point(s)" if len(objectives) == 1 else "Pareto-front points"
    return (f"{int(front.sum()):,} {what} of {int(eligible.sum()):,} ok points that pass the "
            f"design rules; {goals}.")


def _hover(table: pa.Table, parameters: list[str], rows: np.ndarray) -> list[str]:
    """Hover text of each selected point: its number, key and parameter values (escaped)."""
    points, keys = _values(table, "point"), _values(table, "key")
    params = {p: _values(table, p) for p in parameters}
    return ["<br>".join([html.escape(f"point {points[i]} ({keys[i] or '-'})"),
                         *(html.escape(f"{p} = {_format(p, params[p][i])}") for p in params)])
            for i in np.flatnonzero(rows)]


def _plain(values: np.ndarray) -> list[float | None]:
    """Floats as a JSON-safe list: None for NaN and infinities."""
    return [float(v) if math.isfinite(v) else None for v in values]


def _axes(table: pa.Table, objectives: list[Objective]) -> list[tuple[str, np.ndarray]]:
    """(title, values) of the scatter's x and y (and colour when a third objective exists);
    the point number stands in for the x axis when only one objective exists."""
    axes = [(FIGURES[o.column][0], _shown_floats(table, o.column)) for o in objectives]
    if len(axes) == 1:
        axes.insert(0, ("point", _floats(table, "point")))
    return axes


def _scatter(table: pa.Table, parameters: list[str], objectives: list[Objective],
             front: np.ndarray, eligible: np.ndarray) -> go.Figure | None:
    """Cost against performance of the ok points, colour = domestic share; the front is
    drawn with large outlined markers, points that fail the design rules as grey crosses."""
    if not objectives:
        return None
    axes = _axes(table, objectives)
    (x_title, x), (y_title, y) = axes[0], axes[1]
    failing = (_statuses(table) == "ok") & ~eligible
    fig = go.Figure()
    groups = (("fails design rules", failing, {"symbol": "x", "color": "#aaaaaa", "size": 7}),
              ("ok", eligible & ~front, {"size": 8, "opacity": 0.7}),
              ("Pareto front", front, {"size": 13, "line": {"width": 2, "color": "#1f2a36"}}))
    for name, rows, marker in groups:
        if rows.any():
            if len(axes) > 2 and name != "fails design rules":
                marker = {**marker, **_colour(axes[2], rows, name == "ok")}
            fig.add_trace(go.Scatter(x=_plain(x[rows]), y=_plain(y[rows]), mode="markers",
                                     name=name, marker=marker, hoverinfo="text+x+y",
                                     hovertext=_hover(table, parameters, rows)))
    fig.update_layout(title="Pareto front", xaxis_title=x_title, yaxis_title=y_title,
                      legend={"orientation": "h", "y": -0.18}, **LAYOUT)
    return fig


def _colour(axis: tuple[str, np.ndarray], rows: np.ndarray, with_bar: bool) -> dict:
    """Marker colours from the third objective, on one shared scale of all its values."""
    title, values = axis
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return {"color": _plain(values[rows]), "colorscale": "Viridis", "cmin": low,
            "cmax": high if high > low else low + 1, "showscale": with_bar,
            "colorbar": {"title": {"text": title}}}


def _dimension(table: pa.Table, column: str, rows: np.ndarray) -> dict | None:
    """One parallel-coordinates axis over the selected points: numbers as they are, anything
    else as categories (tick values 0, 1, ... labelled with the category); None if empty."""
    label = FIGURES.get(column, (column, ""))[0]
    if not _has_values(table, column, rows):
        return None
    if _is_numeric(table, column):
        return {"label": label, "values": _plain(_shown_floats(table, column)[rows])}
    texts = [_format(column, v) for v, keep in zip(_values(table, column), rows, strict=True)
             if keep]
    categories = sorted(set(texts))
    index = {c: i for i, c in enumerate(categories)}
    return {"label": label, "values": [index[t] for t in texts],
            "tickvals": list(range(len(categories))), "ticktext": categories}


def _parallel(table: pa.Table, parameters: list[str], front: np.ndarray) -> go.Figure | None:
    """Parallel coordinates of the ok points over the parameters and the figures present;
    lines of front points are drawn dark red. None without ok points or axes."""
    ok = _statuses(table) == "ok"
    columns = [*parameters, *(c for c in FIGURES if c not in parameters)]
    dimensions = [d for c in columns if (d := _dimension(table, c, ok)) is not None]
    if not ok.any() or not dimensions:
        return None
    on_front = [1.0 if f else 0.0 for f in front[ok]]
    fig = go.Figure(go.Parcoords(
        dimensions=dimensions,
        line={"color": on_front, "colorscale": [[0, "#9fb3c8"], [1, "#b2182b"]],
              "cmin": 0, "cmax": 1}))
    fig.update_layout(title="Parameters and figures of the ok points (red: Pareto front)",
                      **{**LAYOUT, "margin": {"l": 80, "r": 80, "t": 110, "b": 30}})
    return fig


def _best(table: pa.Table, objectives: list[Objective], shown: list[str]) -> Table | None:
    """The BEST_COUNT ok points of least cost per performance; None without both figures."""
    by_name = {o.name: o.column for o in objectives}
    if "cost" not in by_name or "performance" not in by_name:
        return None
    performance = _floats(table, by_name["performance"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _floats(table, by_name["cost"]) / np.where(performance > 0, performance, np.nan)
    usable = (_statuses(table) == "ok") & np.isfinite(ratio)
    rows = [int(i) for i in np.flatnonzero(usable)[np.argsort(ratio[usable],
                                                               kind="stable")][:BEST_COUNT]]
    header = f"{FIGURES[by_name['cost']][0]} / {FIGURES[by_name['performance']][0]}"
    cells = [Cell(f"{ratio[i]:.4g}", float(ratio[i]), "num") for i in rows]
    return _points_table(table, rows, shown, (header, cells))


def _problems(table: pa.Table) -> tuple[Table, int]:
    """The first MAX_PROBLEMS bad-input and failed points with the first line of their error,
    and how many more there are."""
    statuses = _statuses(table)
    rows = [int(i) for i in np.flatnonzero((statuses == "bad input") | (statuses == "failed"))]
    points, keys, errors = (_values(table, c) for c in ("point", "key", "error"))
    css = {"bad input": "status-bad", "failed": "status-failed"}
    body = [[_cell("point", points[i]), Cell(keys[i] or "-"),
             Cell(statuses[i], css=css[statuses[i]]),
             Cell(((errors[i] or "").strip().splitlines() or ["-"])[0], css="error")]
            for i in rows[:MAX_PROBLEMS]]
    return Table(["point", "key", "status", "error"], body), max(0, len(rows) - MAX_PROBLEMS)


# ---------------------------------------------------------------- the page

@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined)


def _figure_json(fig: go.Figure | None) -> str | None:
    return None if fig is None else fig.to_json()


def sweep_report(table: pa.Table, parameters: list[str], title: str) -> str:
    """A self-contained HTML page (Plotly inlined, works offline)."""
    eligible = _eligible(table)
    objectives = _objectives(table, eligible)
    front = _front(table, objectives, eligible)
    shown = _shown_columns(table, parameters)
    front_rows = [int(i) for i in np.flatnonzero(front)]
    if objectives:
        first = objectives[0].sense * _floats(table, objectives[0].column)[front]
        front_rows = [front_rows[i] for i in np.argsort(first, kind="stable")]
    problems, more_problems = _problems(table)
    return _environment().get_template("sweep.html.j2").render(
        title=title, parameters=parameters, summary=_summary(table),
        front_summary=_front_summary(objectives, front, eligible),
        scatter=_figure_json(_scatter(table, parameters, objectives, front, eligible)),
        front_table=_points_table(table, front_rows, shown),
        parallel=_figure_json(_parallel(table, parameters, front)),
        best=_best(table, objectives, shown), best_count=BEST_COUNT,
        problems=problems, more_problems=more_problems, plotly_js=get_plotlyjs())
