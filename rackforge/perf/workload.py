"""Transformer workloads: architecture, parameter counts, FLOPs and activation sizes.

A :class:`Workload` describes a decoder-only transformer: dense or mixture-of-experts (MoE),
multi-head / grouped-query / multi-query attention (``kv_heads``), multi-head latent attention
(MLA, DeepSeek-V2/V3), SwiGLU (three FFN matrices) or GELU (two) feed-forward blocks, shared
experts and leading dense layers. :func:`counts` derives the figures the performance model needs.

Conventions
-----------
* Parameter counts include embeddings and the output projection (once if ``tied_embeddings``);
  norms and biases are ignored (< 0.01 % of any model here).
* *Matmul* parameters are the ones a token multiplies with: every weight except the input
  embedding table (a lookup). Forward FLOPs per token are ``2 x`` active matmul parameters
  plus attention, and training FLOPs are ``3 x`` forward ("6N + attention") [1], [2].
* Attention FLOPs are counted for the full (non-causal) score matrix, the convention of [1] and
  [3] for model FLOPs; the executed kernels may skip the masked half (see ``training.py``).

References
----------
[1] Narayanan et al., Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM, SC21, Sec. 5.1 and Appendix (FLOPs per iteration 72 B s l h^2 (1 + s/6h + ...)).
[2] Kaplan et al., Scaling Laws for Neural Language Models, 2020, Sec. 2.1 (C = 6N).
[3] Chowdhery et al., PaLM, 2022, Appendix B (6N + 12 L H Q T model FLOPs per token).
[4] Korthikanti et al., Reducing Activation Recomputation in Large Transformer Models,
    MLSys 2023, Sec. 4 (activation bytes 34 s b h + 5 a s^2 b per layer).
[5] DeepSeek-AI, DeepSeek-V3 Technical Report, 2024, Sec. 2.1.1 (MLA).
[6] Beltagy, Peters and Cohan, Longformer: The Long-Document Transformer, 2020, Sec. 3.1
    (sliding-window attention, cost linear in the window); OpenAI, gpt-oss-120b & gpt-oss-20b
    Model Card, 2025, Sec. 2.1 (layers alternate between 128-token banded and dense attention;
    a learned attention sink per head adds one logit to each softmax, negligible FLOPs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from rackforge.catalog.models import Frozen, Source
from rackforge.errors import InputError
from rackforge.inputs import closest, read_yaml, validate

DATA_FILE = Path(__file__).parent / "data" / "workloads.yaml"
Pos = Field(gt=0)


class Moe(Frozen):
    """Mixture-of-experts feed-forward: routed experts, top-k routing, shared experts."""

    experts: int = Field(ge=2)
    top_k: int = Field(ge=1)
    moe_ffn_hidden: int = Field(gt=0, description="hidden size of one expert")
    shared_experts: int = Field(default=0, ge=0)
    dense_layers: int = Field(default=0, ge=0, description="leading layers with a dense FFN")
    expert_groups: int = Field(default=1, ge=1, description="group-limited routing: experts in "
                               "this many contiguous groups (n_group); 1: no groups")
    groups_per_token: int = Field(default=1, ge=1, description="groups a token's experts may "
                                  "come from (topk_group)")

    @model_validator(mode="after")
    def _k(self) -> Moe:
        if self.top_k > self.experts:
            raise ValueError("top_k must not exceed experts")
        if self.experts % self.expert_groups or self.groups_per_token > self.expert_groups:
            raise ValueError("expert_groups must divide experts and be at least groups_per_token")
        return self


class Mla(Frozen):
    """Multi-head latent attention [5]: low-rank queries and a compressed, cached KV latent."""

    q_lora_rank: int = Field(ge=0, description="0 means queries are projected directly")
    kv_lora_rank: int = Field(gt=0)
    qk_nope_head_dim: int = Field(gt=0)
    qk_rope_head_dim: int = Field(gt=0)
    v_head_dim: int = Field(gt=0)


class Window(Frozen):
    """Sliding-window (banded) attention on some layers [6]: each query of those layers attends
    to the last `tokens` positions only, and their KV cache keeps that many tokens."""

    tokens: int = Field(gt=0, description="window length [tokens]")
    layers: int = Field(gt=0, description="how many of the model's layers use the window")


class Workload(Frozen):
    """A decoder-only transformer and its default pre-training batch."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.+-]*$")
    name: str
    source: Source
    example: bool = False
    approximate: bool = False
    notes: str | None = None
    layers: int = Pos
    hidden: int = Pos
    ffn_hidden: int = Field(gt=0, description="dense FFN hidden size (dense layers)")
    heads: int = Pos
    kv_heads: int = Pos
    head_dim: int | None = Field(default=None, gt=0, description="default hidden / heads")
    vocab: int = Pos
    ffn: Literal["swiglu", "gelu"] = "swiglu"
    tied_embeddings: bool = False
    dropout: bool = Field(default=False, description="trained with dropout (masks are saved)")
    seq_len: int = Field(default=4096, gt=0, le=10_000_000,
                         description="training sequence length [tokens], at most 10M")
    global_batch_tokens: float = Field(default=4e6, gt=0, le=1e12, description=(
        "[tokens], at least one sequence (seq_len) and at most 1e12"))
    moe: Moe | None = None
    mla: Mla | None = None
    attention_window: Window | None = None
    expert_bias: bool = Field(default=False, description="routed experts' linear layers carry "
                              "biases (gpt-oss)")
    glu_clamped: bool = Field(default=False, description="the GLU's two halves are clamped "
                              "before the activation (gpt-oss swiglu_limit)")
    published_params: float | None = None
    published_active_params: float | None = None

    @model_validator(mode="after")
    def _shape(self) -> Workload:
        if self.heads % self.kv_heads:
            raise ValueError("heads must be a multiple of kv_heads")
        if self.head_dim is None and self.hidden % self.heads:
            # the head size defaults to hidden / heads: it must be a whole number of at least 1
            raise ValueError(f"hidden {self.hidden} is not a multiple of heads {self.heads}; "
                             "give head_dim")
        if self.moe and self.moe.dense_layers > self.layers:
            raise ValueError("moe.dense_layers exceeds layers")
        if self.attention_window and self.attention_window.layers > self.layers:
            raise ValueError(f"attention_window.layers {self.attention_window.layers} exceeds "
                             f"layers {self.layers}; expected at most {self.layers}")
        if self.global_batch_tokens < self.seq_len:
            raise ValueError(f"global_batch_tokens {self.global_batch_tokens:g} is less than "
                             f"one sequence (seq_len {self.seq_len}): give at least "
                             f"{self.seq_len} tokens a batch")
        return self


