"""Parallel layouts as arrays: one entry per candidate, so estimates run on all at once.

A layout splits ``n_gpus = tp x cp x dp x pp`` (expert parallelism ``ep`` is carved out of
``tp x cp x dp``, as in Megatron-Core with expert tensor parallelism 1). Ranks are ordered
tp, cp, dp, pp from the fastest-varying, so a tp group is contiguous, a cp group spans
``tp x cp`` consecutive ranks and a dp group ``tp x cp x dp``; a group runs on the scale-up
links when that span fits in one scale-up domain [1].

References
----------
[1] Narayanan et al., Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM, SC21, Sec. 3.3 (place tensor parallelism inside a node).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

RECOMPUTE = ("none", "selective", "full")
# Megatron-Core's selective-recompute modules (TransformerConfig.recompute_modules) this model
# knows; "selective" without a list recomputes the attention core, the norms and the FFN
# activation functions.
RECOMPUTE_MODULES = ("core_attn", "layernorm", "moe_act", "mla_up_proj", "mlp", "moe",
                     "shared_experts")
ZERO = {0: "none", 1: "optimizer", 3: "fsdp"}
# Training precisions whose GEMM inputs are cast to 8 bits or fewer (saved and quantized so).
QUANTIZED_DTYPES = ("fp8", "mxfp8", "fp4")
# The values of Execution.moe_dispatcher (those that cross a node once per remote node) and
# Execution.cuda_graphs.
NODE_DEDUP_DISPATCHERS = ("deepep", "hybridep")
MOE_DISPATCHERS = ("alltoall", *NODE_DEDUP_DISPATCHERS)
CUDA_GRAPHS = ("none", "attn", "full_iteration")


@dataclass(frozen=True)
class Execution:
    """Settings shared by every candidate of one estimate (scalars)."""

    dtype: str = "bf16"
    seq_len: int = 4096                 # [tokens]
    global_batch: int = 1024            # sequences per optimizer step
    flash_attention: bool = True        # fused attention kernel (else unfused softmax)
    tp_comm_overlap: bool = False       # overlap TP collectives with GEMMs (needs sp)
    dp_overlap: bool = True             # overlap gradient reduction with backward
    pp_overlap: bool = True             # overlap pipeline p2p with compute
    fp8_scaling: str = "delayed"        # fp8 recipe: "delayed" (amax from history, fused into
                                        # the cast) or "current" (amax of the tensor itself)
    attention_kernel: str = "fused"     # "fused" (cuDNN / FlashAttention-3 class) or "sdpa"
                                        # (PyTorch SDPA in torchtitan's order: FlashAttention-2
                                        # where the device lists its figure, else the fused one)
    selective_recompute: str = "attention"  # what "selective" recomputes: "attention" (the
                                        # attention core and the memory-bound ops, Megatron) or
                                        # "per_op" (the memory-bound ops and every second
                                        # matmul, torchtitan's per-op policy)
    grad_bytes: float | None = None     # bytes per gradient element, in the accumulation buffer
                                        # and the data-parallel reduction; None: the parameter
                                        # set's grad_bytes_per_param / grad_reduce_bytes
    moe_dispatcher: str | None = None   # MoE token dispatcher: "alltoall" (a copy per remote
                                        # rank) or "deepep" / "hybridep" (once per remote
                                        # node, forwarded over NVLink); None: ep_node_dedup
    grouped_experts: bool = False       # the experts' GEMMs run as one grouped kernel (a CUTLASS
                                        # / CuTe DSL grouped GEMM, torch._grouped_mm); False: one
                                        # GEMM per local expert on several streams, each launched
                                        # from the host (Transformer Engine's GroupedLinear, the
                                        # Megatron-Core default on every GPU)
    eager_expert_ops: bool = False      # the experts' output bias (in FP32) and a clamped GLU's
                                        # clamps run as separate PyTorch ops (Megatron-Core)
    recompute_modules: tuple[str, ...] | None = None  # what "selective" recomputes, by
                                        # Megatron-Core module (RECOMPUTE_MODULES); None: the
                                        # attention core, the norms, the activation functions
    ep_overlap: bool = False            # the expert-parallel all-to-all hidden behind another
                                        # microbatch's compute (Megatron-Core batch-level overlap)
    cuda_graphs: str | None = None      # CUDA-graph capture: "none", "attn" (the attention
                                        # block; MoE ops issued eagerly) or "full_iteration"
                                        # (no host issue, no tokens-per-expert sync); None:
                                        # moe_cuda_graph_attention of the parameter set


@dataclass(frozen=True)
class Layouts:
    """Candidate layouts, one per index; every field is an int64 array of the same length."""

    tp: np.ndarray
    pp: np.ndarray
    dp: np.ndarray
    cp: np.ndarray
    ep: np.ndarray
    vp: np.ndarray
    mb: np.ndarray          # microbatch [sequences]
    recompute: np.ndarray   # index into RECOMPUTE
    sp: np.ndarray          # sequence parallelism, 0 or 1
    zero: np.ndarray        # 0 replicated optimizer, 1 sharded optimizer, 3 FSDP

    def __len__(self) -> int:
        return int(self.tp.shape[0])

    @property
    def n_gpus(self) -> np.ndarray:
        return self.tp * self.pp * self.dp * self.cp

    def take(self, index: np.ndarray | slice) -> Layouts:
        """The candidates at `index` (a boolean mask, integer index array or slice)."""
        return Layouts(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def row(self, i: int) -> dict[str, int | str | bool]:
        """Candidate `i` as a plain mapping (for reports)."""
        out: dict[str, int | str | bool] = {f.name: int(getattr(self, f.name)[i])
                                            for f in fields(self)}
        out["recompute"] = RECOMPUTE[int(out["recompute"])]
        out["sp"] = bool(out["sp"])
        out["zero"] = ZERO[int(out["zero"])]
        return out


DEFAULTS: dict[str, int | str | bool] = dict(tp=1, pp=1, dp=1, cp=1, ep=1, vp=1, mb=1,
                                             recompute="none", sp=False, zero=1)


def single(**values: int | str | bool) -> Layouts:
    """One layout as arrays of length 1 (the form every estimate takes).

    Keys are the :class:`Layouts` fields; ``recompute`` is a name from :data:`RECOMPUTE`,
    ``sp`` a bool, ``zero`` 0, 1 or 3; missing keys take :data:`DEFAULTS`.
    """
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown layout fields: {sorted(unknown)}")
    merged = {**DEFAULTS, **values}
    merged["recompute"] = RECOMPUTE.index(str(merged["recompute"]))
    merged["sp"] = int(bool(merged["sp"]))
    return Layouts(**{k: np.array([v], dtype=np.int64) for k, v in merged.items()})


def from_columns(columns: dict[str, np.ndarray]) -> Layouts:
    """Build :class:`Layouts` from equal-length integer arrays keyed by field name."""
    return Layouts(**{f.name: np.asarray(columns[f.name], dtype=np.int64)
                      for f in fields(Layouts)})


def experts_split(tp: np.ndarray, cp: np.ndarray, dp: np.ndarray, ep: np.ndarray,
                  experts: int) -> np.ndarray:
    """Whether expert parallelism `ep` can split the experts within the ``tp x cp x dp`` ranks
    of a pipeline stage: ep divides that group and the number of `experts`."""
    return ((tp * cp * dp) % ep == 0) & (experts % ep == 0)
