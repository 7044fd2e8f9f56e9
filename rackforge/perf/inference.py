"""What a serving workload asks of the system (mean request lengths, the KV-cache format and a
latency target) and how its serving engine is set (scheduler caps, chunked prefill). The
serving model itself is :mod:`rackforge.perf.serving`."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, field_validator

from rackforge.catalog.models import Frozen


@dataclass(frozen=True)
class Serving:
    """A serving workload: mean prompt and output lengths and the formats used."""

    input_tokens: float                 # mean prompt length [tokens]
    output_tokens: float                # mean generated length [tokens]
    kv_bytes: float = 1.0               # bytes per cached element (fp8 KV cache)
    tpot_target_s: float | None = None  # p99 latency target per output token [s]
    ttft_target_s: float | None = None  # p99 latency target to the first token [s]
    input_cv: float | None = None       # coefficient of variation of the prompt length and
    output_cv: float | None = None      # of the output length; None: serving_params.yaml
    wider_share: float = 0.0            # of a mixed checkpoint's weights (by count) kept in the
                                        # next wider format (16-bit beside FP8, FP8 beside FP4)


class Engine(Frozen):
    """The serving engine's scheduler settings, per engine (one attention group): at most
    `max_batch_size` requests in flight and `max_num_tokens` tokens (decodes plus prompt
    tokens) per step; prompts prefilled in chunks beside the decodes (`chunked_prefill`), or
    each prompt whole in one step. None: the framework's default (``serving_params.yaml``).
    With `draft_tokens` the engine decodes speculatively with the model's own draft module.
    A scenario's serving workload gives it as ``serving.engine``."""

    max_batch_size: int | None = Field(default=None, ge=1, le=1_000_000,
                                       description="requests in flight per engine")
    max_num_tokens: int | None = Field(default=None, ge=1, le=100_000_000,
                                       description="tokens (decodes plus prompt) per step")
    chunked_prefill: bool = Field(default=True, description="prefill prompts in chunks beside "
                                  "the decodes; false: each prompt whole in one step")
    cuda_graph_batch_sizes: tuple[int, ...] | None = Field(
        default=None, description="the batch sizes whose CUDA graphs the engine captured with "
        "padding on: a decode-only step runs at the next size up (None: no padding)")
    gemm_allreduce_fusion: bool = Field(
        default=False, description="each tensor-parallel all-reduce runs fused with the "
        "row-parallel GEMM before it, overlapping it (TensorRT-LLM gemm_allreduce_plugin)")
    draft_tokens: int = Field(
        default=0, ge=0, le=16, description="speculative decoding: tokens the model's own draft "
        "module (DeepSeek's MTP layer) proposes per decode step, verified in the next forward; "
        "0: none")
    reserve_full_request: bool = Field(
        default=False, description="a request is admitted only with KV cache for its whole "
        "prompt and output reserved (TensorRT-LLM's GUARANTEED_NO_EVICT capacity policy); "
        "false: the cache holds what the sequences in flight have written (MAX_UTILIZATION, "
        "vLLM)")

    @field_validator("cuda_graph_batch_sizes")
    @classmethod
    def _sizes(cls, sizes: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if sizes is not None and (not sizes or min(sizes) < 1):
            raise ValueError("CUDA-graph batch sizes are whole numbers >= 1")
        return None if sizes is None else tuple(sorted(set(sizes)))
