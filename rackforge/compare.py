"""Early-access evaluation: candidate systems side by side, and buy now or wait.

For each candidate the lab buys the fleet its budget or its halls allow (:class:`FleetSpec`). The
fleet starts useful work ``commissioning_quarters`` after the candidate's delivery quarter and
must finish the whole portfolio (tokens to train and to serve) by the end of the deadline quarter.
A candidate that finishes in time ranks by the TCO cost of the portfolio; one that does not ranks
after every one that does, by the share of the work it gets done. So a faster system that arrives
later wins when the deadline leaves it time to catch up, and loses when it does not.

Performance comes in as data: a mapping ``(candidate id, workload id) -> PerfPoint``, or the
candidate's ``performance:`` overrides, or else :func:`estimate_performance`, the one adapter to
:mod:`rackforge.perf`. What the sourcing plan computed for a rack design (landed cost per rack,
domestic share) comes in as :class:`SourcedRack` data too; a candidate built of a design the
plan did not source says "not sourced" unless the scenario states its share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Literal

from rackforge.calendar import (
    add_quarters,
    format_quarter,
    hours_between,
    quarter_end,
    quarters_as_text,
)
from rackforge.catalog import Catalog
from rackforge.catalog.models import System
from rackforge.compare_spec import CandidateSpec, CompareSpec, WorkloadItem
from rackforge.design.budget import RackBudget
from rackforge.design.rack import RackLayout
from rackforge.economics import (
    EconomicsSpec,
    PerfPoint,
    RackCost,
    Tco,
    TokenEconomics,
    provenance,
    tco,
    token_economics,
)
from rackforge.errors import InputError
from rackforge.inputs import closest
from rackforge.perf import Serving, TrainingOptions, evaluate_inference, evaluate_training
from rackforge.perf.api import training_context
from rackforge.perf.goodput import job_goodput

PerfTable = Mapping[tuple[str, str], PerfPoint]
DomesticBasis = Literal["sourced", "stated", "not sourced"]


@dataclass(frozen=True)
class SourcedRack:
    """What a sourcing plan computed for one rack design."""

    design: str
    landed_cost_usd: float          # per rack: each BOM part at the plan's average landed cost
    domestic_share: float | None    # of the plan's purchases over its horizon, by its rule [-]


@dataclass(frozen=True)
class CandidateRack:
    """A candidate's rack as the scenario describes it: ids resolved, price as stated."""

    id: str
    system: System
    available: date
    design: str | None              # rack design id of the scenario, if the candidate names one
    accelerators: int
    it_power_w: float               # per rack at full load [W]
    price_usd: float | None         # stated hardware price per rack [USD]


@dataclass(frozen=True)
class CandidateData:
    """A candidate with its catalog ids resolved into numbers and its rack priced."""

    id: str
    system_id: str
    available: date
    rack: RackCost
    cooling: str
    domestic_share: float | None = None
    domestic_basis: DomesticBasis = "not sourced"
    landed_cost_usd: float | None = None   # per rack, from the sourcing plan [USD]


@dataclass(frozen=True)
class CandidateResult:
    """One candidate evaluated on the portfolio under one set of assumptions."""

    id: str
    system_id: str
    available: date
    work_start: date                  # first quarter of useful work (delivery + commissioning)
    racks: int                        # fleet size
    accelerators: int                 # in the fleet
    rack_it_power_w: float            # per rack at full load
    fleet_it_power_w: float
    fleet_capex_usd: float            # racks + facility share
    tco: Tco                          # per rack
    tokens: dict[str, TokenEconomics]  # by workload id
    perf: dict[str, PerfPoint]         # by workload id
    hours_needed: float               # wall-clock hours to finish the portfolio [h]
    finish: date | None               # day the portfolio is done (None: the fleet is empty)
    meets_deadline: bool
    work_done_fraction: float         # of the portfolio, by the deadline
    cost_of_work_usd: float           # TCO cost of the whole portfolio
    fits_hall: bool
    fit_note: str
    domestic_share: float | None
    domestic_basis: DomesticBasis
    meets_domestic: bool | None
    landed_cost_usd: float | None     # per rack, from the sourcing plan [USD]

    def sort_key(self) -> tuple:
        """Fitting first, then finishing in time (cheapest first), then most work done."""
        second = self.cost_of_work_usd if self.meets_deadline else -self.work_done_fraction
        return (not self.fits_hall, not self.meets_deadline, second, self.available, self.id)


