"""Pluggable solvers for the sourcing model; HiGHS [1]_ through ``highspy`` by default.

A solver takes the model's CSC :class:`~rackforge.highs.Arrays` and returns a
:class:`~rackforge.highs.Solution`. Any object with ``name`` and ``solve(arrays, options)`` will
do; :class:`HighsSolver` is :func:`rackforge.highs.solve`.

References
----------
.. [1] Huangfu, Q., Hall, J. A. J. "Parallelizing the dual revised simplex method",
   Mathematical Programming Computation 10 (2018) 119-142; HiGHS, https://highs.dev.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import numpy as np

from rackforge import highs
from rackforge.highs import Arrays, Solution, SolveOptions


class Solver(Protocol):
    name: str

    def solve(self, arrays: Arrays, options: SolveOptions) -> Solution: ...


class HighsSolver:
    """HiGHS branch-and-cut (MIP) and dual simplex (LP), through highspy's array API."""

    name = "highs"

    def solve(self, arrays: Arrays, options: SolveOptions) -> Solution:
        return highs.solve(arrays, options)


def fixed_relaxation(arrays: Arrays, x: np.ndarray, fix: np.ndarray) -> Arrays:
    """The LP with columns `fix` (a bool mask) fixed at `x` and every other column continuous.

    Used for dual prices of a MIP: the binaries (which orders are made) are fixed at the MIP
    solution and quantities relaxed, so the duals price the constraints around that plan.
    """
    lower, upper = arrays.col_lower.copy(), arrays.col_upper.copy()
    lower[fix] = upper[fix] = np.round(x[fix])
    return replace(arrays, col_lower=lower, col_upper=upper,
                   integer=np.zeros_like(arrays.integer))
