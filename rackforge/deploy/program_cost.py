"""The whole cost of the program: racks, networks, storage, facility, grid interconnect, land
and the carrying cost of what is built or bought before it earns, quarter by quarter and per
facility GW, checked against public all-in estimates.

Items and what they scale with [USD]:

- racks: racks built of each generation x (its price + integration and test).
- scale-out network, front-end network, storage: accelerators energized (or built, with
  ``network_storage_at="built"``) x cost per GPU.
- facility (shell and MEP, by tier and cooling), grid interconnect and substation: MW of
  critical IT load energized x cost per MW; land: MW x acres per MW x price per acre.
- carrying cost, at ``carrying_cost.total_per_year`` of capex.yaml (cost of capital, storage
  and insurance, obsolescence; 20 %/a) of the value held:

  * work in progress: by Little's law [1], racks built at a rate lambda with cycle time W keep
    lambda W racks inside the line, so each rack built is held W hours: racks built x rack
    capex x rate x ``cycle_time_h`` / 8760 h (the mean cycle time of the line variant that
    builds the generation, ``options.lines``, else of the base line, ``build``);
  * racks built and not yet shipped: racks in stock at the end of the quarter x their average
    capex x rate / 4;
  * parts bought ahead of need: the units the sourcing plan holds at the end of each quarter
    (its deliveries less the BOM demand of the racks built, cumulated: the MIP's balance row
    with no stock at the start) x the part's average landed cost x rate / 4.

Rates: the scenario's ``economics`` where it states them, else the economics defaults, which
repeat the items of ``deploy/data/capex.yaml`` (each cites its source or is an assumption).

Cash flow: see :data:`CONVENTION`. Cost per facility GW: each item's total over the plan over
the facility power online at its end. Power-chain equipment (``power_chain.yaml``) is inside
the facility's electrical plant and the grid interconnect per MW (capex.yaml's $470k per MW of
IT = power_chain's $393k per MW of facility power x PUE 1.2), so it is not added again.

References
----------
.. [1] Little, J. D. C. "A proof for the queuing formula L = lambda W", Operations Research
   9 (3), 1961, 383-387.
.. [2] The public estimates under ``reference:`` in capex.yaml (NVIDIA 2025, Bernstein 2025,
   Morgan Stanley 2026, McKinsey 2025, Barclays 2025) and their envelope under ``check:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from rackforge.calendar import HOURS_PER_YEAR, quarter_index, quarter_range
from rackforge.deploy.capex_data import CapexData, CapexSource, Envelope, capex_data
from rackforge.deploy.demand import Demand
from rackforge.deploy.ramp import RampResult
from rackforge.economics import EconomicsSpec, facility_item
from rackforge.factory.statistics import LineResult
from rackforge.sourcing.problem import demand_table
from rackforge.sourcing.report import DesignSourcing, SourcingReport

QUARTERS_PER_YEAR = 4.0


@dataclass(frozen=True)
class CostItem:
    """One item of the program's cost, quarter by quarter, and where its rate comes from."""

    id: str
    name: str
    kind: str                        # "it" (hardware), "site" (facility, grid, land), "carrying"
    basis: str                       # what it scales with, in words
    quantity: float                  # over the plan [unit]
    unit: str                        # racks, GPUs, MW, acres or USD-years (carrying)
    unit_cost_usd: float             # [USD per unit]; carrying: the rate [1/a]
    by_quarter_usd: tuple[float, ...]  # aligned with ProgramCost.quarters [USD]
    origin: str                      # "scenario (economics.x)" or the sources, cited
    flags: tuple[str, ...] = ()      # example, assumption, approximate, scenario
    sources: tuple[CapexSource, ...] = ()
    note: str = ""

    @property
    def total_usd(self) -> float:
        return float(sum(self.by_quarter_usd))


@dataclass(frozen=True)
class ReferencePoint:
    """A public all-in estimate per facility GW [USD/GW] and its non-IT share [-]."""

    label: str
    low_usd_per_gw: float
    high_usd_per_gw: float
    non_it_share: float | None
    cite: str


@dataclass(frozen=True)
class CapexCheck:
    """The plan's cost per facility GW and non-IT share against the public envelope."""

    usd_per_gw: float | None
    low_usd_per_gw: float
    high_usd_per_gw: float
    within: bool | None
    non_it_share: float | None
    non_it_share_low: float
    non_it_share_high: float
    non_it_within: bool | None
    references: tuple[ReferencePoint, ...]
    message: str