@dataclass(frozen=True)
class Recommendation:
    candidate_id: str
    action: str        # "buy now" or "wait"
    quarter: date      # when to buy (the candidate's delivery quarter, slip included)
    reason: str


@dataclass(frozen=True)
class SensitivityCase:
    name: str
    winner: str
    ranking: tuple[str, ...]
    winner_changed: bool


@dataclass(frozen=True)
class Comparison:
    """Ranked candidates, the recommendation and the sensitivity of the ranking."""

    decision: date
    deadline: date
    results: tuple[CandidateResult, ...]         # best first
    recommendation: Recommendation
    sensitivity: tuple[SensitivityCase, ...] = ()
    assumptions: list[dict] = field(default_factory=list)

    @property
    def ranking(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.results)


@dataclass(frozen=True)
class Case:
    """Assumptions of one evaluation: the economics and a delivery slip in quarters."""

    economics: EconomicsSpec
    slip_quarters: int = 0


@dataclass(frozen=True)
class Estimate:
    """What :func:`estimate_performance` computes for one (system, workload): tokens/s per GPU
    and, for serving, the throughput-interactivity front (tokens/s per user, per GPU)."""

    tokens_per_s_per_gpu: float
    curve: tuple[tuple[float, float], ...] = ()
    model_error_pct: float | None = None     # on published runs of its kind [%]


def estimate_performance(system: System, workload: WorkloadItem, catalog: Catalog) -> Estimate:
    """Adapter to :mod:`rackforge.perf`: tokens/s per GPU of `system` on `workload`.

    Training: the best layout of the parallelism search on ``workload.gpus`` GPUs. Serving: the
    highest output tokens/s per GPU on one scale-up domain that fits (and meets the latency
    target, if any), with the throughput-interactivity front of the same search.
    """
    if workload.mode == "training":
        options = TrainingOptions(dtype=workload.dtype or "bf16", top=1)
        ev = evaluate_training(system, workload.model, workload.gpus, options, catalog)
        return Estimate(ev.best.tokens_per_s_per_gpu, model_error_pct=ev.best.regime_mape_pct)
    inf = evaluate_inference(system, workload.model, system.scaleup_domain, _serving(workload),
                             workload.serving.precision or workload.dtype or "fp8", catalog,
                             workload.serving.engine)
    return Estimate(inf.tokens_per_s_per_gpu,
                    tuple((p.tokens_per_s_per_user, p.tokens_per_s_per_gpu)
                          for p in inf.result.curve),
                    inf.validation.mape_pct if inf.validation else None)


def _fleet_racks(spec: CompareSpec, t: Tco, rack: RackCost) -> int:
    limits = []
    if spec.fleet.budget_usd is not None:
        limits.append(spec.fleet.budget_usd / t.capex_usd)
    if spec.fleet.it_power_w is not None:
        limits.append(spec.fleet.it_power_w / rack.it_power_w)
    return max(0, math.floor(min(limits) + 1e-9))


def _hall_fit(spec: CompareSpec, cand: CandidateData) -> tuple[bool, str]:
    hall = spec.halls
    if hall is None:
        return True, "no hall limits given"
    notes = []
    if cand.rack.it_power_w > hall.max_rack_power_w * (1 + 1e-9):
        notes.append(f"{cand.rack.it_power_w / 1e3:.0f} kW rack > "
                     f"{hall.max_rack_power_w / 1e3:.0f} kW hall limit")
    if cand.cooling not in hall.cooling:
        notes.append(f"{cand.cooling} cooling not offered ({', '.join(hall.cooling)})")
    return not notes, "; ".join(notes) or "fits"


