"""Quarterly deployment ramp: a linear program over factory output, component supply, site power
and commissioning lag (see :mod:`rackforge.deploy.model`)."""

from rackforge.deploy.plan_inputs import PlanInputs, plan_inputs
from rackforge.deploy.ramp import Growth, QuarterPlan, RampResult, needed_growth, plan_ramp
from rackforge.deploy.run import plan
from rackforge.deploy.spec import PlanSpec

__all__ = ["Growth", "PlanInputs", "PlanSpec", "QuarterPlan", "RampResult", "needed_growth",
           "plan", "plan_inputs", "plan_ramp"]
