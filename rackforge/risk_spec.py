"""Scenario schema of the ``risk:`` section: the uncertain inputs of the Monte Carlo risk model of
the deployment ramp (:mod:`rackforge.sweep.risk`) and how many samples to draw.

Each uncertain input is optional: omitted, it takes the default distribution read from
``sweep/data/risk_defaults.yaml``, where every default cites its source or says it is an
assumption and why; ``null`` switches the input off (no uncertainty). :func:`provenance` tells,
for every setting, where its value came from.

Example::

    risk:
      samples: 500
      lead_time_slip_weeks: {low: 0, mode: 4, high: 26}     # every supplier, independently
      supplier_failure: {probability: 0.1, duration_quarters: 2}
      suppliers:                                            # per-supplier distributions
        formosa-ems: {failure: {probability: 0.2, duration_quarters: 3}}
      site_power_slip_quarters: {values: [0, 1, 2], probabilities: [0.5, 0.3, 0.2]}
      sites: {wy-1: {values: [1, 2, 4], probabilities: [0.4, 0.4, 0.2]}}
      alternatives:                                         # variants, as scenario key paths
        third-line-early: {"plan.factory.lines": {2026Q3: 1, 2027Q3: 2, 2028Q1: 3}}
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from rackforge.catalog.models import Frozen, Source
from rackforge.inputs import read_yaml, validate
from rackforge.units import Fraction

DATA_FILE = Path(__file__).parent / "sweep" / "data" / "risk_defaults.yaml"


class RiskDefault(Frozen):
    """A default of the risk model and where it comes from: a source, or an assumption and
    the reason for it."""

    value: Any
    source: Source | None = None
    assumption: bool = False
    reason: str | None = Field(default=None, min_length=10)

    @model_validator(mode="after")
    def _origin(self) -> RiskDefault:
        if (self.source is None) == (not self.assumption):
            raise ValueError("give a source, or assumption: true with a reason")
        if self.assumption and not self.reason:
            raise ValueError("an assumption needs its reason")
        return self

    def origin(self) -> str:
        return f"assumption: {self.reason}" if self.source is None else self.source.cite()


@lru_cache(maxsize=1)
def defaults() -> dict[str, RiskDefault]:
    """The shipped defaults by name (see ``sweep/data/risk_defaults.yaml``)."""
    data: dict[str, Any] = read_yaml(DATA_FILE)
    return {name: validate(RiskDefault, entry, str(DATA_FILE), name)
            for name, entry in data.items()}


def default(name: str) -> Any:
    """The default value of setting `name`."""
    return defaults()[name].value


class Triangular(Frozen):
    """A triangular distribution by its minimum, most likely value and maximum, in the unit the
    field holding it names."""

    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("a triangular distribution needs low <= mode <= high")
        return self


# Ten years, beyond any plan's horizon: the bound of a drawn delay and of the simulated line
# weeks (a slip past it would not change the answer, and a date past the calendar's range
# could not be formed).
TEN_YEARS_WEEKS = 520.0
TEN_YEARS_QUARTERS = 40


class Discrete(Frozen):
    """Whole numbers of quarters drawn with given probabilities [-]."""

    values: list[Annotated[int, Field(ge=0, le=TEN_YEARS_QUARTERS)]] = Field(min_length=1)
    probabilities: list[Annotated[float, Field(ge=0, le=1)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _matched(self) -> Discrete:
        if len(self.values) != len(self.probabilities):
            raise ValueError("give one probability per value")
        if abs(sum(self.probabilities) - 1.0) > 1e-6:
            raise ValueError("the probabilities must add up to 1")
        return self


class SupplierFailure(Frozen):
    """A supplier that fails (at most once over the sourcing horizon, at a quarter drawn
    uniformly over it) delivers nothing for `duration_quarters` quarters."""

    probability: Fraction = Field(ge=0, le=1, description="of failing over the horizon [-]")
    duration_quarters: int = Field(ge=1, description="quarters without deliveries")


class SupplierRisk(Frozen):
    """One supplier's own distributions; omitted ones take the section's."""

    lead_time_slip_weeks: Triangular | None = None
    failure: SupplierFailure | None = None


class RiskSpec(Frozen):
    """The ``risk:`` section (see the module docstring). Omitted keys take the defaults."""

    samples: int = Field(default("samples"), ge=2, le=1_000_000,
                         description="Monte Carlo samples")
    seed: int = Field(default("seed"), ge=0)
    lead_time_slip_weeks: Triangular | None = Field(
        Triangular.model_validate(default("lead_time_slip_weeks")),
        description="added to every lead time of a supplier, drawn per supplier [weeks]")
    supplier_failure: SupplierFailure | None = Field(
        SupplierFailure.model_validate(default("supplier_failure")))
    suppliers: dict[str, SupplierRisk] = Field(default_factory=dict,
                                               description="by supplier name")
    line_yield_factor: Triangular | None = Field(
        Triangular.model_validate(default("line_yield_factor")),
        description="multiplies each testing station's first-pass yield, capped at 1 [-]")
    line_mtbf_factor: Triangular | None = Field(
        Triangular.model_validate(default("line_mtbf_factor")),
        description="multiplies each station's MTBF [-]")
    site_power_slip_quarters: Discrete | None = Field(
        Discrete.model_validate(default("site_power_slip_quarters")),
        description="each site's power schedule comes this much later, drawn per site "
                    "[quarters]")
    sites: dict[str, Discrete] = Field(default_factory=dict, description="by plan site name "
                                       "[quarters]")
    line_replications: int = Field(default("line_replications"), ge=2, le=10_000,
                                   description="line simulation replications per sample")
    line_weeks: float = Field(default("line_weeks"), gt=0, le=TEN_YEARS_WEEKS,
                              description="simulated weeks per replication [weeks]")
    alternatives: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="named variants: key-path overrides of the scenario "
        "file, evaluated with the same random numbers")

    @model_validator(mode="after")
    def _positive_factors(self) -> RiskSpec:
        for name in ("line_yield_factor", "line_mtbf_factor"):
            factor = getattr(self, name)
            if factor is not None and factor.low <= 0:
                raise ValueError(f"{name}: a factor needs low > 0")
        slips = {"lead_time_slip_weeks": self.lead_time_slip_weeks} | {
            f"suppliers.{name}.lead_time_slip_weeks": risk.lead_time_slip_weeks
            for name, risk in self.suppliers.items()}
        for name, slip in slips.items():
            if slip is not None and slip.high > TEN_YEARS_WEEKS:
                raise ValueError(f"{name}: a slip needs high <= {TEN_YEARS_WEEKS:g} weeks "
                                 "(ten years)")
        return self


def provenance(spec: RiskSpec) -> list[dict[str, Any]]:
    """Every setting with a default: its value and origin, ``scenario`` or the default's."""
    out = []
    for name, entry in defaults().items():
        value = getattr(spec, name)
        origin = "scenario" if name in spec.model_fields_set else entry.origin()
        out.append({"name": name, "value": value.model_dump() if isinstance(value, Frozen)
                    else value, "origin": origin})
    return out
