"""Entry points of the performance stage: evaluate a system on a workload.

>>> from rackforge.perf import evaluate_training, TrainingOptions
>>> ev = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(tokens=15e12))
>>> ev.best.step_s, ev.best.mfu, ev.best.layout["tp"]

Systems come from the catalog (``catalog/data/systems.yaml``), workloads from
``perf/data/workloads.yaml`` or the scenario. Results are immutable dataclasses in base units.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, get_args

import numpy as np

from rackforge.catalog import Catalog, load_catalog
from rackforge.catalog.models import Accelerator, Dtype, System
from rackforge.errors import InputError
from rackforge.perf.benchmarks import Limits
from rackforge.perf.context import Context
from rackforge.perf.disaggregated import Disaggregated, disaggregated
from rackforge.perf.frameworks import check_moe_settings, execution, framework, frameworks
from rackforge.perf.goodput import CheckpointSpec, Goodput, Recovery, job_goodput
from rackforge.perf.inference import Engine, Serving
from rackforge.perf.layout import Execution, Layouts
from rackforge.perf.params import MX_BLOCK_SCALED, load_params, machine_from_system
from rackforge.perf.precision import PEAK_KEY
from rackforge.perf.regimes import ServingRegime, regime_record, serving_record
from rackforge.perf.search import Progress, SearchSpace, search_training
from rackforge.perf.serving import search_serving, serve
from rackforge.perf.serving_result import ServingPoint, ServingResult, describe
from rackforge.perf.training import estimate_arrays
from rackforge.perf.workload import Workload, get_workload

DTYPES: tuple[str, ...] = (*get_args(Dtype), *MX_BLOCK_SCALED)
BREAKDOWN = ("gemm", "attention", "elementwise", "recompute", "launch", "tp_comm", "cp_comm",
             "ep_comm", "pp_comm", "bubble", "dp_comm", "optimizer")
MEMORY = ("weights", "gradients", "optimizer", "activations", "logits", "reserved")


@dataclass(frozen=True)
class TrainingOptions:
    """Execution settings of a training evaluation; None takes the workload's default."""

    dtype: str = "bf16"
    seq_len: int | None = None
    global_batch: int | None = None         # sequences per step
    tokens: float | None = None             # tokens to train, for time and energy
    top: int = 5
    space: SearchSpace = field(default_factory=SearchSpace)
    # scale-out tiers of a sized cluster (see Machine.scaleout_tiers); () for a flat fabric
    scaleout_tiers: tuple[tuple[int, float, float], ...] = ()
    # checkpoint storage and recovery for goodput (None: the defaults of failures.yaml)
    checkpoint: CheckpointSpec | None = None
    recovery: Recovery | None = None
    # the training framework (perf/data/frameworks.yaml; None: its documented default) and the
    # MoE settings a run of it may set (None: the framework's, as in the validation rows)
    framework: str | None = None
    moe_dispatcher: str | None = None       # alltoall, deepep, hybridep
    ep_overlap: bool | None = None          # expert-parallel all-to-all behind compute
    grouped_experts: bool | None = None     # the experts' GEMMs as one grouped kernel
    cuda_graphs: str | None = None          # none, attn, full_iteration


@dataclass(frozen=True)
class LayoutEstimate:
    """One layout's training estimate (per step unless named otherwise)."""

    layout: dict[str, Any]
    step_s: float
    tokens_per_s: float
    tokens_per_s_per_gpu: float
    model_flops_per_gpu: float              # [FLOP/s]
    mfu: float
    memory_bytes: float                     # per GPU
    breakdown_s: dict[str, float]
    memory_breakdown_bytes: dict[str, float]
    train_time_s: float | None = None
    train_energy_j: float | None = None
    # False: no validation row has this layout's family (sharding, pp, cp, ep), or none ran on
    # this accelerator, so its estimate is an extrapolation (rackforge.perf.regimes); else the
    # family's validation rows and their mean absolute step-time error [%]
    validated_regime: bool = True
    regime_rows: int = 0
    regime_mape_pct: float | None = None
    # the same rate under the other FLOP conventions (FLOP_CONVENTIONS): attention counted as
    # causal (half the score matrix), and the hardware FLOPs executed, recompute included
    mfu_causal: float = 0.0
    hfu: float = 0.0


# How `mfu`, `mfu_causal` and `hfu` count FLOPs (issue 11: say the convention).
FLOP_CONVENTIONS = {
    "mfu": "model FLOPs per token 6 N_active + 12 L h s (attention over the full score "
           "matrix; Narayanan et al. SC21, PaLM App. B), no recompute, over the dense peak",
    "mfu_causal": "as mfu with attention counted causal (half the score matrix)",
    "hfu": "hardware FLOPs executed: causal attention kernels plus the forward work recompute "
           "repeats (full: the whole forward; selective: the attention core)",
}


