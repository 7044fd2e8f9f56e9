"""Demand: the rack the program deploys and the racks it wants, quarter by quarter.

The rack: numbers given in ``plan.rack`` win; the rest come from the compare candidate it names
(:func:`deployed_rack`). Racks wanted (:func:`racks_wanted`): by each quarter, as many racks as
the sites' facility power then online can take, and no more than the target asks for:

    wanted_online[q] = min(sum over sites of power[s, q] / (rack IT power x PUE),
                           target / power one rack adds towards the target)

Racks must ship ``commissioning_quarters`` before they are energized, so the racks wanted
shipped by quarter t are those wanted online by t + lag (site power held after the plan ends).
The ramp (:mod:`rackforge.deploy.ramp`) places what the factory, the parts and the sites allow
of this demand; sourcing buys for what the ramp builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from rackforge.calendar import add_quarters, quarter_range, step_schedule
from rackforge.deploy.spec import PlanRack, PlanSpec
from rackforge.economics import RackCost
from rackforge.errors import InputError


@dataclass(frozen=True)
class DeployedRack:
    """The rack the ramp deploys: where its numbers come from and the numbers."""

    design: str | None        # rack design id of the scenario, when the candidate names one
    candidate: str | None     # compare candidate id, when ``plan.rack.candidate`` names one
    accelerators: int
    it_power_w: float         # per rack at full load [W]
    price_usd: float | None   # hardware price per rack [USD]; None only in a candidate's base,
                              # never after deployed_rack

    @property
    def cost(self) -> RackCost:
        return RackCost(self.accelerators, self.price_usd, self.it_power_w)


def deployed_rack(spec: PlanRack, base: DeployedRack | None) -> DeployedRack:
    """`spec`'s numbers, the missing ones taken from `base` (the named compare candidate's
    rack, priced as the candidate states). Raises InputError for a number neither gives."""
    values = {"accelerators": spec.accelerators, "it_power_w": spec.it_power_w,
              "price_usd": spec.price_usd}
    for key, value in values.items():
        if value is None and (base is None or getattr(base, key) is None):
            raise InputError("missing key", None, f"plan.rack.{key}", None,
                             f"plan.rack.{key}, or plan.rack.candidate naming a compare "
                             "candidate that gives it")
        if value is None:
            values[key] = getattr(base, key)
    return DeployedRack(base.design if base else None, spec.candidate, **values)


@dataclass(frozen=True)
class Demand:
    """The deployed rack and the racks wanted energized by each quarter of the plan."""

    rack: DeployedRack
    pue: float                          # facility power / IT power [-]
    quarters: tuple[date, ...]
    lag: int                            # quarters from shipment to energized
    target_w: float | None              # power wanted online by the end [W]
    target_basis: str                   # "facility" or "it"
    wanted_online: tuple[float, ...]    # racks wanted energized by each quarter [racks]
    wanted_by_ship: tuple[float, ...]   # racks wanted shipped by each quarter [racks]

    @property
    def rack_facility_w(self) -> float:
        """Facility power one rack takes, PUE included [W]."""
        return self.rack.it_power_w * self.pue

    @property
    def target_rack_w(self) -> float:
        """Power one rack adds towards the target, on the target's basis [W]."""
        return self.rack_facility_w if self.target_basis == "facility" else self.rack.it_power_w

    @property
    def target_racks(self) -> float | None:
        """Racks the target asks for [racks], None without a target."""
        return None if self.target_w is None else self.target_w / self.target_rack_w

    @property
    def wanted_shipped(self) -> tuple[float, ...]:
        """Racks wanted shipped in each quarter [racks]."""
        return tuple(np.diff(self.wanted_by_ship, prepend=0.0).tolist())


def racks_wanted(spec: PlanSpec, rack: DeployedRack, pue: float) -> Demand:
    """The racks the sites can take, up to the target, quarter by quarter (module docstring)."""
    if spec.objective == "min-cost" and spec.target_w is None:
        raise InputError("objective min-cost needs a target", None, "plan.objective",
                         spec.objective, "plan.target_w (or --target-gw) with min-cost")
    quarters = quarter_range(spec.start, spec.end)
    lag = spec.commissioning_quarters
    rack_w = rack.it_power_w * pue
    target = float("inf")
    if spec.target_w is not None:
        target = spec.target_w / (rack_w if spec.target_basis == "facility" else rack.it_power_w)

    def online(days: list[date]) -> np.ndarray:
        power = sum(np.array(step_schedule(site.power_w, days)) for site in spec.sites)
        return np.minimum(power / rack_w, target)

    by_ship = online([add_quarters(q, lag) for q in quarters])
    return Demand(rack, pue, tuple(quarters), lag, spec.target_w, spec.target_basis,
                  tuple(online(quarters).tolist()), tuple(by_ship.tolist()))
