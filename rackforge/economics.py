"""Capex, opex and total cost of ownership of a rack; cost and energy per accelerator-hour, token.

Plain functions over plain numbers. The assumptions (energy price, PUE, facility cost per MW,
depreciation life, ...) are the fields of :class:`EconomicsSpec`, the ``economics:`` section of a
scenario; each default is read from ``deploy/data/economics.yaml``, where it cites its source or
says ``example: true``. :func:`provenance` tells, for every assumption, where its value came from.

Cost model (all per rack, per year):

- capex = hardware price + integration and test [USD]; facility capex = cost per MW of critical
  IT load x rack IT power [USD] (Cushman & Wakefield cost guides quote per MW of critical load).
- capital cost per year = capex x capital recovery factor, CRF(r, n) = r / (1 - (1 + r)^-n),
  which is 1/n (straight-line) at r = 0 [1].
- energy per year = IT power x (idle + (1 - idle) x utilization) x PUE x 8760 h [kWh].
- maintenance per year = share x rack capex.
- cost per accelerator-hour = annual cost / (accelerators x 8760 h x utilization).

References
----------
[1] E. L. Grant, W. G. Ireson, Principles of Engineering Economy, capital recovery factor
    (A/P, i, n) = i (1+i)^n / ((1+i)^n - 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field

from rackforge.calendar import HOURS_PER_YEAR
from rackforge.catalog.models import Frozen, Source
from rackforge.inputs import read_yaml, validate

DATA_FILE = Path(__file__).parent / "deploy" / "data" / "economics.yaml"
J_PER_KWH = 3.6e6
TOKENS_PER_MTOK = 1e6


class Assumption(Frozen):
    """A default number about the world and where it comes from."""

    value: float
    source: Source | None = None
    example: bool = False
    approximate: bool = False
    note: str | None = None

    def origin(self) -> str:
        if self.example or self.source is None:
            return "example"
        return ("~" if self.approximate else "") + self.source.cite()


@lru_cache(maxsize=1)
def defaults() -> dict[str, dict[str, Assumption]]:
    """The shipped defaults by section (``economics``, ``compare``) and name."""
    data: dict[str, Any] = read_yaml(DATA_FILE)
    return {section: {name: validate(Assumption, entry, str(DATA_FILE), f"{section}.{name}")
                      for name, entry in items.items()}
            for section, items in data.items()}


def default(section: str, name: str) -> float:
    """Default value of assumption `name` in `section` (see ``deploy/data/economics.yaml``)."""
    return defaults()[section][name].value


def _d(name: str) -> float:
    return default("economics", name)


class EconomicsSpec(Frozen):
    """The ``economics:`` section: assumptions of the cost model. Omitted keys take the defaults."""

    energy_price_usd_per_kwh: float = Field(_d("energy_price_usd_per_kwh"), ge=0, le=10)
    # ^ at most 10 USD/kWh: over 50 times any US industrial tariff
    pue: float = Field(_d("pue"), ge=1, le=3, description="facility power / IT power (old "
                       "enterprise rooms reach about 2.5)")
    facility_capex_usd_per_mw: float = Field(_d("facility_capex_usd_per_mw"), ge=0, le=1e9,
                                             description="per MW of critical IT load")
    facility_life_years: float = Field(_d("facility_life_years"), gt=0, le=100)
    depreciation_years: float = Field(_d("depreciation_years"), gt=0, le=50,
                                      description="life of the IT equipment")
    cost_of_capital_per_year: float = Field(_d("cost_of_capital_per_year"), ge=0, le=1)
    maintenance_fraction_per_year: float = Field(_d("maintenance_fraction_per_year"), ge=0, le=1)
    integration_usd_per_rack: float = Field(_d("integration_usd_per_rack"), ge=0, le=1e8)
    utilization: float = Field(_d("utilization"), gt=0, le=1,
                               description="share of accelerator-hours doing useful work")
    idle_power_fraction: float = Field(_d("idle_power_fraction"), ge=0, le=1)


def provenance(spec: EconomicsSpec) -> list[dict[str, Any]]:
    """Every assumption with its value and origin: ``scenario``, a source citation or example."""
    out = []
    for name in EconomicsSpec.model_fields:
        origin = "scenario" if name in spec.model_fields_set else \
            defaults()["economics"][name].origin()
        out.append({"name": name, "value": getattr(spec, name), "origin": origin})
    return out


@dataclass(frozen=True)
class RackCost:
    """What one rack of a system costs and draws."""

    accelerators: int
    price_usd: float      # hardware: purchase price or BOM cost from sourcing [USD]
    it_power_w: float     # IT power at full load [W]


@dataclass(frozen=True)
class Tco:
    """Total cost of ownership of one rack, per year, and its cost per accelerator-hour."""

    rack_capex_usd: float             # hardware + integration and test [USD]
    facility_capex_usd: float         # share of the facility built for this rack [USD]
    annual_capex_usd: float           # both capexes times their capital recovery factors [USD/a]
    annual_energy_usd: float          # [USD/a]
    annual_maintenance_usd: float     # [USD/a]
    energy_kwh_per_year: float        # facility energy, PUE included [kWh/a]
    accelerator_hours_per_year: float  # useful accelerator-hours [h/a]

    @property
    def annual_cost_usd(self) -> float:
        return self.annual_capex_usd + self.annual_energy_usd + self.annual_maintenance_usd

    @property
    def capex_usd(self) -> float:
        return self.rack_capex_usd + self.facility_capex_usd

    @property
    def cost_per_accelerator_hour_usd(self) -> float:
        return self.annual_cost_usd / self.accelerator_hours_per_year


def capital_recovery_factor(rate_per_year: float, years: float) -> float:
    """Share of a capex paid back each year over `years` at `rate_per_year` [1/a]; [1]."""
    if rate_per_year == 0:
        return 1.0 / years
    return rate_per_year / (1.0 - (1.0 + rate_per_year) ** -years)


def average_load(spec: EconomicsSpec) -> float:
    """Average IT power as a share of full load: idle draw plus the utilized share."""
    return spec.idle_power_fraction + (1.0 - spec.idle_power_fraction) * spec.utilization


def tco(rack: RackCost, spec: EconomicsSpec) -> Tco:
    """Yearly cost of owning and running one rack (see the module docstring for the model)."""
    rack_capex = rack.price_usd + spec.integration_usd_per_rack
    facility_capex = spec.facility_capex_usd_per_mw * rack.it_power_w / 1e6
    r = spec.cost_of_capital_per_year
    annual_capex = (rack_capex * capital_recovery_factor(r, spec.depreciation_years)
                    + facility_capex * capital_recovery_factor(r, spec.facility_life_years))
    energy_kwh = rack.it_power_w * average_load(spec) * spec.pue * HOURS_PER_YEAR / 1e3
    return Tco(
        rack_capex_usd=rack_capex,
        facility_capex_usd=facility_capex,
        annual_capex_usd=annual_capex,
        annual_energy_usd=energy_kwh * spec.energy_price_usd_per_kwh,
        annual_maintenance_usd=spec.maintenance_fraction_per_year * rack_capex,
        energy_kwh_per_year=energy_kwh,
        accelerator_hours_per_year=rack.accelerators * HOURS_PER_YEAR * spec.utilization,
    )


@dataclass(frozen=True)
class PerfPoint:
    """Throughput of one accelerator on one workload, from the performance model."""

    tokens_per_s_per_gpu: float   # trained or served tokens per second per accelerator [1/s]
    power_per_gpu_w: float        # IT power per accelerator while running, system share incl. [W]


@dataclass(frozen=True)
class TokenEconomics:
    """Cost, energy and efficiency of tokens on one system."""

    cost_per_mtok_usd: float         # USD per million tokens, TCO included
    energy_per_mtok_kwh: float       # facility energy per million tokens, PUE included [kWh]
    tokens_per_usd: float
    tokens_per_s_per_kw: float       # per kW of IT power while running [1/(s kW)]


def token_economics(t: Tco, perf: PerfPoint, spec: EconomicsSpec) -> TokenEconomics:
    """Cost and energy per million tokens from a rack's TCO and one accelerator's throughput."""
    tokens_per_hour = perf.tokens_per_s_per_gpu * 3600.0
    cost_per_mtok = t.cost_per_accelerator_hour_usd / tokens_per_hour * TOKENS_PER_MTOK
    energy_j = perf.power_per_gpu_w * spec.pue / perf.tokens_per_s_per_gpu * TOKENS_PER_MTOK
    return TokenEconomics(
        cost_per_mtok_usd=cost_per_mtok,
        energy_per_mtok_kwh=energy_j / J_PER_KWH,
        tokens_per_usd=TOKENS_PER_MTOK / cost_per_mtok,
        tokens_per_s_per_kw=perf.tokens_per_s_per_gpu / perf.power_per_gpu_w * 1e3,
    )
