"""Which layout families the training model has been validated in (issue 11): a family is the
sharding of the optimizer state (none, optimizer, fsdp) and whether pipeline, context and
expert parallelism are used. The families of the validation rows are data
(``data/validated_regimes.yaml``); a layout outside them is flagged, not hidden."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from rackforge.catalog.models import Frozen
from rackforge.inputs import read_yaml, validate

REGIMES_FILE = Path(__file__).parent / "data" / "validated_regimes.yaml"


class Regime(Frozen):
    """One layout family and the validation rows in it."""

    sharding: Literal["none", "optimizer", "fsdp"]
    pp: bool
    cp: bool
    ep: bool
    rows: int = Field(ge=1)

    @property
    def key(self) -> tuple[str, bool, bool, bool]:
        return (self.sharding, self.pp, self.cp, self.ep)


class RegimeFile(Frozen):
    regimes: list[Regime]


@lru_cache(maxsize=1)
def validated() -> frozenset[tuple[str, bool, bool, bool]]:
    """The families with at least one validation row."""
    data = validate(RegimeFile, read_yaml(REGIMES_FILE), str(REGIMES_FILE))
    return frozenset(r.key for r in data.regimes)


def regime_of(layout: dict[str, Any]) -> tuple[str, bool, bool, bool]:
    """The family of a layout row (``Layouts.row``: ``zero`` as none / optimizer / fsdp)."""
    return (layout["zero"], layout["pp"] > 1, layout["cp"] > 1, layout["ep"] > 1)


def is_validated(layout: dict[str, Any]) -> bool:
    return regime_of(layout) in validated()
