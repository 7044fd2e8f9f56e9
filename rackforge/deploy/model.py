"""The deployment ramp as a linear program, built from tables by one ``define_*`` per family.

Variables, per generation g (a rack of the plan, or each generation of ``plan.generations``),
quarter t of the plan (T quarters) and site s:

- ``build[g,t]``: racks of g the factory completes in quarter t (0 outside g's quarters);
- ``ship[g,s,t]``: racks of g shipped to site s in quarter t, energized ``lag`` quarters later.

Constraint families (rows named ``"{component}-{family}-{bound}[label]"``):

- ``factory-output-upper[t]``: sum over g of line time per rack x build[g,t] <= the line's
  base-line racks in t (racks per week x 13 x ramp, less changeovers);
- ``supply-units-upper[p,t]``: units per rack x racks built up to t (of the generations that use
  p) <= units of part p delivered up to t (parts are stockable);
- ``shipment-inventory-upper[g,t]``: racks of g shipped up to t <= racks of g built up to t;
- ``site-power-upper[s,q]``: facility power of the racks energized at s by quarter q (shipped by
  q - lag) <= the site's grid power in q (held after the plan's end);
- ``site-chain-upper[s,item,q]``: the same power <= what the item's units installed by q carry;
- ``site-crew-upper[s,q]``: crew-quarters the racks energized at s in q take <= its crews;
- ``program-demand-upper[t]``: power shipped up to t, on the target's basis <= the target (the
  program places no more than it wants, see :mod:`rackforge.deploy.demand`);
- ``mix-share-fixed[g,t]``: build[g,t] = share x all racks built in t (``mix: fixed``);
- ``program-target-lower[end]``: power energized by the last quarter >= the target.

With ``elastic=True`` every limit gets a priced slack (see :func:`define_factory_output`, ...),
so the solve tells how much each limit must grow for the target to be reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rackforge.calendar import format_quarter
from rackforge.deploy.plan_inputs import PlanInputs
from rackforge.highs import INF, LinearModel

INVENTORY_PENALTY = 0.1   # per rack-quarter held, as a share of 1/T of a rack-quarter online
SHIP_EARLY_REWARD = 1e-6  # per rack per remaining quarter, in cost-minimizing objectives
MERIT_WEIGHT = 1e-3       # per W-quarter at merit 1: breaks ties between ramps of equal power


@dataclass(frozen=True)
class Vars:
    build: np.ndarray           # (G, T) column indices
    ship: np.ndarray            # (G, S, T) column indices
    slack: dict[str, np.ndarray]  # family -> column indices of elastic slacks


def _tril(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row t, column tau) pairs with tau <= t: the cumulative-sum pattern."""
    return np.tril_indices(n)


def define_variables(model: LinearModel, inp: PlanInputs) -> Vars:
    """``build[g,t]`` and ``ship[g,s,t]`` [racks], non-negative; a generation is built only in
    its quarters. Costs are set by the objective."""
    G, S, T = inp.n_generations, len(inp.sites), inp.n_quarters
    upper = np.where(inp.available, INF, 0.0).ravel()
    build = model.add_columns("build", np.zeros(G * T), (0.0, upper)).reshape(G, T)
    ship = model.add_columns("ship", np.zeros(G * S * T)).reshape(G, S, T)
    return Vars(build, ship, {})


def define_factory_output(model: LinearModel, inp: PlanInputs, variables: Vars,
                          elastic: bool) -> None:
    """sum_g time[g,t] build[g,t] - scale x capacity[t] <= capacity[t] [base-line racks]; with
    `elastic`, scale >= 0 grows the whole schedule in proportion, at 1 per rack of extra output
    over the plan."""
    capacity = inp.factory_net_racks
    rows = model.add_rows("factory-output-upper", -INF, capacity, inp.n_quarters,
                          labels=inp.labels)
    G = inp.n_generations
    model.add_terms(np.tile(rows, G), variables.build.ravel(), inp.time_finite.ravel())
    if elastic:
        scale = model.add_columns("factory-scale", [capacity.sum()])
        variables.slack["factory"] = scale
        model.add_terms(rows, np.repeat(scale, len(rows)), -capacity)


