"""Inference: prefill and decode time, KV cache, batch limits and throughput, vectorized.

Each phase is a roofline [1]: time is the larger of FLOPs at the achievable matmul rate and bytes
(weights, KV cache) at the achievable HBM bandwidth, plus tensor-parallel all-reduces (two per
layer [2]) and, for decode, a fixed per-step overhead. Prefill of ``I`` prompt tokens is
compute-bound; decode reads all weights (for MoE, the experts a batch touches:
``E (1 - (1 - k/E)^B)`` per layer) and every sequence's KV cache per step [3].

The KV cache per token is ``layers x 2 x kv_heads x head_dim`` elements for GQA (split across
tensor-parallel ranks up to ``kv_heads``) and ``layers x (kv_lora_rank + rope_dim)`` for MLA [4].
Offline throughput assumes continuous batching at batch ``B``: each request costs its prefill
plus ``O`` decode steps shared by ``B`` requests.

References
----------
[1] Williams, Waterman and Patterson, Roofline, CACM 2009.
[2] Shoeybi et al., Megatron-LM, 2019, Sec. 3 (two all-reduces per layer).
[3] Pope et al., Efficiently Scaling Transformer Inference, MLSys 2023, Sec. 2-3.
[4] DeepSeek-AI, DeepSeek-V2, 2024, Sec. 2.1 (MLA KV cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rackforge.perf.context import Context, hbm_bandwidth
from rackforge.perf.training import gemm_time, layer_gemm_time


@dataclass(frozen=True)
class Serving:
    """A serving workload: mean prompt and output lengths and the formats used."""

    input_tokens: float                 # mean prompt length [tokens]
    output_tokens: float                # mean generated length [tokens]
    kv_bytes: float = 1.0               # bytes per cached element (fp8 KV cache)
    tpot_target_s: float | None = None  # latency target per output token [s]


def _kv_bytes_per_token(ctx: Context, srv: Serving, tp: np.ndarray) -> np.ndarray:
    """KV-cache bytes per token of context on one GPU [bytes] [3], [4]."""
    workload = ctx.workload
    per_token = workload.layers * ctx.counts.kv_cache_bytes_per_elem_token * srv.kv_bytes
    split = np.ones_like(tp, dtype=float) if workload.mla \
        else np.minimum(tp, workload.kv_heads).astype(float)
    return per_token / split


def _weight_bytes(ctx: Context, tp: np.ndarray) -> np.ndarray:
    """Weight bytes held per GPU (weights split across the tensor-parallel group) [bytes]."""
    return ctx.counts.params * _elem(ctx) / tp


def _elem(ctx: Context) -> float:
    """Bytes of one weight element in the execution dtype [bytes]."""
    return {"fp8": 1.0, "int8": 1.0, "fp4": 0.5}.get(ctx.execution.dtype, 2.0)


def _expert_share(ctx: Context, batch: np.ndarray) -> np.ndarray | float:
    """Share of experts a decode step of `batch` tokens touches: 1 - (1 - k/E)^B [3]."""
    moe = ctx.workload.moe
    return 1.0 if moe is None else 1.0 - (1.0 - moe.top_k / moe.experts) ** batch


def _forward_time(ctx: Context, tokens: np.ndarray, tp: np.ndarray,
                  share: np.ndarray | float) -> np.ndarray:
    """GEMM time of one forward pass over `tokens` tokens per GPU, all layers [s]."""
    workload, counts = ctx.workload, ctx.counts
    dense = layer_gemm_time(ctx, tokens, tp, tp, moe=False)
    per_layer = dense
    if counts.moe_layers:
        moe = layer_gemm_time(ctx, tokens, tp, tp, moe=True, expert_share=share)
        per_layer = ((workload.layers - counts.moe_layers) * dense
                     + counts.moe_layers * moe) / workload.layers
    hidden, vocab = float(workload.hidden), float(workload.vocab)
    logits = gemm_time(ctx, (tokens, vocab / tp, hidden + 0 * tokens))
    return workload.layers * per_layer + logits


def _attention_time(ctx: Context, flops: np.ndarray, kv_bytes: np.ndarray) -> np.ndarray:
    """Attention kernels: roofline of score/value FLOPs and KV-cache reads [s] [1]."""
    machine = ctx.machine
    t_flops = flops / (machine.peak_flops("bf16") * machine.device.attention_efficiency)
    return np.maximum(t_flops, kv_bytes / hbm_bandwidth(ctx))


def _allreduce_time(ctx: Context, tokens: np.ndarray, tp: np.ndarray) -> np.ndarray:
    """Two all-reduces per layer [2]; small ones use tree / one-shot algorithms, whose
    latency grows with log2(tp)."""
    machine, layers = ctx.machine, ctx.workload.layers
    bandwidth = machine.accelerator.scaleup_bandwidth_bytes_per_s \
        * machine.device.scaleup_efficiency
    volume = 2.0 * (tp - 1) / tp * tokens * ctx.workload.hidden * 2.0 / bandwidth
    comm = 2 * layers * (volume + ctx.params.scaleup_latency_s * (1.0 + np.log2(tp)))
    return np.where(tp > 1, comm, 0.0)


def inference_arrays(ctx: Context, srv: Serving, tp: np.ndarray,
                     batch: np.ndarray) -> dict[str, np.ndarray]:
    """Per (tp, batch) pair: TTFT, TPOT, throughput per GPU, memory and fit [s, tokens/s, B].

    Each kernel family is its own roofline and they run one after another: GEMMs (FLOPs vs
    weight reads), attention (FLOPs vs KV-cache reads), all-reduces, per-step overhead.
    """
    counts, params = ctx.counts, ctx.params
    tp, batch = tp.astype(float), batch.astype(float)
    i_len, o_len = srv.input_tokens, srv.output_tokens
    held = _weight_bytes(ctx, tp)
    kv_tok = _kv_bytes_per_token(ctx, srv, tp)
    attn = counts.attn_flops_fwd_per_ctx * ctx.workload.layers / tp  # per query per context token

    def prefill(n_seq: np.ndarray) -> np.ndarray:
        toks = n_seq * i_len
        return (_forward_time(ctx, toks, tp, 1.0) + _allreduce_time(ctx, toks, tp)
                + _attention_time(ctx, toks * attn * i_len / 2, toks * kv_tok))

    ttft = prefill(np.ones_like(batch))
    ctx_len = i_len + o_len / 2
    tpot = (_forward_time(ctx, batch, tp, _expert_share(ctx, batch))
            + _attention_time(ctx, batch * attn * ctx_len, batch * ctx_len * kv_tok)
            + _allreduce_time(ctx, batch, tp) + params.decode_step_overhead_s)
    total = prefill(batch) + o_len * tpot
    memory = held + batch * (i_len + o_len) * kv_tok + params.reserved_bytes
    # Which roof binds a decode step: its FLOPs at the achievable rate vs its bytes.
    machine, dtype = ctx.machine, ctx.execution.dtype
    dec_flops = batch * (counts.matmul_flops_fwd / tp + attn * ctx_len)
    dec_bytes = held + batch * ctx_len * kv_tok
    compute_bound = dec_flops / (machine.peak_flops(dtype) * machine.gemm_efficiency(dtype)) \
        > dec_bytes / hbm_bandwidth(ctx)
    return {"ttft_s": ttft, "tpot_s": tpot, "memory_bytes": memory,
            "fits": memory <= ctx.machine.accelerator.hbm_bytes,
            "tokens_per_s_per_gpu": batch * o_len / total / tp,
            "kv_bytes_per_token": kv_tok, "weight_bytes": held,
            "decode_compute_bound": compute_bound}


def max_batch(ctx: Context, srv: Serving, tp: np.ndarray) -> np.ndarray:
    """Largest batch whose weights and KV cache fit one GPU's memory [sequences]."""
    held = _weight_bytes(ctx, tp.astype(float))
    free = ctx.machine.accelerator.hbm_bytes - held - ctx.params.reserved_bytes
    per_seq = (srv.input_tokens + srv.output_tokens) * _kv_bytes_per_token(ctx, srv, tp)
    return np.maximum(0, np.floor(free / per_seq)).astype(np.int64)


BATCHES = np.unique(np.round(np.geomspace(1, 8192, 60)).astype(np.int64))


def search_inference(ctx: Context, srv: Serving, n_gpus: int) -> dict[str, np.ndarray]:
    """All (tp, batch) candidates for `n_gpus` GPUs (replicas of tp GPUs), evaluated at once.

    Adds ``ok`` (fits and meets the TPOT target, if any) to :func:`inference_arrays`' output.
    """
    tps = np.array([t for t in (1, 2, 4, 8, 16, 32, 64, 72) if t <= min(
        n_gpus, ctx.machine.scaleup_domain) and n_gpus % t == 0], dtype=np.int64)
    grid_tp, grid_b = (g.ravel() for g in np.meshgrid(tps, BATCHES, indexing="ij"))
    out = inference_arrays(ctx, srv, grid_tp, grid_b)
    ok = out["fits"]
    if srv.tpot_target_s is not None:
        ok = ok & (out["tpot_s"] <= srv.tpot_target_s)
    out.update(tp=grid_tp, batch=grid_b, ok=ok)
    return out
