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
    step_schedule,
)
from rackforge.deploy.demand import Demand
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec, RackCost


@dataclass(frozen=True)
class PlanInputs:
    """The ramp problem in numbers: the demand (its rack, PUE, lag, target and racks wanted)
    and the limits. Arrays are indexed [part or site, quarter]."""

    demand: Demand
    factory_racks: np.ndarray        # (T,) racks the factory can complete per quarter
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

    @property
    def quarters(self) -> tuple[date, ...]:
        return self.demand.quarters

    @property
    def rack(self) -> RackCost:
        return self.demand.rack.cost

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
    def rack_facility_w(self) -> float:
        return self.demand.rack_facility_w

    @property
    def target_rack_w(self) -> float:
        return self.demand.target_rack_w

    @property
    def rack_capex_usd(self) -> float:
        return self.rack.price_usd + self.economics.integration_usd_per_rack

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


def section_parts(spec: PlanSpec, quarters: list[date]) -> list[PartLimit]:
    """The ``plan.supply`` entries as part limits over `quarters`."""
    return [PartLimit(s.part, s.units_per_rack,
                      np.cumsum(_schedule(s.per_quarter, quarters)) + s.initial_stock)
            for s in spec.supply]


def plan_inputs(spec: PlanSpec, demand: Demand, econ: EconomicsSpec,
                line_racks_per_week: float | None = None,
                parts: Sequence[PartLimit] = ()) -> PlanInputs:
    """The LP's numbers from the ``plan:`` section and the `demand` (deployed rack, PUE,
    target). `line_racks_per_week`, the simulated line's throughput, replaces the section's
    racks per week of one line; `parts` (what the suppliers can deliver) limit the racks
    built, after the section's own ``supply`` entries, which win for a part they name."""
    quarters = list(demand.quarters)
    energize = [add_quarters(q, demand.lag) for q in quarters]
    factory = spec.factory
    per_line = (np.full(len(quarters), line_racks_per_week) if line_racks_per_week is not None
                else _schedule(factory.racks_per_week, quarters))
    named = section_parts(spec, quarters)
    limits = named + [p for p in parts if p.part not in {n.part for n in named}]
    return PlanInputs(
        demand=demand, factory_racks=factory_capacity(per_line, _schedule(factory.lines, quarters),
                                       factory.ramp_quarters, factory.ramp_start_fraction),
        parts=tuple(p.part for p in limits),
        units_per_rack=np.array([p.units_per_rack for p in limits], float),
        supply_cum=np.array([p.delivered for p in limits], float).reshape(len(limits),
                                                                           len(quarters)),
        sites=tuple(s.name for s in spec.sites),
        site_power_w=np.array([_schedule(s.power_w, energize) for s in spec.sites]),
        site_power_now_w=np.array([_schedule(s.power_w, quarters) for s in spec.sites]),
        objective=spec.objective, economics=econ)