@dataclass(frozen=True)
class ProgramOptions:
    """How :func:`program_cost` counts what the data leave open."""

    network_storage_at: Literal["energized", "built"] = "energized"
    carrying_rate_per_year: float | None = None    # None: capex.yaml total_per_year [1/a]
    lines: Mapping[str, LineResult] = field(default_factory=dict)  # line variants by name


@dataclass(frozen=True)
class ProgramCost:
    """The program's cost item by item and quarter by quarter, per facility GW, and its check."""

    quarters: tuple[date, ...]
    items: tuple[CostItem, ...]
    facility_power_w: float          # facility power online at the end of the plan [W]
    it_power_w: float                # IT power online at the end of the plan [W]
    racks_built: float
    accelerators_online: float
    facility: str                    # "tier 3, liquid"
    carrying_rate_per_year: float    # [1/a]
    check: CapexCheck
    convention: str
    left_out: tuple[str, ...]

    @property
    def total_usd(self) -> float:
        return sum(i.total_usd for i in self.items)

    @property
    def cash_flow_usd(self) -> tuple[float, ...]:
        """Money out in each quarter, every item [USD]."""
        return tuple(float(x) for x in np.sum([i.by_quarter_usd for i in self.items], axis=0))

    @property
    def usd_per_gw(self) -> float | None:
        return self.check.usd_per_gw

    def item(self, item_id: str) -> CostItem:
        return next(i for i in self.items if i.id == item_id)

    def item_usd_per_gw(self, item_id: str) -> float | None:
        """An item's total per facility GW online at the end of the plan [USD/GW]."""
        gw = self.facility_power_w / 1e9
        return self.item(item_id).total_usd / gw if gw > 0 else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        total = self.total_usd
        for row, item in zip(out["items"], self.items, strict=True):
            row.update(total_usd=item.total_usd, usd_per_gw=self.item_usd_per_gw(item.id),
                       share=item.total_usd / total if total > 0 else None,
                       sources=[s.model_dump() for s in item.sources])
        out.update(total_usd=total, usd_per_gw=self.usd_per_gw,
                   cash_flow_usd=list(self.cash_flow_usd),
                   cumulative_usd=np.cumsum(self.cash_flow_usd).tolist())
        return out


CONVENTION = ("cash out in the quarter racks are built (racks, work in progress) or energized "
              "(networks, storage, facility, grid interconnect, land: paid as each hall goes "
              "live, not ahead of it); carrying cost in the quarter it accrues")
LEFT_OUT = (
    "on-site generation and transmission network upgrades beyond the campus substation",
    "design and soft costs, owner-furnished equipment and owner contingency (the facility "
    "figure is construction cost)",
    "carrying cost of racks shipped and waiting to be energized (commissioning)",
    "power-chain equipment (power_chain.yaml) as an item of its own: it is inside the "
    "facility's electrical plant and the grid interconnect per MW",
)


@dataclass(frozen=True)
class _Flows:
    """The ramp as arrays over the plan's quarters: (G, T) per generation, (G,) per rack."""

    built: np.ndarray
    energized: np.ndarray
    in_stock: np.ndarray             # (T,) racks built and not shipped, end of quarter
    capex: np.ndarray                # rack price + integration [USD]
    accelerators: np.ndarray
    it_w: np.ndarray
    cycle_h: np.ndarray              # line cycle time [h]; 0 without a simulated line

    @property
    def it_mw_energized(self) -> np.ndarray:
        return self.it_w @ self.energized / 1e6


def _flows(ramp: RampResult, demand: Demand, econ: EconomicsSpec, cycle_h: np.ndarray
           ) -> _Flows:
    ids = [r.id for r in demand.racks]
    single = len(ids) == 1

    def per_gen(by: dict[str, float], total: float) -> list[float]:
        return [by.get(g, total if single and not by else 0.0) for g in ids]

    built = np.array([per_gen(q.racks_by_system, q.racks_built) for q in ramp.quarters]).T
    online = np.array([per_gen(q.online_by_system, q.racks_online) for q in ramp.quarters]).T
    return _Flows(built=built, energized=np.diff(online, axis=1, prepend=0.0),
                  in_stock=np.array([q.racks_in_stock if q.racks_in_stock > 1e-6 else 0.0
                                     for q in ramp.quarters]),   # no LP round-off
                  capex=np.array([r.price_usd for r in demand.racks], float)
                  + econ.integration_usd_per_rack,
                  accelerators=np.array([r.accelerators for r in demand.racks], float),
                  it_w=np.array([r.it_power_w for r in demand.racks], float),
                  cycle_h=cycle_h)


