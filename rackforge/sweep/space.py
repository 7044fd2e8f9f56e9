"""The space of a sweep: which scenario keys vary, over which values, and how points are drawn.

A space file names scenario keys by key path (``racks[0].cooling.supply_temp_c``,
``cluster.racks``, ``plan.target_w``, ``racks[0].power.busbar`` for a catalog part swap) and
gives each a list of ``values``, a ``range`` (start, stop, step; stop included) or a ``dist``
(uniform, normal, lognormal, triangular). ``mode: grid`` takes every combination of the listed
values and ranges; ``random`` draws ``samples`` points independently; ``latin`` draws a Latin
hypercube of ``samples`` points (each parameter's range cut into ``samples`` equal-probability
strata, one point in each, the strata paired at random) [1]. Values are passed to the scenario
loader as written, so ``"40 degC"`` works where a file would take it.

References
----------
.. [1] McKay, M. D., Beckman, R. J., Conover, W. J. "A comparison of three methods for
   selecting values of input variables in the analysis of output from a computer code",
   Technometrics 21 (2), 1979, 239-245.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Discriminator, Field, FiniteFloat, Tag, field_validator, model_validator

from rackforge.catalog.models import Frozen
from rackforge.errors import InputError

MAX_POINTS = 1_000_000


class Values(Frozen):
    values: list[Any] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _finite(cls, values: list[Any]) -> list[Any]:
        # a NaN or infinite value would reach the scenario and the results table as such
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise ValueError("values must be finite numbers (or text the loader reads)")
        return values


class Span(Frozen):
    start: FiniteFloat
    stop: FiniteFloat
    step: FiniteFloat = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Span:
        if self.stop < self.start:
            raise ValueError("stop is below start")
        if (self.stop - self.start) / self.step > MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS:,} steps")
        return self


class Range(Frozen):
    range: Span


class Dist(Frozen):
    """A continuous distribution: uniform (low, high), normal (mean, sd), lognormal (the mean
    and sd of the log), triangular (low, mode, high)."""

    dist: Literal["uniform", "normal", "lognormal", "triangular"]
    low: FiniteFloat | None = None
    high: FiniteFloat | None = None
    mode: FiniteFloat | None = None
    mean: FiniteFloat | None = None
    sd: FiniteFloat | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _parameters(self) -> Dist:
        needs = {"uniform": ("low", "high"), "normal": ("mean", "sd"),
                 "lognormal": ("mean", "sd"), "triangular": ("low", "mode", "high")}
        missing = [k for k in needs[self.dist] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {', '.join(missing)}")
        if self.dist in ("uniform", "triangular") and not self.low <= (
                self.mode if self.mode is not None else self.low) <= self.high:
            raise ValueError("needs low <= mode <= high")
        return self


def _form(data: Any) -> str | None:
    """Which form a parameter takes, from the key it gives (so that an error is reported
    against that form, not against every form it is not)."""
    forms = {"values": Values, "range": Range, "dist": Dist}
    key = next((k for k in forms if k in data), None) if isinstance(data, dict) else \
        next((k for k, form in forms.items() if isinstance(data, form)), None)
    return None if key is None else f"parameter[{key}]"


Parameter = Annotated[Annotated[Values, Tag("parameter[values]")]
                      | Annotated[Range, Tag("parameter[range]")]
                      | Annotated[Dist, Tag("parameter[dist]")],
                      Discriminator(_form, custom_error_type="parameter_form",
                                    custom_error_message="a parameter takes values, range or "
                                    "dist")]


class SpaceSpec(Frozen):
    """A sweep's space file."""

    mode: Literal["grid", "random", "latin"] = "grid"
    samples: int | None = Field(default=None, ge=1, le=MAX_POINTS,
                                description="points to draw (random and latin)")
    seed: int = Field(default=0, ge=0)
    stages: list[str] | None = Field(default=None, description="stages to run (and what they "
                                     "need); default: every stage")
    parameters: dict[str, Parameter] = Field(min_length=1)

    @model_validator(mode="after")
    def _mode(self) -> SpaceSpec:
        if self.mode != "grid" and self.samples is None:
            raise ValueError(f"mode {self.mode} needs samples")
        if self.mode == "grid":
            drawn = [k for k, p in self.parameters.items() if isinstance(p, Dist)]
            if drawn:
                raise ValueError(f"a grid takes values or ranges, not distributions: {drawn[0]}")
        return self


def choices(parameter: Values | Range) -> list[Any]:
    """The discrete values of a parameter (a range with its stop included)."""
    if isinstance(parameter, Values):
        return list(parameter.values)
    span = parameter.range
    count = math.floor((span.stop - span.start) / span.step + 1e-9) + 1
    return [round(span.start + k * span.step, 12) for k in range(count)]


def points(space: SpaceSpec, file: str | None = None) -> list[dict[str, Any]]:
    """The overrides of every point, in order: key path -> value."""
    names = list(space.parameters)
    if space.mode == "grid":
        lists = [choices(space.parameters[n]) for n in names]
        total = math.prod(len(v) for v in lists)
        if total > MAX_POINTS:
            raise InputError("too many grid points", file, "parameters", total,
                             f"at most {MAX_POINTS:,} (use mode random or latin)")
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*lists)]
    rng = np.random.default_rng(space.seed)
    n = space.samples
    columns = {}
    for name in names:
        u = (rng.permutation(n) + rng.random(n)) / n if space.mode == "latin" else rng.random(n)
        columns[name] = quantile(space.parameters[name], u)
    return [{name: columns[name][i] for name in names} for i in range(n)]


def quantile(parameter: Parameter, u: np.ndarray) -> list[Any]:
    """Values at probabilities `u` in [0, 1) (inverse-CDF sampling)."""
    if isinstance(parameter, Values | Range):
        options = choices(parameter)
        return [options[k] for k in np.minimum((u * len(options)).astype(int), len(options) - 1)]
    d = parameter
    if d.dist == "uniform":
        out = d.low + u * (d.high - d.low)
    elif d.dist == "triangular":
        out = _triangular(u, d.low, d.mode, d.high)
    else:
        z = np.array([NormalDist().inv_cdf(float(p)) for p in np.clip(u, 1e-12, 1 - 1e-12)])
        out = d.mean + d.sd * z
        out = np.exp(out) if d.dist == "lognormal" else out
    return [float(x) for x in out]


def _triangular(u: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """Inverse CDF of the triangular distribution (closed form)."""
    width = high - low
    if width == 0:
        return np.full(len(u), low)
    split = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1 - u) * width * (high - mode))
    return np.where(u < split, left, right)
