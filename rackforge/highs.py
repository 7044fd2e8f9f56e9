"""One linear-model builder and one HiGHS [1]_ solve for every model in rackforge (sourcing MIP,
deployment LP), through ``highspy``'s array API.

A :class:`LinearModel` is built a family at a time from NumPy arrays (no per-element Python
objects): each family of columns or rows is a :class:`Block` of consecutive positions, with
optional key arrays (the part, offer, quarter... of each position); row families may also carry
string labels. Row families carry the PyPSA-style name ``"{component}-{family}-{bound}"``; a
labelled row is named ``"{name}[{label}]"``. :meth:`LinearModel.arrays` stacks everything into
the column-wise (CSC) :class:`Arrays` that :func:`solve` hands to HiGHS. Units are the model's:
each builder states what its columns, rows and objective count.

References
----------
.. [1] Huangfu, Q., Hall, J. A. J. "Parallelizing the dual revised simplex method",
   Mathematical Programming Computation 10 (2018) 119-142; HiGHS, https://highs.dev.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal

import highspy
import numpy as np

from rackforge.errors import SolverError

INF = highspy.kHighsInf  # float("inf")
Status = Literal["optimal", "time_limit", "infeasible", "unbounded"]


@dataclass(frozen=True)
class Block:
    """A family of columns or rows: positions [start, stop) and their keys (index arrays, one
    entry per position); a row family may also have labels (one string per row)."""

    name: str
    start: int
    stop: int
    keys: dict[str, np.ndarray] = field(default_factory=dict)
    labels: tuple[str, ...] = ()

    @property
    def index(self) -> np.ndarray:
        return np.arange(self.start, self.stop)

    def names(self) -> list[str]:
        """``"{name}[{label}]"`` of each row (empty for an unlabelled family)."""
        return [f"{self.name}[{label}]" for label in self.labels]


@dataclass(frozen=True)
class Arrays:
    """A model in the column-wise (CSC) form solvers take; minimize ``cost . x``."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray  # int32, len = columns + 1
    index: np.ndarray  # int32 row of each entry
    value: np.ndarray


def _per_position(value: object, n: int) -> np.ndarray:
    """`value` (a scalar or `n` values) as a float array of length `n`."""
    return np.broadcast_to(np.asarray(value, float), (n,)).copy()


@dataclass
class LinearModel:
    """Columns, rows and matrix entries added family by family."""

    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    _cost: list[np.ndarray] = field(default_factory=list)
    _cols: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _rows: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0

    def add_columns(self, name: str, cost: object, bounds: tuple[object, object] = (0.0, INF),
                    integer: bool = False, **keys: np.ndarray) -> np.ndarray:
        """Add ``len(cost)`` columns named `name` with `bounds` (scalars or arrays); returns
        their indices."""
        n = len(cost)
        lower, upper = (_per_position(b, n) for b in bounds)
        self._cost.append(_per_position(cost, n))
        self._cols.append((lower, upper, np.full(n, integer)))
        self.columns[name] = Block(name, self.n_cols, self.n_cols + n, keys)
        self.n_cols += n
        return np.arange(self.n_cols - n, self.n_cols)

    def add_rows(self, name: str, lower: object, upper: object, n: int, *,
                 labels: Sequence[str] = (), **keys: np.ndarray) -> np.ndarray:
        """Add `n` rows ``lower <= a x <= upper`` named `name`; returns their indices. `labels`
        (one per row) are kept on the family's :class:`Block`."""
        self._rows.append((_per_position(lower, n), _per_position(upper, n)))
        if labels and len(labels) != n:
            raise ValueError(f"{name}: {len(labels)} labels for {n} rows")
        self.rows[name] = Block(name, self.n_rows, self.n_rows + n, keys, tuple(labels))
        self.n_rows += n
        return np.arange(self.n_rows - n, self.n_rows)

    def add_terms(self, rows: object, cols: object, values: object) -> None:
        """Add matrix entries ``a[rows, cols] += values`` (`values` a scalar or per entry)."""
        rows, cols = np.asarray(rows, np.int64).ravel(), np.asarray(cols, np.int64).ravel()
        values = np.broadcast_to(np.asarray(values, float).ravel(), rows.shape)
        self._terms.append((rows, cols, values))

    def set_cost(self, cols: np.ndarray, cost: object) -> None:
        """Set the objective coefficient of columns already added (a scalar or per column)."""
        every = np.concatenate(self._cost)
        every[np.asarray(cols, np.int64)] = cost
        self._cost = np.split(every, np.cumsum([len(c) for c in self._cost])[:-1])

    def row_names(self) -> list[str]:
        """``"{name}[{label}]"`` of every row in order; every row family must have labels."""
        names = [name for block in self.rows.values() for name in block.names()]
        if len(names) != self.n_rows:
            raise ValueError("row names need labels on every row family")
        return names

    def arrays(self) -> Arrays:
        """Stack everything into CSC arrays; duplicate entries are summed. The model needs at
        least one column, row and entry."""
        lower, upper, integer = (np.concatenate(p) for p in zip(*self._cols, strict=True))
        row_lower, row_upper = (np.concatenate(p) for p in zip(*self._rows, strict=True))
        r, c, v = (np.concatenate(p) for p in zip(*self._terms, strict=True))
        n_rows = max(self.n_rows, 1)
        uniq, inverse = np.unique(c * n_rows + r, return_inverse=True)
        v = np.bincount(inverse, weights=v, minlength=len(uniq))
        c, r = uniq // n_rows, uniq % n_rows
        start = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=self.n_cols))])
        return Arrays(np.concatenate(self._cost), lower, upper, integer, row_lower, row_upper,
                      start.astype(np.int32), r.astype(np.int32), v)