def _rate(econ: EconomicsSpec, key: str, *item_ids: str) -> dict[str, Any]:
    """The origin of the rate of economics field `key`: the capex.yaml items it repeats,
    unless the scenario states it."""
    if key in econ.model_fields_set:
        return {"origin": f"scenario (economics.{key})", "flags": ("scenario",)}
    items = [capex_data().item(i) for i in item_ids]
    flags = tuple(dict.fromkeys(f for i in items for f in i.flags))
    note = " ".join(i.reason or i.notes or "" for i in items).strip()
    return {"origin": "; ".join(i.origin() for i in items), "flags": flags,
            "sources": tuple(s for i in items for s in i.source), "note": note}


def _hardware(flows: _Flows, econ: EconomicsSpec, at: str, pad: int) -> list[CostItem]:
    """Racks, networks and storage [USD per quarter of the horizon, `pad` before the plan's].
    """
    gpus = flows.accelerators @ (flows.energized if at == "energized" else flows.built)
    racks = flows.built.sum()
    integration = ("scenario" if "integration_usd_per_rack" in econ.model_fields_set
                   else "economics.yaml (example)")
    out = [CostItem("racks", "Racks (price + integration and test)", "it", "per rack built",
                    float(racks), "racks",
                    float(flows.capex @ flows.built.sum(axis=1) / racks) if racks else 0.0,
                    _pad(flows.capex @ flows.built, pad), f"plan racks' prices (demand stage); "
                    f"integration {econ.integration_usd_per_rack:,.0f} USD per rack from "
                    f"{integration}", ("example",) if integration.endswith("(example)") else ())]
    for item, name, key in (
            ("scale-out-network", "Scale-out (back-end) network", "scaleout_network_usd_per_gpu"),
            ("front-end-network", "Front-end, storage and management networks",
             "frontend_network_usd_per_gpu"),
            ("storage", "Shared storage", "storage_usd_per_gpu")):
        rate = getattr(econ, key)
        out.append(CostItem(item, name, "it", f"per accelerator {at}", float(gpus.sum()), "GPUs",
                            rate, _pad(gpus * rate, pad), **_rate(econ, key, item)))
    return out


def _site(flows: _Flows, econ: EconomicsSpec, pad: int) -> list[CostItem]:
    """Facility, grid interconnect and land, per MW of critical IT energized [USD]."""
    mw = flows.it_mw_energized
    facility = facility_item(econ.facility_tier, econ.cooling)
    acres = mw * econ.land_acres_per_mw
    land = _rate(econ, "land_usd_per_acre", "land-price")
    area = _rate(econ, "land_acres_per_mw", "land-area")
    return [
        CostItem("facility", f"Facility shell and MEP ({_facility(econ)})", "site",
                 "per MW of critical IT energized", float(mw.sum()), "MW",
                 econ.facility_capex_usd_per_mw, _pad(mw * econ.facility_capex_usd_per_mw, pad),
                 **_rate(econ, "facility_capex_usd_per_mw", facility)),
        CostItem("grid-interconnect", "Grid interconnect and substation", "site",
                 "per MW of critical IT energized", float(mw.sum()), "MW",
                 econ.grid_interconnect_usd_per_mw,
                 _pad(mw * econ.grid_interconnect_usd_per_mw, pad),
                 **_rate(econ, "grid_interconnect_usd_per_mw", "grid-interconnect-substation")),
        CostItem("land", "Land", "site",
                 f"{econ.land_acres_per_mw:g} acres per MW of critical IT energized",
                 float(acres.sum()), "acres", econ.land_usd_per_acre,
                 _pad(acres * econ.land_usd_per_acre, pad), origin=f"{land['origin']}; "
                 f"{area['origin']}", flags=tuple(dict.fromkeys(land["flags"] + area["flags"])),
                 sources=land.get("sources", ()) + area.get("sources", ()))]


def _facility(econ: EconomicsSpec) -> str:
    return f"tier {econ.facility_tier}, {econ.cooling} cooling"


