"""Training step time and memory per GPU, vectorized over candidate layouts.

:func:`estimate_arrays` takes a :class:`~rackforge.perf.layout.Layouts` of any length and returns
arrays; the search calls it on every candidate at once and ``validate`` on arrays of length 1,
so both use one model. Per microbatch and pipeline stage the model adds:

* GEMM time at each GEMM's shape (:mod:`rackforge.perf.gemm`: tile and wave quantization, the
  per-tile overhead and the memory roofline, shared with the serving model);
* attention-core time (flash kernels skip the masked half and recompute scores in backward [4];
  unfused kernels run batched GEMMs plus memory-bound softmax and dropout traffic [2]);
* memory-bound element-wise time (norms, residuals, dropout, activation functions, fp8 casts);
* tensor-, context- and expert-parallel communication on the link each group maps to (ring
  collectives: ``2 (n-1)/n V / B + 2 (n-1) alpha`` for all-reduce [5]), with the share that
  overlaps compute removed;
* the recompute pass of the chosen mode [2];
* a fixed launch and scheduling gap per kernel, which matters for small, fast layers [8];
* for MoE layers: grouped or per-expert GEMMs at the per-expert shape with the load imbalance,
  permutation and all-to-all buffer traffic [MEGABLOCKS], hierarchical all-to-all (scale-up
  share and deduplicated cross-domain share, [DEEPEP]; hidden behind another microbatch's
  compute where the run overlaps it [MCOREMOE]), the expert ops a framework runs as
  separate PyTorch ops (an output bias in FP32, a clamped GLU's clamps [MCOREBIAS]) and a host
  floor: the layer takes ``max(device, host issue)`` plus a drain per tokens-per-expert sync
  [MCOREMOE].

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
[7] Rajbhandari et al., ZeRO, SC20, Sec. 7 (communication of sharded data parallelism).
[8] NVIDIA CUDA C++ Best Practices Guide, and the CUDA Graphs motivation: a few microseconds of
    launch overhead per kernel.
[TEFP8] NVIDIA Transformer Engine docs, FP8 Current Scaling: amax pass, transpose handling.
[TEMX] NVIDIA Transformer Engine docs, MXFP8: row- and column-wise copies quantized apart.
[MCOREMOE] NVIDIA Megatron-Core MoE documentation (megatron/core/transformer/moe/README.md):
    dropless dispatchers, tokens-per-expert sync, CUDA-graph scopes, force load balancing; EP
    A2A overlap (--overlap-moe-expert-parallel-comm, since v0.14) merges the forward and
    backward passes of adjacent microbatches to hide the all-to-all behind computation.
[MEGABLOCKS] Gale et al., MegaBlocks, MLSys 2023, Sec. 3-5 (token permutation).
[MCOREBIAS] NVIDIA Megatron-LM, megatron/core/transformer/moe/experts.py
    (TEGroupedMLP._apply_bias) and megatron/core/fusions/fused_bias_geglu.py
    (weighted_bias_quick_geglu_impl with clamp_value), the bytes counted in perf_params.yaml.
[TEGG] NVIDIA Transformer Engine GroupedLinear (v2.18): general_grouped_gemm, one cuBLAS GEMM
    per expert over several streams, on every GPU; the cuBLASLt grouped GEMM is opt-in
    (NVTE_GROUPED_LINEAR_USE_FUSED_GROUPED_GEMM, default 0). Where a framework runs a grouped
    kernel is the framework's or the run's setting (``Execution.grouped_experts``).
[DEEPEP] DeepSeek-AI DeepEP README: tokens cross RDMA once per node, forwarded over NVLink.
[DSV3] DeepSeek-AI, DeepSeek-V3 Technical Report (arXiv 2412.19437), Sec. 2.1.2 (node-limited
    routing: a token's experts on at most M = 4 nodes) and config.json (n_group 8, topk_group
    4); Megatron-Core applies the same group-limited top-k (moe_router_num_groups,
    moe_router_group_topk), also under its benchmark-only forced load balancing (router.py).
[TITAN] pytorch/torchtitan at e7c0cae (June 2025): models/llama3/parallelize_llama.py, the
    per-op selective checkpoint policy (save the outputs of matmuls, SDPA and max, except every
    second matmul of a block); models/attention.py, SDPA backends flash, efficient, math in that
    order, cuDNN first on compute capability 10.0.
"""

