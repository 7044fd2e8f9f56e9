"""Where the performance model has been validated, and how well (issues 11, 12).

Training: a layout family is the sharding of the optimizer state (none, optimizer, fsdp) and
whether pipeline, context and expert parallelism are used. Serving: a group is the model's
architecture (dense or mixture-of-experts) and whether latency limits bind (MLPerf server and
interactive) or not (offline and fixed-length throughput runs). Each family or group of the
validation rows, with its row count, mean absolute percentage error and worst row, is data
(``data/validated_regimes.yaml``); a layout outside them is flagged, not hidden, and an estimate
inside one carries its measured error."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from rackforge.catalog.models import Frozen
from rackforge.inputs import read_yaml, validate

REGIMES_FILE = Path(__file__).parent / "data" / "validated_regimes.yaml"

RegimeKey = tuple[str, bool, bool, bool]


class Regime(Frozen):
    """One layout family and how the model did on the validation rows in it."""

    sharding: Literal["none", "optimizer", "fsdp"]
    pp: bool
    cp: bool
    ep: bool
    rows: int = Field(ge=1)
    mape_pct: float = Field(ge=0, description="mean absolute step-time error of its rows [%]")
    worst_pct: float = Field(ge=0, description="largest absolute error of its rows [%]")

    @property
    def key(self) -> RegimeKey:
        return (self.sharding, self.pp, self.cp, self.ep)


class ServingRegime(Frozen):
    """One serving group and how the model did on the validation rows in it."""

    architecture: Literal["dense", "moe"]
    latency_bound: bool
    rows: int = Field(ge=1)
    mape_pct: float = Field(ge=0, description="mean absolute throughput error of its rows [%]")
    worst_pct: float = Field(ge=0, description="largest absolute error of its rows [%]")


class RegimeFile(Frozen):
    regimes: list[Regime]
    serving: list[ServingRegime]
    # validation rows per accelerator: an estimate on an accelerator with none is unchecked
    training_accelerators: dict[str, int]
    serving_accelerators: dict[str, int]


@lru_cache(maxsize=1)
def _regime_file() -> RegimeFile:
    return validate(RegimeFile, read_yaml(REGIMES_FILE), str(REGIMES_FILE))


def validated() -> dict[RegimeKey, Regime]:
    """The training families with at least one validation row."""
    return {r.key: r for r in _regime_file().regimes}


def serving_record(moe: bool, latency_bound: bool, accelerator: str) -> ServingRegime | None:
    """The validation record of a serving estimate's group, None where no row has it or no
    inference row ran on `accelerator`."""
    if accelerator not in _regime_file().serving_accelerators:
        return None
    wanted = ("moe" if moe else "dense", latency_bound)
    return next((r for r in _regime_file().serving
                 if (r.architecture, r.latency_bound) == wanted), None)


def regime_of(layout: dict[str, Any]) -> RegimeKey:
    """The family of a layout row (``Layouts.row``: ``zero`` as none / optimizer / fsdp)."""
    return (layout["zero"], layout["pp"] > 1, layout["cp"] > 1, layout["ep"] > 1)


def regime_record(layout: dict[str, Any], accelerator: str) -> Regime | None:
    """The validation record of the layout's family, None where no row has it or no training
    row ran on `accelerator` (a family's error says nothing of hardware never checked)."""
    if accelerator not in _regime_file().training_accelerators:
        return None
    return validated().get(regime_of(layout))


def _grouped(rows: Iterable[tuple[Any, float]]) -> list[tuple[Any, dict[str, Any]]]:
    """(key, relative error) rows grouped by key, most rows first: each group's row count,
    MAPE and worst absolute error [%]."""
    errors: dict[Any, list[float]] = {}
    for key, error in rows:
        errors.setdefault(key, []).append(abs(error) * 100.0)
    return [(key, {"rows": len(errs), "mape_pct": round(sum(errs) / len(errs), 1),
                   "worst_pct": round(max(errs), 1)})
            for key, errs in sorted(errors.items(), key=lambda item: -len(item[1]))]


def family_errors(rows: Iterable[tuple[dict[str, Any], float]]) -> list[Regime]:
    """Regimes of (layout, relative error) validation rows: per family its row count, MAPE and
    worst absolute error [%], most rows first."""
    return [Regime(sharding=key[0], pp=key[1], cp=key[2], ep=key[3], **figures)
            for key, figures in _grouped((regime_of(layout), error) for layout, error in rows)]


def serving_errors(rows: Iterable[tuple[bool, bool, float]]) -> list[ServingRegime]:
    """Serving groups of (MoE, latency-bound, relative error) validation rows: per group its
    row count, MAPE and worst absolute error [%], most rows first."""
    return [ServingRegime(architecture="moe" if moe else "dense", latency_bound=bound, **figures)
            for (moe, bound), figures in _grouped(((moe, bound), error)
                                                  for moe, bound, error in rows)]