def parts_held_units(design: DesignSourcing
                     ) -> tuple[tuple[str, ...], tuple[date, ...], np.ndarray]:
    """Parts, quarters and the (P, T) units of each part the sourcing plan holds for one rack
    design at the end of each quarter: its deliveries less the BOM demand of the racks built,
    cumulated (the MIP's balance row, with no stock at the start) [units]. The report has no
    inventory field; this reads it back from the plan's deliveries."""
    result = design.result
    delivered = result.deliveries()
    counts = {p: c for p, c in design.resolved.bom.counts().items() if p in delivered}
    parts, demand = demand_table(counts, design.racks, result.quarters)
    got = np.array([[delivered[p].get(q, 0) for q in result.quarters] for p in parts], float)
    held = np.maximum(np.cumsum(got, axis=1) - np.cumsum(demand, axis=1), 0.0)
    return parts, tuple(result.quarters), held


def parts_held_usd(report: SourcingReport) -> dict[date, float]:
    """Value of the parts the sourcing plan holds at the end of each of its quarters, every
    rack design's (:func:`parts_held_units`) at each part's average landed cost in the plan
    [USD]; {} for a plan that did not solve."""
    if report.whole.status == "infeasible":
        return {}
    out: dict[date, float] = {}
    for design in report.by_design:
        if not design.result.plan:
            continue
        parts, quarters, held = parts_held_units(design)
        price = {line.part: line.unit_price_usd for line in design.bom.lines}
        value = np.array([price.get(p, 0.0) for p in parts]) @ held
        for quarter, usd in zip(quarters, value.tolist(), strict=True):
            out[quarter] = out.get(quarter, 0.0) + usd
    return dict(sorted(out.items()))


def _carrying(flows: _Flows, line: LineResult | None, held: dict[date, float],
              horizon: tuple[date, ...], rate: float) -> list[CostItem]:
    """Work in progress, racks in stock and parts held, at `rate` [1/a] (module docstring)."""
    T = flows.built.shape[1]
    pad = len(horizon) - T                    # quarters of the horizon before the plan's
    racks = flows.built.sum(axis=0)
    mean_capex = float(flows.capex @ flows.built.sum(axis=1) / racks.sum()) if racks.sum() \
        else float(flows.capex[0])
    out = []
    if line is not None:
        held_usd_h = (flows.capex * flows.cycle_h) @ flows.built          # [USD h]
        wip_years = held_usd_h / HOURS_PER_YEAR                             # [USD a]
        hours = ", ".join(f"{h:,.1f}" for h in dict.fromkeys(flows.cycle_h.tolist()))
        out.append(CostItem(
            "carrying-wip", "Carrying cost: racks in the line (work in progress)", "carrying",
            f"per rack built: its capex held for the line's cycle time ({hours} h)",
            float(wip_years.sum()), "USD-years", rate, _pad(wip_years * rate, pad),
            "Little's law on the simulated line's mean cycle time", note=f"{line.line}: mean "
            f"{line.wip_racks.mean:,.0f} racks inside at {line.racks_per_week.mean:,.1f} "
            "racks/week"))
    stock_years = flows.in_stock * mean_capex / QUARTERS_PER_YEAR
    out.append(CostItem(
        "carrying-stock", "Carrying cost: racks built, not yet shipped", "carrying",
        "racks in stock at the end of each quarter, held a quarter", float(stock_years.sum()),
        "USD-years", rate, _pad(stock_years * rate, pad), "the ramp's racks in stock"))
    if held:
        parts_years = np.array([held.get(q, 0.0) for q in horizon]) / QUARTERS_PER_YEAR
        out.append(CostItem(
            "carrying-parts", "Carrying cost: parts bought ahead of need", "carrying",
            "parts held at the end of each quarter, held a quarter", float(parts_years.sum()),
            "USD-years", rate, tuple((parts_years * rate).tolist()),
            "the sourcing plan's deliveries less its BOM demand"))
    return out


def _pad(values: np.ndarray, pad: int) -> tuple[float, ...]:
    return tuple([0.0] * pad + [float(v) for v in values])


def _horizon(ramp: RampResult, held: dict[date, float]) -> tuple[date, ...]:
    """From the first quarter parts are held or the plan starts, to the plan's end."""
    first, last = ramp.quarters[0].quarter, ramp.final.quarter
    first = min([first, *(q for q, v in held.items() if v > 0)])
    return tuple(quarter_range(first, last))


