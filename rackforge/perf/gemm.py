"""GEMM time at a GEMM's own shape, shared by the training and serving models.

The achievable matmul rate (MAMF [MAMF] x the sustained fraction [TEGEMM]) falls with the shape
through tile and wave quantization [GEMM] (a grid with idle SMs split along K [SPLITK]) and a
fixed per-tile overhead (pipeline fill and epilogue, ``gemm_tile_overhead_s``); the time is
capped below by a memory roofline (operands and result over HBM bandwidth) [ROOF]. A MoE
layer's experts run as one grouped GEMM or one GEMM per expert [TEGG]. Training
(:mod:`rackforge.perf.training`) and serving (:mod:`rackforge.perf.serving`, through
:func:`step_gemm_s`) both take their GEMM times from here, so a layer's GEMMs cost the same in
both.

References
----------
[GEMM] NVIDIA Deep Learning Performance Guide, Matrix Multiplication Background (tile and wave
    quantization).
[ROOF] Williams, Waterman and Patterson, Roofline, CACM 2009.
[MAMF] Bekman, Maximum Achievable Matmul FLOPS finder (ml-engineering), the per-device
    efficiencies of perf_params.yaml.
[TEGEMM] NVIDIA Transformer Engine docs, GEMM Profiling Across Precisions (measured per-layer
    GEMM times, B300).
[TEGG] NVIDIA Transformer Engine GroupedLinear (v2.18): general_grouped_gemm, one cuBLAS GEMM
    per expert over several streams, on every GPU; its cuBLASLt grouped GEMM is opt-in
    (NVTE_GROUPED_LINEAR_USE_FUSED_GROUPED_GEMM, default 0).
[MCOREMOE] NVIDIA Megatron-Core MoE documentation: the busiest rank sets the pace.
[SPLITK] NVIDIA CUTLASS documentation, Efficient GEMM in CUDA, Parallelized Reductions: split-K
    (partial products of K slices on separate thread blocks, then reduced); Osama et al.,
    Stream-K: Work-centric Parallel Decomposition for Dense Matrix-Matrix Multiplication on the
    GPU, PPoPP 2023 (the under-filled last wave and how splitting K recovers it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rackforge.perf.context import Context, hbm_bandwidth


def gemm_time(ctx: Context, shape: tuple[np.ndarray, np.ndarray, np.ndarray],
              count: np.ndarray | float = 1.0, dtype: str | None = None,
              weight_share: np.ndarray | float = 1.0, grouped: bool = True,
              rate: float | None = None, operand_bytes: float | None = None,
              weight_bandwidth: float | None = None) -> np.ndarray:
    """Time of `count` GEMMs ``C = A B`` with ``shape = (m, n, k)`` [s] ([GEMM], [ROOF]): C is
    m x n (m rows, usually tokens; n columns, usually output features), A is m x k and the
    weights B are k x n (k: the reduction depth) [elements].

    Efficiency = MAMF fraction x sustained fraction x tile/wave quantization x ``k / (k + s k0)``
    (the sustained fraction: mean over many calls at the layer's real shapes / the best-shape,
    fastest-call MAMF, from [TEGEMM] in ``perf_params.yaml``), where ``k0`` is the
    number of K-steps one SM completes during the fixed per-tile overhead
    (``gemm_tile_overhead_s x peak per SM / (2 tile_m tile_n)``) and ``s`` the split-K factor
    (1 unless the grid leaves SMs idle); the memory roofline reads A, the weights B (times
    `weight_share`), writes C and, split, the FP32 partial sums. `grouped`: the `count` GEMMs
    share one grid (batched or grouped GEMM); False: one launch each, so each quantizes its own
    waves (Transformer Engine's per-expert GEMMs [TEGG]). `rate`: the best-shape achievable rate
    [FLOP/s] (default: peak x MAMF x sustained fraction; serving passes its own for FP4);
    `operand_bytes`: bytes per element of A, B and C (default 1 for fp8 / int8, else 2);
    `weight_bandwidth`: the rate the weights B stream at [B/s] (default the HBM bandwidth; a
    grouped MoE kernel's is lower, see :mod:`rackforge.perf.serving`).
    """
    device, machine = ctx.machine.device, ctx.machine
    dtype = dtype or ctx.execution.dtype
    m, n, k = shape
    flops = 2.0 * m * n * k * count
    # Libraries pick narrower tiles for skinny GEMMs: rows per tile = next power of 2 of m,
    # between gemm_min_tile_m and the device's tile_m.
    tile_m = np.clip(2.0 ** np.ceil(np.log2(np.maximum(m, 1.0))), ctx.params.gemm_min_tile_m,
                     device.tile_m)
    # A batched / grouped GEMM schedules the tiles of all `count` GEMMs in one grid.
    tiles = np.ceil(m / tile_m) * np.ceil(n / device.tile_n)
    per_grid = tiles * np.maximum(count, 1.0) if grouped else tiles
    grids = 1.0 if grouped else np.maximum(count, 1.0)
    k0 = ctx.params.gemm_tile_overhead_s * machine.peak_flops(dtype) / device.sm_count \
        / (2.0 * device.tile_m * device.tile_n)
    if rate is None:
        rate = machine.peak_flops(dtype) * machine.gemm_efficiency(dtype) \
            * ctx.params.gemm_sustained_fraction
    if operand_bytes is None:
        operand_bytes = 1.0 if dtype in ("fp8", "mxfp8", "int8") else 2.0
    bandwidth = hbm_bandwidth(ctx)
    # Seconds of HBM traffic per GEMM: activations in and out, then the weights.
    operands = operand_bytes * ((m * k + m * n) / bandwidth
                                + weight_share * k * n / (weight_bandwidth or bandwidth))
    # A grid with fewer tiles than SMs may be split along K over the idle SMs (split-K
    # [SPLITK]); each split writes its FP32 partial sums and reads them back. The library picks
    # the fastest split: powers of two that keep one wave and each split at least k0 deep.
    most = np.minimum(device.sm_count / per_grid, k / k0)
    m, n, k, count, flops, tile_m, per_grid, grids, operands, most = np.broadcast_arrays(
        m, n, k, count, flops, tile_m, per_grid, grids, operands, most)

    def timed(split: float, at: np.ndarray | slice) -> np.ndarray:
        waves = np.ceil(per_grid[at] * split / device.sm_count) * grids[at]
        quantization = (m[at] * n[at] * np.maximum(count[at], 1.0) * split) \
            / (waves * device.sm_count * tile_m[at] * device.tile_n)
        t_compute = flops[at] / (rate * np.minimum(quantization, 1.0)
                                 * k[at] / (k[at] + split * k0))
        partials = 0.0 if split == 1.0 else 2.0 * 4.0 * m[at] * n[at] * split
        return np.maximum(t_compute, count[at] * (operands[at] + partials / bandwidth))

    best = timed(1.0, slice(None))
    for split in 2.0 ** np.arange(1, np.log2(device.sm_count) + 1):  # where SMs are idle
        at = np.flatnonzero(most >= split)
        if at.size == 0:
            break
        best[at] = np.minimum(best[at], timed(split, at))
    return best


def layer_gemm_time(ctx: Context, tokens: np.ndarray, tp: np.ndarray, ep: np.ndarray,
                    moe: bool, expert_share: np.ndarray | float = 1.0,
                    attention_in: dict[str, Any] | None = None,
                    expert_bandwidth: float | None = None,
                    load_imbalance: np.ndarray | None = None,
                    expert_tokens: np.ndarray | None = None,
                    grouped_experts: bool | None = None,
                    experts_precision: dict[str, Any] | None = None,
                    **precision: Any) -> np.ndarray:
    """Forward GEMM time of one layer on one GPU holding `tokens` tokens [s].

    Attention projections and dense FFNs are split across `tp`; routed experts across `ep`
    (each GPU runs ``tokens / tp x top_k`` token copies through its ``experts / ep`` experts).
    `expert_share` is the fraction of local experts whose weights are read (decode). Each
    expert's GEMM has ``rows = copies / local experts x moe_load_imbalance`` rows (the busiest
    rank sets the pace [MCOREMOE]) and the expert FFN width as n or k; the tiles of all local
    experts share one grid on devices with a grouped-GEMM kernel, else each expert's GEMM
    quantizes its own waves [TEGG]. `precision`: the `dtype`, `rate` and `operand_bytes` of
    :func:`gemm_time` (serving's precision; default the execution's); `attention_in`: those of
    the attention's input projections where a checkpoint keeps them apart (default `precision`);
    `expert_bandwidth`: the rate the routed experts' weights stream at (default HBM's);
    `load_imbalance`: the busiest rank's tokens over the mean (default ``moe_load_imbalance``,
    the balanced routing of training benchmarks; serving passes its routing's);
    `expert_tokens`: the mean attention group's tokens, whose routed copies the experts run,
    where the group timed here holds more (default `tokens`); `grouped_experts`: the experts'
    GEMMs share one grid (default the device's serving kernels, ``grouped_gemm_kernel``;
    training passes its framework's, :class:`rackforge.perf.layout.Execution`);
    `experts_precision`: the routed experts' own precision, where the checkpoint quantizes
    them alone (default `precision`).
    """
    workload, counts = ctx.workload, ctx.counts
    tp, hidden = tp.astype(float), float(workload.hidden)
    one = np.ones_like(tokens, dtype=float)
    n_in = counts.attn_in_params / hidden                       # fused QKV (or MLA down/up)
    out_proj, down_proj = _row_parallel_shapes(ctx, tokens, tp)
    total = gemm_time(ctx, (tokens, n_in / tp, hidden * one), **(attention_in or precision))
    total = total + gemm_time(ctx, out_proj, **precision)
    if not moe:
        up = (counts.ffn_matrices - 1) * float(workload.ffn_hidden)
        total = total + gemm_time(ctx, (tokens, up / tp, hidden * one), **precision)
        return total + gemm_time(ctx, down_proj, **precision)
    experts = workload.moe
    expert_ffn = float(experts.moe_ffn_hidden)
    up = (counts.ffn_matrices - 1) * expert_ffn
    routed_in = tokens if expert_tokens is None else expert_tokens
    copies = routed_in / tp * experts.top_k                    # routed token copies per GPU
    if load_imbalance is None:
        load_imbalance = ctx.params.moe_load_imbalance
    rows = copies * ep / experts.experts * load_imbalance      # per expert GEMM
    local = experts.experts / ep                               # experts on this GPU
    grouped = ctx.machine.device.grouped_gemm_kernel if grouped_experts is None \
        else grouped_experts
    routed = {"weight_share": expert_share, "grouped": grouped,
              "weight_bandwidth": expert_bandwidth} | (experts_precision or precision)
    total = total + gemm_time(ctx, (rows, up * one, hidden * one), local, **routed)
    total = total + gemm_time(ctx, (rows, hidden * one, expert_ffn * one), local, **routed)
    if experts.shared_experts:
        shared_ffn = experts.shared_experts * expert_ffn
        total = total + gemm_time(ctx, (tokens, (up / expert_ffn) * shared_ffn / tp,
                                        hidden * one), **precision)
        total = total + gemm_time(ctx, (tokens, hidden * one, shared_ffn / tp), **precision)
    return total


def row_parallel_gemm_s(ctx: Context, tokens: np.ndarray, tp: np.ndarray,
                        precision: dict[str, Any]) -> np.ndarray:
    """Time of one step's row-parallel GEMMs on one GPU [s]: every layer's attention output
    projection and every dense layer's FFN down projection over `tokens` tokens, their
    reduction depth split over `tp` (the GEMMs whose partial outputs the tensor-parallel
    all-reduces sum), at the `precision` of :func:`layer_gemm_time`."""
    w = ctx.workload
    shape = np.broadcast(tokens, tp).shape
    tokens, tp = (np.broadcast_to(a, shape).ravel() for a in (tokens, tp))  # gemm_time is 1-D
    out_proj, down_proj = _row_parallel_shapes(ctx, tokens, tp.astype(float))
    total = w.layers * gemm_time(ctx, out_proj, **precision)
    dense = w.layers - ctx.counts.moe_layers
    if dense:
        total = total + dense * gemm_time(ctx, down_proj, **precision)
    return total.reshape(shape)


def _row_parallel_shapes(ctx: Context, tokens: np.ndarray, tp: np.ndarray
                         ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """``(m, n, k)`` of a layer's row-parallel GEMMs on one GPU: the attention output
    projection and the dense FFN's down projection, their reduction depth split over `tp`."""
    hidden = np.full(np.shape(tokens), float(ctx.workload.hidden))
    return ((tokens, hidden, ctx.counts.v_dim / tp),
            (tokens, hidden, ctx.workload.ffn_hidden / tp))


def _distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equal-length float columns and each element's row index:
    ``[c[back] for c in rows]`` gives the columns back (a lexicographic sort, O(n log n))."""
    order = np.lexsort(columns)
    ordered = [col[order] for col in columns]
    first = np.ones(order.size, dtype=bool)
    first[1:] = np.any([np.diff(col) != 0 for col in ordered], axis=0)
    back = np.empty(order.size, dtype=np.int64)
    back[order] = np.cumsum(first) - 1
    return [col[first] for col in ordered], back


def step_gemm_s(ctx: Context, tokens: np.ndarray, batch: np.ndarray, g: np.ndarray,
                tp: np.ndarray, precision: dict[str, Any],
                attention_in: dict[str, Any] | None, expert_bandwidth: float | None,
                imbalance: np.ndarray | float, lead: np.ndarray,
                experts: dict[str, Any] | None = None) -> np.ndarray:
    """GEMM time of one serving step on one GPU [s]: `tokens` tokens in a replica of `g` GPUs
    with attention TP `tp`, each attention group's share through every layer's projections
    (:func:`layer_gemm_time`; MoE: experts spread over the replica, those the step touches,
    ``1 - (1 - k/E)^T`` of them, are read) and the LM head for the `batch` sequences' next
    tokens. `precision`: the dtype, rate and operand bytes of the weights (`attention_in`:
    of the attention's input projections, where the checkpoint keeps them apart;
    `expert_bandwidth`: the rate the routed experts' weights stream at; `imbalance`: the
    busiest rank's routed tokens over the mean's; `lead`: the tokens of the busiest attention
    group, which paces the step's attention-side projections, ``tokens / dp`` if balanced;
    `experts`: the routed experts' precision where it differs from `precision`). Each
    distinct (tokens, batch, g, tp, imbalance, lead) is computed once: the search repeats them
    across prefill chunks."""
    w, c = ctx.workload, ctx.counts
    shape = np.broadcast(tokens, batch, g, tp, imbalance, lead).shape
    (tokens, batch, g, tp, imbalance, lead), back = _distinct_rows(
        *(np.broadcast_to(a, shape).ravel() for a in (tokens, batch, g, tp, imbalance, lead)))
    dp = g / tp
    t_gemm = gemm_time(ctx, (batch / dp, w.vocab / tp, w.hidden + 0.0 * tp), **precision)
    if w.layers > c.moe_layers:
        t_gemm = t_gemm + (w.layers - c.moe_layers) \
            * layer_gemm_time(ctx, lead, tp, g, False, attention_in=attention_in,
                              **precision)
    if c.moe_layers:
        share = 1.0 - (1.0 - w.moe.top_k / w.moe.experts) ** tokens
        t_gemm = t_gemm + c.moe_layers \
            * layer_gemm_time(ctx, lead, tp, g, True, share, attention_in,
                              expert_bandwidth, imbalance, tokens / dp,
                              experts_precision=experts, **precision)
    return t_gemm[back].reshape(shape)
