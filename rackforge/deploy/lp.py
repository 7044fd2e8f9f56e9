"""A minimal linear-program container built from blocks of variables and constraints, solved
with HiGHS through ``highspy``.

Variables and constraints are added a block at a time from NumPy arrays (no per-element Python
objects). Constraint blocks carry the PyPSA-style name ``"{component}-{family}-{bound}"`` and one
label per row (a quarter, or ``site,quarter``); the row name is ``name[label]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from rackforge.errors import SolverError
from rackforge.highs import quiet_stdout

INF = highspy.kHighsInf


@dataclass(frozen=True)
class RowBlock:
    name: str                 # "{component}-{family}-{bound}"
    rows: np.ndarray          # row indices in the model
    labels: tuple[str, ...]
    scale: float              # coefficient that turns one unit of the row into one rack


@dataclass
class Lp:
    """Columns and rows of a minimization problem, added in blocks."""

    cost: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    col_names: list[str] = field(default_factory=list)
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)
    blocks: dict[str, RowBlock] = field(default_factory=dict)
    n_cols: int = 0
    n_rows: int = 0

    def add_vars(self, name: str, labels: list[str], cost: np.ndarray | float = 0.0,
                 upper: np.ndarray | float = INF) -> np.ndarray:
        """Add non-negative variables ``name[label]``; return their column indices."""
        n = len(labels)
        self.cost.append(np.broadcast_to(np.asarray(cost, float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (n,)).copy())
        self.col_names += [f"{name}[{lab}]" for lab in labels]
        idx = np.arange(self.n_cols, self.n_cols + n)
        self.n_cols += n
        return idx

    def add_rows(self, name: str, labels: list[str], coo: tuple, lower: np.ndarray | float,
                 upper: np.ndarray | float, scale: float = 1.0) -> RowBlock:
        """Add rows ``lower <= A x <= upper``; `coo` is (local row, column, value) arrays."""
        n = len(labels)
        r, c, v = (np.asarray(a) for a in coo)
        self.entries.append((r.astype(np.int64) + self.n_rows, c.astype(np.int64),
                             v.astype(float)))
        self.row_lower.append(np.broadcast_to(np.asarray(lower, float), (n,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, float), (n,)).copy())
        block = RowBlock(name, np.arange(self.n_rows, self.n_rows + n), tuple(labels), scale)
        self.blocks[name] = block
        self.n_rows += n
        return block

    def row_names(self) -> list[str]:
        return [f"{b.name}[{lab}]" for b in self.blocks.values() for lab in b.labels]


@dataclass(frozen=True)
class Solution:
    status: str                      # "optimal" or "infeasible"
    objective: float
    x: np.ndarray                    # column values
    row_value: np.ndarray
    row_dual: np.ndarray             # d objective / d rhs (minimization sense)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def _csr(lp: Lp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.concatenate([e[0] for e in lp.entries]) if lp.entries else np.zeros(0, np.int64)
    c = np.concatenate([e[1] for e in lp.entries]) if lp.entries else np.zeros(0, np.int64)
    v = np.concatenate([e[2] for e in lp.entries]) if lp.entries else np.zeros(0)
    order = np.lexsort((c, r))
    start = np.zeros(lp.n_rows + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=lp.n_rows), out=start[1:])
    return start, c[order], v[order]


def solve(lp: Lp) -> Solution:
    """Minimize ``cost . x`` subject to the rows; raise SolverError unless optimal/infeasible."""
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.n_cols, lp.n_rows
    model.col_cost_ = np.concatenate(lp.cost)
    model.col_lower_ = np.zeros(lp.n_cols)
    model.col_upper_ = np.concatenate(lp.upper)
    model.row_lower_ = np.concatenate(lp.row_lower)
    model.row_upper_ = np.concatenate(lp.row_upper)
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = _csr(lp)
    model.col_names_, model.row_names_ = lp.col_names, lp.row_names()
    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(model)
    h.run()
    status = h.getModelStatus()
    if status in (highspy.HighsModelStatus.kInfeasible,
                  highspy.HighsModelStatus.kUnboundedOrInfeasible):
        empty = np.zeros(0)
        return Solution("infeasible", float("nan"), empty, empty, empty)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"HiGHS stopped: {h.modelStatusToString(status)}")
    sol = h.getSolution()
    return Solution("optimal", h.getInfo().objective_function_value, np.array(sol.col_value),
                    np.array(sol.row_value), np.array(sol.row_dual))