from __future__ import annotations

import math

import numpy as np

from rackforge.perf.context import Context, hbm_bandwidth
from rackforge.perf.gemm import gemm_time, layer_gemm_time
from rackforge.perf.layout import NODE_DEDUP_DISPATCHERS, QUANTIZED_DTYPES, Layouts
from rackforge.perf.memory import memory_arrays
from rackforge.perf.params import Machine
from rackforge.perf.workload import Moe, training_flops_per_token


def _attention_core(ctx: Context, lay: Layouts) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward attention-core time per layer and microbatch [s] ([2], [4])."""
    workload, counts = ctx.workload, ctx.counts
    execution, params = ctx.execution, ctx.params
    seq_len = execution.seq_len
    tp = lay.tp.astype(float)
    queries = lay.mb * seq_len / lay.cp
    full = queries * seq_len * counts.attn_flops_fwd_per_ctx / tp
    bf16_peak = ctx.machine.peak_flops("bf16")
    if execution.flash_attention:
        # the fused kernel skips the masked half of a causal matrix and, on sliding-window
        # layers, everything outside the band (the layers' mean context)
        causal = queries * counts.attn_flops_fwd_per_ctx / tp \
            * counts.mean_causal_context(seq_len) / workload.layers
        fwd = causal / (bf16_peak * attention_efficiency(ctx))
        return fwd, fwd * params.flash_backward_factor
    head_dim = float(counts.q_dim // workload.heads)
    gemm = gemm_time(ctx, (seq_len + 0 * tp, seq_len + 0 * tp, head_dim + 0 * tp),
                     full / (2.0 * seq_len * seq_len * head_dim), "bf16")
    scores = lay.mb * workload.heads / tp * seq_len * seq_len / lay.cp
    softmax = scores * params.softmax_bytes_per_element / hbm_bandwidth(ctx)
    return gemm + softmax, 2 * (gemm + softmax)


def attention_efficiency(ctx: Context) -> float:
    """Achieved / peak FLOP/s of the fused attention kernel the run uses: FlashAttention-2's
    where the framework calls PyTorch SDPA (flash backend first) and the device lists FA2's
    figure (Ampere, Hopper), else the device's fused-kernel figure (cuDNN, FA3; torchtitan puts
    cuDNN first on Blackwell) [4], [TITAN]."""
    device = ctx.machine.device
    if ctx.execution.attention_kernel == "sdpa" and device.fa2_attention_efficiency is not None:
        return device.fa2_attention_efficiency
    return device.attention_efficiency


def per_op_recompute_share(ctx: Context) -> float:
    """Share of a layer's forward matmul FLOPs that torchtitan's per-op selective checkpoint
    recomputes [TITAN]: it saves the output of every matmul except every second one of a block,
    which in a Llama block's order (q, k, v, out; up-gate, up, down) are the k, out and second
    FFN projections: (kv + q + f) / (2 q + 2 kv + m f) of the block's matrix widths, with m
    FFN matrices of width f (a GELU block's k, out and down projections give the same sum)."""
    counts, workload = ctx.counts, ctx.workload
    ffn = workload.moe.moe_ffn_hidden if workload.moe is not None else workload.ffn_hidden
    recomputed = counts.kv_dim + counts.q_dim + ffn
    return recomputed / (2 * counts.q_dim + 2 * counts.kv_dim + counts.ffn_matrices * ffn)


def _elementwise(ctx: Context, lay: Layouts, moe: bool) -> np.ndarray:
    """Forward memory-bound time per layer and microbatch: norms, residuals, activations [s]."""
    workload, counts = ctx.workload, ctx.counts
    execution, params = ctx.execution, ctx.params
    tp = lay.tp.astype(float)
    tokens = lay.mb * execution.seq_len / lay.cp
    tokens_rep = np.where(lay.sp > 0, tokens / tp, tokens)      # h-wide tensors, replicated
    act = params.activation_bytes
    traffic = tokens_rep * act * params.elementwise_hidden_passes * workload.hidden
    passes = float(counts.ffn_matrices)     # SwiGLU: read 2f write f; GELU: read f write f
    experts = workload.moe
    if moe and experts is not None:
        # Routed copies: activation function, permute / unpermute [MEGABLOCKS], all-to-all
        # buffers when ep > 1; one write per token for the weighted combine.
        copy_passes = params.moe_permute_copy_passes \
            + np.where(lay.ep > 1, params.moe_a2a_buffer_passes, 0.0)
        traffic = traffic + tokens / tp * act * (experts.top_k * (
            passes * experts.moe_ffn_hidden + copy_passes * workload.hidden) + workload.hidden)
    else:
        traffic = traffic + tokens * act * passes * workload.ffn_hidden / tp
    if execution.dtype in QUANTIZED_DTYPES:
        ffn = workload.ffn_hidden if not moe else experts.moe_ffn_hidden * experts.top_k
        inputs = tokens * (2.0 * workload.hidden + counts.v_dim / tp + ffn / tp)
        traffic = traffic + inputs * _fp8_cast_bytes(ctx)
    return traffic / hbm_bandwidth(ctx)


def _eager_expert_ops(ctx: Context, lay: Layouts) -> np.ndarray:
    """HBM time, forward and backward, per MoE layer and microbatch of the expert ops a
    framework runs as separate PyTorch ops on every routed copy [s] [MCOREBIAS]: the experts'
    output bias added in FP32 outside the grouped GEMM and a clamped GLU's clamps (gpt-oss)."""
    workload, params, experts = ctx.workload, ctx.params, ctx.workload.moe
    if not ctx.execution.eager_expert_ops or experts is None:
        return np.zeros(len(lay))
    per_copy = (workload.expert_bias * params.moe_expert_bias_bytes * workload.hidden
                + workload.glu_clamped * params.moe_glu_clamp_bytes * experts.moe_ffn_hidden)
    copies = lay.mb * ctx.execution.seq_len / lay.cp / lay.tp * experts.top_k
    return copies * per_copy / hbm_bandwidth(ctx)


def _module_recompute(ctx: Context, moe: bool, gemm: np.ndarray, a_fwd: np.ndarray,
                      elem: np.ndarray, ep_comm: np.ndarray) -> np.ndarray:
    """Forward work selective recompute repeats per layer and microbatch for the run's
    Megatron-Core modules [s] [MCOREMOE]: the attention core (``core_attn``), the memory-bound
    norms and activation (``layernorm``, ``moe_act``), and a share of the layer's GEMM time in
    proportion to the parameters of what is rebuilt (``mla_up_proj``: the MLA up-projections;
    ``mlp``: a dense FFN; ``moe``: the MoE layer, its dispatch and combine included;
    ``shared_experts``)."""
    workload, counts = ctx.workload, ctx.counts
    modules = ctx.execution.recompute_modules or ()
    experts = workload.moe
    ffn = counts.dense_ffn_params
    shared = 0.0
    if moe and experts is not None:
        shared = experts.shared_experts * counts.expert_params
        ffn = experts.top_k * counts.expert_params + shared + workload.hidden * experts.experts
    rebuilt = 0.0
    if "mla_up_proj" in modules and workload.mla is not None:
        m = workload.mla
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        rebuilt += (m.q_lora_rank * workload.heads * qk
                    + m.kv_lora_rank * workload.heads * (m.qk_nope_head_dim + m.v_head_dim))
    if "mlp" in modules and not moe:
        rebuilt += ffn
    if "moe" in modules and moe:
        rebuilt += ffn
    elif "shared_experts" in modules and moe:
        rebuilt += shared
    time = gemm * rebuilt / (counts.attn_params + ffn)
    if "core_attn" in modules:
        time = time + a_fwd
    if {"layernorm", "moe_act"} & set(modules) or ("mlp" in modules and not moe) \
            or ("moe" in modules and moe):
        time = time + elem
    if "moe" in modules and moe:          # one more dispatch and combine: 2 of the 4 counted
        time = time + ep_comm / 2.0
    return time


def _fp8_cast_bytes(ctx: Context) -> float:
    """HBM traffic of casting one GEMM input element to fp8 or mxfp8 [bytes] ([TEFP8],
    [TEMX])."""
    params = ctx.params
    if ctx.execution.dtype == "mxfp8":            # row- and column-wise copies, one read
        return params.mxfp8_cast_bytes_per_element
    cast = params.fp8_cast_bytes_per_element
    if ctx.execution.fp8_scaling == "current":    # amax needs a read of its own
        cast = cast + params.fp8_current_scaling_bytes_per_element
    if ctx.machine.device.fp8_transpose:          # column-wise copy for the backward
        cast = cast + params.fp8_transpose_bytes_per_element
    return cast


def _ring(volume: np.ndarray, ranks: np.ndarray, bandwidth: np.ndarray, latency: np.ndarray,
          steps_factor: float = 1.0) -> np.ndarray:
    """Ring reduce-scatter or all-gather of `volume` bytes over `ranks` ranks at `bandwidth`
    [B/s] and `latency` [s] per step [s] [5]."""
    ranks_f = ranks.astype(float)
    return steps_factor * ((ranks_f - 1) / ranks_f * volume / bandwidth
                           + (ranks_f - 1) * latency)


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
    machine, params = ctx.machine, ctx.params
    inside = span <= machine.scaleup_domain
    bw_up = machine.accelerator.scaleup_bandwidth_bytes_per_s * machine.device.scaleup_efficiency
    rings = 1.0 if stride is None else np.clip(machine.scaleup_domain // stride, 1,
                                               span // stride)
    nic_bw, extra_lat = _scaleout_tier(machine, span)
    bw_out = np.minimum(bw_up, rings * nic_bw * params.scaleout_efficiency)
    return (np.where(inside, bw_up, bw_out),
            np.where(inside, params.scaleup_latency_s, params.scaleout_latency_s + extra_lat))


def _scaleout_tier(machine: Machine,
                   span: np.ndarray) -> tuple[np.ndarray | float, np.ndarray | float]:
    """NIC bandwidth per GPU [B/s] and latency beyond the first scale-out tier [s] for groups
    spanning `span` GPUs: the innermost tier of the sized cluster that covers the group (a 3:1
    spine divides the bandwidth of groups that cross it by 3); the flat NIC rate without one.
    """
    if not machine.scaleout_tiers:
        return machine.scaleout_bytes_per_s, 0.0
    spans, bws, lats = (np.array(col) for col in zip(*machine.scaleout_tiers, strict=True))
    idx = np.minimum(np.searchsorted(spans, span, side="left"), len(spans) - 1)
    return bws[idx], lats[idx] - lats[0]


def _comm_per_layer(ctx: Context, lay: Layouts, attn_fwd: np.ndarray) -> dict[str, np.ndarray]:
    """Exposed TP, CP and EP communication per layer and microbatch [s] (forward, backward
    and recompute)."""
    tokens = lay.mb * ctx.execution.seq_len / lay.cp
    return {"tp": _tp_comm(ctx, lay, tokens), "cp": _cp_comm(ctx, lay, tokens, attn_fwd),
            "ep": _ep_comm(ctx, lay, tokens)}


def _tp_comm(ctx: Context, lay: Layouts, tokens: np.ndarray) -> np.ndarray:
    """Exposed tensor-parallel all-reduces (or reduce-scatter + all-gather) of `tokens`
    tokens per layer [s] [1]."""
    params = ctx.params
    n_coll = 4.0 + 2.0 * (lay.recompute == 2)
    bandwidth, latency = _link(ctx, lay.tp, np.ones_like(lay.tp))
    volume = tokens * ctx.workload.hidden * params.activation_bytes
    tp_time = n_coll * _ring(volume, lay.tp, bandwidth, latency, 2.0)
    if ctx.execution.tp_comm_overlap:
        hidden = np.where(lay.sp > 0, params.tp_overlap_efficiency, 0.0) * tp_time
        tp_time = tp_time - hidden + params.comm_sm_share * hidden
    return tp_time


def _cp_comm(ctx: Context, lay: Layouts, tokens: np.ndarray,
             attn_fwd: np.ndarray) -> np.ndarray:
    """Exposed context-parallel K/V exchange per layer, overlapped with attention [s]."""
    params = ctx.params
    bandwidth, latency = _link(ctx, lay.tp * lay.cp, lay.tp)
    kv = tokens * 2.0 * ctx.counts.kv_dim / lay.tp * params.activation_bytes * (lay.cp - 1)
    # K/V pass around the ring in the forward and twice in the backward (K/V and their
    # gradients), hidden under the attention forward and its backward
    return overlap(3.0 * (kv / bandwidth + (lay.cp - 1) * latency),
                   (1.0 + params.flash_backward_factor) * attn_fwd, params.comm_sm_share)


def _ep_comm(ctx: Context, lay: Layouts, tokens: np.ndarray) -> np.ndarray:
    """Expert-parallel all-to-alls (dispatch and combine) per MoE layer [s], hierarchical.

    The ``ep`` ranks fill scale-up domains of ``g = min(ep, domain)`` ranks. A token copy goes
    to each of the ``ep - 1`` other ranks with equal probability (balanced routing): the share
    ``(g - 1) / ep`` stays on the scale-up links, ``(ep - g) / ep`` crosses the NICs. With
    ``ep_node_dedup`` a token crosses once per distinct remote domain its top-k experts hit,
    ``(N - 1)(1 - (1 - 1/N)^k)`` for ``N = ep / g`` domains (k draws with replacement), and is
    forwarded to its experts' ranks over the scale-up links [DEEPEP]. Both tiers run at once,
    each at its own bandwidth and latency (``1 + log2`` steps of its ranks).
    """
    workload, machine, params = ctx.workload, ctx.machine, ctx.params
    if workload.moe is None:
        return np.zeros(len(lay))
    # Every factor below depends on ep alone: evaluate them once per ep value (a table indexed
    # by ep) and gather, which keeps the search fast.
    ep = np.arange(1, int(lay.ep.max()) + 1, dtype=float)
    top_k = workload.moe.top_k
    g = np.minimum(ep, machine.scaleup_domain)
    domains = ep / g
    dispatcher = ctx.execution.moe_dispatcher
    if (params.ep_node_dedup if dispatcher is None else dispatcher in NODE_DEDUP_DISPATCHERS):
        cross = remote_domains(workload.moe, domains)
        inside = top_k * (ep - 1) / ep
    else:
        cross, inside = top_k * (ep - g) / ep, top_k * (g - 1) / ep
    bw_out, lat_out = _link(ctx, ep.astype(np.int64))
    lat_up_s = params.scaleup_latency_s * (1.0 + np.log2(g))
    lat_out_s = np.where(ep > g, lat_out * (1.0 + np.log2(domains)), 0.0)
    bw_up = machine.accelerator.scaleup_bandwidth_bytes_per_s * machine.device.scaleup_efficiency
    per_byte_up, per_byte_out = inside / bw_up, cross / bw_out
    idx = lay.ep - 1
    token_bytes = tokens / lay.tp * workload.hidden * params.activation_bytes
    one = np.maximum(token_bytes * per_byte_up[idx] + lat_up_s[idx],
                     token_bytes * per_byte_out[idx] + lat_out_s[idx])
    return np.where(lay.ep > 1, (4.0 + 2.0 * (lay.recompute == 2)) * one, 0.0)


def remote_domains(moe: Moe, domains: np.ndarray) -> np.ndarray:
    """Expected remote scale-up domains one token's top-k experts sit in, when the ``ep`` ranks
    fill ``domains`` domains evenly and the experts are spread over them in order [DEEPEP].

    Free routing: k draws over the domains, ``(N - 1)(1 - (1 - 1/N)^k)``. Group-limited routing
    (DeepSeek-V3's node-limited routing [DSV3]: the experts in ``n`` contiguous groups, a
    token's k from at most ``t`` of them): where each domain holds ``c = n / N`` whole groups,
    the t groups (each contributing an expert) hit ``N (1 - C(n - c, t) / C(n, t))`` domains;
    where each group spans ``s = N / n`` domains, each group's ``k / t`` experts hit
    ``s (1 - (1 - 1/s)^(k/t))`` of its domains. A share ``(N - 1) / N`` of the domains hit is
    remote. Layouts where neither divides the other are taken as free routing."""
    k, n, t = moe.top_k, moe.expert_groups, moe.groups_per_token
    free = (domains - 1.0) * (1.0 - (1.0 - 1.0 / domains) ** k)
    if t >= n:
        return free
    hit = np.full(domains.shape, np.nan)
    for i, count in enumerate(domains):
        if count.is_integer() and n % count == 0:           # whole groups in each domain
            c = n // int(count)
            hit[i] = count * (1.0 - math.comb(n - c, t) / math.comb(n, t))
        elif count.is_integer() and count % n == 0:         # each group over s domains
            s = count / n
            hit[i] = t * s * (1.0 - (1.0 - 1.0 / s) ** (k / t))
    limited = hit * (domains - 1.0) / domains
    return np.where(np.isnan(hit), free, np.minimum(free, limited))


def _moe_host(ctx: Context, lay: Layouts, device_s: np.ndarray) -> np.ndarray:
    """Time a MoE layer adds per microbatch beyond its device time `device_s` [s] [MCOREMOE]:
    ``max(device, host) - device`` plus one sync drain per forward (the recompute forward
    included). Host time = eager ops x ``moe_host_op_s``: the block's fixed ops, the per-expert
    GEMM launches where the framework runs no grouped kernel [TEGG], and the attention block's
    kernels unless it is captured in a CUDA graph. A full-iteration CUDA graph (fixed expert
    capacity, no tokens-per-expert sync) adds nothing.
    """
    params, experts, graphs = ctx.params, ctx.workload.moe, ctx.execution.cuda_graphs
    if graphs == "full_iteration":      # the whole step is one graph: nothing issued eagerly
        return np.zeros(len(lay))
    full = (lay.recompute == 2).astype(float)
    fwd = params.moe_host_ops_forward + 0.0 * lay.ep
    bwd = params.moe_host_ops_backward + 0.0 * lay.ep
    if not ctx.execution.grouped_experts:
        local = experts.experts / lay.ep.astype(float)
        fwd = fwd + local * params.moe_expert_ops_forward
        bwd = bwd + local * params.moe_expert_ops_backward
    if not (params.moe_cuda_graph_attention if graphs is None else graphs == "attn"):
        fwd = fwd + params.kernels_per_layer_forward
        bwd = bwd + params.kernels_per_layer_backward
    host = ((1.0 + full) * fwd + bwd) * params.moe_host_op_s
    return np.maximum(host - device_s, 0.0) + (1.0 + full) * params.moe_sync_drain_s


def distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equal-length columns of small non-negative integers and, for each
    element, its row's index: ``[c[inverse] for c in rows]`` gives the columns back. A search
    holds a few hundred distinct (mb, cp, tp, ep) among 10^5 layouts, so per-row work is done
    once per row. Counting, not sorting: O(n)."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    tables = []
    for column in columns:
        present = np.flatnonzero(np.bincount(column))
        index = np.zeros(present[-1] + 1, dtype=np.int64)
        index[present] = np.arange(present.size)
        codes = codes * present.size + index[column]
        tables.append(present)
    used = np.flatnonzero(np.bincount(codes))
    lookup = np.zeros(used[-1] + 1, dtype=np.int64)
    lookup[used] = np.arange(used.size)
    rows, rest = [], used
    for present in reversed(tables):
        rows.append(present[rest % present.size])
        rest = rest // present.size
    return rows[::-1], lookup[codes]


def _per_layer(ctx: Context, lay: Layouts, moe: bool) -> dict[str, np.ndarray]:
    """Times per layer and microbatch: gemm, attention, elementwise, recompute, comm [s]."""
    (mb_u, cp_u, tp_u, ep_u), back = distinct(lay.mb, lay.cp, lay.tp, lay.ep)
    tok_u = mb_u * ctx.execution.seq_len / cp_u.astype(float)
    gemm = layer_gemm_time(ctx, tok_u, tp_u, ep_u, moe,
                           grouped_experts=ctx.execution.grouped_experts)[back]
    a_fwd, a_bwd = _attention_core(ctx, lay)
    elem = _elementwise(ctx, lay, moe)
    comm = _comm_per_layer(ctx, lay, a_fwd)
    bwd_mem = ctx.params.backward_memory_factor
    fwd_all = gemm + a_fwd + elem
    # Selective: attention core, norms and activation functions (memory-bound) run again [2],
    # or the run's own Megatron-Core modules [MCOREMOE]; torchtitan's per-op policy keeps the
    # attention output and recomputes every second matmul instead [TITAN].
    if ctx.execution.recompute_modules is not None:
        selective = _module_recompute(ctx, moe, gemm, a_fwd, elem, comm["ep"])
    elif ctx.execution.selective_recompute == "attention":
        selective = a_fwd + elem
    else:
        selective = per_op_recompute_share(ctx) * gemm + elem
    recompute = np.select([lay.recompute == 1, lay.recompute == 2], [selective, fwd_all], 0.0)
    elem_all = (1 + bwd_mem) * elem + (_eager_expert_ops(ctx, lay) if moe else 0.0)
    out = {"gemm": 3.0 * gemm, "attention": a_fwd + a_bwd, "elementwise": elem_all,
           "recompute": recompute, "tp_comm": comm["tp"], "cp_comm": comm["cp"]}
    out["ep_comm"] = comm["ep"] if moe else np.zeros(len(lay))
    if moe and ctx.execution.ep_overlap:
        # Batch-level overlap merges one microbatch's forward with another's backward, so the
        # dispatch and combine hide behind the layer's compute [MCOREMOE].
        window = out["gemm"] + out["attention"] + out["elementwise"] + out["recompute"]
        out["ep_comm"] = overlap(out["ep_comm"], window, ctx.params.comm_sm_share)
    params = ctx.params                                # fixed cost of every kernel launched
    kernels = params.kernels_per_layer_forward * (1.0 + (lay.recompute == 2)) \
        + params.kernels_per_layer_backward
    out["launch"] = kernels * params.kernel_overhead_s
    out["moe_host"] = _moe_host(ctx, lay, sum(out.values())) if moe and ctx.workload.moe \
        else np.zeros(len(lay))
    return out


def _stage_microbatch(ctx: Context, lay: Layouts) -> dict[str, np.ndarray]:
    """Per-microbatch time of the slowest pipeline stage, by component [s]."""
    workload, counts = ctx.workload, ctx.counts
    layers_stage = np.ceil(workload.layers / lay.pp)
    dense = _per_layer(ctx, lay, moe=False)
    moe_share = counts.moe_layers / workload.layers
    parts = dense
    if counts.moe_layers:
        moe = _per_layer(ctx, lay, moe=True)
        parts = {k: (1 - moe_share) * dense[k] + moe_share * moe[k] for k in dense}
    parts = {k: v * layers_stage for k, v in parts.items()}
    tokens = lay.mb * ctx.execution.seq_len / lay.cp
    hidden, vocab = float(workload.hidden), float(workload.vocab)
    (mb_u, cp_u, tp_u), back = distinct(lay.mb, lay.cp, lay.tp)
    tok_u = mb_u * ctx.execution.seq_len / cp_u.astype(float)
    logits = gemm_time(ctx, (tok_u, vocab / tp_u, hidden + 0 * tok_u), 1.0, "bf16")[back]
    parts["gemm"] = parts["gemm"] + 3.0 * logits
    ce_bytes = tokens * vocab / lay.tp * ctx.params.cross_entropy_bytes_per_logit
    parts["elementwise"] = parts["elementwise"] + ce_bytes / hbm_bandwidth(ctx)
    parts["pp_comm"] = _pipeline_p2p(ctx, lay)
    return parts


def _pipeline_p2p(ctx: Context, lay: Layouts) -> np.ndarray:
    """Exposed pipeline send/receive per microbatch on the bottleneck stage [s] [1]."""
    execution, params = ctx.execution, ctx.params
    tokens = lay.mb * execution.seq_len / lay.cp
    volume = tokens * ctx.workload.hidden * params.activation_bytes \
        / np.where(lay.sp > 0, lay.tp, 1)
    bandwidth, latency = _link(ctx, 2 * lay.tp * lay.cp * lay.dp)   # two neighbouring stages
    one = volume / bandwidth + latency
    hidden_share = params.pp_overlap_efficiency if execution.pp_overlap else 0.0
    exposed = 1.0 - hidden_share + hidden_share * params.comm_sm_share
    return np.where(lay.pp > 1, 2.0 * lay.vp * one * exposed, 0.0)


def _data_parallel(ctx: Context, lay: Layouts, mem: dict[str, np.ndarray],
                   t_mb: np.ndarray, microbatches: np.ndarray) -> np.ndarray:
    """Exposed gradient reduction and parameter gathering per step [s] ([1], [3], [7]).

    Replicated optimizer: all-reduce = reduce-scatter + all-gather of the gradients. Sharded
    optimizer: reduce-scatter of the gradients, all-gather of the bf16 parameters. FSDP: the
    parameters are gathered for the forward and the backward of every microbatch.
    """
    execution, params = ctx.execution, ctx.params
    ranks = lay.dp * lay.cp                                      # gradients reduce over dp x cp
    expert_ranks = np.maximum(1, ranks * lay.tp // lay.ep)
    bandwidth, latency = _link(ctx, lay.tp * lay.cp * lay.dp, lay.tp)
    expert_bw, expert_lat = _link(ctx, lay.tp * lay.cp * lay.dp, lay.ep)

    def ring(bytes_per_param: float) -> np.ndarray:
        return (_ring(mem["dense_params"] * bytes_per_param, ranks, bandwidth, latency)
                + _ring(mem["expert_params"] * bytes_per_param, expert_ranks, expert_bw,
                        expert_lat))

    grad_bytes = execution.grad_bytes or params.grad_reduce_bytes.get(execution.dtype, 4.0)
    scatter, gather = ring(grad_bytes), ring(2.0)
    t_dp = np.select([lay.zero == 0, lay.zero == 3],
                     [2.0 * scatter, scatter + 2.0 * microbatches * gather], scatter + gather)
    window = np.where(lay.zero == 3, microbatches * t_mb, t_mb) if execution.dp_overlap \
        else 0.0 * t_mb
    return np.where(ranks > 1, overlap(t_dp, window, params.comm_sm_share), 0.0)


def estimate_arrays(ctx: Context, lay: Layouts) -> dict[str, np.ndarray]:
    """Step time, its breakdown, throughput and memory for every layout in `lay`.

    Returns arrays keyed ``step_s``, ``tokens_per_s``, ``tokens_per_s_per_gpu``,
    ``model_flops_per_gpu``, ``mfu``, ``memory_bytes``, ``fits`` and ``t_*`` components [s]
    (per step) and ``mem_*`` components [bytes].
    """
    execution, params = ctx.execution, ctx.params
    microbatches = execution.global_batch / (lay.dp * lay.mb)
    parts = _stage_microbatch(ctx, lay)
    t_mb = sum(parts.values())
    bubble = (lay.pp - 1) / lay.vp * t_mb
    mem = memory_arrays(ctx, lay, microbatches)
    t_dp = _data_parallel(ctx, lay, mem, t_mb, microbatches)
    t_opt = mem["optimizer_params"] * params.optimizer_bytes_per_param / hbm_bandwidth(ctx)
    step = microbatches * t_mb + bubble + t_dp + t_opt
    tokens = execution.global_batch * execution.seq_len / step
    n_gpus = lay.n_gpus
    flops = training_flops_per_token(ctx.workload, execution.seq_len) * tokens / n_gpus
    out = {f"t_{k}": microbatches * v for k, v in parts.items()}
    out.update(t_bubble=bubble, t_dp_comm=t_dp, t_optimizer=t_opt, step_s=step,
               tokens_per_s=tokens, tokens_per_s_per_gpu=tokens / n_gpus,
               model_flops_per_gpu=flops, mfu=flops / ctx.machine.peak_flops(execution.dtype),
               microbatches=microbatches)
    out.update({f"mem_{k}": v for k, v in mem.items() if not k.endswith("_params")})
    out["memory_bytes"] = mem["total"]
    out["fits"] = mem["total"] <= ctx.machine.accelerator.hbm_bytes
    return out
