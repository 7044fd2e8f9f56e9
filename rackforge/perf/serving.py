"""Latency-bound serving with continuous batching: throughput as users feel it.

One replica of ``g`` GPUs inside the scale-up domain serves ``B`` sequences at once. Prefill and
decode share the GPUs (chunked prefill [1], [2]): in steady state ``B / O`` requests finish per
decode step, so ``B / O`` new ones join, each bringing ``I`` prompt tokens; one step therefore
processes ``T = B + B I / O`` tokens. The step time is the sum of kernel-family rooflines [3]:

* GEMMs: each projection of each layer and the LM head at its own shape, with the training
  model's GEMM time (:mod:`rackforge.perf.gemm`: tile and wave quantization and
  the per-tile overhead at the step's rows, the larger of its FLOPs at the achievable rate of the
  weight dtype and its weights and activations read [11]; the MLA projections an FP4 checkpoint
  keeps in BF16 at the BF16 rate); for MoE, the experts the step touches,
  ``E (1 - (1 - k/E)^T)`` per layer, are read [4];
* attention: the larger of its FLOPs (decode over the mean context ``I + O/2``, prefill causal
  over ``I/2``; MLA decode in the absorbed form [5]) and the KV-cache bytes read;
* communication inside the scale-up domain: two tensor-parallel all-reduces per dense layer,
  one per MoE layer plus the expert-parallel all-to-all (dispatch in FP8, combine in BF16,
  after the dispatch and combine kernels' fixed time [19]) [6]; an engine that fuses each
  all-reduce into the row-parallel GEMM before it overlaps the two [21];
  the expert GEMMs and the all-to-all wait for the busiest rank of the served routing [14];
* element-wise traffic: the fused residual-add + RMSNorm kernels, rotary embedding, the gated
  activation and, for MoE, the permute / unpermute copies, all memory-bound [10];
* a fixed per-step overhead (scheduling, sampling, launch gaps) and, per MoE layer, the
  router, top-k and quantization around the expert GEMMs, whose weights a grouped kernel
  streams below the dense HBM rate (both measured on the MoE module of [12]);
* the engine's host loop (scheduling, input preparation, request bookkeeping: a CPU time per
  sequence in the step [13]), which overlaps the GPU's work on the previous step: the step
  takes the longer of the two, so small models at large batches are bound by the host CPU.

Offline (MLPerf *offline*: every prompt waits from the start) a step carries its share of prompt
work, ``B I / O`` tokens (with attention data parallel, paced by the busiest group: 11 % at 8
groups as measured [15], scaled by :mod:`rackforge.perf.routing`), or whole chunks, whichever
is faster. Under Poisson arrivals (*server*,
*interactive*, the throughput-interactivity curve) a step admits the prompts that arrived
since the last one, first come, first served, up to the token budget the decodes leave (the
schedulers of [8], [2]; a longer backlog waits for the next step): ``C`` prompt tokens on
average in a step that carries any, and a backlog drains at the full budget, which sets the
prompt queue's service rate. Each of the ``dp`` attention groups chunks in a share
``f = (B I / O) / (dp C)`` of the steps, at random times, and a step runs at the pace of its
busiest group [15] (an NVFP4 MoE pads every group's tokens to that group's [23]), so a
share ``F = 1 - (1 - f)^dp`` of the steps carries a chunk, the mean step is
``t_0 + F (t_C - t_0)``, and the p99 TTFT (an M/G/1 prompt queue) and p99 TPOT (the busy
periods of the prompts that arrive while a request decodes) come from
:mod:`rackforge.perf.latency`. The engine's settings
(:class:`rackforge.perf.inference.Engine`: requests and tokens per step, chunked prefill or
not) bound the candidates [8]; the prompts a step admits are a Poisson count given at least
one [16], whole where the budget allows (always, without chunked prefill).
Throughput per GPU is ``B a / (step x g)`` output tokens/s, ``a`` the tokens a step yields per
sequence (1, or more with speculative decoding [24]). MLPerf *offline* is the best fitting
candidate; *server* and *interactive* the best one whose p99 TTFT and TPOT meet the limits.

MoE layouts: experts are spread over the whole replica (wide EP, ``ep = g``), attention runs
tensor-parallel over ``tp`` GPUs and data-parallel over ``g / tp`` groups. Dense replicas may
also split their layers into ``pp`` pipeline stages of ``g / pp`` GPUs with ``pp``
microbatches in flight [18].

References
----------
[1] Agrawal et al., Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve,
    OSDI 2024, Sec. 4 (chunked prefills, stall-free batching).
[2] vLLM documentation, Optimization and Tuning: chunked prefill (decode first, prefill chunks
    fill the token budget of each step).
[3] Williams, Waterman and Patterson, Roofline, CACM 2009.
[4] Pope et al., Efficiently Scaling Transformer Inference, MLSys 2023, Sec. 2-3.
[5] DeepSeek-AI, DeepSeek-V2, 2024, Sec. 2.1 and App. C (MLA, absorbed projections).
[6] Shoeybi et al., Megatron-LM, 2019 (two all-reduces per layer); Lepikhin et al., GShard,
    2020 (all-to-all dispatch and combine per MoE layer).
[7] Ross, Introduction to Probability Models, 12th ed., 2019, Sec. 5.4.2 (compound Poisson:
    variance ``n E[X^2]``) and the central limit theorem for its 99th percentile.
[8] TensorRT-LLM documentation, Tuning Max Batch Size and Max Num Tokens: the in-flight batching
    scheduler admits at most ``max_batch_size`` requests and ``max_num_tokens`` tokens per step.
[9] Zhong et al., DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large
    Language Model Serving, OSDI 2024, Sec. 3 (separate pools, the KV cache sent from the
    prefill to the decode instance, pool sizes from each phase's per-request GPU time).
[10] :mod:`rackforge.perf.elementwise` (the fused element-wise kernels and their passes).
[11] NVIDIA Deep Learning Performance Guide, Matrix Multiplication Background (tile and wave
    quantization); rackforge.perf.gemm, the GEMM model training uses too.
[12] NVIDIA TensorRT-LLM tech blog, MoE as Dense GEMM: Optimizing Low-Latency MoE Inference on
    NVIDIA Blackwell (Per-Rank MoE Module Latency, TRTLLM-Gen grouped GEMM, one B200).
[13] NVIDIA TensorRT-LLM pull request 10273 (host_step_time per iteration of the PyTorch
    executor, GB200) and the overlap scheduler (the host prepares step n+1 while the GPU runs
    step n); NVIDIA Transformer Engine issue 2053 (the same PyTorch host code on Grace and on
    a DGX H100's Xeon).
[14] :mod:`rackforge.perf.routing` (TensorRT-LLM's measured expert-parallel imbalance).
[15] NVIDIA TensorRT-LLM tech blog 10, ADP Balance Strategy: with attention data parallel an
    iteration takes as long as its busiest rank, so a context phase on one rank while the
    others decode stalls them all (DeepSeek-V3, 8 GB200, DP 8 / EP 8: 25,664 tokens/s with
    round-robin scheduling, 34,140 when the ranks wait to run their contexts together, 37,912
    had every iteration run at the mean rank's load).
[16] Ross, Introduction to Probability Models, 12th ed., 2019, Sec. 2.2.4 and 5.3 (Poisson
    arrivals in an interval; the mean of a Poisson count given that it is positive,
    ``m / (1 - exp(-m))``).
[17] Mixed-format checkpoints: see :mod:`rackforge.perf.precision` ([AUTOQ] there).
[18] Narayanan et al., SC21, Sec. 2.2 (pipeline stages of consecutive layers, microbatches in
    flight); NVIDIA Technical Blog, Mastering LLM Techniques: Inference Optimization, 2023
    (pipeline parallelism in serving: each stage holds a share of the layers and passes its
    activations on, microbatches keep the stages busy).
[19] NVIDIA TensorRT-LLM tech blog 18, Optimizing MoE Communication with One-Sided AlltoAll
    Over NVLink (GB200 NVL72: dispatch and combine latency from 1 to 2,048 tokens per rank).
[20] NVIDIA TensorRT-LLM tech blog 20, Tuning CUDA Graph Batch Sizes for Higher Output
    Throughput: graphs are captured for a fixed set of batch sizes and a generation batch is
    padded to the next captured size, running the model over the empty slots.
[21] TensorRT-LLM ``PluginConfig.gemm_allreduce_plugin`` ("the GEMM + AllReduce kernel
    fusion plugin", a CUTLASS GEMM whose epilogue all-reduces each finished tile over
    NVLink SHARP multimem while later tiles compute); measured for such a kernel on 8 H800
    (FlagTree pull request 861: 1.16 ms fused against 1.40 ms for the GEMM then NCCL at
    8,192 x 8,192 x 1,024) it takes about the longer of the GEMM and the all-reduce.
[22] TensorRT-LLM performance tuning guide, Useful Runtime Options, Capacity Scheduler Policy:
    GUARANTEED_NO_EVICT (the default) never pauses a started request, so it admits one only
    with cache for its prompt and maximum output reserved; MAX_UTILIZATION packs requests by
    the cache they hold and may pause them (trtllm-bench reports "Scheduling Policy:
    Guaranteed No Evict", docs/source/performance/perf-benchmarking.md).
[23] TensorRT-LLM PyTorch backend, ``Qwen3MoE.forward`` / ``Deepseekv3MoE.forward``
    (tensorrt_llm/_torch/models/modeling_qwen3_moe.py, modeling_deepseekv3.py, 2025): with
    attention data parallel, unless the FP8 CUTLASS path all-gathers the ranks' tokens as
    they are, ``use_dp_padding``: each rank's hidden states are padded to
    ``max(all_rank_num_tokens)`` before the router and the experts, which is the case of
    NVFP4 experts (``not has_fp8_qdq and has_nvfp4``) on the CUTLASS and wide-EP backends.
    Measured effect of such imbalance: TensorRT-LLM tech blog 10 (DeepSeek-V3, 8 GB200, DP 8
    / EP 8, the MLPerf DeepSeek-R1 lengths) 25,664 tokens/s with contexts placed as they
    come, 34,140 when the ranks run their contexts together.
[24] Speculative decoding with the model's own draft module: NVIDIA TensorRT-LLM tech blog 2,
    DeepSeek R1 MTP Implementation and Optimization (MTP Eagle: the one MTP module, a decoder
    layer sharing the embedding and LM head, run k times; the k drafts and the sampled token,
    k + 1 query tokens per sequence, go through the main model in the next step, which keeps
    the longest matching prefix); DeepSeek-AI, DeepSeek-V3 Technical Report, Sec. 2.2.
    Tokens per step as measured: ``serving_params.yaml`` ``speculative_decoding``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from rackforge.perf.benchmarks import Limits
from rackforge.perf.context import Context, hbm_bandwidth
from rackforge.perf.elementwise import elementwise_bytes
from rackforge.perf.gemm import gemm_time, row_parallel_gemm_s, step_gemm_s
from rackforge.perf.inference import Engine, Serving
from rackforge.perf.latency import output_length_nodes, tpot_quantile, ttft_quantile
from rackforge.perf.precision import (
    PEAK_KEY,
    check_precision,
    gemm_rate,
    kept_bf16,
    mixed_checkpoint,
    outside_experts,
    weight_bytes_per_element,
)
from rackforge.perf.routing import busiest_group_step, busiest_rank_load
from rackforge.perf.serving_params import (
    ServingParams,
    for_accelerator,
    load_serving_params,
    tokens_per_step,
)
from rackforge.perf.serving_result import ServingPoint, ServingResult, pareto

BATCHES = np.unique(np.round(np.geomspace(1, 16384, 72)).astype(np.int64))
PIPELINE_STAGES = (1, 2, 4)         # of a dense replica (published serving runs use 1 to 4)


def layouts(ctx: Context, n_gpus: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replica sizes ``g`` (dividing `n_gpus`, within the scale-up domain), attention TP sizes
    and pipeline stages: dense models ``tp x pp = g`` with ``pp`` 1, 2 or 4 [18]; MoE models
    any power-of-two ``tp`` up to ``g`` (``g <= E``, experts over the replica), one stage."""
    cap = min(n_gpus, ctx.machine.scaleup_domain)
    sizes = sorted({s for s in (1, 2, 4, 8, 16, 32, 64, 72, 128, 144, cap)
                    if s <= cap and n_gpus % s == 0})
    moe = ctx.workload.moe
    if moe is None:
        triples = [(g, g // p, p) for g in sizes for p in PIPELINE_STAGES
                   if g % p == 0 and p <= ctx.workload.layers]
    else:
        triples = [(g, t, 1) for g in sizes if g <= max(moe.experts, 1)
                   for t in (1, 2, 4, 8, 16, 32, 64) if t <= g and g % t == 0] or [(1, 1, 1)]
    return tuple(np.array(column, dtype=np.int64) for column in zip(*triples, strict=True))


def _model_sizes(ctx: Context) -> dict[str, float]:
    """Weights one replica holds: the dense part (attention, dense FFNs, norms, LM head; split
    over the attention group) and the routed experts (spread over the replica) [parameters]."""
    w, c = ctx.workload, ctx.counts
    experts = 0.0 if w.moe is None else c.moe_layers * w.moe.experts * c.expert_params
    body = c.params - c.embedding_params
    return {"dense": body - experts + float(w.vocab * w.hidden), "experts": experts}


def _attention_ctx_flops(ctx: Context) -> tuple[float, float]:
    """Attention FLOPs per query token per context token of one layer: (decode, prefill)
    [FLOP]. MLA decode uses the absorbed form: per head, scores over ``kv_lora + rope`` and
    values over ``kv_lora`` dimensions [5]."""
    w, c = ctx.workload, ctx.counts
    prefill = c.attn_flops_fwd_per_ctx
    if w.mla is None:
        return prefill, prefill
    m = w.mla
    decode = 2.0 * w.heads * (2 * m.kv_lora_rank + m.qk_rope_head_dim)
    return decode, prefill


def input_cv(srv: Serving, sp: ServingParams) -> float:
    """Coefficient of variation of the prompt length: the workload's, else the default."""
    return srv.input_cv if srv.input_cv is not None else sp.prompt_length_cv.value


def output_cv(srv: Serving, sp: ServingParams) -> float:
    """Coefficient of variation of the output length: the workload's, else the default."""
    return srv.output_cv if srv.output_cv is not None else sp.output_length_cv.value


def graph_padded(decodes: np.ndarray, sizes: tuple[int, ...] | None) -> np.ndarray:
    """Decode slots an engine's generation-only step runs with CUDA-graph padding [20]: the
    smallest captured batch size at or above `decodes`; a batch above every captured size (or
    no graphs) runs as it is. Steps that carry prompts run eagerly, unpadded."""
    if not sizes:
        return decodes
    captured = np.asarray(sizes, dtype=float)
    index = np.searchsorted(captured, decodes, side="left")
    return np.where(index < captured.size, captured[np.minimum(index, captured.size - 1)],
                    decodes)


def engine_caps(engine: Engine, sp: ServingParams) -> tuple[float, float]:
    """Requests in flight and tokens per step one engine admits: the engine's own settings,
    else the framework defaults of ``serving_params.yaml`` [8]."""
    return (float(engine.max_batch_size or sp.max_batch_size.value),
            float(engine.max_num_tokens or sp.max_num_tokens.value))


def serving_arrays(ctx: Context, srv: Serving, g: np.ndarray, tp: np.ndarray,
                   batch: np.ndarray, dtype: str, chunk: np.ndarray | None = None,
                   engine: Engine = Engine(), pp: np.ndarray | None = None
                   ) -> dict[str, np.ndarray]:
    """Step times, throughput and memory of every (g, tp, batch, chunk, pp) candidate at once:
    ``step_s`` / ``tokens_per_s_per_gpu`` in steady state with every step carrying its share of
    prompt work (offline), ``served_*`` with prompts arriving at random and prefilled `chunk`
    tokens per engine step (default: as many as the token cap leaves); tail latencies of the
    latter come from :func:`tail_latencies`. The `engine`'s caps bound each engine [8].
    `pp`: pipeline stages of the replica (default 1) [18]. A prompt backlog drains at the full
    token budget (chunked prefill) or `chunk` (whole prompts), the prompt queue's service.

    Units: seconds, bytes, output tokens/s per GPU. The arrays broadcast together.
    """
    sp, w, c, params = load_serving_params(), ctx.workload, ctx.counts, ctx.params
    max_batch, max_tokens = engine_caps(engine, sp)
    # Speculative decoding [24]: a decode step runs 1 + k query tokens per sequence through the
    # model (the sampled token and the k drafts it verifies) and yields `accepted` of them; so
    # a request takes O / accepted steps. Step times stay per step; throughput and TPOT count
    # the accepted tokens.
    drafts = engine.draft_tokens
    accepted, queries = tokens_per_step(w.id, drafts), 1.0 + drafts
    g, tp, batch = (np.asarray(a, dtype=float) for a in (g, tp, batch))
    # Pipeline stages [18]: a replica of g GPUs in pp stages keeps pp microbatches of B / pp
    # sequences in flight, each stage running its L / pp layers on g / pp GPUs, and every
    # sequence advances one token per round of the pp microbatches. A round costs the GPU time
    # of one stage's GPUs running all L layers on one microbatch, plus each further stage's
    # per-step overhead and the activations handed between stages; the weights spread over
    # all g GPUs and each GPU caches its layers' KV of all B sequences. So from here on `g`
    # and `batch` are one stage's GPUs and one microbatch (the same per GPU), the caps apply
    # per microbatch and a step is a round.
    pp = np.ones_like(g) if pp is None else np.asarray(pp, dtype=float)
    g, batch = g / pp, batch / pp
    i_len, o_len = float(srv.input_tokens), float(srv.output_tokens)
    sizes, bw = _model_sizes(ctx), hbm_bandwidth(ctx)
    w_elem = weight_bytes_per_element(dtype, sp)
    gemm = {"dtype": check_precision(ctx, dtype), "rate": gemm_rate(ctx, dtype, sp),
            "operand_bytes": w_elem}
    if srv.wider_share:
        w_elem, gemm = mixed_checkpoint(ctx, gemm, srv.wider_share, sp)
    attention_in, bf16_extra = kept_bf16(ctx, dtype, sp)
    # gpt-oss-style checkpoints: BF16 but for the routed experts
    gemm, experts_gemm, dense_elem = outside_experts(ctx, dtype, gemm, w_elem, sp)
    kv_elem = sp.kv_bytes_per_element.value if PEAK_KEY[dtype] in ("fp8", "fp4") else 2.0
    dp = g / tp
    kv_split = np.ones_like(tp) if w.mla else np.minimum(tp, w.kv_heads)
    kv_layer = c.kv_cache_bytes_per_elem_token * kv_elem / kv_split  # per token, layer, GPU
    held = (dense_elem * sizes["dense"] / tp + w_elem * sizes["experts"] / g
            + w.layers * bf16_extra / tp) / pp
    held = held * (1.0 + (drafts > 0) / w.layers)      # the draft module: one more layer [24]
    # Mean context of the sequences in flight: long requests stay longer (length-biased
    # sampling, the inspection paradox [7]): I + E[O^2] / (2 E[O]) = I + O (1 + cv^2) / 2.
    ctx_mean = i_len + o_len * (1.0 + output_cv(srv, sp) ** 2) / 2.0
    # Context tokens summed over the layers (sliding-window layers keep their window only).
    in_flight, prompt = c.context_at(ctx_mean), c.context_at(i_len)
    attn_dec, attn_pre = _attention_ctx_flops(ctx)
    machine = ctx.machine
    attn_rate = machine.peak_flops("bf16") * machine.device.attention_efficiency
    link = machine.accelerator.scaleup_bandwidth_bytes_per_s * machine.device.scaleup_efficiency
    lat = params.scaleup_latency_s
    dense_layers = w.layers - c.moe_layers
    # Per step: scheduling and sampling, plus the launch gap of every kernel of the forward.
    overhead = params.decode_step_overhead_s \
        + w.layers * params.kernels_per_layer_forward * params.kernel_overhead_s \
        + c.moe_layers * sp.moe_layer_overhead_s.value
    # A grouped MoE kernel streams the routed experts' weights below the dense rate [12].
    expert_bw = bw * sp.grouped_weight_bandwidth_fraction.value
    host_per_sequence = for_accelerator(sp.host_s_per_sequence, ctx)
    # With attention data parallel, an NVFP4 MoE pads each group's tokens to the busiest
    # group's before routing, so its experts and all-to-all work on dp x the busiest load [23].
    pad_moe = w.moe is not None and (experts_gemm or gemm)["dtype"] == "fp4"
    # Served routing is unbalanced: the busiest expert-parallel rank paces the layer [14].
    busiest = 1.0 if w.moe is None else \
        busiest_rank_load(g, w.moe.experts, sp.routed_load_excess.value)

    def step(prefill: np.ndarray, dec: np.ndarray, lead_pre: np.ndarray, run: np.ndarray,
             queries: float = queries) -> dict[str, np.ndarray]:
        """Parts of one step with `dec` decoding sequences and `prefill` prompt tokens [s],
        paced by the busiest attention group [15], which holds its share of the decodes and
        `lead_pre` prompt tokens; its GEMMs, element-wise kernels and communication run over
        `run` decode slots (more than `dec` when a CUDA graph pads the batch [20]), each with
        `queries` tokens (1 + draft tokens [24])."""
        tokens, lead = run * queries + prefill, run * queries / dp + lead_pre
        if pad_moe:
            # every group's MoE input is padded to the busiest group's tokens [23]
            tokens = np.maximum(tokens, lead * dp)
        logits = batch * np.where(dec > 0, queries, 1.0)     # LM-head rows
        t_gemm = step_gemm_s(ctx, tokens, logits, g, tp, gemm, attention_in, expert_bw, busiest,
                             lead, experts_gemm)
        kv_read = dec / dp * in_flight * kv_layer          # once, however many queries
        a_flops = (dec / dp * in_flight * attn_dec * queries
                   + lead_pre * c.mean_causal_context(i_len) * attn_pre) / tp
        t_attn = np.maximum(a_flops / attn_rate, kv_read / bw)
        n_ar = w.layers + dense_layers
        ar = 2.0 * (tp - 1) / tp * lead * w.hidden * 2.0 / link + lat * (1.0 + np.log2(tp))
        t_comm = np.where(tp > 1, n_ar * ar, 0.0)
        if engine.gemm_allreduce_fusion:
            # Each all-reduce runs inside the row-parallel GEMM that produces its operand,
            # tile by tile as the tiles complete [21]: the pair takes the longer of the two.
            t_comm = t_comm - np.minimum(t_comm, row_parallel_gemm_s(ctx, lead, tp, gemm))
        if w.moe is not None:
            # the busiest expert rank receives, the lead group's ranks send
            copies = np.maximum(busiest * tokens / g, lead / tp)
            a2a = copies * w.moe.top_k * w.hidden * 3.0 * (g - 1) / g / link \
                + sp.moe_alltoall_floor_s.value
            t_comm = t_comm + np.where(g > 1, c.moe_layers * a2a, 0.0)
        # the microbatch's activations cross each of the pp - 1 stage boundaries [18]
        t_comm = t_comm + (pp - 1) * (lead * w.hidden * params.activation_bytes / link + lat)
        t_elem = elementwise_bytes(ctx, tokens, g, tp, sp, busiest, lead) / bw
        # The engine's host loop prepares the next step while the GPU runs this one [13]: the
        # step takes the longer of the two. Sequences per engine: decodes and prompts.
        t_host = host_per_sequence * (dec / dp + lead_pre / max(i_len, 1.0))
        return {"gemm": t_gemm, "attn": t_attn, "comm": t_comm, "elementwise": t_elem,
                "host": t_host}

    per_step_prefill = batch * i_len * accepted / o_len
    # Under Poisson arrivals (server, interactive) prompts are prefilled in chunks of `chunk`
    # tokens per engine step [1], [8]: a share f = prompt tokens per step / (dp x chunk) of the
    # steps carries a chunk; the mean step interpolates between the two kinds of step.
    chunk = np.broadcast_to(np.asarray(chunk if chunk is not None else
                                       max_tokens - batch / dp, dtype=float),
                            batch.shape)
    # Each attention group prefills its own prompts, which arrive at random: a step that
    # carries a chunk on any group runs at that group's pace [15]. A group chunks in a share
    # f of the steps, so 1 - (1 - f)^dp of the steps carry a chunk, dp f / (1 - (1 - f)^dp)
    # of them on average (one group's chunk sets the pace, the others' add expert work).
    group_share = np.clip(per_step_prefill / (dp * chunk), 0.0, 1.0)
    chunk_share = 1.0 - (1.0 - group_share) ** dp
    chunking = dp * group_share / np.maximum(chunk_share, 1e-300)
    # Five kinds of step, stacked and timed in one pass (prompt tokens, decodes, the busiest
    # group's prompt tokens, decode slots run): every group with its share of prompt work
    # (offline, paced by the busiest group [15]); decodes only (the one kind a CUDA graph
    # replays, padded [20]); a chunk step; a prefill engine's step of `batch` whole prompts
    # with no decodes (disaggregated pools [9]; its logits: one token each); and a step that
    # drains a prompt backlog at the full budget (the prompt queue's service).
    none = np.zeros_like(batch)
    padded = dp * graph_padded(batch / dp, engine.cuda_graph_batch_sizes)
    lane = np.maximum(max_tokens - batch / dp, 1.0) if engine.chunked_prefill else chunk
    kinds = [(per_step_prefill, batch, per_step_prefill / dp, batch), (none, batch, none, padded),
             (chunking * chunk, batch, chunk, batch),
             (batch * i_len, none, batch * i_len / dp, none), (lane, batch, lane, batch)]
    columns = [np.stack(np.broadcast_arrays(*column)) for column in zip(*kinds, strict=True)]
    parts = step(*columns)
    parts["draft"] = np.zeros_like(parts["gemm"])
    if drafts:
        parts["draft"] = _draft_s(ctx, step, columns, (g, tp), gemm, experts_gemm, drafts,
                                  expert_bw, busiest, overhead, sp)
    steps = np.maximum(parts["gemm"] + parts["attn"] + parts["comm"] + parts["elementwise"]
                       + parts["draft"] + overhead + (pp - 1) * params.decode_step_overhead_s,
                       pp * parts["host"])
    mean_parts = {k: np.broadcast_to(v, steps.shape)[0] for k, v in parts.items()}
    tau = steps[0] * busiest_group_step(dp, sp.attention_dp_step_excess.value)
    decode_only, chunk_step, prefill_only, lane_step = steps[1], steps[2], steps[3], steps[4]
    served = decode_only + chunk_share * (chunk_step - decode_only)
    # KV held per sequence: what it has written, or its whole prompt and output where the
    # engine reserves a request's cache at admission [22]
    held_ctx = c.context_at(i_len + o_len) if engine.reserve_full_request else in_flight
    memory = held + batch / dp * held_ctx * kv_layer + params.reserved_bytes
    in_memory = memory <= machine.accelerator.hbm_bytes
    # Scheduler caps of the serving framework, per engine (attention group) [8].
    in_batch_cap = batch / dp <= max_batch
    in_caps = in_batch_cap & (batch / dp * (1.0 + i_len / o_len) <= max_tokens)
    chunk_ok = in_batch_cap & (group_share < 1.0) & (batch / dp + chunk <= max_tokens)
    # Disaggregated pools [9]: a decode engine steps `batch` sequences with no prompt work; a
    # prefill engine takes `batch` whole prompts per step within its token cap; one prompt
    # longer than the cap it chunks (the chunks together do the same work).
    prefill_fits = (held + batch / dp * prompt * kv_layer + params.reserved_bytes
                    <= machine.accelerator.hbm_bytes) \
        & ((batch / dp * i_len <= max_tokens) | (engine.chunked_prefill & (batch <= dp)))
    return {"step_s": tau, "decode_step_s": decode_only, "prefill_step_s": prefill_only,
            "chunk_step_s": chunk_step, "chunk_share": chunk_share, "served_step_s": served,
            "chunk_tokens": chunk, "prefill_fits": prefill_fits,
            "kv_prompt_bytes": prompt * kv_layer * kv_split,
            "tokens_per_s_per_gpu": batch * accepted / (tau * g),
            "served_tokens_per_s_per_gpu": batch * accepted / (served * g),
            "tokens_per_s_per_user": accepted / served, "tokens_per_step": accepted,
            # per engine: requests per second, its chunk lanes (one per pipeline microbatch,
            # each prefilling one prompt at a time) and seconds of a lane per prompt token
            "arrivals_per_s": pp * batch * accepted / (dp * o_len * served), "prefill_lanes": pp,
            "prompts_per_step": pp * batch * accepted / o_len,   # per replica and round (step)
            "prefill_s_per_token": lane_step / lane,
            "memory_bytes": memory, "in_memory": in_memory, "fits": in_memory & in_caps,
            "served_fits": in_memory & chunk_ok,
            "weight_bytes": held,
            **{f"{k}_s": v for k, v in mean_parts.items()}}


def _draft_s(ctx: Context, step: Callable[..., dict[str, np.ndarray]], columns: list[np.ndarray],
             replica: tuple[np.ndarray, ...],
             gemm: dict, experts: dict | None, drafts: int, expert_bw: float,
             busiest: np.ndarray | float, overhead: float, sp: ServingParams) -> np.ndarray:
    """The draft module's time per step [s] [24]: `drafts` passes, each over one token of
    every decode slot, through one decoder layer (the main model's mean layer at one query
    token, its kernel launches included; in BF16 where an FP4 checkpoint keeps the draft layer
    so), the shared LM head and a sampling of its own (the step overhead)."""
    _, dec, _, run = columns
    run = np.maximum(run, 1.0)               # steps without decodes draft nothing (below)
    w, params = ctx.workload, ctx.params
    one = step(np.zeros_like(dec), dec, np.zeros_like(dec), run, 1.0)
    g, tp = replica                          # GPUs of one pipeline stage, attention TP
    rows = run * tp / g                      # the lead attention group's decode slots
    shape = np.broadcast(rows, tp).shape     # gemm_time takes flat arrays

    def lm_head(precision: dict) -> np.ndarray:
        flat = np.broadcast_to(rows, shape).ravel()
        return gemm_time(ctx, (flat, w.vocab / np.broadcast_to(tp, shape).ravel(),
                               w.hidden + 0.0 * flat), **precision).reshape(shape)

    head = lm_head(gemm)
    layer_gemm = one["gemm"] - head
    if sp.speculative_decoding[w.id].bf16_beside_fp4 and (experts or gemm)["dtype"] == "fp4":
        bf16 = {"dtype": "bf16", "rate": gemm_rate(ctx, "bf16", sp), "operand_bytes": 2.0}
        layer_gemm = step_gemm_s(ctx, run, run, g, tp, bf16, None, expert_bw, busiest, rows) \
            - lm_head(bf16)
    layer = (layer_gemm + one["attn"] + one["comm"] + one["elementwise"]
             + overhead - params.decode_step_overhead_s) / w.layers
    return np.where(dec > 0, drafts * (layer + head + params.decode_step_overhead_s), 0.0)


def tail_latencies(out: dict[str, np.ndarray], srv: Serving, idx: np.ndarray,
                   queued: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """p99 TTFT and TPOT [s] of the candidates `idx` of :func:`serving_arrays` under Poisson
    arrivals (:mod:`rackforge.perf.latency`): the prompt queue of an engine (its chunk lanes
    its servers), half a step to the next step boundary, and the prompt work that the steps of
    a request's decode carry (the busy periods of the prompts that arrive during it).
    `queued` False: TTFT from admission, without the queue (the offline scenario, where
    every request is issued at the start and its wait is the run's length)."""
    sp = load_serving_params()
    i_len = float(srv.input_tokens)
    served = out["served_step_s"][idx]
    lanes = np.broadcast_to(out["prefill_lanes"], out["served_step_s"].shape)[idx]
    arrivals = out["arrivals_per_s"][idx] if queued else np.zeros_like(served)
    ttft = ttft_quantile(arrivals, i_len * out["prefill_s_per_token"][idx],
                         input_cv(srv, sp), servers=lanes) + 0.5 * served
    intervals, weights = output_length_nodes(float(srv.output_tokens),
                                             output_cv(srv, sp))
    prompts = np.broadcast_to(out["prompts_per_step"], out["served_step_s"].shape)[idx]
    # TPOT per output token: a step yields `tokens_per_step` of them per sequence [24]
    accepted = out["tokens_per_step"]
    tpot = tpot_quantile(out["decode_step_s"][idx] / accepted, served / accepted,
                         prompts / accepted, input_cv(srv, sp), intervals, weights)
    return ttft, tpot


def _point(out: dict[str, np.ndarray], i: int, ttft_s: float, tpot_s: float,
           per_gpu_key: str = "served_tokens_per_s_per_gpu") -> ServingPoint:
    lay = {"gpus": int(out["g"][i]), "tp": int(out["tp"][i]), "pp": int(out["pp"][i]),
           "ep": int(out["ep"][i]), "dp": int(out["g"][i] // (out["tp"][i] * out["pp"][i])),
           "chunk_tokens": int(out["chunk_tokens"][i])}
    return ServingPoint(float(out[per_gpu_key][i]), float(out["tokens_per_s_per_user"][i]),
                        float(ttft_s), float(tpot_s), int(out["batch"][i]), lay,
                        float(out["memory_bytes"][i]))


def search_serving(ctx: Context, srv: Serving, n_gpus: int, dtype: str | None = None,
                   engine: Engine = Engine()) -> dict[str, np.ndarray]:
    """Every (replica, attention TP, pipeline stages, batch) candidate for `n_gpus` GPUs,
    evaluated at once. The engine admits, first come, first served, the prompts that arrived
    since its last step [8]: with ``m = B / (dp O)`` Poisson arrivals per step and group, a step
    that carries prompts carries ``m / (1 - exp(-m))`` of them on average (a Poisson count
    given at least one [16]), so its chunk is that many mean prompts and a share
    ``1 - exp(-m)`` of the steps carries one. With chunked prefill the chunk is capped at the
    token budget the decodes leave, at which a backlog drains (the prompt queue's service
    rate); without it, prompts go in whole."""
    dtype = dtype or ctx.execution.dtype
    check_precision(ctx, dtype)
    g_lay, t_lay, p_lay = layouts(ctx, n_gpus)
    pick = np.repeat(np.arange(g_lay.size), BATCHES.size)
    g, tp, pp = g_lay[pick], t_lay[pick], p_lay[pick]
    batch = np.tile(BATCHES, g_lay.size).astype(float)
    steps = float(srv.output_tokens) / tokens_per_step(ctx.workload.id, engine.draft_tokens)
    arriving = batch / (g / tp) / steps           # requests finishing per step and engine
    chunk = float(srv.input_tokens) * arriving / -np.expm1(-arriving)
    if engine.chunked_prefill:
        chunk = np.minimum(chunk, engine_caps(engine, load_serving_params())[1] - batch / (g / tp))
    out = serving_arrays(ctx, srv, g, tp, batch, dtype, np.maximum(chunk, 1.0), engine, pp)
    ep = g if ctx.workload.moe is not None else np.ones_like(g)
    out.update(g=g, tp=tp, ep=ep, batch=batch, pp=pp)
    return out


_BLOCK = 32     # candidates whose tail latencies are solved at once (then 4x as many)


def serve(ctx: Context, srv: Serving, n_gpus: int, limits: Limits | None = None,
          dtype: str | None = None, searched: dict[str, np.ndarray] | None = None,
          engine: Engine = Engine()) -> ServingResult:
    """Best output tokens/s per GPU of `srv` on `n_gpus` GPUs whose p99 TTFT and TPOT under
    Poisson arrivals meet `limits`; with no limit (the offline scenario) the best throughput of
    steps that carry their share of prompt work or whole chunks, whichever is faster. The
    throughput-interactivity curve is that of Poisson arrivals. `searched`: the
    :func:`search_serving` arrays of the same case (and `engine`), when already computed."""
    limits = limits or Limits()
    dtype = dtype or ctx.execution.dtype
    out = searched if searched is not None else search_serving(ctx, srv, n_gpus, dtype, engine)
    served_ok = out["served_fits"]
    best = None
    if limits.ttft_s is None and limits.tpot_s is None:
        # Offline: every prompt waits from the start, so a step may carry its share of prompt
        # work (steady state) or whole chunks, whichever is faster for the candidate. Its
        # TTFT counts from admission: the queue is the whole run (MLPerf does not time it).
        steady = np.where(out["fits"], out["tokens_per_s_per_gpu"], 0.0)
        offline = np.where(served_ok, np.maximum(steady, out["served_tokens_per_s_per_gpu"]), 0.0)
        if offline.max(initial=0.0) > 0:
            i = int(np.argmax(offline))
            ttft, tpot = tail_latencies(out, srv, np.array([i]), queued=False)
            best = replace(_point(out, i, ttft[0], tpot[0]), tokens_per_s_per_gpu=float(offline[i]))
    else:
        ok = served_ok.copy()
        if limits.tpot_s is not None:           # the mean step is below its p99
            ok &= out["served_step_s"] / out["tokens_per_step"] <= limits.tpot_s
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(-out["served_tokens_per_s_per_gpu"][idx], kind="stable")]
        start, size = 0, _BLOCK
        while start < idx.size:
            block = idx[start:start + size]
            start, size = start + size, size * 4
            ttft, tpot = tail_latencies(out, srv, block)
            meets = (ttft <= (limits.ttft_s or np.inf)) & (tpot <= (limits.tpot_s or np.inf))
            if meets.any():
                j = int(np.argmax(meets))
                best = _point(out, int(block[j]), ttft[j], tpot[j])
                break
    front = pareto(out["tokens_per_s_per_user"], out["served_tokens_per_s_per_gpu"], served_ok)
    ttft, tpot = tail_latencies(out, srv, front)
    curve = [_point(out, int(i), ttft[k], tpot[k]) for k, i in enumerate(front)]
    fastest_tpot = float(tpot.min()) if front.size else 0.0
    fastest_ttft = float(ttft.min()) if front.size else 0.0
    return ServingResult(best, curve, fastest_tpot, fastest_ttft,
                         int(served_ok.size), int(served_ok.sum()), dtype, limits,
                         int(out["in_memory"].sum()), engine.draft_tokens,
                         float(out["tokens_per_step"]))
