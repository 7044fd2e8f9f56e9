"""Numbers the ramp LP is built from: arrays by quarter, part and site, in base units.

:func:`plan_inputs` turns a scenario's ``plan:`` section and its demand
(:mod:`rackforge.deploy.demand`) into :class:`PlanInputs`. Other stages' results come in as
plain numbers (the line's racks per week, :class:`PartLimit` for what suppliers can deliver),
so the LP never re-runs those stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rackforge.calendar import (
    WEEKS_PER_QUARTER,
    add_quarters,
    format_quarter,
    quarter_index,
    step_schedule,
)
from rackforge.deploy.demand import Demand, DeployedRack
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec, tco
from rackforge.factory.learning import quarterly_time_factor


@dataclass(frozen=True)
class ChainLimit:
    """One power-chain item at one site: the facility power its units delivered and installed
    carry, by the quarter racks shipped in each plan quarter are energized [W]."""

    site: int                   # index into PlanInputs.sites
    item: str                   # power_chain item id
    capacity_w: np.ndarray      # (T,) [W]
    ready_quarters: int         # quarters from order to carrying load (lead + install)


@dataclass(frozen=True)
class PlanInputs:
    """The ramp problem in numbers: the demand (its racks, PUEs, lag, target and power wanted)
    and the limits. Arrays are indexed [generation, part or site, quarter]."""

    demand: Demand
    factory_racks: np.ndarray        # (T,) base-line racks the factory can complete per quarter
    parts: tuple[str, ...] = ()
    units_per_rack: np.ndarray = field(default_factory=lambda: np.zeros(0))   # (P,)
    supply_cum: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (P, T) units
    sites: tuple[str, ...] = ()
    site_power_w: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, T)
    # ^ facility power of each site in the quarter racks shipped in t are energized (t + lag)
    site_power_now_w: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, T)
    # ^ facility power of each site in quarter t itself
    objective: str = "max-capacity"
    economics: EconomicsSpec = field(default_factory=EconomicsSpec)
    part_use: np.ndarray | None = None     # (P, G) 1 where generation g uses part p; None: all
    line_time: np.ndarray | None = None    # (G, T) line time of a rack over a base-line rack
    changeover_racks: np.ndarray | None = None  # (T,) base-line racks lost to changeovers
    chain: tuple[ChainLimit, ...] = ()
    crews: np.ndarray | None = None        # (S, T) crews at each site, NaN where none stated
    crew_rate: np.ndarray | None = None    # (G,) racks one crew energizes a quarter
    merit: np.ndarray | None = None        # (G,) useful work per cost, 1 for the best
    shares: np.ndarray | None = None       # (G, T) fixed share of builds (mix: fixed)

    @property
    def quarters(self) -> tuple[date, ...]:
        return self.demand.quarters

    @property
    def racks(self) -> tuple[DeployedRack, ...]:
        return self.demand.racks

    @property
    def generations(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.racks)

    @property
    def n_generations(self) -> int:
        return len(self.racks)

    @property
    def lag(self) -> int:
        """Quarters from shipment to energized."""
        return self.demand.lag

    @property
    def target_w(self) -> float | None:
        return self.demand.target_w

    @property
    def target_basis(self) -> str:
        return self.demand.target_basis

    @property
    def n_quarters(self) -> int:
        return len(self.quarters)

    @property
    def labels(self) -> list[str]:
        return [format_quarter(q) for q in self.quarters]

    @property
    def energize_quarters(self) -> list[date]:
        """Quarter in which racks shipped in each plan quarter are energized."""
        return [add_quarters(q, self.lag) for q in self.quarters]

    @property
    def it_w(self) -> np.ndarray:
        """IT power of a rack of each generation [W], (G,)."""
        return np.array([r.it_power_w for r in self.racks], float)

    @property
    def accelerators(self) -> np.ndarray:
        return np.array([r.accelerators for r in self.racks], float)

    @property
    def facility_w(self) -> np.ndarray:
        """Facility power of a rack of each generation at each site [W], (G, S)."""
        return self.it_w[:, None] * np.array(self.demand.site_pue, float)[None, :]

    @property
    def target_rack_w(self) -> np.ndarray:
        """Power a rack adds towards the target, on its basis [W], (G, S)."""
        if self.target_basis == "facility":
            return self.facility_w
        return np.broadcast_to(self.it_w[:, None], (self.n_generations, len(self.sites)))

    @property
    def rack_facility_w(self) -> float:
        """Largest facility power of one rack [W] (the scale of per-rack quantities)."""
        return float(self.facility_w.max()) if self.sites else self.demand.rack_facility_w

    @property
    def rack_capex_usd(self) -> np.ndarray:
        """Hardware and integration per rack of each generation [USD], (G,)."""
        return np.array([r.price_usd for r in self.racks], float) + \
            self.economics.integration_usd_per_rack

    @property
    def use(self) -> np.ndarray:
        """(P, G) units of part p a rack of generation g needs."""
        mask = self.part_use if self.part_use is not None else \
            np.ones((len(self.parts), self.n_generations))
        return self.units_per_rack[:, None] * mask

    @property
    def time(self) -> np.ndarray:
        """(G, T) line time per rack, in base-line racks (inf: not built on this line)."""
        if self.line_time is not None:
            return self.line_time
        return np.ones((self.n_generations, self.n_quarters))

    @property
    def time_finite(self) -> np.ndarray:
        """:attr:`time` with 1 where a generation is not built (its builds are fixed at 0)."""
        return np.where(np.isfinite(self.time), self.time, 1.0)

    @property
    def factory_net_racks(self) -> np.ndarray:
        """(T,) base-line racks the factory completes after changeovers."""
        lost = self.changeover_racks if self.changeover_racks is not None else 0.0
        return np.maximum(self.factory_racks - lost, 0.0)

    @property
    def available(self) -> np.ndarray:
        """(G, T) whether generation g may be built in quarter t (in its quarters, on a
        line that builds it)."""
        q = np.array(self.quarters)
        return np.array([(q >= (r.available or q[0])) & (q <= (r.last or q[-1]))
                         for r in self.racks]) & np.isfinite(self.time)

    @property
    def discount(self) -> np.ndarray:
        """Present-value factor of each quarter at the economics' cost of capital."""
        r = self.economics.cost_of_capital_per_year
        return (1.0 + r) ** (-np.arange(self.n_quarters) / 4.0)


