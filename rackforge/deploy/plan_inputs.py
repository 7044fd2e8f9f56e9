"""Numbers the ramp LP is built from: arrays by quarter, part and site, in base units.

:func:`plan_inputs` turns a scenario's ``plan:`` section into :class:`PlanInputs`. The factory's
and sourcing's results come in through :mod:`rackforge.deploy.adapters`, which return modified
copies of these inputs; the LP never re-runs those stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rackforge.calendar import add_quarters, format_quarter, quarter_range, step_schedule
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec, RackCost
from rackforge.errors import InputError


@dataclass(frozen=True)
class PlanInputs:
    """The ramp problem in numbers. Arrays are indexed [part or site, quarter]."""

    quarters: tuple[date, ...]
    rack: RackCost
    pue: float
    lag: int                         # quarters from shipment to energized
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
    target_w: float | None = None
    target_basis: str = "facility"
    economics: EconomicsSpec = field(default_factory=EconomicsSpec)

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
        """Facility power one rack takes, PUE included [W]."""
        return self.rack.it_power_w * self.pue

    @property
    def target_rack_w(self) -> float:
        """Power one rack adds towards the target, on the target's basis [W]."""
        return self.rack_facility_w if self.target_basis == "facility" else self.rack.it_power_w

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


def plan_inputs(spec: PlanSpec, rack: RackCost, econ: EconomicsSpec,
                target_w: float | None = None) -> PlanInputs:
    """The LP's numbers from the ``plan:`` section and the deployed rack's cost and power."""
    from rackforge.deploy.model import factory_capacity

    target_w = target_w if target_w is not None else spec.target_w
    if spec.objective == "min-cost" and target_w is None:
        raise InputError("objective min-cost needs a target", None, "plan.objective",
                         spec.objective, "plan.target_w (or --target-gw) with min-cost")
    quarters = quarter_range(spec.start, spec.end)
    lag = spec.commissioning_quarters
    energize = [add_quarters(q, lag) for q in quarters]
    f = spec.factory
    supply = np.array([np.cumsum(_schedule(s.per_quarter, quarters)) + s.initial_stock
                       for s in spec.supply]).reshape(len(spec.supply), len(quarters))
    power = np.array([_schedule(s.power_w, energize) for s in spec.sites])
    power_now = np.array([_schedule(s.power_w, quarters) for s in spec.sites])
    return PlanInputs(
        quarters=tuple(quarters), rack=rack, pue=spec.pue or econ.pue, lag=lag,
        factory_racks=factory_capacity(
            _schedule(f.racks_per_week, quarters), _schedule(f.lines, quarters),
            f.ramp_quarters, f.ramp_start_fraction),
        parts=tuple(s.part for s in spec.supply),
        units_per_rack=np.array([s.units_per_rack for s in spec.supply], float),
        supply_cum=supply, sites=tuple(s.name for s in spec.sites), site_power_w=power,
        site_power_now_w=power_now,
        objective=spec.objective, target_w=target_w,
        target_basis=spec.target_basis, economics=econ)
