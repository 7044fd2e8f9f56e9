"""Memory per GPU during training: weights, gradients, optimizer state, activations, buffers.

Activation bytes per layer follow Korthikanti et al. [1], Sec. 4.1, generalized from the GPT
block (``s b h (34 + 5 a s / h)``) to any attention and FFN width: the tensors saved for backward
are the inputs of every GEMM, the activation-function inputs and the dropout masks. Without
sequence parallelism the h-wide tensors (norm inputs, residual stream, masks: ``10 s b h``) are
replicated across the tensor-parallel group; the rest is split. Selective recompute drops the
attention-score tensors; full recompute keeps only each layer's input. The first pipeline stage
holds ``min(pp, m)`` microbatches in flight, times ``1 + (pp - 1) / (pp vp)`` when interleaved
([1], Sec. 4.2.3; Narayanan et al. SC21, Sec. 2.2.2); the last stage holds one (interleaved,
its warm-up forwards) and the logits, and the busier of the two sets the peak.

References
----------
[1] Korthikanti et al., Reducing Activation Recomputation in Large Transformer Models, MLSys 2023.
[2] Rajbhandari et al., ZeRO, SC20, Sec. 3.1 and 5 (optimizer-state and parameter sharding).
[3] Megatron-Core documentation, --recompute-granularity selective and --recompute-modules
    (core_attn, layernorm, moe_act / mlp activation).
[TE] NVIDIA Transformer Engine, FP8 primer: linear layers save their quantized inputs.
"""

from __future__ import annotations

import numpy as np

from rackforge.perf.context import Context
from rackforge.perf.layout import QUANTIZED_DTYPES, Layouts


def local_params(ctx: Context, lay: Layouts) -> tuple[np.ndarray, np.ndarray]:
    """(non-expert, expert) parameters held by one GPU of the largest pipeline stage."""
    workload, counts = ctx.workload, ctx.counts
    layers_stage = np.ceil(workload.layers / lay.pp)
    dense_share = (workload.layers - counts.moe_layers) / workload.layers
    per_layer = counts.attn_params + dense_share * counts.dense_ffn_params
    expert_layer = 0.0
    if workload.moe is not None:
        share = counts.moe_layers / workload.layers
        per_layer = per_layer + share * (workload.moe.shared_experts * counts.expert_params
                                         + workload.hidden * workload.moe.experts)
        expert_layer = share * workload.moe.experts * counts.expert_params
    emb = counts.embedding_params / np.where(lay.pp > 1, 2.0, 1.0)
    dense = (layers_stage * per_layer + emb) / lay.tp
    expert = layers_stage * expert_layer / lay.ep
    return dense, expert


def activation_bytes_per_token(ctx: Context, lay: Layouts, moe: bool) -> np.ndarray:
    """Bytes one layer keeps per token of a microbatch on one GPU, before recompute [1].

    GPT block of [1]: replicated ``10 h`` (two norm inputs 4h, two GEMM inputs 4h, two dropout
    masks 2h) and split ``24 h`` (Q, K 4h, V 2h, projection input 2h, FFN 16h). Models trained
    without dropout keep no masks; in fp8 training the GEMM inputs are saved quantized, one
    byte per element [TE]. Selective recompute follows Megatron-Core's modules [3]: by default
    the attention core (scores), the norms (their outputs) and the FFN activation function
    (its output) are recomputed, so those tensors are not kept; a run's own module list
    (``Execution.recompute_modules``) drops what its modules rebuild instead (``mla_up_proj``
    the MLA up-projections' Q, K, V; ``mlp`` a dense FFN's internals; ``moe`` the MoE
    layer's routed and shared copies; ``shared_experts`` the shared experts' copies).
    """
    workload, counts, execution = ctx.workload, ctx.counts, ctx.execution
    hidden = workload.hidden
    tp = lay.tp.astype(float)
    gemm_in = 1.0 if execution.dtype in QUANTIZED_DTYPES else 2.0  # a saved GEMM input

    def dropped(module: str) -> np.ndarray:
        """1 where selective recompute rebuilds `module`'s saved tensors, else 0 [3]."""
        modules = execution.recompute_modules
        on = module in ("core_attn", "layernorm", "act") if modules is None else \
            module in modules or (module == "act" and "moe_act" in modules and moe)
        return ((lay.recompute == 1) & on).astype(float)

    norm_out = 2.0 * gemm_in * hidden * (1.0 - dropped("layernorm"))  # rebuilt from inputs
    replicated = (4.0 + (2.0 if workload.dropout else 0.0)) * hidden + norm_out
    replicated = np.where(lay.sp > 0, replicated / tp, replicated)
    qkv = 2.0 * (counts.q_dim + 2 * counts.kv_dim)
    if workload.mla is not None:                 # the up-projections' outputs
        qkv = qkv * (1.0 - dropped("mla_up_proj"))
    split = qkv + gemm_in * counts.v_dim         # Q, K, V; the output projection's input
    # FFN: activation-function inputs (2f GELU, 2 x 2f SwiGLU) and the down-projection input
    # (the activation output, recomputed with the activation function).
    act_in, act_out = (2.0 if workload.ffn == "gelu" else 4.0), gemm_in * (1.0 - dropped("act"))
    experts = workload.moe
    if moe and experts is not None:
        per_copy = (act_in + act_out) * experts.moe_ffn_hidden + gemm_in * hidden  # + permuted
        kept = 1.0 - dropped("moe")                               # the whole MoE layer rebuilt
        ffn = kept * (experts.top_k + (1.0 - dropped("shared_experts"))
                      * experts.shared_experts) * per_copy
    else:
        ffn = (act_in + act_out) * workload.ffn_hidden * (1.0 - dropped("mlp"))
    per_token = replicated + (split + ffn) / tp
    if not execution.flash_attention:
        scores = 5.0 * workload.heads * execution.seq_len / tp  # [1]: 5 a s^2 b
        rebuilt = (lay.recompute == 2) | (dropped("core_attn") > 0)
        per_token = per_token + np.where(rebuilt, 0.0, scores)
    return per_token


