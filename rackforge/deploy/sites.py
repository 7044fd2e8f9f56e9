"""Sites as the ramp sees them: PUE from the cooling plant and climate, the power-chain items
ordered for each site and what they carry by each quarter, and installation crews.

Power-chain items (``deploy/data/power_chain.yaml``: grid interconnect, transformers,
switchgear, UPS, generators, chillers, dry coolers) carry load from the quarter their units
are delivered (``lead_time_quarters`` after the order) and installed (``install_quarters``
more). An item that carries facility power limits the site's facility power directly; one that
carries IT power (UPS, heat rejection sized on IT heat) limits it through the site's PUE.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field

from rackforge.calendar import add_quarters, step_schedule
from rackforge.catalog.models import Frozen
from rackforge.deploy.plan_inputs import ChainLimit
from rackforge.deploy.spec import PlanSite, PlanSpec
from rackforge.errors import InputError
from rackforge.inputs import closest, read_yaml, validate

DATA_FILE = Path(__file__).parent / "data" / "power_chain.yaml"


class ChainItem(Frozen):
    """One kind of power-chain equipment: what a unit carries and how long it takes."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    id: str
    name: str
    unit_capacity_w: float = Field(gt=0)
    lead_time_quarters: int = Field(ge=0, le=40)
    install_quarters: int = Field(ge=0, le=40)
    carries: Literal["facility", "it"] = "facility"
    cost_usd_per_unit: float | None = Field(default=None, ge=0)
    cost_usd_per_mw: float | None = Field(default=None, ge=0)

    @property
    def ready_quarters(self) -> int:
        """Quarters from order to carrying load."""
        return self.lead_time_quarters + self.install_quarters

    def cost_usd(self, units: float) -> float:
        """Cost of `units` units [USD]: per unit, else per MW of what they carry."""
        if self.cost_usd_per_unit is not None:
            return units * self.cost_usd_per_unit
        return units * self.unit_capacity_w / 1e6 * (self.cost_usd_per_mw or 0.0)


@lru_cache(maxsize=2)
def _data(path: Path = DATA_FILE) -> dict[str, Any]:
    return read_yaml(path)


def chain_items(path: Path = DATA_FILE) -> dict[str, ChainItem]:
    """The shipped power-chain items by id."""
    items = [validate(ChainItem, e, str(path), f"items[{i}]")
             for i, e in enumerate(_data(path)["items"])]
    return {item.id: item for item in items}


def pue_table(path: Path = DATA_FILE) -> dict[str, dict[str, float]]:
    """Annual PUE of a liquid-cooled AI hall by cooling plant and climate (an assumption built
    from published anchors; see the data file)."""
    return {plant: {zone: float(v) for zone, v in row.items()}
            for plant, row in _data(path)["pue"]["table"].items()}


def crew_racks_per_quarter(path: Path = DATA_FILE) -> float:
    """Racks one installation crew energizes a quarter, by default (example figure)."""
    return float(_data(path)["crew"]["racks_energized_per_crew_per_quarter"])


def site_pue(site: PlanSite, index: int, default: float) -> float:
    """The site's PUE: stated, else from its cooling plant and climate, else `default`."""
    if site.pue is not None:
        return site.pue
    if site.cooling_plant is None:
        return default
    table = pue_table()
    where = f"plan.sites[{index}]"
    if site.cooling_plant not in table:
        raise InputError("unknown cooling plant", None, f"{where}.cooling_plant",
                         site.cooling_plant, f"one of {', '.join(table)}",
                         closest(site.cooling_plant, list(table)))
    row = table[site.cooling_plant]
    if site.climate not in row:
        raise InputError("unknown climate", None, f"{where}.climate", site.climate,
                         f"one of {', '.join(row)}", closest(site.climate, list(row)))
    return row[site.climate]


def chain_limits(spec: PlanSpec, energize: list, pue: tuple[float, ...]) -> list[ChainLimit]:
    """Per site and item ordered there: the facility power its units carry by each quarter
    racks shipped in a plan quarter are energized (`energize`) [W]."""
    items = chain_items()
    out = []
    for s, site in enumerate(spec.sites):
        by_item: dict[str, np.ndarray] = {}
        for k, order in enumerate(site.equipment):
            item = items.get(order.item)
            if item is None:
                raise InputError("unknown power-chain item", None,
                                 f"plan.sites[{s}].equipment[{k}].item", order.item,
                                 f"one of {', '.join(items)}", closest(order.item, list(items)))
            ready = add_quarters(order.ordered, item.ready_quarters)
            carried = order.units * item.unit_capacity_w * (pue[s] if item.carries == "it"
                                                            else 1.0)
            by_item[item.id] = by_item.get(item.id, 0.0) + np.array(
                step_schedule({ready: carried}, energize))
        out += [ChainLimit(s, item_id, capacity, items[item_id].ready_quarters)
                for item_id, capacity in by_item.items()]
    return out


def crews(spec: PlanSpec, energize: list) -> np.ndarray | None:
    """(S, T) installation crews at each site in the quarter racks shipped in t are energized;
    NaN where a site states none; None when no site does."""
    if all(site.crews is None for site in spec.sites):
        return None
    return np.array([np.full(len(energize), np.nan) if site.crews is None else
                     np.array(step_schedule(site.crews, energize)) if isinstance(site.crews, dict)
                     else np.full(len(energize), float(site.crews)) for site in spec.sites])