def evaluate(spec: CompareSpec, cand: CandidateData, perf: PerfTable, case: Case
             ) -> CandidateResult:
    """Evaluate one candidate on the portfolio under `case`."""
    econ = case.economics
    t = tco(cand.rack, econ)
    late = cand.available > spec.decision   # a delivery slip hits candidates not yet here
    available = add_quarters(cand.available, case.slip_quarters if late else 0)
    start = add_quarters(max(available, spec.decision), spec.commissioning_quarters)
    racks = _fleet_racks(spec, t, cand.rack)
    gpus = racks * cand.rack.accelerators
    points = {w.id: perf[(cand.id, w.id)] for w in spec.workloads}
    rate = {w: gpus * p.useful_tokens_per_s_per_gpu * econ.utilization * 3600.0
            for w, p in points.items()}                       # tokens per wall-clock hour
    hours = sum(w.tokens / rate[w.id] for w in spec.workloads) if gpus else math.inf
    available_h = max(0.0, hours_between(start, quarter_end(spec.deadline)))
    econ_tokens = {w: token_economics(t, p, econ) for w, p in points.items()}
    fits, note = _hall_fit(spec, cand)
    share = cand.domestic_share
    return CandidateResult(
        id=cand.id, system_id=cand.system_id, available=available, work_start=start,
        racks=racks, accelerators=gpus, rack_it_power_w=cand.rack.it_power_w,
        fleet_it_power_w=racks * cand.rack.it_power_w,
        fleet_capex_usd=racks * t.capex_usd, tco=t, tokens=econ_tokens, perf=points,
        hours_needed=hours,
        finish=start + timedelta(hours=hours) if math.isfinite(hours) else None,
        meets_deadline=hours <= available_h,
        work_done_fraction=min(1.0, available_h / hours) if hours > 0 else 1.0,
        cost_of_work_usd=sum(w.tokens / 1e6 * econ_tokens[w.id].cost_per_mtok_usd
                             for w in spec.workloads),
        fits_hall=fits, fit_note=note, domestic_share=share, domestic_basis=cand.domestic_basis,
        meets_domestic=None if share is None else share >= spec.domestic_content_threshold,
        landed_cost_usd=cand.landed_cost_usd)


def rank(spec: CompareSpec, cands: list[CandidateData], perf: PerfTable, case: Case
         ) -> tuple[CandidateResult, ...]:
    """All candidates evaluated under `case`, best first (see :meth:`CandidateResult.sort_key`)."""
    return tuple(sorted((evaluate(spec, c, perf, case) for c in cands),
                        key=CandidateResult.sort_key))


def recommend(spec: CompareSpec, results: tuple[CandidateResult, ...]) -> Recommendation:
    """Buy now when the best candidate is available at the decision, else wait for it."""
    best = results[0]
    action = "buy now" if best.available <= spec.decision else "wait"
    if not best.fits_hall:
        reason = f"no candidate fits the halls; {best.id}: {best.fit_note}"
    elif best.meets_deadline:
        reason = (f"finishes the portfolio by {format_quarter(spec.deadline)} at the lowest "
                  f"cost, ${best.cost_of_work_usd / 1e6:,.0f}M")
    else:
        reason = (f"no candidate finishes by {format_quarter(spec.deadline)}; {best.id} gets "
                  f"the most done ({best.work_done_fraction:.0%})")
    return Recommendation(best.id, action, best.available, reason)