def _schedule(value: float | dict, quarters: list[date]) -> np.ndarray:
    if isinstance(value, dict):
        return np.array(step_schedule(value, quarters))
    return np.full(len(quarters), float(value))


def factory_capacity(racks_per_week: np.ndarray, lines: np.ndarray, ramp_quarters: int,
                     start_fraction: float) -> np.ndarray:
    """Racks per quarter: output per line and week x 13 weeks x lines running, each line ramping
    linearly from `start_fraction` to full rate over `ramp_quarters` after it starts."""
    n = len(racks_per_week)
    k = np.arange(n, dtype=float)
    ramp = np.ones(n) if ramp_quarters == 0 else \
        np.minimum(1.0, start_fraction + (1.0 - start_fraction) * k / ramp_quarters)
    delta = np.diff(np.asarray(lines, float), prepend=0.0)   # lines added (or removed) in j
    age = k[:, None] - k[None, :]                              # quarters since j, at t
    weight = np.where(age >= 0, ramp[np.clip(age, 0, n - 1).astype(int)], 0.0)
    weight = np.where(delta[None, :] > 0, weight, age >= 0)    # removals take effect at once
    effective = weight @ delta
    return np.asarray(racks_per_week, float) * WEEKS_PER_QUARTER * effective


@dataclass(frozen=True)
class PartLimit:
    """A part whose deliveries limit the racks built: units each rack needs and the units
    delivered by the end of each plan quarter (cumulative; parts are stockable)."""

    part: str
    units_per_rack: float
    delivered: np.ndarray    # (T,) [units]
    generation: str | list[str] | None = None   # the generation(s) that use it; None: all

    def used_by(self, generation: str) -> bool:
        return self.generation is None or generation in (
            [self.generation] if isinstance(self.generation, str) else self.generation)


def section_parts(spec: PlanSpec, quarters: list[date]) -> list[PartLimit]:
    """The ``plan.supply`` entries as part limits over `quarters`."""
    return [PartLimit(s.part, s.units_per_rack,
                      np.cumsum(_schedule(s.per_quarter, quarters)) + s.initial_stock,
                      s.generation)
            for s in spec.supply]


def line_time(racks: Sequence[DeployedRack], factory_racks: np.ndarray, quarters: list[date],
              base_rate: float, variant_rates: dict[str, float]) -> np.ndarray:
    """(G, T) line time of one rack of each generation in base-line racks: the base line's
    racks per week over the generation's line's, times its learning curve from its first
    quarter (:func:`rackforge.factory.learning.quarterly_time_factor`, the whole line's
    capacity spent on it: the fastest learning the line allows)."""
    out = np.ones((len(racks), len(quarters)))
    if base_rate <= 0:                 # the line builds nothing: every time is moot
        return out
    for g, rack in enumerate(racks):
        rate = variant_rates[rack.line_variant] if rack.line_variant else base_rate
        if rate <= 0:                  # this generation's line ships nothing
            out[g] = np.inf
            continue
        first = quarter_index(rack.available, quarters[0]) if rack.available else 0
        first = min(max(first, 0), len(quarters))
        factor = quarterly_time_factor(factory_racks[first:] * rate / base_rate,
                                       rack.first_unit_factor, rack.learning_rate)
        out[g] = base_rate / rate
        out[g, first:] *= factor
    return out