@dataclass(frozen=True)
class SolveOptions:
    """How :func:`solve` runs HiGHS."""

    mip_gap: float = 0.005  # relative [-]
    time_limit_s: float = 60.0  # [s]; INF for none
    log: bool = False
    start: np.ndarray | None = None  # a feasible solution to start from, one value per column


@dataclass(frozen=True)
class Solution:
    """What the solver found, in the model's units. `gap` is relative [-]; `row_dual` (d
    objective / d row bound, minimization sense) only for continuous models."""

    status: Status
    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    row_activity: np.ndarray | None
    row_dual: np.ndarray | None
    solve_s: float  # [s]

    @property
    def has_solution(self) -> bool:
        return self.x is not None


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """HiGHS prints a banner on file descriptor 1 when its first solver is created; keep
    stdout clean for ``--json`` output."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def solve(arrays: Arrays, options: SolveOptions) -> Solution:
    """Minimize with HiGHS: branch-and-cut when a column is integer, dual simplex otherwise.

    Raises :class:`~rackforge.errors.SolverError` when HiGHS rejects the model or stops for a
    reason other than those of :data:`Status`.
    """
    solution = _run(arrays, options)
    if options.start is not None and solution.has_solution and not _consistent(
            arrays, solution):
        # HiGHS 1.16 can report the improved objective but return the user's start as the
        # column values; solve again without the start rather than trust either.
        solution = _run(arrays, replace(options, start=None))
    return solution


def _run(arrays: Arrays, options: SolveOptions) -> Solution:
    """One HiGHS run of the model."""
    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", options.log)
    h.setOptionValue("mip_rel_gap", options.mip_gap)
    h.setOptionValue("time_limit", float(options.time_limit_s))
    a = arrays
    status = h.passModel(len(a.cost), len(a.row_lower), len(a.value), 1, 1, 0.0,
                         a.cost, a.col_lower, a.col_upper, a.row_lower, a.row_upper,
                         a.start, a.index, a.value, a.integer.astype(np.int32))
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model")
    if options.start is not None:
        h.setSolution(len(options.start), np.arange(len(options.start), dtype=np.int32),
                      np.asarray(options.start, float))
    began = time.perf_counter()
    h.run()
    return _read(h, bool(a.integer.any()), time.perf_counter() - began)


def _consistent(arrays: Arrays, solution: Solution) -> bool:
    """Whether the reported objective is the cost of the returned columns [model units]."""
    cost = float(arrays.cost @ solution.x)
    return abs(cost - solution.objective) <= 1e-7 * max(1.0, abs(cost))


def _status(h: highspy.Highs, has_x: bool) -> Status:
    """HiGHS's model status in our words; raise SolverError for any other."""
    ms = highspy.HighsModelStatus
    model_status = h.getModelStatus()
    if model_status == ms.kOptimal:
        return "optimal"
    if model_status in (ms.kInfeasible, ms.kUnboundedOrInfeasible) and not has_x:
        return "infeasible"
    if model_status == ms.kUnbounded:
        return "unbounded"
    if model_status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt):
        return "time_limit"
    raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(model_status)}")


def _read(h: highspy.Highs, is_mip: bool, seconds: float) -> Solution:
    """The solution of a finished run; `seconds` is how long it ran [s]."""
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # feasible
    status = _status(h, has_x)
    sol = h.getSolution()
    x = np.asarray(sol.col_value) if has_x else None
    objective = info.objective_function_value if has_x else float("nan")
    bound = info.mip_dual_bound if is_mip else objective
    gap = info.mip_gap if is_mip and has_x else 0.0
    duals = np.asarray(sol.row_dual) if (not is_mip and sol.dual_valid) else None
    activity = np.asarray(sol.row_value) if has_x else None
    return Solution(status, x, objective, bound, gap, activity, duals, seconds)