def define_supply(model: LinearModel, inp: PlanInputs, variables: Vars, elastic: bool) -> None:
    """sum_g units[p,g] x cumulative builds of g (- scale x cumulative delivered) <= cumulative
    delivered [units]; with `elastic`, one scale per part at 1 per rack-equivalent of extra
    units over the plan."""
    n, T = len(inp.parts), inp.n_quarters
    if n == 0:
        return
    rt, ct = _tril(T)
    rows = model.add_rows("supply-units-upper", -INF, inp.supply_cum.ravel(), n * T,
                          labels=[f"{p},{q}" for p in inp.parts for q in inp.labels])
    use = inp.use
    for g in range(inp.n_generations):
        used = np.nonzero(use[:, g])[0]
        if len(used) == 0:
            continue
        model.add_terms(rows[(used[:, None] * T + rt[None, :]).ravel()],
                        np.broadcast_to(variables.build[g, ct], (len(used), len(ct))),
                        np.repeat(use[used, g], len(ct)))
    if elastic:
        per_rack = use.max(axis=1)
        scale = model.add_columns("supply-scale", inp.supply_cum[:, -1] / per_rack)
        variables.slack["supply"] = scale
        model.add_terms(rows, np.repeat(scale, T), -inp.supply_cum.ravel())


def define_inventory(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """Racks of g shipped up to t <= racks of g built up to t [racks]."""
    G, S, T = inp.n_generations, len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    rows = model.add_rows("shipment-inventory-upper", -INF, 0.0, G * T,
                          labels=[f"{g},{q}" for g in inp.generations for q in inp.labels])
    for g in range(G):
        block = rows[g * T:(g + 1) * T]
        model.add_terms(block[np.tile(rt, S)], variables.ship[g][:, ct], 1.0)
        model.add_terms(block[rt], variables.build[g, ct], -1.0)


def _site_power_rows(model: LinearModel, name: str, inp: PlanInputs, variables: Vars,
                     sites: np.ndarray, upper: np.ndarray, labels: list[str],
                     elastic: bool) -> np.ndarray:
    """Rows ``name``: facility power of the racks shipped to site sites[k] by t (- extra W)
    <= upper[k, t] [W], written in rack-equivalents (W / the largest rack's facility power, so
    the matrix stays well scaled); with `elastic`, extra W at every row, priced per
    rack-equivalent."""
    T = inp.n_quarters
    rt, ct = _tril(T)
    scale = inp.rack_facility_w
    rows = model.add_rows(name, -INF, upper.ravel() / scale, len(sites) * T, labels=labels)
    facility = inp.facility_w / scale
    for k, s in enumerate(sites):
        block = rows[k * T:(k + 1) * T]
        for g in range(inp.n_generations):
            model.add_terms(block[rt], variables.ship[g, s, ct], facility[g, s])
    if elastic:
        extra = model.add_columns(f"{name}-extra",
                                  np.tile(_growth_cost(inp), len(sites)) / scale)
        variables.slack[name] = extra
        model.add_terms(rows.reshape(len(sites), T)[:, rt].ravel(),
                        extra.reshape(len(sites), T)[:, ct].ravel(), -1.0 / scale)
    return rows


def define_site_power(model: LinearModel, inp: PlanInputs, variables: Vars, elastic: bool) -> None:
    """Grid power and power-chain items of each site (module docstring)."""
    S = len(inp.sites)
    energize = [format_quarter(q) for q in inp.energize_quarters]
    _site_power_rows(model, "site-power-upper", inp, variables, np.arange(S),
                     inp.site_power_w, [f"{s},{q}" for s in inp.sites for q in energize],
                     elastic)
    if inp.chain:
        _site_power_rows(model, "site-chain-upper", inp, variables,
                         np.array([c.site for c in inp.chain]),
                         np.array([c.capacity_w for c in inp.chain]),
                         [f"{inp.sites[c.site]},{c.item},{q}" for c in inp.chain
                          for q in energize], elastic)


def define_crews(model: LinearModel, inp: PlanInputs, variables: Vars, elastic: bool) -> None:
    """sum_g racks of g shipped to s in t / racks a crew energizes of g a quarter (- extra)
    <= crews at s when they are energized (t + lag) [crew-quarters]; only for sites that state
    crews."""
    if inp.crews is None:
        return
    sites = np.nonzero(np.isfinite(inp.crews[:, 0]))[0]
    if len(sites) == 0:
        return
    T = inp.n_quarters
    energize = [format_quarter(q) for q in inp.energize_quarters]
    rows = model.add_rows("site-crew-upper", -INF, inp.crews[sites].ravel(), len(sites) * T,
                          labels=[f"{inp.sites[s]},{q}" for s in sites for q in energize])
    for k, s in enumerate(sites):
        for g in range(inp.n_generations):
            model.add_terms(rows[k * T:(k + 1) * T], variables.ship[g, s], 1.0 / inp.crew_rate[g])
    if elastic:
        extra = model.add_columns("site-crew-extra",
                                  np.tile(_growth_cost(inp), len(sites)) * inp.crew_rate.min())
        variables.slack["site-crew-upper"] = extra
        model.add_terms(rows, extra, -1.0)


def _shipped_by_last(inp: PlanInputs, variables: Vars) -> tuple[np.ndarray, np.ndarray]:
    """Columns shipped early enough to be energized by the last quarter, and the power each
    rack adds towards the target [W]."""
    last = inp.n_quarters - 1 - inp.lag
    cols = variables.ship[:, :, : max(last + 1, 0)]
    weight = np.broadcast_to(inp.target_rack_w[:, :, None], cols.shape)
    return cols.ravel(), weight.ravel()


def define_target(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """Power (facility or IT, per the target's basis) energized by the last quarter >= target
    [W]."""
    cols, weight = _shipped_by_last(inp, variables)
    scale = inp.rack_facility_w               # rack-equivalents, as the site rows
    rows = model.add_rows("program-target-lower", inp.target_w / scale, INF, 1,
                          labels=[inp.labels[-1]])
    model.add_terms(np.repeat(rows, len(cols)), cols, weight / scale)


def define_demand(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """Power shipped by t, on the target's basis <= the target [W]: the program places no more
    than it wants (only with a target)."""
    if inp.target_w is None:
        return
    G, S, T = inp.n_generations, len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    scale = inp.rack_facility_w               # rack-equivalents, as the site rows
    rows = model.add_rows("program-demand-upper", -INF, inp.target_w / scale, T,
                          labels=inp.labels)
    weight = inp.target_rack_w / scale
    for g in range(G):
        for s in range(S):
            model.add_terms(rows[rt], variables.ship[g, s, ct], weight[g, s])


def define_mix(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """build[g,t] - share[g,t] x sum_g' build[g',t] = 0 (``mix: fixed``) [racks]."""
    if inp.shares is None:
        return
    G, T = inp.n_generations, inp.n_quarters
    rows = model.add_rows("mix-share-fixed", 0.0, 0.0, G * T,
                          labels=[f"{g},{q}" for g in inp.generations for q in inp.labels])
    for g in range(G):
        block = rows[g * T:(g + 1) * T]
        model.add_terms(block, variables.build[g], 1.0)
        for h in range(G):
            model.add_terms(block, variables.build[h], -inp.shares[g])


def _growth_cost(inp: PlanInputs) -> np.ndarray:
    """Price of one rack-equivalent of extra capacity: 1, slightly more the earlier it is needed
    (so the elastic solve adds capacity as late as the target allows)."""
    return 1.0 + 1e-3 * (inp.n_quarters - np.arange(inp.n_quarters)) / inp.n_quarters


def define_objective(model: LinearModel, inp: PlanInputs, variables: Vars, mode: str) -> None:
    """Set column costs: max-capacity [rack-quarters of the largest rack's power], min-cost
    [USD] or elastic [rack-equivalents] (slack costs set with the slacks)."""
    T = inp.n_quarters
    remaining = (T - np.arange(T)).astype(float)
    power = inp.target_rack_w / inp.target_rack_w.max() if len(inp.sites) else \
        np.ones((inp.n_generations, 0))
    if mode == "max-capacity":
        # maximize power-quarters shipped (each rack counts every quarter after it ships, so
        # earlier is better); among ramps of equal power, the most useful work per cost; hold
        # no inventory without need.
        eps = INVENTORY_PENALTY / T
        merit = inp.merit if inp.merit is not None else np.zeros(inp.n_generations)
        value = power * (1.0 + eps + MERIT_WEIGHT * merit[:, None])
        model.set_cost(variables.ship.ravel(),
                       -(value[:, :, None] * remaining[None, None, :]).ravel())
        model.set_cost(variables.build.ravel(), (eps * inp.time_finite * remaining).ravel())
    else:
        model.set_cost(variables.ship.ravel(),
                       np.broadcast_to(-SHIP_EARLY_REWARD * remaining,
                                       variables.ship.shape).ravel())
        if mode == "min-cost":
            capex = inp.rack_capex_usd[:, None]
            holding = 1e-3 * capex * remaining[None, :]
            model.set_cost(variables.build.ravel(), (capex * inp.discount + holding).ravel())


def build_model(inp: PlanInputs, mode: str, with_target: bool) -> tuple[LinearModel, Vars]:
    """The whole LP: `mode` is ``max-capacity``, ``min-cost`` or ``elastic``."""
    model, elastic = LinearModel(), mode == "elastic"
    variables = define_variables(model, inp)
    define_factory_output(model, inp, variables, elastic)
    define_supply(model, inp, variables, elastic)
    define_inventory(model, inp, variables)
    define_site_power(model, inp, variables, elastic)
    define_crews(model, inp, variables, elastic)
    define_demand(model, inp, variables)
    define_mix(model, inp, variables)
    if with_target:
        define_target(model, inp, variables)
    define_objective(model, inp, variables, mode)
    return model, variables
