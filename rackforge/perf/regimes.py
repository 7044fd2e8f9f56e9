"""Which layout families the training model has been validated in, and how well (issue 11): a
family is the sharding of the optimizer state (none, optimizer, fsdp) and whether pipeline,
context and expert parallelism are used. The families of the validation rows, with each
family's row count, mean absolute percentage error and worst row, are data
(``data/validated_regimes.yaml``); a layout outside them is flagged, not hidden, and a layout
inside one carries its family's measured error."""

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


class RegimeFile(Frozen):
    regimes: list[Regime]


@lru_cache(maxsize=1)
def validated() -> dict[RegimeKey, Regime]:
    """The families with at least one validation row."""
    data = validate(RegimeFile, read_yaml(REGIMES_FILE), str(REGIMES_FILE))
    return {r.key: r for r in data.regimes}


def regime_of(layout: dict[str, Any]) -> RegimeKey:
    """The family of a layout row (``Layouts.row``: ``zero`` as none / optimizer / fsdp)."""
    return (layout["zero"], layout["pp"] > 1, layout["cp"] > 1, layout["ep"] > 1)


def regime_record(layout: dict[str, Any]) -> Regime | None:
    """The validation record of the layout's family, None where no row has it."""
    return validated().get(regime_of(layout))


def family_errors(rows: Iterable[tuple[dict[str, Any], float]]) -> list[Regime]:
    """Regimes of (layout, relative error) validation rows: per family its row count, MAPE and
    worst absolute error [%], most rows first."""
    errors: dict[RegimeKey, list[float]] = {}
    for layout, error in rows:
        errors.setdefault(regime_of(layout), []).append(abs(error) * 100.0)
    return [Regime(sharding=key[0], pp=key[1], cp=key[2], ep=key[3], rows=len(errs),
                   mape_pct=round(sum(errs) / len(errs), 1), worst_pct=round(max(errs), 1))
            for key, errs in sorted(errors.items(), key=lambda item: -len(item[1]))]
