"""The capex data file (``deploy/data/capex.yaml``) as validated models: each item's rate with
its basis and sources, the carrying-cost rates, the public all-in estimates per GW and their
envelope. Read once (:func:`capex_data`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from rackforge.catalog.models import Frozen
from rackforge.economics import CAPEX_FILE
from rackforge.inputs import read_yaml, validate

Basis = Literal["per_mw_critical", "per_gpu", "per_rack", "per_acre", "fraction_of_it"]


class CapexSource(Frozen):
    """A published source of a capex figure (some web pages carry no year)."""

    title: str = Field(min_length=3)
    publisher: str = Field(min_length=2)
    year: int | None = Field(default=None, ge=1990, le=2030)
    url: str | None = None
    note: str | None = None

    def cite(self) -> str:
        return f"{self.title}, {self.publisher}" + (f", {self.year}" if self.year else "")


class Cited(Frozen):
    """A figure's provenance: sources, or ``assumption: true`` with a reason, or example data;
    ``approximate`` marks figures rounded, read from charts or derived by arithmetic."""

    source: tuple[CapexSource, ...] = ()
    approximate: bool = False
    assumption: bool = False
    example: bool = False
    reason: str | None = None
    note: str | None = None
    notes: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _cited(self) -> Cited:
        if not (self.source or self.assumption and self.reason or self.example):
            raise ValueError("a figure cites a source, says assumption: true with a reason, "
                             "or says example: true")
        return self

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f for f in ("example", "assumption", "approximate") if getattr(self, f))

    def origin(self) -> str:
        """The sources, cited; else ``assumption: reason`` or ``example``."""
        if self.source:
            return "; ".join(s.cite() for s in self.source)
        return f"assumption: {self.reason}" if self.assumption else "example"


class Figure(Cited):
    """One number with its provenance (a rate [1/a], or a figure an item is checked against)."""

    value: float


class CapexItem(Cited):
    """One capex item: what it scales with (`basis`) and its value, the unit in the key."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    basis: Basis
    usd_per_mw: float | None = Field(default=None, ge=0)
    acres_per_mw: float | None = Field(default=None, ge=0)
    usd_per_gpu: float | None = Field(default=None, ge=0)
    usd_per_rack: float | None = Field(default=None, ge=0)
    usd_per_acre: float | None = Field(default=None, ge=0)
    fraction_of_it: float | None = Field(default=None, ge=0, le=1)
    inputs: dict[str, Figure] = Field(default_factory=dict)   # figures to check it against

    @model_validator(mode="after")
    def _has_value(self) -> CapexItem:
        keys = {"per_mw_critical": ("usd_per_mw", "acres_per_mw"), "per_gpu": ("usd_per_gpu",),
                "per_rack": ("usd_per_rack",), "per_acre": ("usd_per_acre",),
                "fraction_of_it": ("fraction_of_it",)}[self.basis]
        if all(getattr(self, k) is None for k in keys):
            raise ValueError(f"basis {self.basis} needs {' or '.join(keys)}")
        return self


class CarryingCost(Frozen):
    """Yearly cost of holding racks and parts, as a share of their value [1/a]."""

    cost_of_capital_per_year: Figure
    storage_insurance_handling_per_year: Figure
    obsolescence_per_year: Figure
    total_per_year: Figure

    @model_validator(mode="after")
    def _sums(self) -> CarryingCost:
        parts = sum(getattr(self, k).value for k in ("cost_of_capital_per_year",
                    "storage_insurance_handling_per_year", "obsolescence_per_year"))
        if abs(parts - self.total_per_year.value) > 1e-9:
            raise ValueError(f"total_per_year is not the sum of its components, {parts:g}")
        return self


class Reference(Cited):
    """A public all-in estimate; the fields this module reads are typed, others kept."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    id: str
    usd_per_gw: float | None = None
    usd_per_gw_low: float | None = None
    usd_per_gw_high: float | None = None
    usd_per_gw_by_platform: dict[str, float] = Field(default_factory=dict)
    all_in_usd_per_mw: float | None = None
    non_it_share: float | None = Field(default=None, ge=0, le=1)

    def points(self) -> list[tuple[str, float, float]]:
        """(label, low, high) all-in cost per facility GW this estimate gives [USD/GW]."""
        if self.usd_per_gw_low is not None and self.usd_per_gw_high is not None:
            return [(self.id, self.usd_per_gw_low, self.usd_per_gw_high)]
        one = self.usd_per_gw if self.all_in_usd_per_mw is None else self.all_in_usd_per_mw * 1e3
        if one is not None:
            return [(self.id, one, one)]
        return [(f"{self.id} {k}", v, v) for k, v in self.usd_per_gw_by_platform.items()]


class Envelope(Frozen):
    """The range the tool's all-in cost per facility GW and its non-IT share should lie in."""

    usd_per_gw_low: float = Field(gt=0)
    usd_per_gw_high: float = Field(gt=0)
    non_it_share_low: float = Field(ge=0, le=1)
    non_it_share_high: float = Field(ge=0, le=1)
    approximate: bool = False
    note: str | None = None


class CapexData(Frozen):
    """``deploy/data/capex.yaml``."""

    items: tuple[CapexItem, ...]
    carrying_cost: CarryingCost
    reference: tuple[Reference, ...]
    check: Envelope

    def item(self, item_id: str) -> CapexItem:
        return next(i for i in self.items if i.id == item_id)


@lru_cache(maxsize=2)
def capex_data(path: Path = CAPEX_FILE) -> CapexData:
    """The shipped capex items, carrying-cost rates, public estimates and their envelope."""
    return validate(CapexData, read_yaml(path), str(path))