def sensitivity(spec: CompareSpec, cands: list[CandidateData], perf: PerfTable,
                econ: EconomicsSpec) -> tuple[SensitivityCase, ...]:
    """Winner and ranking when energy price, utilization, delivery or the deadline move."""
    sens = spec.sensitivity
    cases: list[tuple[str, CompareSpec, Case]] = [("base", spec, Case(econ))]
    for f in sens.energy_price_factors:
        price = econ.energy_price_usd_per_kwh * f
        cases.append((f"energy price x{f:g}", spec,
                      Case(econ.model_copy(update={"energy_price_usd_per_kwh": price}))))
    for f in sens.utilization_factors:
        util = min(1.0, econ.utilization * f)
        cases.append((f"utilization {util:.0%}", spec,
                      Case(econ.model_copy(update={"utilization": util}))))
    for n in sens.slip_quarters:
        cases.append((f"late candidates slip {n} q", spec, Case(econ, n)))
    for n in sens.deadline_shift_quarters:
        deadline = add_quarters(spec.deadline, n)
        if deadline >= spec.decision:
            cases.append((f"deadline {format_quarter(deadline)}",
                          spec.model_copy(update={"deadline": deadline}), Case(econ)))
    out: list[SensitivityCase] = []
    for name, case_spec, case in cases:
        order = tuple(r.id for r in rank(case_spec, cands, perf, case))
        base_winner = out[0].winner if out else order[0]
        out.append(SensitivityCase(name, order[0], order, order[0] != base_winner))
    return tuple(out)


def compare_data(spec: CompareSpec, cands: list[CandidateData], perf: PerfTable,
                 econ: EconomicsSpec) -> Comparison:
    """Compare resolved candidates with a given performance table."""
    results = rank(spec, cands, perf, Case(econ))
    return Comparison(spec.decision, spec.deadline, results, recommend(spec, results),
                      sensitivity(spec, cands, perf, econ), provenance(econ))


def candidate_rack(c: CandidateSpec, i: int, catalog: Catalog,
                   layouts: Mapping[str, RackLayout]) -> CandidateRack:
    """Accelerators and IT power per rack of candidate `c` (the ``i``-th): as given, else from
    its rack design, else the system's scale-up domain at the system's power per GPU."""
    where = f"compare.candidates[{i}]"
    system = catalog.get(c.system, System, where=f"{where}.system")
    accelerators, it_power_w = c.accelerators, c.it_power_w
    if c.rack is not None:
        layout = layouts.get(c.rack)
        if layout is None:
            raise InputError("unknown rack design id", None, f"{where}.rack", c.rack,
                             "the id of a rack under racks:", closest(c.rack, layouts))
        accelerators = accelerators or layout.accelerators or None
        it_power_w = it_power_w or RackBudget(layout).power.it_power_w
    accelerators = accelerators or system.scaleup_domain
    it_power_w = it_power_w or accelerators * system.power_per_gpu_w
    return CandidateRack(c.id, system, c.available, c.rack, accelerators, it_power_w,
                         c.price_usd)


def resolve_candidate(c: CandidateSpec, i: int, catalog: Catalog,
                      layouts: Mapping[str, RackLayout],
                      sourced: Mapping[str, SourcedRack] | None = None) -> CandidateData:
    """Candidate `c` in numbers. A candidate whose rack design the sourcing plan covers
    (`sourced`, by design id) takes that plan's domestic share, and its landed cost per rack
    as the price when none is stated; otherwise a stated share, or none ("not sourced")."""
    rack = candidate_rack(c, i, catalog, layouts)
    plan = (sourced or {}).get(rack.design) if rack.design else None
    price = rack.price_usd or (plan.landed_cost_usd if plan else None)
    if price is None:
        raise InputError("missing key", None, f"compare.candidates[{i}].price_usd", None,
                         "a price per rack, or a rack design the sourcing plan prices")
    share, basis = c.domestic_share, "stated" if c.domestic_share is not None else "not sourced"
    if plan is not None:
        share, basis = plan.domestic_share, "sourced"
    return CandidateData(c.id, rack.system.id, c.available,
                         RackCost(rack.accelerators, price, rack.it_power_w),
                         rack.system.cooling, share, basis,
                         plan.landed_cost_usd if plan else None)