@dataclass(frozen=True)
class Counts:
    """Derived sizes of a workload. Parameters are counts; FLOPs are per token, forward."""

    params: float
    active_params: float
    embedding_params: float
    attn_params: float          # per layer
    attn_in_params: float       # per layer, all but the output projection (fused QKV, MLA)
    dense_ffn_params: float     # per dense layer
    expert_params: float        # one routed or shared expert
    moe_layers: int
    q_dim: int                  # heads x query/key head dim
    v_dim: int                  # heads x value head dim (attention output width)
    kv_dim: int                 # K and V width per token (GQA), for activations
    kv_cache_bytes_per_elem_token: float  # cached elements per token per layer
    ffn_matrices: int           # 3 for SwiGLU, 2 for GELU
    matmul_flops_fwd: float     # 2 x active matmul params, per token
    attn_flops_fwd_per_ctx: float  # attention score+value FLOPs per token per context token
    layers: int = 0             # attention layers, of which `window_layers` use a window of
    window_tokens: int = 0      # `window_tokens` positions (0: none) [6]
    window_layers: int = 0

    def context_at(self, position: np.ndarray | float) -> np.ndarray | float:
        """Context tokens a query at `position` attends to, summed over the layers (also the
        tokens each layer caches, summed) [tokens]: a full layer sees every earlier position,
        a sliding-window layer at most its window [6]."""
        full = self.layers - self.window_layers
        if not self.window_tokens:
            return self.layers * position
        return full * position + self.window_layers * np.minimum(position, self.window_tokens)

    def _band(self, seq_len: float) -> tuple[int, float]:
        """Layers of full attention, and the band a window layer keeps of a sequence of
        `seq_len`: ``min(W, s)`` [tokens]."""
        window = min(float(self.window_tokens), seq_len) if self.window_tokens else seq_len
        return self.layers - self.window_layers, window

    def mean_causal_context(self, seq_len: float) -> float:
        """Mean over the queries of a sequence of `seq_len` of :meth:`context_at` [tokens]: a
        full layer ``s / 2``, a window layer ``W - W^2 / (2 s)`` (``s / 2`` when ``W >= s``)."""
        full, window = self._band(seq_len)
        return full * seq_len / 2.0 \
            + self.window_layers * (window - window * window / (2.0 * seq_len))

    def attention_flops_fwd(self, seq_len: float) -> float:
        """Forward attention FLOPs per token at `seq_len`, the full score matrix convention of
        [1] and [3]; a window layer's matrix is its band, ``min(W, s)`` wide [FLOP]."""
        full, window = self._band(seq_len)
        return self.attn_flops_fwd_per_ctx * (full * seq_len + self.window_layers * window)


