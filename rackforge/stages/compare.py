"""The ``compare`` stage: candidate systems side by side with TCO, buy now or wait
(:mod:`rackforge.compare`). A candidate built of a rack design the sourcing plan buys for takes
that plan's domestic share and landed cost; training figures the ``evaluate`` stage computed
for the same system, model, GPU count and precision are reused, so the two stages agree."""

from __future__ import annotations

from collections.abc import Mapping

from rackforge.calendar import format_quarter
from rackforge.catalog import Catalog
from rackforge.compare import CompareInputs, Comparison, Estimate, SourcedRack, to_dict
from rackforge.compare import compare as compare_candidates
from rackforge.compare_spec import CompareSpec
from rackforge.design.rack import RackLayout
from rackforge.economics import EconomicsSpec
from rackforge.perf.api import TrainingEvaluation
from rackforge.sourcing.report import SourcingReport

TITLE = "Candidate comparison"
SECTIONS = ("compare", "catalog", "layouts", "economics")


def run(compare: CompareSpec, catalog: Catalog,
        layouts: Mapping[str, RackLayout] | None = None, economics: EconomicsSpec | None = None,
        evaluate: list[TrainingEvaluation] | None = None,
        source: SourcingReport | None = None) -> Comparison:
    """Rank the candidates; each sourced rack design's figures (those the plan buys racks of)
    come from `source` (unless its plan is infeasible), training rates from `evaluate` where
    it ran the same case."""
    sourced = {}
    if source is not None and source.whole.status != "infeasible":
        sourced = {d.design: SourcedRack(d.design, d.bom.total_usd, d.domestic_share)
                   for d in source.by_design if d.racks_total > 0}
    inputs = CompareInputs(catalog, layouts or {}, economics or EconomicsSpec(), sourced=sourced,
                           rates=_evaluated(compare, evaluate or []))
    return compare_candidates(compare, inputs)


def _evaluated(spec: CompareSpec, evaluations: list[TrainingEvaluation]
               ) -> dict[tuple[str, str], Estimate]:
    """Training tokens/s per GPU the evaluate stage found for a candidate's system and a
    workload's model, GPU count and precision (bf16 unless the workload says otherwise), with
    the model's error on the layout family of the best layout."""
    found = {(e.system, e.workload, e.n_gpus, e.dtype):
             Estimate(e.best.tokens_per_s_per_gpu, model_error_pct=e.best.regime_mape_pct)
             for e in evaluations}
    return {(cand.id, w.id): found[key] for cand in spec.candidates for w in spec.workloads
            if w.mode == "training"
            and (key := (cand.system, w.model, w.gpus, w.dtype or "bf16")) in found}


def summary(result: Comparison) -> str:
    rec = result.recommendation
    return (f"{len(result.results)} candidates; {rec.action} {rec.candidate_id} "
            f"(delivery {format_quarter(rec.quarter)}): {rec.reason}")


def data(result: Comparison) -> dict:
    return to_dict(result)
