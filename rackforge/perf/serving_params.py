"""The serving model's own parameters (``data/serving_params.yaml``), read once and validated.

The training model never reads them; every entry carries a source, or an assumption and its
reason (see the file). Per-accelerator tables fall back to their ``default`` entry.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rackforge.catalog.models import Frozen, Source, SourcedValue
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


class ServingParams(Frozen):
    """Inference-only parameters (``data/serving_params.yaml``)."""

    weight_bytes: dict[str, Figure]
    kv_bytes_per_element: Figure
    gemm_efficiency_fp4: dict[str, Figure]
    ttft_p99_over_mean: Figure
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


@lru_cache(maxsize=2)
def load_serving_params(path: Path = PARAMS_FILE) -> ServingParams:
    """The shipped inference parameters."""
    return validate(ServingParams, read_yaml(path), str(path))


def for_accelerator(table: dict[str, Figure], ctx: Context) -> float:
    """The entry of a per-accelerator `table` for the context's accelerator, else its
    ``default``."""
    return table.get(ctx.machine.accelerator.id, table["default"]).value