def _activations(ctx: Context, lay: Layouts, microbatches: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Activation bytes on one GPU of the first and of the last pipeline stage, with
    `microbatches` microbatches per step [bytes]. In 1F1B the first stage holds ``pp``
    microbatches and the last one; interleaved, the last holds ``((vp - 1) pp + 1) / vp``
    (its warm-up forwards, Narayanan et al. SC21, Sec. 2.2.2)."""
    workload, counts = ctx.workload, ctx.counts
    tokens = lay.mb * ctx.execution.seq_len / lay.cp
    dense = activation_bytes_per_token(ctx, lay, moe=False)
    per_token = dense
    if counts.moe_layers:
        share = counts.moe_layers / workload.layers
        per_token = (1 - share) * dense + share * activation_bytes_per_token(ctx, lay, True)
    layer_input = 2.0 * workload.hidden / np.where(lay.sp > 0, lay.tp, 1)
    stored = np.where(lay.recompute == 2, layer_input, per_token)
    layers_stage = np.ceil(workload.layers / lay.pp)
    inflight = np.minimum(lay.pp, microbatches) * (1.0 + (lay.pp - 1) / (lay.pp * lay.vp))
    inflight = np.where(lay.vp > 1, inflight, np.minimum(lay.pp, microbatches))
    last = np.minimum(np.where(lay.vp > 1, ((lay.vp - 1) * lay.pp + 1) / lay.vp, 1.0),
                      microbatches)
    # Full recompute rebuilds one layer's activations at a time during backward.
    rebuild = np.where(lay.recompute == 2, per_token * tokens, 0.0)
    return (stored * tokens * layers_stage * inflight + rebuild,
            stored * tokens * layers_stage * last + rebuild)


def memory_arrays(ctx: Context, lay: Layouts,
                  microbatches: np.ndarray) -> dict[str, np.ndarray]:
    """Memory components per GPU of the busiest pipeline stage [bytes] and local parameter
    counts for the optimizer, with `microbatches` microbatches per step."""
    params, execution, workload = ctx.params, ctx.execution, ctx.workload
    dense, expert = local_params(ctx, lay)
    n_dense = lay.dp * lay.cp
    n_expert = np.maximum(1, n_dense * lay.tp // lay.ep)
    fsdp = lay.zero == 3
    shard_opt = lay.zero >= 1
    opt_params = np.where(shard_opt, dense / n_dense + expert / n_expert, dense + expert)
    held = np.where(fsdp, opt_params, dense + expert)
    weights = held * params.weight_bytes.get(execution.dtype, 2.0)
    grads = held * (execution.grad_bytes or params.grad_bytes_per_param)
    optimizer = opt_params * params.optimizer_state_bytes_per_param
    acts, acts_last = _activations(ctx, lay, microbatches)
    tokens = lay.mb * execution.seq_len / lay.cp
    logits = tokens * workload.vocab / lay.tp * 4.0     # bf16 logits and their gradient
    # FSDP materializes one layer's full weights and gradients at a time.
    gather = np.where(fsdp, 2 * (dense + expert) / np.ceil(workload.layers / lay.pp) * 2.0, 0.0)
    # The logits live on the last stage only, beside its own activations; the busier of the
    # first and the last stage sets the peak, and its parts are reported [1].
    last_peaks = (lay.pp > 1) & (acts_last + logits > acts)
    acts = np.where(last_peaks, acts_last, acts)
    logits = np.where((lay.pp > 1) & ~last_peaks, 0.0, logits)
    total = weights + grads + optimizer + acts + logits + gather + params.reserved_bytes
    return {"weights": weights, "gradients": grads, "optimizer": optimizer,
            "activations": acts, "logits": logits + gather,
            "reserved": np.full(len(lay), params.reserved_bytes), "total": total,
            "dense_params": dense, "expert_params": expert, "optimizer_params": opt_params}