@dataclass(frozen=True)
class TrainingEvaluation:
    """The search result: best layouts first, with counts and timing of the search."""

    system: str
    workload: str
    n_gpus: int
    candidates: int
    fitting: int
    search_s: float
    top: list[LayoutEstimate]
    dtype: str = "bf16"                     # training precision of the evaluation
    framework: str = "generic"              # the framework whose settings timed it
    # the best layout's run with failures and checkpoints (when tokens to train are given):
    # its time_to_train_s is the wall time, the layouts' train_time_s the failure-free one
    goodput: Goodput | None = None

    @property
    def best(self) -> LayoutEstimate:
        return self.top[0]


def get_system(system: str | System, catalog: Catalog | None = None) -> System:
    """A catalog :class:`System` by id (unknown ids raise InputError with a hint)."""
    if isinstance(system, System):
        return system
    return (catalog or load_catalog()).get(system, System, where="system")


def known_dtype(dtype: str, where: str = "dtype") -> str:
    """`dtype` if the model has a training precision of that name; else an InputError at key
    `where`."""
    if dtype not in DTYPES:
        raise InputError("unknown dtype", None, where, dtype, f"one of {', '.join(DTYPES)}")
    return dtype


def training_context(system: str | System, workload: str | Workload,
                     options: TrainingOptions, catalog: Catalog | None = None,
                     extra: dict[str, Workload] | None = None) -> Context:
    """The :class:`Context` of one (system, workload, options) evaluation."""
    known_dtype(options.dtype)
    catalog = catalog or load_catalog()
    sys_ = get_system(system, catalog)
    wl = workload if isinstance(workload, Workload) else get_workload(workload, extra, "model")
    acc = catalog.get(sys_.accelerator, Accelerator, where="system.accelerator")
    seq = options.seq_len or wl.seq_len
    batch = options.global_batch or 2 ** max(0, round(np.log2(wl.global_batch_tokens / seq)))
    ex = _execution(options, seq, batch)
    machine = replace(machine_from_system(sys_, acc), scaleout_tiers=options.scaleout_tiers)
    machine.peak_flops(options.dtype)   # InputError when the accelerator lacks it
    return Context(wl, machine, ex, load_params())


def framework_name(options: TrainingOptions) -> str:
    """The framework `options` runs on: its own, else the documented default."""
    return options.framework or frameworks()[1]


def _execution(options: TrainingOptions, seq_len: int, global_batch: int) -> Execution:
    """The run settings of `options`' framework with its explicit MoE settings (InputError for
    an unknown framework, dispatcher or CUDA-graph scope)."""
    check_moe_settings(options.moe_dispatcher, options.cuda_graphs)
    return execution(framework(options.framework), options.dtype, seq_len, global_batch,
                     grouped_experts=options.grouped_experts, ep_overlap=options.ep_overlap,
                     moe_dispatcher=options.moe_dispatcher, cuda_graphs=options.cuda_graphs)


def _estimate(ctx: Context, lay: Layouts, arrays: dict[str, np.ndarray], i: int,
              tokens: float | None) -> LayoutEstimate:
    get = {k: float(v[i]) for k, v in arrays.items()}
    n = int(lay.n_gpus[i])
    time_s = tokens / get["tokens_per_s"] if tokens else None
    energy = time_s * n * ctx.machine.power_per_gpu_w if time_s else None
    row = lay.row(i)
    causal, hardware = _flops_per_token(ctx, row["recompute"])
    peak = ctx.machine.peak_flops(ctx.execution.dtype)
    rate = get["tokens_per_s_per_gpu"]
    regime = regime_record(row, ctx.machine.accelerator.id)
    return LayoutEstimate(
        row, get["step_s"], get["tokens_per_s"], rate,
        get["model_flops_per_gpu"], get["mfu"], get["memory_bytes"],
        {k: get[f"t_{k}"] for k in BREAKDOWN}, {k: get[f"mem_{k}"] for k in MEMORY},
        time_s, energy, regime is not None, regime.rows if regime else 0,
        regime.mape_pct if regime else None, causal * rate / peak, hardware * rate / peak)


def _flops_per_token(ctx: Context, recompute: str) -> tuple[float, float]:
    """Causal-convention model FLOPs and hardware FLOPs per trained token [FLOP]
    (:data:`FLOP_CONVENTIONS`): 3 x (matmul + attention / 2), plus one more forward (full
    recompute) or attention core (selective)."""
    matmul = ctx.counts.matmul_flops_fwd
    attention = ctx.counts.attn_flops_fwd_per_ctx \
        * ctx.counts.mean_causal_context(ctx.execution.seq_len)
    causal = 3.0 * (matmul + attention)
    again = {"full": matmul + attention, "selective": attention}.get(recompute, 0.0)
    return causal, causal + again


MAX_GPUS = 10_000_000   # beyond any planned cluster; keeps the layout arrays in int64


