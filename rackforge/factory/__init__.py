"""Assembly and test line: schema (:mod:`.spec`), SimPy simulation (:mod:`.simulation`),
statistics (:mod:`.statistics`), closed forms (:mod:`.queueing`), what-if (:mod:`.whatif`) and
the queueing validation (:mod:`.validate`).

Typical use::

    from rackforge.factory import simulate
    result = simulate(scenario.spec.line, racks=70_000, replications=10, seed=1)
    result.racks_per_week.mean, result.bottleneck, result.cycle_time_h.mean
"""

from rackforge.factory.queueing import Analytic, analytic
from rackforge.factory.simulation import SimulationError, simulate, trace
from rackforge.factory.spec import LineSpec
from rackforge.factory.statistics import Estimate, LineResult, StationResult
from rackforge.factory.whatif import Variant, compare, with_changes

__all__ = ["Analytic", "Estimate", "LineResult", "LineSpec", "SimulationError", "StationResult",
           "Variant", "analytic", "compare", "simulate", "trace", "with_changes"]
