"""Capex, opex and total cost of ownership of a rack; cost and energy per accelerator-hour, token.

Plain functions over plain numbers. The assumptions (energy price, PUE, facility cost per MW,
depreciation life, ...) are the fields of :class:`EconomicsSpec`, the ``economics:`` section of a
scenario; each default is read from ``deploy/data/economics.yaml``, where it cites its source or
says ``example: true``. :func:`provenance` tells, for every assumption, where its value came from.
The facility cost per MW follows the facility's tier and cooling (``deploy/data/capex.yaml``,
items ``facility-tier{3,4}-{air,liquid}``) unless the scenario states it.

Cost model (all per rack, per year):

- rack capex = hardware price + integration and test [USD]; network capex = (scale-out +
  front-end network cost per GPU) x accelerators; storage capex = storage cost per GPU x
  accelerators [USD] (Bernstein's shares of a gigawatt per GPU, see economics.yaml).
- facility capex = facility cost per MW of critical IT load (by tier and cooling) x rack IT
  power; site capex = (grid interconnect per MW + land acres per MW x price per acre) x rack IT
  power [USD] (Cushman & Wakefield cost guides quote per MW of critical load).
- capital cost per year = IT capex (rack + network + storage) x CRF(r, IT life) + (facility +
  site capex) x CRF(r, facility life); CRF(r, n) = r / (1 - (1 + r)^-n), which is 1/n
  (straight-line) at r = 0 [1].
- energy per year = IT power x (idle + (1 - idle) x utilization) x PUE x 8760 h [kWh].
- maintenance per year = share x IT capex.
- cost per accelerator-hour = annual cost / (accelerators x 8760 h x utilization).

References
----------
[1] E. L. Grant, W. G. Ireson, Principles of Engineering Economy, capital recovery factor
    (A/P, i, n) = i (1+i)^n / ((1+i)^n - 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from rackforge.calendar import HOURS_PER_YEAR
from rackforge.catalog.models import Frozen, Source
from rackforge.inputs import read_yaml, validate

DATA_FILE = Path(__file__).parent / "deploy" / "data" / "economics.yaml"
CAPEX_FILE = Path(__file__).parent / "deploy" / "data" / "capex.yaml"
CHOICES = ("facility_tier", "cooling")   # fields that choose, not numbers about the world
DEFAULT_FACILITY = (3, "liquid")         # the tier and cooling of economics.yaml's facility cost
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


@lru_cache(maxsize=1)
def facility_table() -> dict[tuple[int, str], float]:
    """Facility shell and MEP cost per MW of critical IT load by (tier, cooling) [USD/MW], the
    ``facility-tier{3,4}-{air,liquid}`` items of ``deploy/data/capex.yaml`` (their sources and
    assumptions are there; :mod:`rackforge.deploy.program_cost` reads the whole file)."""
    out = {}
    for item in read_yaml(CAPEX_FILE)["items"]:
        found = re.fullmatch(r"facility-tier([34])-(air|liquid)", str(item.get("id")))
        if found:
            out[(int(found[1]), found[2])] = float(item["usd_per_mw"])
    return out


def facility_item(tier: int, cooling: str) -> str:
    """Id of the capex.yaml item of a facility of `tier` and `cooling`."""
    return f"facility-tier{tier}-{cooling}"


class EconomicsSpec(Frozen):
    """The ``economics:`` section: assumptions of the cost model. Omitted keys take the defaults."""

    energy_price_usd_per_kwh: float = Field(_d("energy_price_usd_per_kwh"), ge=0, le=10)
    # ^ at most 10 USD/kWh: over 50 times any US industrial tariff
    pue: float = Field(_d("pue"), ge=1, le=3, description="facility power / IT power (old "
                       "enterprise rooms reach about 2.5)")
    facility_capex_usd_per_mw: float = Field(_d("facility_capex_usd_per_mw"), ge=0, le=1e9,
                                             description="per MW of critical IT load; "
                                             "default: by facility_tier and cooling")
    facility_tier: Literal[3, 4] = Field(DEFAULT_FACILITY[0], description="Uptime tier the "
                                         "facility is built to: 3 concurrently maintainable, "
                                         "4 fault tolerant")
    cooling: Literal["liquid", "air"] = Field(DEFAULT_FACILITY[1], description="how the halls "
                                              "cool the racks (liquid: direct-to-chip AI halls)")
    grid_interconnect_usd_per_mw: float = Field(_d("grid_interconnect_usd_per_mw"), ge=0,
                                                le=1e9, description="substation and tie line, "
                                                "per MW of critical IT load")
    land_usd_per_acre: float = Field(_d("land_usd_per_acre"), ge=0, le=1e9)
    land_acres_per_mw: float = Field(_d("land_acres_per_mw"), ge=0, le=1e3,
                                     description="campus land per MW of critical IT load")
    scaleout_network_usd_per_gpu: float = Field(_d("scaleout_network_usd_per_gpu"), ge=0,
                                                le=1e7, description="back-end fabric per "
                                                "accelerator")
    frontend_network_usd_per_gpu: float = Field(_d("frontend_network_usd_per_gpu"), ge=0,
                                                le=1e7, description="front-end, storage and "
                                                "management networks per accelerator")
    storage_usd_per_gpu: float = Field(_d("storage_usd_per_gpu"), ge=0, le=1e7,
                                       description="shared storage per accelerator")
    facility_life_years: float = Field(_d("facility_life_years"), gt=0, le=100)
    depreciation_years: float = Field(_d("depreciation_years"), gt=0, le=50,
                                      description="life of the IT equipment")
    cost_of_capital_per_year: float = Field(_d("cost_of_capital_per_year"), ge=0, le=1)
    maintenance_fraction_per_year: float = Field(_d("maintenance_fraction_per_year"), ge=0, le=1)
    integration_usd_per_rack: float = Field(_d("integration_usd_per_rack"), ge=0, le=1e8)
    utilization: float = Field(_d("utilization"), gt=0, le=1,
                               description="share of accelerator-hours doing useful work")
    idle_power_fraction: float = Field(_d("idle_power_fraction"), ge=0, le=1)

    @model_validator(mode="after")
    def _facility_by_tier_and_cooling(self) -> EconomicsSpec:
        """Unless stated, the facility cost per MW is capex.yaml's for the tier and cooling
        (the yaml default is that of tier 3, liquid). Set on the frozen model as it is built;
        ``model_copy(update=...)`` does not re-derive it."""
        if "facility_capex_usd_per_mw" not in self.model_fields_set:
            value = facility_table()[(self.facility_tier, self.cooling)]
            object.__setattr__(self, "facility_capex_usd_per_mw", value)
        return self

    @property
    def network_usd_per_gpu(self) -> float:
        """Scale-out and front-end network per accelerator [USD]."""
        return self.scaleout_network_usd_per_gpu + self.frontend_network_usd_per_gpu

    @property
    def site_capex_usd_per_mw(self) -> float:
        """Grid interconnect and land per MW of critical IT load [USD/MW]."""
        return self.grid_interconnect_usd_per_mw + self.land_acres_per_mw * self.land_usd_per_acre


def provenance(spec: EconomicsSpec) -> list[dict[str, Any]]:
    """Every numeric assumption with its value and origin: ``scenario``, a source citation or
    example. The choices (:data:`CHOICES`: tier, cooling) are not listed; the facility cost per
    MW they select says which capex.yaml item it is when it is not the yaml default's."""
    out = []
    for name in EconomicsSpec.model_fields:
        if name in CHOICES:
            continue
        origin = "scenario" if name in spec.model_fields_set else \
            defaults()["economics"][name].origin()
        if name == "facility_capex_usd_per_mw" and origin != "scenario" and \
                (spec.facility_tier, spec.cooling) != DEFAULT_FACILITY:
            origin = (f"deploy/data/capex.yaml {facility_item(spec.facility_tier, spec.cooling)}"
                      " (assumption)" if spec.facility_tier == 4 else
                      f"~{origin.lstrip('~')} ({facility_item(spec.facility_tier, spec.cooling)})")
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
    facility_capex_usd: float         # share of the facility (shell, MEP) built for it [USD]
    annual_capex_usd: float           # every capex times its capital recovery factor [USD/a]
    annual_energy_usd: float          # [USD/a]
    annual_maintenance_usd: float     # [USD/a]
    energy_kwh_per_year: float        # facility energy, PUE included [kWh/a]
    accelerator_hours_per_year: float  # useful accelerator-hours [h/a]
    network_capex_usd: float = 0.0    # its share of the scale-out and front-end networks [USD]
    storage_capex_usd: float = 0.0    # its share of the shared storage [USD]
    site_capex_usd: float = 0.0       # its share of the grid interconnect and land [USD]

    @property
    def annual_cost_usd(self) -> float:
        return self.annual_capex_usd + self.annual_energy_usd + self.annual_maintenance_usd

    @property
    def it_capex_usd(self) -> float:
        """Rack, network and storage: the equipment depreciated over the IT life [USD]."""
        return self.rack_capex_usd + self.network_capex_usd + self.storage_capex_usd

    @property
    def capex_usd(self) -> float:
        return self.it_capex_usd + self.facility_capex_usd + self.site_capex_usd

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
    network = spec.network_usd_per_gpu * rack.accelerators
    storage = spec.storage_usd_per_gpu * rack.accelerators
    it_mw = rack.it_power_w / 1e6
    facility = spec.facility_capex_usd_per_mw * it_mw
    site = spec.site_capex_usd_per_mw * it_mw
    r = spec.cost_of_capital_per_year
    it_capex = rack_capex + network + storage
    annual_capex = (it_capex * capital_recovery_factor(r, spec.depreciation_years)
                    + (facility + site) * capital_recovery_factor(r, spec.facility_life_years))
    energy_kwh = rack.it_power_w * average_load(spec) * spec.pue * HOURS_PER_YEAR / 1e3
    return Tco(
        rack_capex_usd=rack_capex,
        facility_capex_usd=facility,
        annual_capex_usd=annual_capex,
        annual_energy_usd=energy_kwh * spec.energy_price_usd_per_kwh,
        annual_maintenance_usd=spec.maintenance_fraction_per_year * it_capex,
        energy_kwh_per_year=energy_kwh,
        accelerator_hours_per_year=rack.accelerators * HOURS_PER_YEAR * spec.utilization,
        network_capex_usd=network,
        storage_capex_usd=storage,
        site_capex_usd=site,
    )