@dataclass(frozen=True)
class CompareInputs:
    """What a comparison reads besides its section: the catalog, the resolved rack designs,
    the economics, performance already known and what sourcing computed per design."""

    catalog: Catalog
    layouts: Mapping[str, RackLayout]
    economics: EconomicsSpec = field(default_factory=EconomicsSpec)
    perf: PerfTable | None = None
    sourced: Mapping[str, SourcedRack] | None = None
    rates: Mapping[tuple[str, str], Estimate] = field(default_factory=dict)
    # ^ tokens/s per GPU (and the model's error on their kind) by (candidate, workload),
    #   computed upstream (the evaluate stage)


def _perf_table(spec: CompareSpec, cands: list[CandidateData], inputs: CompareInputs
                ) -> dict[tuple[str, str], PerfPoint]:
    """Tokens/s per GPU and power per GPU of each (candidate, workload): ``inputs.perf``,
    else the candidate's ``performance:`` override, else ``inputs.rates`` (computed upstream),
    else :func:`estimate_performance`."""
    table: dict[tuple[str, str], PerfPoint] = {}
    for c_spec, cand in zip(spec.candidates, cands, strict=True):
        power = cand.rack.it_power_w / cand.rack.accelerators
        for i, w in enumerate(spec.workloads):
            key = (cand.id, w.id)
            if inputs.perf is not None and key in inputs.perf:
                table[key] = inputs.perf[key]
                continue
            stated = c_spec.performance.get(w.id)
            system = inputs.catalog.get(cand.system_id, System)
            try:
                if stated is not None:
                    estimate = Estimate(stated)
                elif key in inputs.rates:
                    estimate = inputs.rates[key]
                else:
                    estimate = estimate_performance(system, w, inputs.catalog)
                useful = training_goodput(system, w, estimate.tokens_per_s_per_gpu,
                                          inputs.catalog)
            except InputError as exc:
                raise exc.at(None, f"compare.workloads[{i}]") from None
            table[key] = PerfPoint(estimate.tokens_per_s_per_gpu, power, useful, estimate.curve,
                                   estimate.model_error_pct)
    return table


def _serving(workload: WorkloadItem) -> Serving:
    shape = workload.serving
    return Serving(shape.input_tokens, shape.output_tokens, tpot_target_s=shape.tpot_s,
                   ttft_target_s=shape.ttft_target_s)


def training_goodput(system: System, workload: WorkloadItem, rate: float, catalog: Catalog
                     ) -> float:
    """Useful share of wall time of one training job of `workload` on `system` at `rate`
    tokens/s per GPU (failures, checkpoints and restarts: :mod:`rackforge.perf.goodput`, with
    its default storage and spares); 1 for serving."""
    if workload.mode != "training" or rate <= 0:
        return 1.0
    options = TrainingOptions(dtype=workload.dtype or "bf16")
    ctx = training_context(system, workload.model, options, catalog)
    ideal_s = workload.tokens / (workload.gpus * rate)
    return job_goodput(ideal_s, workload.gpus, ctx.counts.params, system.host_gpus,
                       system.scaleup_domain).fraction


def compare(spec: CompareSpec, inputs: CompareInputs) -> Comparison:
    """Compare the candidates of the ``compare:`` section `spec` (library entry point);
    performance per (candidate, workload) as :func:`_perf_table` finds it."""
    cands = [resolve_candidate(c, i, inputs.catalog, inputs.layouts, inputs.sourced)
             for i, c in enumerate(spec.candidates)]
    return compare_data(spec, cands, _perf_table(spec, cands, inputs), inputs.economics)


def to_dict(comparison: Comparison) -> dict:
    """The comparison as plain data (quarters as ``2027Q1``), with each TCO's derived figures."""
    out = asdict(comparison)
    for row, res in zip(out["results"], comparison.results, strict=True):
        row["tco"].update(annual_cost_usd=res.tco.annual_cost_usd, capex_usd=res.tco.capex_usd,
                          cost_per_accelerator_hour_usd=res.tco.cost_per_accelerator_hour_usd)
        if not math.isfinite(row["hours_needed"]):
            row["hours_needed"] = None
    return quarters_as_text(out)
