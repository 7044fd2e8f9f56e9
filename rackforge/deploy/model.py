"""The deployment ramp as a linear program, built from tables by one ``define_*`` per family.

Variables, per quarter t of the plan (T quarters) and site s:

- ``build[t]``: racks the factory completes in quarter t;
- ``ship[s,t]``: racks shipped to site s in quarter t, energized ``lag`` quarters later.

Constraint families (rows named ``"{component}-{family}-{bound}[label]"``):

- ``factory-output-upper[t]``: build[t] <= factory capacity in t (racks per week x 13 x ramp);
- ``supply-units-upper[p,t]``: units per rack x racks built up to t <= units of part p delivered
  up to t (parts are stockable);
- ``shipment-inventory-upper[t]``: racks shipped up to t <= racks built up to t;
- ``site-power-upper[s,q]``: facility power of the racks energized at s by quarter q (shipped by
  q - lag) <= the site's facility power in q (held after the plan's end);
- ``program-target-lower[end]``: power energized by the last quarter >= the target.

With ``elastic=True`` every limit gets a priced slack (see :func:`define_factory_output`, ...),
so the solve tells how much each limit must grow for the target to be reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rackforge.calendar import WEEKS_PER_QUARTER, format_quarter
from rackforge.deploy.lp import INF, Lp
from rackforge.deploy.plan_inputs import PlanInputs

INVENTORY_PENALTY = 0.1   # per rack-quarter held, as a share of 1/T of a rack-quarter online
SHIP_EARLY_REWARD = 1e-6  # per rack per remaining quarter, in cost-minimizing objectives


@dataclass(frozen=True)
class Vars:
    build: np.ndarray           # (T,) column indices
    ship: np.ndarray            # (S, T) column indices
    slack: dict[str, np.ndarray]  # family -> column indices of elastic slacks


def _tril(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row t, column tau) pairs with tau <= t: the cumulative-sum pattern."""
    return np.tril_indices(n)


def define_variables(lp: Lp, inp: PlanInputs) -> Vars:
    quarters = [format_quarter(q) for q in inp.quarters]
    build = lp.add_vars("build", quarters)
    ship = np.array([lp.add_vars("ship", [f"{s},{q}" for q in quarters]) for s in inp.sites])
    return Vars(build, ship.reshape(len(inp.sites), len(quarters)), {})


def define_factory_output(lp: Lp, inp: PlanInputs, v: Vars, elastic: bool) -> None:
    """build[t] - scale x capacity[t] <= capacity[t]; with `elastic`, scale >= 0 grows the whole
    schedule in proportion, at 1 per rack of extra output over the plan."""
    t = np.arange(inp.n_quarters)
    r, c, val = [t], [v.build], [np.ones(inp.n_quarters)]
    if elastic:
        scale = lp.add_vars("factory-scale", ["all"], cost=inp.factory_racks.sum())
        v.slack["factory"] = scale
        r, c, val = r + [t], c + [np.repeat(scale, len(t))], val + [-inp.factory_racks]
    lp.add_rows("factory-output-upper", inp.labels,
                (np.concatenate(r), np.concatenate(c), np.concatenate(val)),
                -INF, inp.factory_racks)


def define_supply(lp: Lp, inp: PlanInputs, v: Vars, elastic: bool) -> None:
    """units/rack x cumulative builds (- scale x cumulative delivered) <= cumulative delivered;
    with `elastic`, one scale per part at 1 per rack-equivalent of extra units over the plan."""
    n, T = len(inp.parts), inp.n_quarters
    if n == 0:
        return
    rt, ct = _tril(T)
    rows = (np.arange(n)[:, None] * T + rt[None, :]).ravel()
    cols = np.broadcast_to(v.build[ct], (n, len(ct))).ravel()
    vals = np.repeat(inp.units_per_rack, len(ct))
    labels = [f"{p},{q}" for p in inp.parts for q in inp.labels]
    if elastic:
        scale = lp.add_vars("supply-scale", list(inp.parts),
                            cost=inp.supply_cum[:, -1] / inp.units_per_rack)
        v.slack["supply"] = scale
        rows = np.concatenate([rows, np.arange(n * T)])
        cols = np.concatenate([cols, np.repeat(scale, T)])
        vals = np.concatenate([vals, -inp.supply_cum.ravel()])
    lp.add_rows("supply-units-upper", labels, (rows, cols, vals), -INF,
                inp.supply_cum.ravel())


