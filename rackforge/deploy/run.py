"""Plan a scenario's ramp: resolve the deployed rack, build the inputs, solve.

:func:`plan` is the library entry point behind ``rackforge plan``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rackforge.deploy.adapters import factory_from_line, supply_from_sourcing
from rackforge.deploy.plan_inputs import PlanInputs, plan_inputs
from rackforge.deploy.ramp import RampResult, plan_ramp
from rackforge.economics import EconomicsSpec, RackCost
from rackforge.errors import InputError
from rackforge.inputs import closest

if TYPE_CHECKING:
    from rackforge.factory.statistics import LineResult
    from rackforge.scenario import Scenario
    from rackforge.sourcing.stage import SourcingReport


def deployed_rack(scenario: Scenario, sourcing: SourcingReport | None = None) -> RackCost:
    """Accelerators, IT power and price of the rack the plan deploys.

    Numbers given in ``plan.rack`` win; the rest come from the compare candidate it names
    (priced by `sourcing` when the candidate gives no price, see
    :func:`rackforge.compare.resolve_candidate`).
    """
    from rackforge.compare import resolve_candidate

    spec = scenario.spec.plan
    rack = spec.rack
    base: RackCost | None = None
    if rack.candidate is not None:
        cands = scenario.spec.compare.candidates if scenario.spec.compare else []
        ids = [c.id for c in cands]
        if rack.candidate not in ids:
            raise InputError("unknown compare candidate", scenario.file, "plan.rack.candidate",
                             rack.candidate, "the id of a candidate under compare.candidates",
                             closest(rack.candidate, ids))
        i = ids.index(rack.candidate)
        base = resolve_candidate(cands[i], i, scenario, sourcing).rack
    values = {"accelerators": rack.accelerators, "it_power_w": rack.it_power_w,
              "price_usd": rack.price_usd}
    for key, value in values.items():
        if value is None and base is None:
            raise InputError("missing key", scenario.file, f"plan.rack.{key}", None,
                             f"plan.rack.{key} or plan.rack.candidate naming a compare candidate")
        if value is None:
            values[key] = getattr(base, key)
    return RackCost(**values)


def inputs_of(scenario: Scenario, target_w: float | None = None,
              line: LineResult | None = None, sourcing: SourcingReport | None = None
              ) -> PlanInputs:
    """The ramp LP's inputs for `scenario`'s ``plan:`` section; `line` (the build stage's
    result) replaces the racks per week of one line; `sourcing` (the source stage's result)
    adds supply limits for the BOM parts ``plan.supply`` does not name."""
    spec = scenario.spec.plan
    if spec is None:
        raise InputError("the scenario has no plan: section", scenario.file, "plan",
                         expected="factory, sites and the rack to deploy")
    if line is not None:
        spec = spec.model_copy(update={"factory": factory_from_line(spec.factory, line)})
    if sourcing is not None:
        named = {s.part for s in spec.supply}
        extra = [s for s in supply_from_sourcing(sourcing) if s.part not in named]
        spec = spec.model_copy(update={"supply": [*spec.supply, *extra]})
    econ = scenario.spec.economics or EconomicsSpec()
    try:
        return plan_inputs(spec, deployed_rack(scenario, sourcing), econ, target_w)
    except InputError as exc:
        raise exc.at(scenario.file) from None


def plan(scenario: Scenario, target_w: float | None = None, line: LineResult | None = None,
         sourcing: SourcingReport | None = None) -> RampResult:
    """Plan `scenario`'s ramp (library entry point); `target_w` overrides ``plan.target_w``
    [W]; `line` and `sourcing`, the build and source stages' results, feed the factory's
    output and the parts' supply limits (see :func:`inputs_of`)."""
    return plan_ramp(inputs_of(scenario, target_w, line, sourcing))
