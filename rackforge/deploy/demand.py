"""Demand: the racks the program deploys (one rack, or rack generations) and the power it
wants online, quarter by quarter.

A rack: numbers given in ``plan.rack`` (or a generation) win; the rest come from the compare
candidate, the rack design or the roadmap entry it names (:func:`deployed_rack`,
:mod:`rackforge.deploy.generations`). Power wanted (:func:`racks_wanted`), on the target's
basis: by each quarter, what the sites' power then online can take, and no more than the target:

    wanted_online_w[q] = min(sum over sites of power[s, q] (/ the site's PUE for an IT
                             target), target)

Racks must ship ``commissioning_quarters`` before they are energized, so the power wanted
shipped by quarter t is that wanted online by t + lag (site power held after the plan ends).
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
    """A rack the ramp deploys (a generation): where its numbers come from and the numbers."""

    design: str | None        # rack design id of the scenario, when one is named
    candidate: str | None     # compare candidate id, when one is named
    accelerators: int
    it_power_w: float         # per rack at full load [W]
    price_usd: float | None   # hardware price per rack [USD]; None only in a candidate's base,
                              # never after deployed_rack
    id: str = "rack"          # generation id ("rack" for a plan of one rack)
    system: str | None = None             # catalog system, for its useful work
    available: date | None = None         # first quarter it may be built (None: from the start)
    last: date | None = None              # last quarter it may be built (None: to the end)
    line_variant: str | None = None       # line.variants name; None: the base line
    changeover_weeks: float = 0.0         # line time lost per line in its first quarter [weeks]
    first_unit_factor: float = 1.0        # Wright's law: first unit's time / steady time
    learning_rate: float = 1.0            # unit time multiplier per doubling
    share: float | dict | None = None     # fixed share of each quarter's builds (mix: fixed)
    tokens_per_s_per_gpu: float | None = None  # useful work per accelerator [1/s]
    crew_racks_per_quarter: float | None = None  # racks a crew energizes a quarter (None:
                                                 # the shipped default)
    origin: str = "plan.rack"             # where its numbers come from, for the report

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
    return DeployedRack(base.design if base else None, spec.candidate, **values,
                        system=base.system if base else None)


@dataclass(frozen=True)
class Demand:
    """The racks deployed and the power wanted energized by each quarter of the plan."""

    racks: tuple[DeployedRack, ...]     # one per generation, in the plan's order
    pue: float                          # facility / IT power where a site states none [-]
    site_pue: tuple[float, ...]         # per site of plan.sites [-]
    quarters: tuple[date, ...]
    lag: int                            # quarters from shipment to energized
    target_w: float | None              # power wanted online by the end [W]
    target_basis: str                   # "facility" or "it"
    wanted_online_w: tuple[float, ...]  # power wanted energized by each quarter [W, target basis]
    wanted_by_ship_w: tuple[float, ...]  # power wanted shipped by each quarter [W, target basis]

    @property
    def rack(self) -> DeployedRack:
        """The first generation (the only one in a plan of one rack)."""
        return self.racks[0]

    @property
    def rack_facility_w(self) -> float:
        """Facility power the first rack takes at the plan's PUE [W]."""
        return self.rack.it_power_w * self.pue

    @property
    def wanted_shipped_w(self) -> tuple[float, ...]:
        """Power wanted shipped in each quarter [W, target basis]."""
        return tuple(np.diff(self.wanted_by_ship_w, prepend=0.0).tolist())

    def designs(self) -> list[str]:
        """Rack design ids the plan deploys."""
        return [r.design for r in self.racks if r.design is not None]


def racks_wanted(spec: PlanSpec, racks: DeployedRack | tuple[DeployedRack, ...], pue: float,
                 site_pue: tuple[float, ...] | None = None) -> Demand:
    """The power the sites can take, up to the target, quarter by quarter (module docstring).
    `site_pue` defaults to `pue` at every site."""
    if spec.objective == "min-cost" and spec.target_w is None:
        raise InputError("objective min-cost needs a target", None, "plan.objective",
                         spec.objective, "plan.target_w (or --target-gw) with min-cost")
    racks = (racks,) if isinstance(racks, DeployedRack) else tuple(racks)
    site_pue = site_pue or tuple(pue for _ in spec.sites)
    quarters = quarter_range(spec.start, spec.end)
    lag = spec.commissioning_quarters
    target = spec.target_w if spec.target_w is not None else float("inf")
    per_basis = [1.0 if spec.target_basis == "facility" else p for p in site_pue]

    def online(days: list[date]) -> np.ndarray:
        power = sum(np.array(step_schedule(site.power_w, days)) / share
                    for site, share in zip(spec.sites, per_basis, strict=True))
        return np.minimum(power, target)

    by_ship = online([add_quarters(q, lag) for q in quarters])
    return Demand(racks, pue, site_pue, tuple(quarters), lag, spec.target_w, spec.target_basis,
                  tuple(online(quarters).tolist()), tuple(by_ship.tolist()))