def define_inventory(lp: Lp, inp: PlanInputs, v: Vars) -> None:
    """Racks shipped up to t <= racks built up to t."""
    S, T = len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    ship_r = np.tile(rt, S)
    ship_c = v.ship[:, ct].ravel()
    rows = np.concatenate([ship_r, rt])
    cols = np.concatenate([ship_c, v.build[ct]])
    vals = np.concatenate([np.ones(len(ship_c)), -np.ones(len(ct))])
    lp.add_rows("shipment-inventory-upper", inp.labels, (rows, cols, vals), -INF, 0.0)


def define_site_power(lp: Lp, inp: PlanInputs, v: Vars, elastic: bool) -> None:
    """Facility power of racks shipped to s by t (- extra W) <= site power in quarter t + lag."""
    S, T = len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    rows = (np.arange(S)[:, None] * T + rt[None, :]).ravel()
    cols = v.ship[:, ct].ravel()
    vals = np.full(len(cols), inp.rack_facility_w)
    energize = [format_quarter(q) for q in inp.energize_quarters]
    labels = [f"{s},{q}" for s in inp.sites for q in energize]
    if elastic:
        extra = lp.add_vars("site-extra", labels,
                            cost=np.tile(_growth_cost(inp), S) / inp.rack_facility_w)
        v.slack["site"] = extra
        extra_cols = extra.reshape(S, T)[:, ct].ravel()
        rows, cols = np.concatenate([rows, rows]), np.concatenate([cols, extra_cols])
        vals = np.concatenate([vals, -np.ones(len(extra_cols))])
    lp.add_rows("site-power-upper", labels, (rows, cols, vals), -INF,
                inp.site_power_w.ravel(), scale=inp.rack_facility_w)


def define_target(lp: Lp, inp: PlanInputs, v: Vars) -> None:
    """Power (facility or IT, per the target's basis) energized by the last quarter >= target."""
    last = inp.n_quarters - 1 - inp.lag
    cols = v.ship[:, : max(last + 1, 0)].ravel()
    lp.add_rows("program-target-lower", [inp.labels[-1]],
                (np.zeros(len(cols)), cols, np.full(len(cols), inp.target_rack_w)),
                inp.target_w, INF, scale=inp.target_rack_w)


def _growth_cost(inp: PlanInputs) -> np.ndarray:
    """Price of one rack-equivalent of extra capacity: 1, slightly more the earlier it is needed
    (so the elastic solve adds capacity as late as the target allows)."""
    return 1.0 + 1e-3 * (inp.n_quarters - np.arange(inp.n_quarters)) / inp.n_quarters


def define_objective(lp: Lp, inp: PlanInputs, v: Vars, mode: str) -> None:
    """Set column costs: max-capacity, min-cost or elastic (slack costs set with the slacks)."""
    T = inp.n_quarters
    remaining = (T - np.arange(T)).astype(float)
    cost = np.concatenate(lp.cost)
    if mode == "max-capacity":
        # maximize rack-quarters shipped (each rack counts every quarter after it ships, so
        # earlier is better); hold no inventory without need.
        eps = INVENTORY_PENALTY / T
        cost[v.ship] = -(1.0 + eps) * remaining
        cost[v.build] = eps * remaining
    else:
        cost[v.ship] = -SHIP_EARLY_REWARD * remaining
        if mode == "min-cost":
            cost[v.build] = inp.rack_capex_usd * inp.discount + eps_holding(inp) * remaining
    _set_costs(lp, cost)


def eps_holding(inp: PlanInputs) -> float:
    """Holding cost per rack-quarter in min-cost mode [USD]: a thousandth of the rack capex."""
    return 1e-3 * inp.rack_capex_usd


def _set_costs(lp: Lp, cost: np.ndarray) -> None:
    sizes = np.cumsum([len(c) for c in lp.cost])[:-1]
    lp.cost = list(np.split(cost, sizes))


def build_model(inp: PlanInputs, mode: str, with_target: bool) -> tuple[Lp, Vars]:
    """The whole LP: `mode` is ``max-capacity``, ``min-cost`` or ``elastic``."""
    lp, elastic = Lp(), mode == "elastic"
    v = define_variables(lp, inp)
    define_factory_output(lp, inp, v, elastic)
    define_supply(lp, inp, v, elastic)
    define_inventory(lp, inp, v)
    define_site_power(lp, inp, v, elastic)
    if with_target:
        define_target(lp, inp, v)
    define_objective(lp, inp, v, mode)
    return lp, v


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