def check_gpus(n_gpus: int) -> None:
    """A GPU count the search can enumerate, else InputError."""
    if not isinstance(n_gpus, int) or not 1 <= n_gpus <= MAX_GPUS:
        raise InputError("number of GPUs must be a positive integer", None, "gpus", n_gpus,
                         f"1 to {MAX_GPUS:,}")


def evaluate_training(system: str | System, workload: str | Workload, n_gpus: int,
                      options: TrainingOptions | None = None, catalog: Catalog | None = None,
                      progress: Progress | None = None) -> TrainingEvaluation:
    """Search every layout of `workload` on `n_gpus` GPUs of `system`; best first."""
    options = options or TrainingOptions()
    check_gpus(n_gpus)
    ctx = training_context(system, workload, options, catalog)
    res = search_training(ctx, n_gpus, options.space, progress)
    idx = res.order[: max(1, options.top)]
    if len(idx) == 0:
        res.best_index()
    top = [_estimate(ctx, res.layouts, res.arrays, int(i), options.tokens) for i in idx]
    sys_ = get_system(system, catalog)
    return TrainingEvaluation(sys_.id, ctx.workload.id, n_gpus, res.n_candidates,
                              res.n_fitting, res.elapsed_s, top, options.dtype,
                              framework_name(options),
                              training_goodput(ctx, sys_, n_gpus, top[0].train_time_s, options))


def training_goodput(ctx: Context, system: System, n_gpus: int, train_s: float | None,
                     options: TrainingOptions) -> Goodput | None:
    """Goodput of the job (:func:`rackforge.perf.goodput.job_goodput`): its checkpoint is the
    model's parameters and optimizer state; hosts and scale-up domains are the system's. None
    without a failure-free training time (no tokens to train given)."""
    if not train_s:
        return None
    return job_goodput(train_s, n_gpus, ctx.counts.params, system.host_gpus,
                       system.scaleup_domain, options.checkpoint, options.recovery)


def estimate_training(ctx: Context, layout: Layouts, tokens: float | None = None
                      ) -> list[LayoutEstimate]:
    """Estimates for the given layouts (no search), in order."""
    arrays = estimate_arrays(ctx, layout)
    return [_estimate(ctx, layout, arrays, i, tokens) for i in range(len(layout))]


@dataclass(frozen=True)
class InferenceEvaluation:
    """The serving search of a model on a system (:func:`rackforge.perf.serving.serve`): the
    best point meeting the latency targets (None, with the `shortfall` said, when none does)
    and the throughput-interactivity curve."""

    system: str
    workload: str
    n_gpus: int
    result: ServingResult
    # the same GPUs as separate prefill and decode pools (None: no pair meets the targets)
    disaggregated: Disaggregated | None = None
    # the model's measured error on published runs of the same kind (dense or MoE model,
    # latency-bound or not); None where no validation row is of that kind or ran on this
    # accelerator
    validation: ServingRegime | None = None

    @property
    def best(self) -> ServingPoint | None:
        return self.result.best

    @property
    def tokens_per_s_per_gpu(self) -> float:
        """Output tokens/s per GPU of the best point [1/s]; 0 when no layout meets the
        targets."""
        return self.best.tokens_per_s_per_gpu if self.best else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "workload": self.workload, "gpus": self.n_gpus,
                **describe(self.result),
                "disaggregated": vars(self.disaggregated) if self.disaggregated else None,
                "validation": self.validation.model_dump() if self.validation else None}


def evaluate_inference(system: str | System, workload: str | Workload, n_gpus: int,
                       serving: Serving, dtype: str = "fp8",
                       catalog: Catalog | None = None,
                       engine: Engine = Engine()) -> InferenceEvaluation:
    """Highest output tokens/s per GPU whose p99 TPOT and TTFT meet ``serving``'s targets (a
    target no layout meets is an answer: ``best`` is None and ``result.shortfall()`` says
    what the fastest layout reaches), with the throughput-interactivity curve, for an engine
    set as `engine` (caps per engine, chunked prefill or whole prompts). A precision the
    accelerator lacks is an InputError."""
    check_gpus(n_gpus)
    options = TrainingOptions(dtype=PEAK_KEY.get(dtype, dtype))     # nvfp4 / mxfp4: fp4 cores
    ctx = training_context(system, workload, options, catalog)
    limits = Limits(serving.ttft_target_s, serving.tpot_target_s)
    searched = search_serving(ctx, serving, n_gpus, dtype, engine)  # one search, both answers
    latency_bound = limits.ttft_s is not None or limits.tpot_s is not None
    return InferenceEvaluation(get_system(system, catalog).id, ctx.workload.id, n_gpus,
                               serve(ctx, serving, n_gpus, limits, dtype, searched, engine),
                               disaggregated(ctx, serving, n_gpus, limits, dtype, searched),
                               serving_record(ctx.workload.moe is not None, latency_bound,
                                              ctx.machine.accelerator.id))
