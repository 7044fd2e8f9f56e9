"""HBM traffic of the memory-bound element-wise kernels around a serving step's GEMMs.

Each kernel reads and writes the activations once per pass, so its time is its bytes over the
achievable HBM bandwidth (:mod:`rackforge.perf.serving` adds it to the step). The pass counts
are data (``serving_params.yaml``: ``elementwise_hidden_passes``, ``rope_passes``;
``perf_params.yaml``: ``moe_permute_copy_passes``).

References
----------
[1] TensorRT-LLM AllReduceFusionOp.RESIDUAL_RMS_NORM and FlashInfer fused_add_rmsnorm: the
    residual add and RMSNorm in one kernel that reads input and residual and writes the
    residual and the normed output.
[2] Williams, Waterman and Patterson, Roofline, CACM 2009.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rackforge.catalog.models import SourcedValue
from rackforge.perf.context import Context


class PassCounts(Protocol):
    """The pass counts this module reads (``serving_params.ServingParams`` has them)."""

    elementwise_hidden_passes: SourcedValue
    rope_passes: SourcedValue


def elementwise_bytes(ctx: Context, tokens: np.ndarray, g: np.ndarray, tp: np.ndarray,
                      sp: PassCounts, busiest: np.ndarray | float = 1.0,
                      lead: np.ndarray | None = None) -> np.ndarray:
    """HBM traffic of the memory-bound element-wise kernels of one forward step on one GPU
    [bytes], for `tokens` tokens in a replica of `g` GPUs with attention TP `tp` [1], [2].

    Per token and layer, at the activations' width (``activation_bytes``): the two fused
    residual-add + RMSNorm kernels (``elementwise_hidden_passes`` h-wide passes; with
    ``tp > 1`` they run inside the all-reduce on each rank's ``1 / tp`` share of the tokens),
    rotary embedding of this rank's q and k heads (``rope_passes``), the activation of each FFN
    (SwiGLU reads gate and up and writes their product: 3 passes over the FFN width; GELU 2;
    shared experts split over ``tp``) and, per routed copy, the permute / unpermute copies of
    training's ``moe_permute_copy_passes`` (on the busiest expert-parallel rank, `busiest`
    times the mean rank's copies), plus one h-wide write per token for the weighted combine.
    `lead`: the tokens of the busiest attention group, whose kernels pace the step (default
    the mean group's, ``tokens / dp``).
    """
    w, c, params = ctx.workload, ctx.counts, ctx.params
    act = params.activation_bytes
    dp = g / tp
    if lead is None:
        lead = tokens / dp
    # the activation reads the up-projection outputs and writes one FFN-wide result: one pass
    # per FFN matrix (SwiGLU: gate, up, product; GELU: in, out)
    ffn_passes = float(c.ffn_matrices)
    # q and k heads are split over the attention group (k heads at most kv_heads ways)
    rope = sp.rope_passes.value * (c.q_dim / tp + c.kv_dim / np.minimum(tp, w.kv_heads))
    hidden = w.layers * (w.hidden * sp.elementwise_hidden_passes.value / tp + rope)
    traffic = lead * act * (hidden + (w.layers - c.moe_layers) * ffn_passes * w.ffn_hidden / tp)
    experts = w.moe
    if experts is not None:
        per_copy = ffn_passes * experts.moe_ffn_hidden + params.moe_permute_copy_passes * w.hidden
        shared = experts.shared_experts * ffn_passes * experts.moe_ffn_hidden / tp
        traffic = traffic + c.moe_layers * act * (busiest * tokens * experts.top_k / g * per_copy
                                                  + lead * (w.hidden + shared))
    return traffic
