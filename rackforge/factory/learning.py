"""The learning curve of a line starting a new rack generation (Wright's law).

Unit time falls with cumulative units n as T(n) = T_1 x n^b, b = log2(learning rate) (each
doubling of the units built multiplies the unit time by the rate; T. P. Wright, "Factors
affecting the cost of airplanes", J. Aeronautical Sciences 3(4), 1936). Here the first unit
takes ``first_unit_factor`` times the steady time and the curve stops at the steady time:

    T(n) = T_s x max(1, F x n^b)

:func:`quarterly_time_factor` gives, quarter by quarter from the generation's start, the mean
unit time over the steady time when the line spends a given capacity (in steady units) on it:
the cumulative units solve  integral_0^N max(1, F x^b) dx = capacity so far.
"""

from __future__ import annotations

import math

import numpy as np


def _work(n: float, factor: float, b: float) -> float:
    """Line time of the first `n` units [steady units]: the integral of max(1, F x^b) dx
    from 0 to n, with the integral of F x^b taken from 0 (exact for b > -1)."""
    if factor <= 1.0:
        return n
    knee = factor ** (-1.0 / b)                 # F knee^b = 1: the steady time is reached
    if n <= knee:
        return factor * n ** (1.0 + b) / (1.0 + b)
    return factor * knee ** (1.0 + b) / (1.0 + b) + (n - knee)


def _units(work: float, factor: float, b: float) -> float:
    """Units built with `work` steady units of line time: the inverse of :func:`_work`."""
    if factor <= 1.0:
        return work
    knee = factor ** (-1.0 / b)
    at_knee = _work(knee, factor, b)
    if work <= at_knee:
        return (work * (1.0 + b) / factor) ** (1.0 / (1.0 + b))
    return knee + (work - at_knee)


def quarterly_time_factor(capacity_units: np.ndarray, first_unit_factor: float,
                          rate: float) -> np.ndarray:
    """Mean unit time over the steady time in each quarter [-], for a line that gives the
    generation `capacity_units` steady units of time per quarter from its first quarter on."""
    if not 0.0 < rate <= 1.0:
        raise ValueError("a learning rate lies in (0, 1]")
    b = math.log2(rate)
    if first_unit_factor <= 1.0 or b == 0.0:
        return np.ones(len(capacity_units))
    work = np.cumsum(np.asarray(capacity_units, float))
    units = np.array([_units(w, first_unit_factor, b) for w in work])
    built = np.diff(units, prepend=0.0)
    spent = np.diff(work, prepend=0.0)
    return np.where(built > 0, spent / np.maximum(built, 1e-12), first_unit_factor)
