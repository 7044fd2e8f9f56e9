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
- ``program-demand-upper[t]``: racks shipped up to t <= the racks the target asks for (the
  demand: no more racks than wanted, see :mod:`rackforge.deploy.demand`);
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


@dataclass(frozen=True)
class Vars:
    build: np.ndarray           # (T,) column indices
    ship: np.ndarray            # (S, T) column indices
    slack: dict[str, np.ndarray]  # family -> column indices of elastic slacks


def _tril(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row t, column tau) pairs with tau <= t: the cumulative-sum pattern."""
    return np.tril_indices(n)


def define_variables(model: LinearModel, inp: PlanInputs) -> Vars:
    """``build[t]`` and ``ship[s,t]`` [racks], non-negative, costs set by the objective."""
    S, T = len(inp.sites), inp.n_quarters
    build = model.add_columns("build", np.zeros(T))
    ship = model.add_columns("ship", np.zeros(S * T)).reshape(S, T)
    return Vars(build, ship, {})


def define_factory_output(model: LinearModel, inp: PlanInputs, variables: Vars,
                          elastic: bool) -> None:
    """build[t] - scale x capacity[t] <= capacity[t] [racks]; with `elastic`, scale >= 0 grows
    the whole schedule in proportion, at 1 per rack of extra output over the plan."""
    rows = model.add_rows("factory-output-upper", -INF, inp.factory_racks, inp.n_quarters,
                      labels=inp.labels)
    model.add_terms(rows, variables.build, 1.0)
    if elastic:
        scale = model.add_columns("factory-scale", [inp.factory_racks.sum()])
        variables.slack["factory"] = scale
        model.add_terms(rows, np.repeat(scale, len(rows)), -inp.factory_racks)


def define_supply(model: LinearModel, inp: PlanInputs, variables: Vars, elastic: bool) -> None:
    """units/rack x cumulative builds (- scale x cumulative delivered) <= cumulative delivered
    [units]; with `elastic`, one scale per part at 1 per rack-equivalent of extra units over the
    plan."""
    n, T = len(inp.parts), inp.n_quarters
    if n == 0:
        return
    rt, ct = _tril(T)
    rows = model.add_rows("supply-units-upper", -INF, inp.supply_cum.ravel(), n * T,
                      labels=[f"{p},{q}" for p in inp.parts for q in inp.labels])
    model.add_terms(rows[(np.arange(n)[:, None] * T + rt[None, :]).ravel()],
                np.broadcast_to(variables.build[ct], (n, len(ct))),
                np.repeat(inp.units_per_rack, len(ct)))
    if elastic:
        scale = model.add_columns("supply-scale", inp.supply_cum[:, -1] / inp.units_per_rack)
        variables.slack["supply"] = scale
        model.add_terms(rows, np.repeat(scale, T), -inp.supply_cum.ravel())


def define_inventory(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """Racks shipped up to t <= racks built up to t [racks]."""
    S, T = len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    rows = model.add_rows("shipment-inventory-upper", -INF, 0.0, T, labels=inp.labels)
    model.add_terms(rows[np.tile(rt, S)], variables.ship[:, ct], 1.0)
    model.add_terms(rows[rt], variables.build[ct], -1.0)


def define_site_power(model: LinearModel, inp: PlanInputs, variables: Vars, elastic: bool) -> None:
    """Facility power of racks shipped to s by t (- extra W) <= site power in quarter t + lag
    [W]."""
    S, T = len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    energize = [format_quarter(q) for q in inp.energize_quarters]
    labels = [f"{s},{q}" for s in inp.sites for q in energize]
    rows = model.add_rows("site-power-upper", -INF, inp.site_power_w.ravel(), S * T, labels=labels)
    cumulative = rows[(np.arange(S)[:, None] * T + rt[None, :]).ravel()]
    model.add_terms(cumulative, variables.ship[:, ct], inp.rack_facility_w)
    if elastic:
        extra = model.add_columns("site-extra", np.tile(_growth_cost(inp), S) / inp.rack_facility_w)
        variables.slack["site"] = extra
        model.add_terms(cumulative, extra.reshape(S, T)[:, ct], -1.0)


def define_target(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """Power (facility or IT, per the target's basis) energized by the last quarter >= target
    [W]."""
    last = inp.n_quarters - 1 - inp.lag
    cols = variables.ship[:, : max(last + 1, 0)].ravel()
    rows = model.add_rows("program-target-lower", inp.target_w, INF, 1, labels=[inp.labels[-1]])
    model.add_terms(np.repeat(rows, len(cols)), cols, inp.target_rack_w)


def define_demand(model: LinearModel, inp: PlanInputs, variables: Vars) -> None:
    """Racks shipped by t <= the racks the target asks for [racks]: the program places no
    more racks than it wants (only with a target)."""
    if inp.demand.target_racks is None:
        return
    S, T = len(inp.sites), inp.n_quarters
    rt, ct = _tril(T)
    rows = model.add_rows("program-demand-upper", -INF, inp.demand.target_racks, T,
                          labels=inp.labels)
    model.add_terms(rows[np.tile(rt, S)], variables.ship[:, ct], 1.0)


def _growth_cost(inp: PlanInputs) -> np.ndarray:
    """Price of one rack-equivalent of extra capacity: 1, slightly more the earlier it is needed
    (so the elastic solve adds capacity as late as the target allows)."""
    return 1.0 + 1e-3 * (inp.n_quarters - np.arange(inp.n_quarters)) / inp.n_quarters


def define_objective(model: LinearModel, inp: PlanInputs, variables: Vars, mode: str) -> None:
    """Set column costs: max-capacity [rack-quarters], min-cost [USD] or elastic
    [rack-equivalents] (slack costs set with the slacks)."""
    T = inp.n_quarters
    remaining = (T - np.arange(T)).astype(float)
    if mode == "max-capacity":
        # maximize rack-quarters shipped (each rack counts every quarter after it ships, so
        # earlier is better); hold no inventory without need.
        eps = INVENTORY_PENALTY / T
        model.set_cost(variables.ship, -(1.0 + eps) * remaining)
        model.set_cost(variables.build, eps * remaining)
    else:
        model.set_cost(variables.ship, -SHIP_EARLY_REWARD * remaining)
        if mode == "min-cost":
            holding = eps_holding(inp) * remaining
            model.set_cost(variables.build, inp.rack_capex_usd * inp.discount + holding)


def eps_holding(inp: PlanInputs) -> float:
    """Holding cost per rack-quarter in min-cost mode [USD]: a thousandth of the rack capex."""
    return 1e-3 * inp.rack_capex_usd


def build_model(inp: PlanInputs, mode: str, with_target: bool) -> tuple[LinearModel, Vars]:
    """The whole LP: `mode` is ``max-capacity``, ``min-cost`` or ``elastic``."""
    model, elastic = LinearModel(), mode == "elastic"
    variables = define_variables(model, inp)
    define_factory_output(model, inp, variables, elastic)
    define_supply(model, inp, variables, elastic)
    define_inventory(model, inp, variables)
    define_site_power(model, inp, variables, elastic)
    define_demand(model, inp, variables)
    if with_target:
        define_target(model, inp, variables)
    define_objective(model, inp, variables, mode)
    return model, variables