@dataclass(frozen=True)
class PerfPoint:
    """Throughput of one accelerator on one workload, from the performance model."""

    tokens_per_s_per_gpu: float   # trained or served tokens per second per accelerator [1/s]
    power_per_gpu_w: float        # IT power per accelerator while running, system share incl. [W]
    goodput: float = 1.0          # useful share of wall time (training: failures, checkpoints,
                                  # restarts) [-]
    # serving: the throughput-interactivity front, (tokens/s per user, tokens/s per GPU) pairs,
    # fastest per user first; () for training or a rate stated in the scenario
    curve: tuple[tuple[float, float], ...] = ()
    # the model's mean error on published runs of the estimate's kind [%] (its training layout
    # family or serving group, rackforge.perf.regimes); None for a rate stated in the scenario
    # or a kind no published run checks
    model_error_pct: float | None = None

    @property
    def useful_tokens_per_s_per_gpu(self) -> float:
        """Tokens per second of wall time, goodput included [1/s]."""
        return self.tokens_per_s_per_gpu * self.goodput


@dataclass(frozen=True)
class TokenEconomics:
    """Cost, energy and efficiency of tokens on one system."""

    cost_per_mtok_usd: float         # USD per million tokens, TCO included
    energy_per_mtok_kwh: float       # facility energy per million tokens, PUE included [kWh]
    tokens_per_usd: float
    tokens_per_s_per_kw: float       # per kW of IT power while running [1/(s kW)]


def token_economics(t: Tco, perf: PerfPoint, spec: EconomicsSpec) -> TokenEconomics:
    """Cost and energy per million tokens from a rack's TCO and one accelerator's throughput
    over wall time (goodput included: the time lost to failures is paid for and powered)."""
    rate = perf.useful_tokens_per_s_per_gpu
    cost_per_mtok = t.cost_per_accelerator_hour_usd / (rate * 3600.0) * TOKENS_PER_MTOK
    energy_j = perf.power_per_gpu_w * spec.pue / rate * TOKENS_PER_MTOK
    return TokenEconomics(
        cost_per_mtok_usd=cost_per_mtok,
        energy_per_mtok_kwh=energy_j / J_PER_KWH,
        tokens_per_usd=TOKENS_PER_MTOK / cost_per_mtok,
        tokens_per_s_per_kw=rate / perf.power_per_gpu_w * 1e3,
    )