def _attention(w: Workload) -> tuple[float, int, int, int, float]:
    """(params per layer, q_dim, v_dim, kv_dim, cached elements per token per layer)."""
    h = w.hidden
    if w.mla is not None:  # [5], Eqs. 1-11
        m = w.mla
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        q = (h * m.q_lora_rank + m.q_lora_rank * w.heads * qk) if m.q_lora_rank \
            else h * w.heads * qk
        kv = h * (m.kv_lora_rank + m.qk_rope_head_dim) \
            + m.kv_lora_rank * w.heads * (m.qk_nope_head_dim + m.v_head_dim)
        out = w.heads * m.v_head_dim * h
        cache = m.kv_lora_rank + m.qk_rope_head_dim
        return q + kv + out, w.heads * qk, w.heads * m.v_head_dim, \
            w.heads * (qk + m.v_head_dim) // 2, float(cache)
    hd = w.head_dim or h // w.heads
    q_dim, kv_dim = w.heads * hd, w.kv_heads * hd
    return 2 * h * q_dim + 2 * h * kv_dim, q_dim, q_dim, kv_dim, 2.0 * kv_dim


@lru_cache(maxsize=256)
def counts(w: Workload) -> Counts:
    """Parameter and FLOP counts of `w` (see the module docstring for conventions)."""
    h, mats = w.hidden, 3 if w.ffn == "swiglu" else 2
    attn, q_dim, v_dim, kv_dim, cache = _attention(w)
    dense_ffn = mats * h * w.ffn_hidden
    emb = w.vocab * h * (1 if w.tied_embeddings else 2)
    if w.moe is None:
        moe_layers, expert, moe_total, moe_active = 0, 0.0, 0.0, 0.0
    else:
        m = w.moe
        moe_layers = w.layers - m.dense_layers
        expert = mats * h * m.moe_ffn_hidden
        router = h * m.experts
        moe_total = (m.experts + m.shared_experts) * expert + router
        moe_active = (m.top_k + m.shared_experts) * expert + router
    dense_layers = w.layers - moe_layers
    body_total = w.layers * attn + dense_layers * dense_ffn + moe_layers * moe_total
    body_active = w.layers * attn + dense_layers * dense_ffn + moe_layers * moe_active
    out_proj = w.vocab * h
    # [3]: 2 multiply-adds per score (QK^T) and per value (AV) element, per query head.
    attn_per_ctx = 2.0 * (q_dim + v_dim)
    return Counts(
        params=body_total + emb, active_params=body_active + emb, embedding_params=emb,
        attn_params=attn, attn_in_params=attn - v_dim * h, dense_ffn_params=dense_ffn,
        expert_params=expert, moe_layers=moe_layers, q_dim=q_dim, v_dim=v_dim, kv_dim=kv_dim,
        kv_cache_bytes_per_elem_token=cache, ffn_matrices=mats,
        matmul_flops_fwd=2.0 * (body_active + out_proj), attn_flops_fwd_per_ctx=attn_per_ctx,
        layers=w.layers, window_tokens=w.attention_window.tokens if w.attention_window else 0,
        window_layers=w.attention_window.layers if w.attention_window else 0)


def training_flops_per_token(w: Workload, seq_len: int | None = None) -> float:
    """Model FLOPs per trained token, 3 x forward: 6 N_active + attention [FLOP] [1], [3]."""
    c = counts(w)
    s = seq_len or w.seq_len
    return 3.0 * (c.matmul_flops_fwd + c.attention_flops_fwd(s))


@lru_cache(maxsize=1)
def load_workloads(path: Path = DATA_FILE) -> dict[str, Workload]:
    """The shipped workload catalog, by id."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("workloads"), list):
        raise InputError("workload file must be a mapping with a list 'workloads'", str(path))
    out: dict[str, Workload] = {}
    for i, entry in enumerate(data["workloads"]):
        wl = validate(Workload, entry, str(path), f"workloads[{i}]")
        out[wl.id] = wl
    return out


def get_workload(workload_id: str, extra: dict[str, Workload] | None = None,
                 where: str | None = None) -> Workload:
    """Look a workload up in the catalog (and `extra`, e.g. a scenario's own workloads)."""
    known = {**load_workloads(), **(extra or {})}
    if workload_id not in known:
        raise InputError("unknown workload id", None, where, workload_id,
                         "a workload id from the catalog or the scenario",
                         closest(workload_id, known))
    return known[workload_id]
