"""The serving model's own parameters (``data/serving_params.yaml``), read once and validated.

The training model never reads them; every entry carries a source, or an assumption and its
reason (see the file). Per-accelerator tables fall back to their ``default`` entry.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator

from rackforge.catalog.models import Frozen, Source, SourcedValue
from rackforge.errors import InputError
from rackforge.inputs import read_yaml, validate
from rackforge.perf.context import Context

PARAMS_FILE = Path(__file__).parent / "data" / "serving_params.yaml"

Figure = SourcedValue      # a constant with its source (or assumption and reason)


class Fp4Exclusions(Frozen):
    """Modules an FP4 checkpoint keeps in BF16, with the checkpoint that shows it."""

    mla_projections: bool      # MLA's down / up projections (all attention GEMMs but wo)
    source: Source


class ExpertsOnlyCheckpoints(Frozen):
    """Models whose 4-bit checkpoints quantize only the routed experts' weights, keeping
    attention, router, embeddings and LM head in BF16, with the checkpoint that shows it."""

    models: tuple[str, ...]
    source: Source


class SpeculativeDecoding(Frozen):
    """A model's own draft module (``mtp``: DeepSeek's multi-token-prediction layer) and the
    measured tokens a decode step yields per sequence with 1, 2, ... draft tokens."""

    method: str = Field(min_length=2)
    tokens_per_step: tuple[float, ...] = Field(min_length=1)
    bf16_beside_fp4: bool = False     # an FP4 checkpoint keeps the draft layer in BF16
    source: Source

    @field_validator("tokens_per_step")
    @classmethod
    def _accepted(cls, tokens: tuple[float, ...]) -> tuple[float, ...]:
        # k draft tokens yield between 1 (none accepted) and k + 1 tokens per step
        if any(not 1.0 <= t <= k + 1 for k, t in enumerate(tokens, start=1)):
            raise ValueError("tokens per step with k draft tokens lie between 1 and k + 1")
        return tokens


class ServingParams(Frozen):
    """Inference-only parameters (``data/serving_params.yaml``)."""

    weight_bytes: dict[str, Figure]
    kv_bytes_per_element: Figure
    gemm_efficiency_fp4: dict[str, Figure]
    prompt_length_cv: Figure
    output_length_cv: Figure
    max_batch_size: Figure
    max_num_tokens: Figure
    moe_layer_overhead_s: Figure
    moe_alltoall_floor_s: Figure
    grouped_weight_bandwidth_fraction: Figure
    host_s_per_sequence: dict[str, Figure]
    routed_load_excess: Figure
    attention_dp_step_excess: Figure
    elementwise_hidden_passes: Figure
    rope_passes: Figure
    fp4_excluded: Fp4Exclusions
    bf16_outside_experts: ExpertsOnlyCheckpoints
    speculative_decoding: dict[str, SpeculativeDecoding]


@lru_cache(maxsize=2)
def load_serving_params(path: Path = PARAMS_FILE) -> ServingParams:
    """The shipped inference parameters."""
    return validate(ServingParams, read_yaml(path), str(path))


def for_accelerator(table: dict[str, Figure], ctx: Context) -> float:
    """The entry of a per-accelerator `table` for the context's accelerator, else its
    ``default``."""
    return table.get(ctx.machine.accelerator.id, table["default"]).value


def tokens_per_step(workload_id: str, draft_tokens: int) -> float:
    """Mean tokens a decode step yields per sequence with `draft_tokens` draft tokens of the
    model's own draft module (``speculative_decoding`` of the parameter file); 1 without. A
    model with no measured acceptance, or more draft tokens than were measured, is an
    InputError at ``draft_tokens``."""
    if not draft_tokens:
        return 1.0
    table = load_serving_params().speculative_decoding
    spec = table.get(workload_id)
    if spec is None:
        raise InputError(f"no measured speculative-decoding acceptance for {workload_id}", None,
                         "draft_tokens", draft_tokens,
                         f"0, or a model with a measured draft module ({', '.join(sorted(table))})")
    if draft_tokens > len(spec.tokens_per_step):
        raise InputError(f"{workload_id}'s draft acceptance is measured up to "
                         f"{len(spec.tokens_per_step)} draft tokens", None, "draft_tokens",
                         draft_tokens, f"0 to {len(spec.tokens_per_step)}")
    return spec.tokens_per_step[draft_tokens - 1]
