"""Plan the ramp: solve the LP, read the quarterly plan, the binding limits and, when a target is
out of reach, how much each limit must grow.

The binding limit of a quarter is the tight constraint of that quarter (factory output, a part's
supply, a site's power, the demand) whose dual price, per rack it would let through, is largest;
in the first ``lag`` quarters nothing can be energized yet and the limit is the commissioning lag.
Racks built are LP values; :meth:`RampResult.racks_built_whole` rounds them to whole racks per
quarter (the cumulative count rounded down), the schedule sourcing buys for.
What must grow is answered by re-solving with priced slack on every limit (one rack-equivalent of
extra capacity costs the same in every family) and the target as a hard constraint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from rackforge.calendar import WEEKS_PER_QUARTER, add_quarters, format_quarter, parse_quarter
from rackforge.deploy.model import Vars, build_model
from rackforge.deploy.plan_inputs import PlanInputs
from rackforge.errors import SolverError
from rackforge.highs import INF, Arrays, LinearModel, Solution, SolveOptions, solve

TOL = 1e-6
RAMP_OPTIONS = SolveOptions(time_limit_s=INF)  # an LP of a few thousand rows: no time limit


@dataclass(frozen=True)
class QuarterPlan:
    """One quarter of the ramp. Racks are LP values (fractional; round down to deploy)."""

    quarter: date
    racks_built: float
    racks_shipped: float
    racks_energized: float           # newly energized this quarter
    racks_online: float              # energized up to and including this quarter
    accelerators_online: float
    it_power_online_w: float
    facility_power_online_w: float   # PUE included
    rack_capex_usd: float            # racks built this quarter x (price + integration)
    facility_capex_usd: float        # facility cost per MW x IT power energized this quarter
    binding: str                     # row name of the binding limit, or "-"
    binding_family: str              # factory | supply | site | chain | crew | demand |
                                     # commissioning | none
    factory_capacity_racks: float    # what the factory could complete this quarter
    site_power_w: float              # facility power of all sites this quarter
    racks_in_stock: float = 0.0      # built and not yet shipped, at the end of the quarter
    power_wanted_online_w: float = 0.0  # the demand: power the sites take, up to the target
    racks_by_system: dict[str, float] = field(default_factory=dict)  # generation -> built
    online_by_system: dict[str, float] = field(default_factory=dict)  # generation -> online
    binding_note: str = ""           # what lifts the binding limit, where the plan can say


@dataclass(frozen=True)
class Growth:
    """How much one limit must grow for the target to be reached."""

    limit: str                 # constraint family and subject, e.g. "site-power-upper[tx-1]"
    extra: float               # over the plan: racks (factory), units (supply), W (site)
    unit: str                  # "racks", "units" or "W"
    base: float                # same measure without growth (racks over the plan, units
                               # delivered over the plan, site power in the last quarter)
    first_quarter: date        # first quarter the extra capacity is needed
    peak_racks_per_week: float | None = None   # factory only
    by_subject: dict[str, float] | None = None  # sites: one way to split the extra power [W]

    @property
    def relative(self) -> float:
        return self.extra / self.base if self.base > 0 else float("inf")

    def describe(self) -> str:
        if self.unit == "W":
            amount = f"+{self.extra / 1e9:,.2f} GW facility power"
        else:
            amount = f"+{self.extra:,.0f} {self.unit}"
        rel = f"+{self.relative:.0%}" if np.isfinite(self.relative) else "new"
        peak = (f", up to +{self.peak_racks_per_week:,.1f} racks/week"
                if self.peak_racks_per_week else "")
        where = (f" at any site (e.g. {', '.join(self.by_subject)})"
                 if self.by_subject else "")
        return (f"{self.limit}: {amount}{where} ({rel}{peak}), needed from "
                f"{format_quarter(self.first_quarter)}")


@dataclass(frozen=True)
class RampResult:
    """The quarterly ramp, whether it reaches the target, and what must grow if not."""

    quarters: tuple[QuarterPlan, ...]
    objective: str
    target_w: float | None
    target_basis: str                     # "facility" or "it"
    target_reached: bool | None           # None without a target
    target_quarter: date | None           # first quarter at or above the target
    growth: tuple[Growth, ...]            # empty unless the target is out of reach
    duals: dict[str, float]               # row name -> dual price (nonzero only)
    racks_online_by_site: dict[str, tuple[float, ...]]  # site -> racks energized, by quarter

    @property
    def final(self) -> QuarterPlan:
        return self.quarters[-1]

    @property
    def capex_usd(self) -> float:
        """Rack and facility capex of the whole plan [USD]."""
        return sum(q.rack_capex_usd + q.facility_capex_usd for q in self.quarters)

    def racks_built_whole(self, generation: str | None = None) -> dict[date, float]:
        """Whole racks built per quarter (of one generation, or of all): the cumulative LP
        count rounded down, differenced (so the whole-rack total never exceeds what the LP
        built) [racks]. Of all generations, the sum of each generation's whole racks, so the
        plan's total is the racks sourcing buys for, design by design."""
        systems = self.final.racks_by_system
        if generation is None and len(systems) > 1:
            by_system = [self.racks_built_whole(g) for g in systems]
            return {q.quarter: sum(racks[q.quarter] for racks in by_system)
                    for q in self.quarters}
        per_quarter = [q.racks_built if generation is None else
                       q.racks_by_system.get(generation, 0.0) for q in self.quarters]
        built = np.floor(np.cumsum(per_quarter) + 1e-3)     # LP values within tolerance
        return {q.quarter: float(n)
                for q, n in zip(self.quarters, np.diff(built, prepend=0.0), strict=True)}

    @property
    def racks_total(self) -> float:
        """Whole racks built over the plan [racks]."""
        return sum(self.racks_built_whole().values())

    def power_online_w(self, q: QuarterPlan) -> float:
        return q.facility_power_online_w if self.target_basis == "facility" \
            else q.it_power_online_w

    def to_dict(self) -> dict:
        out = asdict(self)
        for g, growth in zip(out["growth"], self.growth, strict=True):
            g["relative"], g["description"] = growth.relative, growth.describe()
        out["capex_usd"] = self.capex_usd
        out["racks_total"] = self.racks_total
        out["racks_by_quarter"] = {format_quarter(q): n
                                   for q, n in self.racks_built_whole().items()}
        by_system = {g: self.racks_built_whole(g) for g in self.final.racks_by_system}
        out["racks_total_by_system"] = {g: sum(racks.values()) for g, racks in by_system.items()}
        out["whole_racks_by_system_by_quarter"] = {
            g: {format_quarter(q): n for q, n in racks.items()} for g, racks in by_system.items()}
        return out