def program_cost(ramp: RampResult, demand: Demand, economics: EconomicsSpec,
                 line: LineResult | None = None, sourcing: SourcingReport | None = None,
                 options: ProgramOptions | None = None) -> ProgramCost:
    """The program's cost item by item and quarter by quarter (module docstring), per facility
    GW online at the end of the plan, checked against capex.yaml's public estimates.

    `line` (the simulated line, for the work in progress) and `sourcing` (the parts plan, for
    the parts bought ahead) are optional; their carrying cost is left out without them."""
    options = options or ProgramOptions()
    data = capex_data()
    rate = options.carrying_rate_per_year
    rate = data.carrying_cost.total_per_year.value if rate is None else rate
    cycle_h = np.array([0.0 if line is None else options.lines.get(r.line_variant, line)
                        .cycle_time_h.mean for r in demand.racks])   # [h], of the line it is on
    flows = _flows(ramp, demand, economics, cycle_h)
    held = parts_held_usd(sourcing) if sourcing is not None else {}
    horizon = _horizon(ramp, held)
    pad = quarter_index(ramp.quarters[0].quarter, horizon[0])
    items = (_hardware(flows, economics, options.network_storage_at, pad)
             + _site(flows, economics, pad) + _carrying(flows, line, held, horizon, rate))
    final = ramp.final
    return ProgramCost(horizon, tuple(items), final.facility_power_online_w,
                       final.it_power_online_w, float(flows.built.sum()),
                       final.accelerators_online, _facility(economics), rate,
                       capex_check(items, final.facility_power_online_w, data),
                       CONVENTION, LEFT_OUT + _missing(line, sourcing))


def _missing(line: LineResult | None, sourcing: SourcingReport | None) -> tuple[str, ...]:
    out = []
    if line is None:
        out.append("carrying cost of work in progress: no line simulation (build stage)")
    if sourcing is None or sourcing.whole.status == "infeasible":
        out.append("carrying cost of parts bought ahead: no solved sourcing plan")
    else:
        bought = {d.resolved.design.id for d in sourcing.by_design}
        if len(bought) == 1:       # a plan of one design buys nothing for the others
            out.append(f"carrying cost of parts for racks other than {next(iter(bought))}"
                       " (sourcing buys for one rack design)")
    return tuple(out)


def reference_points(data: CapexData) -> tuple[ReferencePoint, ...]:
    """Every public all-in estimate per GW in capex.yaml, with its non-IT share."""
    return tuple(ReferencePoint(label, low, high, ref.non_it_share, ref.origin())
                 for ref in data.reference for label, low, high in ref.points())


def capex_check(items: list[CostItem], facility_w: float, data: CapexData) -> CapexCheck:
    """Cost per facility GW and the non-IT share (facility, grid, land over the total) against
    the ``check`` envelope, with a sentence saying where they lie and, outside it, why."""
    env = data.check
    total = sum(i.total_usd for i in items)
    per_gw = total / (facility_w / 1e9) if facility_w > 0 else None
    share = sum(i.total_usd for i in items if i.kind == "site") / total if total > 0 else None
    within = None if per_gw is None else env.usd_per_gw_low <= per_gw <= env.usd_per_gw_high
    share_ok = None if share is None else \
        env.non_it_share_low <= share <= env.non_it_share_high
    return CapexCheck(per_gw, env.usd_per_gw_low, env.usd_per_gw_high, within, share,
                      env.non_it_share_low, env.non_it_share_high, share_ok,
                      reference_points(data), _message(items, per_gw, share, env))


def _message(items: list[CostItem], per_gw: float | None, share: float | None,
             env: Envelope) -> str:
    if per_gw is None or share is None:
        return "no facility power online at the end of the plan: no cost per GW to check"
    total = sum(i.total_usd for i in items)
    where = _side(per_gw, env.usd_per_gw_low, env.usd_per_gw_high)
    text = (f"${per_gw / 1e9:,.1f}B per facility GW lies {where} the public range "
            f"${env.usd_per_gw_low / 1e9:,.0f}B-${env.usd_per_gw_high / 1e9:,.0f}B")
    share_where = _side(share, env.non_it_share_low, env.non_it_share_high)
    text += (f"; non-IT share {share:.2f} (facility, grid, land) {share_where} "
             f"{env.non_it_share_low:.2f}-{env.non_it_share_high:.2f}")
    if where == "within" and share_where == "within":
        return text
    top = sorted(items, key=lambda i: -i.total_usd)[:3]
    text += ": " + ", ".join(f"{i.id} {i.total_usd / total:.0%}" for i in top) + " of the total"
    if share_where == "below":
        text += ("; the facility figure is construction cost only (no soft costs, "
                 "owner-furnished equipment or contingency) and on-site generation is left out")
    if where == "below":
        text += "; the public figures price later rack generations (GB300, Rubin) per GW"
    return text


def _side(value: float, low: float, high: float) -> str:
    return "below" if value < low else "above" if value > high else "within"
