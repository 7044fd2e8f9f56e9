"""Training step time and memory per GPU, vectorized over candidate layouts.

:func:`estimate_arrays` takes a :class:`~rackforge.perf.layout.Layouts` of any length and returns
arrays; the search calls it on every candidate at once and ``validate`` on arrays of length 1,
so both use one model. Per microbatch and pipeline stage the model adds:

* GEMM time from FLOPs at the achievable matmul rate, which depends on the GEMM shape through
  tile and wave quantization [GEMM] and a fixed per-tile overhead (pipeline fill and
  epilogue, ``gemm_tile_overhead_s``), capped by a memory
  roofline (weights + activations over HBM bandwidth) [6];
* attention-core time (flash kernels skip the masked half and recompute scores in backward [4];
  unfused kernels run batched GEMMs plus memory-bound softmax and dropout traffic [2]);
* memory-bound element-wise time (norms, residuals, dropout, activation functions, fp8 casts);
* tensor-, context- and expert-parallel communication on the link each group maps to (ring
  collectives: ``2 (n-1)/n V / B + 2 (n-1) alpha`` for all-reduce [5]), with the share that
  overlaps compute removed;
* the recompute pass of the chosen mode [2];
* a fixed launch and scheduling gap per kernel, which matters for small, fast layers [8].

The step is ``(m + (pp - 1) / vp) t_microbatch`` [1] plus exposed data-parallel gradient
reduction (overlapped with the last microbatch's backward when enabled [3]) and the optimizer.

References
----------
[1] Narayanan et al., Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM, SC21, Sec. 2.2 (bubble (p-1)/(v m)) and Sec. 3 (communication volumes).
[2] Korthikanti et al., Reducing Activation Recomputation in Large Transformer Models, MLSys
    2023, Sec. 4-5 (activation memory, selective recompute, sequence parallelism).
[3] Li et al., PyTorch Distributed: Experiences on Accelerating Data Parallel Training, VLDB 2020
    (gradient bucketing overlapped with backward).
[4] Dao, FlashAttention-2, 2023, Sec. 3.
[5] Thakur, Rabenseifner and Gropp, Optimization of Collective Communication Operations in
    MPICH, IJHPCA 2005 (ring all-reduce cost).
[6] Williams, Waterman and Patterson, Roofline, CACM 2009.
[7] Rajbhandari et al., ZeRO, SC20, Sec. 7 (communication of sharded data parallelism).
[8] NVIDIA CUDA C++ Best Practices Guide, and the CUDA Graphs motivation: a few microseconds of
    launch overhead per kernel.
[GEMM] NVIDIA Deep Learning Performance Guide, Matrix Multiplication Background.
[TEFP8] NVIDIA Transformer Engine docs, FP8 Current Scaling: amax pass, transpose handling.
[TEGEMM] NVIDIA Transformer Engine docs, GEMM Profiling Across Precisions (measured per-layer
    GEMM times, B300).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rackforge.perf.layout import Execution, Layouts
from rackforge.perf.memory import memory_arrays
from rackforge.perf.params import Machine, PerfParams
from rackforge.perf.workload import Counts, Workload, counts, training_flops_per_token


@dataclass(frozen=True)
class Context:
    """What one estimate is about: model, hardware, execution settings and parameters."""

    workload: Workload
    machine: Machine
    execution: Execution
    params: PerfParams

    @property
    def counts(self) -> Counts:
        return counts(self.workload)


def gemm_time(ctx: Context, shape: tuple[np.ndarray, np.ndarray, np.ndarray],
              count: np.ndarray | float = 1.0, dtype: str | None = None,
              weight_share: np.ndarray | float = 1.0) -> np.ndarray:
    """Time of `count` GEMMs with output m x n and depth k, ``shape = (m, n, k)`` [s]
    ([GEMM], [6]).

    Efficiency = MAMF fraction x sustained fraction x tile/wave quantization x ``k / (k + k0)``
    (the sustained fraction: mean over many calls at the layer's real shapes / the best-shape,
    fastest-call MAMF, from [TEGEMM] in ``perf_params.yaml``), where ``k0`` is the
    number of K-steps one SM completes during the fixed per-tile overhead
    (``gemm_tile_overhead_s x peak per SM / (2 tile_m tile_n)``); the memory roofline reads
    A (m x k), the weights B (k x n, times `weight_share`) and writes C.
    """
    dev, mach = ctx.machine.device, ctx.machine
    dtype = dtype or ctx.execution.dtype
    m, n, k = shape
    flops = 2.0 * m * n * k * count
    # Libraries pick narrower tiles for skinny GEMMs: rows per tile = next power of 2 of m,
    # between 16 and the device's tile_m.
    tile_m = np.clip(2.0 ** np.ceil(np.log2(np.maximum(m, 1.0))), 16, dev.tile_m)
    # A batched / grouped GEMM schedules the tiles of all `count` GEMMs in one grid.
    tiles = np.ceil(m / tile_m) * np.ceil(n / dev.tile_n) * np.maximum(count, 1.0)
    waves = np.ceil(tiles / dev.sm_count)
    quant = (m * n * np.maximum(count, 1.0)) / (waves * dev.sm_count * tile_m * dev.tile_n)
    k0 = ctx.params.gemm_tile_overhead_s * mach.peak_flops(dtype) / dev.sm_count \
        / (2.0 * dev.tile_m * dev.tile_n)
    eff = mach.gemm_efficiency(dtype) * ctx.params.gemm_sustained_fraction \
        * np.minimum(quant, 1.0) * k / (k + k0)
    t_compute = flops / (mach.peak_flops(dtype) * eff)
    elem = 1.0 if dtype in ("fp8", "int8") else 2.0
    t_memory = count * elem * (m * k + weight_share * k * n + m * n) / _hbm(ctx)
    return np.maximum(t_compute, t_memory)


def _hbm(ctx: Context) -> float:
    return ctx.machine.accelerator.hbm_bandwidth_bytes_per_s * ctx.machine.device.hbm_efficiency


def layer_gemm_time(ctx: Context, t: np.ndarray, tp: np.ndarray, ep: np.ndarray, moe: bool,
                    expert_share: np.ndarray | float = 1.0) -> np.ndarray:
    """Forward GEMM time of one layer on one GPU holding `t` tokens [s].

    Attention projections and dense FFNs are split across `tp`; routed experts across `ep`
    (each GPU runs ``t / tp x top_k`` token copies through its ``experts / ep`` experts).
    `expert_share` is the fraction of local experts whose weights are read (decode).
    """
    w, c = ctx.workload, ctx.counts
    tp, h = tp.astype(float), float(w.hidden)
    one = np.ones_like(t, dtype=float)
    n_in = (c.attn_params - c.v_dim * h) / h                   # fused QKV (or MLA down/up)
    total = gemm_time(ctx, (t, n_in / tp, h * one))
    total = total + gemm_time(ctx, (t, h * one, c.v_dim / tp))
    if not moe:
        f = float(w.ffn_hidden)
        up = (c.ffn_matrices - 1) * f
        total = total + gemm_time(ctx, (t, up / tp, h * one))
        return total + gemm_time(ctx, (t, h * one, f / tp))
    m = w.moe
    fm, up = float(m.moe_ffn_hidden), (c.ffn_matrices - 1) * float(m.moe_ffn_hidden)
    copies = t / tp * m.top_k                                  # routed token copies per GPU
    rows = copies * ep / m.experts                             # rows of each grouped GEMM
    local = m.experts / ep                                     # experts on this GPU
    total = total + gemm_time(ctx, (rows, up * one, h * one), local,
                              weight_share=expert_share)
    total = total + gemm_time(ctx, (rows, h * one, fm * one), local,
                              weight_share=expert_share)
    if m.shared_experts:
        sh = m.shared_experts * fm
        total = total + gemm_time(ctx, (t, (up / fm) * sh / tp, h * one))
        total = total + gemm_time(ctx, (t, h * one, sh / tp))
    return total


def _attention_core(ctx: Context, lay: Layouts) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward attention-core time per layer and microbatch [s] ([2], [4])."""
    w, c, ex, p = ctx.workload, ctx.counts, ctx.execution, ctx.params
    tp = lay.tp.astype(float)
    queries = lay.mb * ex.seq_len / lay.cp
    full = queries * ex.seq_len * c.attn_flops_fwd_per_ctx / tp
    bf16_peak = ctx.machine.peak_flops("bf16")
    if ex.flash_attention:
        fwd = 0.5 * full / (bf16_peak * ctx.machine.device.attention_efficiency)
        return fwd, fwd * p.flash_backward_factor
    hd = float(c.q_dim // w.heads)
    gemm = gemm_time(ctx, (ex.seq_len + 0 * tp, ex.seq_len + 0 * tp, hd + 0 * tp),
                     full / (2.0 * ex.seq_len * ex.seq_len * hd), "bf16")
    scores = lay.mb * w.heads / tp * ex.seq_len * ex.seq_len / lay.cp
    soft = scores * p.softmax_bytes_per_element / _hbm(ctx)
    return gemm + soft, 2 * (gemm + soft)


def _elementwise(ctx: Context, lay: Layouts, moe: bool) -> np.ndarray:
    """Forward memory-bound time per layer and microbatch: norms, residuals, activations [s]."""
    w, c, ex, p = ctx.workload, ctx.counts, ctx.execution, ctx.params
    tp = lay.tp.astype(float)
    t = lay.mb * ex.seq_len / lay.cp
    t_rep = np.where(lay.sp > 0, t / tp, t)                     # h-wide tensors, replicated
    act = p.activation_bytes
    byts = t_rep * act * p.elementwise_hidden_passes * w.hidden
    passes = 3.0 if w.ffn == "swiglu" else 2.0                  # read 2f write f / read f write f
    if moe and w.moe is not None:
        byts = byts + t / tp * w.moe.top_k * act * (passes * w.moe.moe_ffn_hidden
                                                    + 4.0 * w.hidden)
    else:
        byts = byts + t * act * passes * w.ffn_hidden / tp
    if ex.dtype in ("fp8", "fp4"):
        ffn = w.ffn_hidden if not moe else w.moe.moe_ffn_hidden * w.moe.top_k
        inputs = t * (2.0 * w.hidden + c.v_dim / tp + ffn / tp)
        cast = p.fp8_cast_bytes_per_element
        if ex.fp8_scaling == "current":               # amax needs a read of its own [TEFP8]
            cast = cast + p.fp8_current_scaling_bytes_per_element
        if ctx.machine.device.fp8_transpose:          # column-wise copy for the backward [TEFP8]
            cast = cast + p.fp8_transpose_bytes_per_element
        byts = byts + inputs * cast
    return byts / _hbm(ctx)


def _ring(volume: np.ndarray, n: np.ndarray, bw: np.ndarray, lat: np.ndarray,
          steps_factor: float = 1.0) -> np.ndarray:
    """Ring reduce-scatter or all-gather of `volume` bytes over `n` ranks [s] [5]."""
    nf = n.astype(float)
    return steps_factor * ((nf - 1) / nf * volume / bw + (nf - 1) * lat)


def overlap(t_comm: np.ndarray, window: np.ndarray, sm_share: float) -> np.ndarray:
    """Exposed cost of communication overlapped with `window` of compute [s]: the part that
    does not fit, plus the slowdown of the compute it hides behind, whose SMs and memory
    bandwidth the collective kernels share (``sm_share`` of the hidden time)."""
    hidden = np.minimum(t_comm, window)
    return t_comm - hidden + sm_share * hidden


def _link(ctx: Context, span: np.ndarray,
          stride: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(bandwidth [B/s], latency [s]) of a ring collective over ranks `stride` apart that
    spans `span` consecutive ranks (``stride`` None: point-to-point or all-to-all traffic).

    Inside one scale-up domain the ring runs on the scale-up links. Across domains, a group
    with k ranks per domain runs k rings in parallel, one per NIC, so its bus bandwidth is
    ``min(scale-up, k x NIC)`` [NCCL]: multi-node all-reduce on 8-GPU nodes reaches about
    eight times the per-GPU NIC rate when all 8 GPUs of a node are in the group.
    """
    m, p = ctx.machine, ctx.params
    up = span <= m.scaleup_domain
    bw_up = m.accelerator.scaleup_bandwidth_bytes_per_s * m.device.scaleup_efficiency
    k = 1.0 if stride is None else np.clip(m.scaleup_domain // stride, 1, span // stride)
    nic_bw, extra_lat = _scaleout_tier(m, span)
    bw_out = np.minimum(bw_up, k * nic_bw * p.scaleout_efficiency)
    return (np.where(up, bw_up, bw_out),
            np.where(up, p.scaleup_latency_s, p.scaleout_latency_s + extra_lat))


def _scaleout_tier(m: Machine, span: np.ndarray) -> tuple[np.ndarray | float, np.ndarray | float]:
    """NIC bandwidth per GPU [B/s] and latency beyond the first scale-out tier [s] for groups
    spanning `span` GPUs: the innermost tier of the sized cluster that covers the group (a 3:1
    spine divides the bandwidth of groups that cross it by 3); the flat NIC rate without one.
    """
    if not m.scaleout_tiers:
        return m.scaleout_bytes_per_s, 0.0
    spans, bws, lats = (np.array(col) for col in zip(*m.scaleout_tiers, strict=True))
    idx = np.minimum(np.searchsorted(spans, span, side="left"), len(spans) - 1)
    return bws[idx], lats[idx] - lats[0]


def _comm_per_layer(ctx: Context, lay: Layouts, attn_fwd: np.ndarray) -> dict[str, np.ndarray]:
    """Exposed TP, CP and EP communication per layer and microbatch (fwd + bwd + recompute)."""
    w, c, ex, p = ctx.workload, ctx.counts, ctx.execution, ctx.params
    t = lay.mb * ex.seq_len / lay.cp
    act = p.activation_bytes
    n_coll = 4.0 + 2.0 * (lay.recompute == 2)
    bw, lat = _link(ctx, lay.tp, np.ones_like(lay.tp))
    tp_time = n_coll * _ring(t * w.hidden * act, lay.tp, bw, lat, 2.0)
    if ex.tp_comm_overlap:
        hidden = np.where(lay.sp > 0, p.tp_overlap_efficiency, 0.0) * tp_time
        tp_time = tp_time - hidden + p.comm_sm_share * hidden
    bw, lat = _link(ctx, lay.tp * lay.cp, lay.tp)
    kv = t * 2.0 * c.kv_dim / lay.tp * act * (lay.cp - 1)
    cp_time = overlap(3.0 * (kv / bw + (lay.cp - 1) * lat), 3.5 * attn_fwd, p.comm_sm_share)
    ep_time = np.zeros(len(lay))
    if w.moe is not None:
        bw, lat = _link(ctx, lay.ep)
        vol = t / lay.tp * w.moe.top_k * w.hidden * act * (lay.ep - 1) / lay.ep
        one = vol / bw + lat * (1.0 + np.log2(lay.ep))
        ep_time = np.where(lay.ep > 1, (4.0 + 2.0 * (lay.recompute == 2)) * one, 0.0)
    return {"tp": tp_time, "cp": cp_time, "ep": ep_time}


def _per_layer(ctx: Context, lay: Layouts, moe: bool) -> dict[str, np.ndarray]:
    """Times per layer and microbatch: gemm, attention, elementwise, recompute, comm [s]."""
    tokens = lay.mb * ctx.execution.seq_len / lay.cp.astype(float)
    gemm = layer_gemm_time(ctx, tokens, lay.tp, lay.ep, moe)
    a_fwd, a_bwd = _attention_core(ctx, lay)
    elem = _elementwise(ctx, lay, moe)
    comm = _comm_per_layer(ctx, lay, a_fwd)
    bwd_mem = ctx.params.backward_memory_factor
    fwd_all = gemm + a_fwd + elem
    # Selective: attention core, norms and activation functions (memory-bound) run again [2].
    recompute = np.select([lay.recompute == 1, lay.recompute == 2], [a_fwd + elem, fwd_all], 0.0)
    out = {"gemm": 3.0 * gemm, "attention": a_fwd + a_bwd, "elementwise": (1 + bwd_mem) * elem,
           "recompute": recompute, "tp_comm": comm["tp"], "cp_comm": comm["cp"]}
    out["ep_comm"] = comm["ep"] if moe else np.zeros(len(lay))
    p = ctx.params                                     # fixed cost of every kernel launched
    kernels = p.kernels_per_layer_forward * (1.0 + (lay.recompute == 2)) \
        + p.kernels_per_layer_backward
    out["launch"] = kernels * p.kernel_overhead_s
    return out


def _stage_microbatch(ctx: Context, lay: Layouts) -> dict[str, np.ndarray]:
    """Per-microbatch time of the slowest pipeline stage, by component [s]."""
    w, c = ctx.workload, ctx.counts
    layers_stage = np.ceil(w.layers / lay.pp)
    dense = _per_layer(ctx, lay, moe=False)
    moe_share = c.moe_layers / w.layers
    parts = dense
    if c.moe_layers:
        moe = _per_layer(ctx, lay, moe=True)
        parts = {k: (1 - moe_share) * dense[k] + moe_share * moe[k] for k in dense}
    parts = {k: v * layers_stage for k, v in parts.items()}
    t = lay.mb * ctx.execution.seq_len / lay.cp
    h, v = float(w.hidden), float(w.vocab)
    logits = gemm_time(ctx, (t, v / lay.tp, h + 0 * t), 1.0, "bf16")
    parts["gemm"] = parts["gemm"] + 3.0 * logits
    ce_bytes = t * v / lay.tp * ctx.params.cross_entropy_bytes_per_logit
    parts["elementwise"] = parts["elementwise"] + ce_bytes / _hbm(ctx)
    parts["pp_comm"] = _pipeline_p2p(ctx, lay)
    return parts


def _pipeline_p2p(ctx: Context, lay: Layouts) -> np.ndarray:
    """Exposed pipeline send/receive per microbatch on the bottleneck stage [s] [1]."""
    ex, p = ctx.execution, ctx.params
    t = lay.mb * ex.seq_len / lay.cp
    vol = t * ctx.workload.hidden * p.activation_bytes / np.where(lay.sp > 0, lay.tp, 1)
    bw, lat = _link(ctx, 2 * lay.tp * lay.cp * lay.dp)         # two neighbouring stages
    one = vol / bw + lat
    e = p.pp_overlap_efficiency if ex.pp_overlap else 0.0
    exposed = 1.0 - e + e * p.comm_sm_share
    return np.where(lay.pp > 1, 2.0 * lay.vp * one * exposed, 0.0)


def _data_parallel(ctx: Context, lay: Layouts, mem: dict[str, np.ndarray],
                   t_mb: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Exposed gradient reduction and parameter gathering per step [s] ([1], [3], [7]).

    Replicated optimizer: all-reduce = reduce-scatter + all-gather of the gradients. Sharded
    optimizer: reduce-scatter of the gradients, all-gather of the bf16 parameters. FSDP: the
    parameters are gathered for the forward and the backward of every microbatch.
    """
    ex, p = ctx.execution, ctx.params
    n = lay.dp * lay.cp                                          # gradients reduce over dp x cp
    n_exp = np.maximum(1, n * lay.tp // lay.ep)
    bw, lat = _link(ctx, lay.tp * lay.cp * lay.dp, lay.tp)
    bw_e, lat_e = _link(ctx, lay.tp * lay.cp * lay.dp, lay.ep)

    def ring(bytes_per_param: float) -> np.ndarray:
        return (_ring(mem["dense_params"] * bytes_per_param, n, bw, lat)
                + _ring(mem["expert_params"] * bytes_per_param, n_exp, bw_e, lat_e))

    g = ex.grad_bytes or p.grad_reduce_bytes.get(ex.dtype, 4.0)
    scatter, gather = ring(g), ring(2.0)
    t_dp = np.select([lay.zero == 0, lay.zero == 3],
                     [2.0 * scatter, scatter + 2.0 * m * gather], scatter + gather)
    window = np.where(lay.zero == 3, m * t_mb, t_mb) if ex.dp_overlap else 0.0 * t_mb
    return np.where(n > 1, overlap(t_dp, window, p.comm_sm_share), 0.0)


def estimate_arrays(ctx: Context, lay: Layouts) -> dict[str, np.ndarray]:
    """Step time, its breakdown, throughput and memory for every layout in `lay`.

    Returns arrays keyed ``step_s``, ``tokens_per_s``, ``tokens_per_s_per_gpu``,
    ``model_flops_per_gpu``, ``mfu``, ``memory_bytes``, ``fits`` and ``t_*`` components [s]
    (per step) and ``mem_*`` components [bytes].
    """
    ex, p = ctx.execution, ctx.params
    m = ex.global_batch / (lay.dp * lay.mb)
    parts = _stage_microbatch(ctx, lay)
    t_mb = sum(parts.values())
    bubble = (lay.pp - 1) / lay.vp * t_mb
    mem = memory_arrays(ctx, lay, m)
    t_dp = _data_parallel(ctx, lay, mem, t_mb, m)
    t_opt = mem["optimizer_params"] * p.optimizer_bytes_per_param / _hbm(ctx)
    step = m * t_mb + bubble + t_dp + t_opt
    tokens = ex.global_batch * ex.seq_len / step
    n = lay.n_gpus
    flops = training_flops_per_token(ctx.workload, ex.seq_len) * tokens / n
    out = {f"t_{k}": m * v for k, v in parts.items()}
    out.update(t_bubble=bubble, t_dp_comm=t_dp, t_optimizer=t_opt, step_s=step,
               tokens_per_s=tokens, tokens_per_s_per_gpu=tokens / n, model_flops_per_gpu=flops,
               mfu=flops / ctx.machine.peak_flops(ex.dtype), microbatches=m)
    out.update({f"mem_{k}": v for k, v in mem.items() if not k.endswith("_params")})
    out["memory_bytes"] = mem["total"]
    out["fits"] = mem["total"] <= ctx.machine.accelerator.hbm_bytes
    return out