def _held_dual(dual: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Dual of each cumulative row plus those of the later rows with the same right-hand side
    (the same limit, held: nothing is delivered in between), which share its value."""
    out = dual.copy()
    for t in range(dual.shape[1] - 2, -1, -1):
        same = np.isclose(rhs[:, t + 1], rhs[:, t])
        out[:, t] += np.where(same, out[:, t + 1], 0.0)
    return out


def _solve(model: LinearModel) -> tuple[Arrays, Solution]:
    """The model's arrays and HiGHS's solution, "optimal" or "infeasible"."""
    arrays = model.arrays()
    sol = solve(arrays, RAMP_OPTIONS)
    if sol.status not in ("optimal", "infeasible"):
        raise SolverError(f"HiGHS stopped: the ramp LP is {sol.status.replace('_', ' ')}")
    return arrays, sol


def _binding(inp: PlanInputs, model: LinearModel, arrays: Arrays,
             sol: Solution) -> tuple[list[str], list[str]]:
    """Binding row name and family for each plan quarter.

    A row binds when it is tight and its dual, per rack it would let through, is the largest of
    the quarter's rows; ties go to the larger limit (the site or part actually delivering). A
    site, item or crew with nothing yet (0 W, 0 crews) is never named.
    """
    T = inp.n_quarters
    best = [(0.0, 0.0, "-", "none") for _ in range(T)]
    crews = 0 if inp.crews is None else int(np.isfinite(inp.crews[:, 0]).sum())
    blocks = [("factory-output-upper", "factory", np.ones(1), False),
              ("supply-units-upper", "supply", inp.use.max(axis=1, initial=0.0), True),
              ("site-power-upper", "site", np.ones(len(inp.sites)), True),
              ("site-chain-upper", "chain", np.ones(len(inp.chain)), True),
              ("site-crew-upper", "crew", np.full(crews, 1.0 / inp.crew_rate.min()
                                                  if inp.crew_rate is not None else 1.0), False),
              ("program-demand-upper", "demand", np.ones(1), True)]
    for name, family, per_rack, cumulative in blocks:
        block = model.rows.get(name)
        if block is None:
            continue
        rows = block.index.reshape(-1, T)
        rhs = arrays.row_upper[rows]
        tight = rhs - sol.row_activity[rows] <= TOL * np.maximum(1.0, np.abs(rhs))
        dual = np.abs(sol.row_dual[rows])
        if cumulative:
            dual = _held_dual(dual, rhs)
        value = dual * per_rack[:, None] * tight
        if family in ("site", "chain", "crew"):
            value = value * (rhs > 0)   # a site with nothing yet is not what limits the quarter
        for k, t in zip(*np.nonzero(value > 1e-9), strict=True):
            q = t + inp.lag        # rows are indexed by the build / ship quarter
            if q >= T:
                continue
            key = (round(value[k, t], 9), rhs[k, t] * per_rack[k] / per_rack.max())
            if key > best[q][:2]:
                label = block.labels[rows[k, t] - block.start]
                best[q] = (*key, f"{name}[{label}]", family)
    for t in range(min(inp.lag, T)):
        best[t] = (0.0, 0.0, "-", "commissioning")
    return [b[2] for b in best], [b[3] for b in best]


def _quarters(inp: PlanInputs, built: tuple[LinearModel, Arrays, Vars],
              sol: Solution) -> tuple[QuarterPlan, ...]:
    model, arrays, variables = built
    build = np.maximum(sol.x[variables.build], 0.0)       # (G, T); no -0 from the solver
    ship = np.maximum(sol.x[variables.ship], 0.0)         # (G, S, T)
    T, lag = inp.n_quarters, inp.lag
    energized = np.zeros_like(ship)
    energized[:, :, lag:] = ship[:, :, : T - lag]
    online = np.cumsum(energized, axis=2)                 # (G, S, T)
    online_g = online.sum(axis=1)                         # (G, T)
    new_g = energized.sum(axis=1)
    facility = np.einsum("gst,gs->t", online, inp.facility_w)
    stock = np.maximum(np.cumsum(build.sum(axis=0)) - np.cumsum(ship.sum(axis=(0, 1))), 0.0)
    econ = inp.economics
    names, families = _binding(inp, model, arrays, sol)
    gens = inp.generations
    return tuple(QuarterPlan(
        quarter=q, racks_built=float(build[:, t].sum()), racks_shipped=float(ship[:, :, t].sum()),
        racks_energized=float(new_g[:, t].sum()), racks_online=float(online_g[:, t].sum()),
        accelerators_online=float(online_g[:, t] @ inp.accelerators),
        it_power_online_w=float(online_g[:, t] @ inp.it_w),
        facility_power_online_w=float(facility[t]),
        rack_capex_usd=float(build[:, t] @ inp.rack_capex_usd),
        facility_capex_usd=float(new_g[:, t] @ inp.it_w / 1e6 * econ.facility_capex_usd_per_mw),
        binding=names[t], binding_family=families[t],
        factory_capacity_racks=float(inp.factory_net_racks[t]),
        site_power_w=float(inp.site_power_now_w[:, t].sum()),
        racks_in_stock=float(stock[t]),
        power_wanted_online_w=inp.demand.wanted_online_w[t],
        racks_by_system={g: float(build[k, t]) for k, g in enumerate(gens)},
        online_by_system={g: float(online_g[k, t]) for k, g in enumerate(gens)},
        binding_note=_note(inp, names[t], families[t]))
        for t, q in enumerate(inp.quarters))


def _note(inp: PlanInputs, name: str, family: str) -> str:
    """What lifts a binding power-chain limit: its units carry load ``ready_quarters`` after
    they are ordered, so more of them for quarter q must be ordered by q - ready."""
    if family != "chain":
        return ""
    site, item, quarter = name[name.index("[") + 1:-1].split(",")
    limit = next(c for c in inp.chain if inp.sites[c.site] == site and c.item == item)
    order_by = add_quarters(parse_quarter(quarter), -limit.ready_quarters)
    return (f"{site}: {quarter} limited by {item} installed by then; order more by "
            f"{format_quarter(order_by)} ({limit.ready_quarters} quarters of lead and install "
            "time) to lift it")


def _duals(model: LinearModel, sol: Solution) -> dict[str, float]:
    """Row name -> dual price (d objective / d row bound), for the nonzero duals."""
    names = model.row_names()
    return {names[i]: float(sol.row_dual[i]) for i in np.nonzero(np.abs(sol.row_dual) > 1e-9)[0]}


def plan_ramp(inp: PlanInputs) -> RampResult:
    """Solve the ramp (library entry point): max capacity by every quarter, or min cost to reach
    the target; with a target out of reach, the max-capacity ramp and the growth it needs."""
    mode, with_target = inp.objective, inp.objective == "min-cost"
    model, variables = build_model(inp, mode, with_target)
    arrays, sol = _solve(model)
    if sol.status == "infeasible":               # min-cost target out of reach
        mode, with_target = "max-capacity", False
        model, variables = build_model(inp, mode, with_target)
        arrays, sol = _solve(model)
    quarters = _quarters(inp, (model, arrays, variables), sol)
    reached, when, growth = None, None, ()
    if inp.target_w is not None:
        basis = [q.facility_power_online_w if inp.target_basis == "facility"
                 else q.it_power_online_w for q in quarters]
        hit = [q.quarter for q, p in zip(quarters, basis, strict=True)
               if p >= inp.target_w * (1 - TOL)]
        reached, when = bool(hit), (hit[0] if hit else None)
        growth = () if reached else needed_growth(inp)
    return RampResult(quarters, inp.objective, inp.target_w, inp.target_basis, reached, when,
                      growth, _duals(model, sol), _by_site(inp, variables, sol))


def _by_site(inp: PlanInputs, variables: Vars, sol: Solution) -> dict[str, tuple[float, ...]]:
    ship = np.cumsum(np.maximum(sol.x[variables.ship], 0.0).sum(axis=0), axis=1)
    online = np.zeros_like(ship)
    online[:, inp.lag:] = ship[:, : inp.n_quarters - inp.lag]
    return {site: tuple(float(x) for x in online[s]) for s, site in enumerate(inp.sites)}


def needed_growth(inp: PlanInputs) -> tuple[Growth, ...]:
    """Least growth (in rack-equivalents) of the limits that lets the ramp reach the target."""
    model, variables = build_model(inp, "elastic", with_target=True)
    _, sol = _solve(model)
    if sol.status == "infeasible":
        return (Growth("commissioning lag", float(inp.lag), "quarters", 0.0, inp.quarters[-1]),)
    out: list[Growth] = []
    q = inp.quarters
    capacity = inp.factory_net_racks
    alpha = float(sol.x[variables.slack["factory"]][0])
    build = sol.x[variables.build]                       # (G, T)
    if alpha > TOL:
        over = (inp.time_finite * build).sum(axis=0) - capacity
        out.append(Growth("factory-output-upper", alpha * float(capacity.sum()),
                          "racks", float(capacity.sum()), q[_first(over)],
                          alpha * float(inp.factory_racks.max()) / WEEKS_PER_QUARTER))
    if "supply" in variables.slack:
        cum_units = inp.use @ np.cumsum(build, axis=1)    # (P, T)
        for p, part in enumerate(inp.parts):
            beta = float(sol.x[variables.slack["supply"]][p])
            if beta > TOL:
                out.append(Growth(f"supply-units-upper[{part}]",
                                  beta * float(inp.supply_cum[p, -1]), "units",
                                  float(inp.supply_cum[p, -1]),
                                  q[_first(cum_units[p] - inp.supply_cum[p])]))
    out += _site_growth(inp, variables, sol)
    return tuple(out)


def _site_growth(inp: PlanInputs, variables: Vars, sol: Solution) -> list[Growth]:
    """Extra grid power, power-chain capacity and crews the elastic solve added."""
    T, out = inp.n_quarters, []
    subjects = {"site-power-upper": list(inp.sites),
                "site-chain-upper": [f"{inp.sites[c.site]} {c.item}" for c in inp.chain]}
    for name, labels in subjects.items():
        if name not in variables.slack:
            continue
        extra_w = sol.x[variables.slack[name]].reshape(len(labels), T)
        if extra_w.sum() <= TOL * inp.rack_facility_w:
            continue
        # the extra power may go to any row: report the total, and where the solve put it
        split = {label: float(extra_w[k].sum()) for k, label in enumerate(labels)
                 if extra_w[k].sum() > TOL * inp.rack_facility_w}
        base = (float(inp.site_power_w[:, -1].sum()) if name == "site-power-upper"
                else float(sum(c.capacity_w[-1] for c in inp.chain)))
        out.append(Growth(name, float(extra_w.sum()), "W", base,
                          inp.energize_quarters[_first(extra_w.sum(axis=0))], by_subject=split))
    if "site-crew-upper" in variables.slack:
        extra = sol.x[variables.slack["site-crew-upper"]]
        if extra.sum() > TOL:
            crews = inp.crews[np.isfinite(inp.crews[:, 0])]
            out.append(Growth("site-crew-upper", float(extra.reshape(len(crews), T).max(
                axis=1).sum()), "crews", float(crews[:, -1].sum()), inp.energize_quarters[
                _first(extra.reshape(len(crews), T).sum(axis=0))]))
    return out


def _first(values: np.ndarray) -> int:
    """Index of the first value clearly above zero (0 when none is)."""
    above = np.nonzero(values > TOL * max(1.0, float(np.abs(values).max())))[0]
    return int(above[0]) if len(above) else 0