def changeover_racks(racks: Sequence[DeployedRack], factory_racks: np.ndarray,
                     quarters: list[date]) -> np.ndarray:
    """(T,) base-line racks lost in the quarter each generation after the first starts on the
    line: its changeover weeks on every line running (factory racks / 13 weeks a quarter)."""
    lost = np.zeros(len(quarters))
    for rack in racks:
        if rack.available is None or rack.changeover_weeks == 0:
            continue
        t = quarter_index(rack.available, quarters[0])
        if 0 < t < len(quarters):
            lost[t] += rack.changeover_weeks * factory_racks[t] / WEEKS_PER_QUARTER
    return lost


def merit(racks: Sequence[DeployedRack], econ: EconomicsSpec) -> np.ndarray | None:
    """(G,) useful work per unit of yearly cost of each generation (tokens per second per rack
    over the rack's TCO per year, :func:`rackforge.economics.tco`), 1 for the best; None when
    a generation has no useful-work figure."""
    if any(r.tokens_per_s_per_gpu is None for r in racks):
        return None
    value = np.array([r.tokens_per_s_per_gpu * r.accelerators / tco(r.cost, econ).annual_cost_usd
                      for r in racks])
    return value / value.max()


def _fixed_shares(racks: Sequence[DeployedRack], quarters: list[date]) -> np.ndarray | None:
    if any(r.share is None for r in racks):
        return None
    return np.array([_schedule(r.share, quarters) for r in racks])


def plan_inputs(spec: PlanSpec, demand: Demand, econ: EconomicsSpec,
                line_racks_per_week: float | None = None,
                parts: Sequence[PartLimit] = (), variant_rates: dict[str, float] | None = None,
                chain: Sequence[ChainLimit] = (), crews: np.ndarray | None = None,
                crew_rate: float = 1.0) -> PlanInputs:
    """The LP's numbers from the ``plan:`` section and the `demand` (racks, PUEs, target).
    `line_racks_per_week`, the simulated line's throughput, replaces the section's racks per
    week of one line, and `variant_rates` give the line's racks per week for each variant a
    generation names; `parts` (what the suppliers can deliver) limit the racks built, after
    the section's own ``supply`` entries, which win for a part they name; `chain` and
    `crews` are the sites' power-chain and crew limits (:mod:`rackforge.deploy.sites`), a crew
    energizing `crew_rate` racks a quarter of a generation that states none."""
    quarters = list(demand.quarters)
    energize = [add_quarters(q, demand.lag) for q in quarters]
    factory = spec.factory
    per_line = (np.full(len(quarters), line_racks_per_week) if line_racks_per_week is not None
                else _schedule(factory.racks_per_week, quarters))
    named = section_parts(spec, quarters)
    limits = named + [p for p in parts if p.part not in {n.part for n in named}]
    capacity = factory_capacity(per_line, _schedule(factory.lines, quarters),
                                factory.ramp_quarters, factory.ramp_start_fraction)
    racks = demand.racks
    gens = [r.id for r in racks]
    base_rate = float(per_line.max()) if len(per_line) else 0.0
    return PlanInputs(
        demand=demand, factory_racks=capacity,
        parts=tuple(p.part for p in limits),
        units_per_rack=np.array([p.units_per_rack for p in limits], float),
        supply_cum=np.array([p.delivered for p in limits], float).reshape(len(limits),
                                                                           len(quarters)),
        sites=tuple(s.name for s in spec.sites),
        site_power_w=np.array([_schedule(s.power_w, energize) for s in spec.sites]),
        site_power_now_w=np.array([_schedule(s.power_w, quarters) for s in spec.sites]),
        objective=spec.objective, economics=econ,
        part_use=np.array([[float(p.used_by(g)) for g in gens]
                           for p in limits]).reshape(len(limits), len(gens)),
        line_time=line_time(racks, capacity, quarters, base_rate, variant_rates or {}),
        changeover_racks=changeover_racks(racks, capacity, quarters),
        chain=tuple(chain), crews=crews,
        crew_rate=np.array([r.crew_racks_per_quarter or crew_rate for r in racks], float),
        merit=merit(racks, econ) if spec.mix == "cost-per-work" else None,
        shares=_fixed_shares(racks, quarters) if spec.mix == "fixed" else None)
