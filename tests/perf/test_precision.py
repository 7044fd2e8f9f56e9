"""Checkpoint precisions of the serving model (rackforge.perf.precision): expected values from
format specifications, model cards and datasheet peaks, not from the code under test."""

from __future__ import annotations

import numpy as np
import pytest

from rackforge.errors import InputError
from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.inference import Serving
from rackforge.perf.precision import (
    check_precision,
    gemm_rate,
    outside_experts,
    weight_bytes_per_element,
)
from rackforge.perf.serving import serving_arrays
from rackforge.perf.serving_params import load_serving_params


def _ctx(system: str, model: str, dtype: str):
    return training_context(system, model, TrainingOptions(dtype=dtype))


def test_w4a8_runs_at_the_fp8_rate_and_stores_mxfp4_weights():
    # A tensor core takes an FP4 x FP8 operand pair at its FP8 rate (CUTLASS Blackwell docs:
    # kind::f8f6f4 at 2x Hopper FP8, kind::mxf4 at 4x); MXFP4 stores 32 E2M1 values with one
    # E8M0 scale: (32 x 4 + 8) / 32 = 4.25 bits (OCP MX v1.0).
    ctx, sp = _ctx("hgx-b200-8", "gpt-oss-120b", "fp8"), load_serving_params()
    assert check_precision(ctx, "mxfp4_fp8") == "fp8"
    assert gemm_rate(ctx, "mxfp4_fp8", sp) == gemm_rate(ctx, "fp8", sp)
    assert weight_bytes_per_element("mxfp4_fp8", sp) == (32 * 4 + 8) / 32 / 8


def test_w4a8_needs_tensor_cores_that_take_fp4_operands():
    # Hopper has FP8 tensor cores but no FP4 operands: MXFP4 weights would be dequantized
    with pytest.raises(InputError, match="has no fp4"):
        check_precision(_ctx("hgx-h100-8", "gpt-oss-120b", "fp8"), "mxfp4_fp8")


def test_gpt_oss_checkpoint_keeps_all_but_the_experts_in_bf16():
    # openai/gpt-oss-120b config.json: modules_to_not_convert = self_attn, mlp.router,
    # embed_tokens, lm_head; only the MoE weights are MXFP4 (model card Sec. 2.1).
    sp = load_serving_params()
    ctx = _ctx("hgx-b200-8", "gpt-oss-120b", "fp8")
    w4a8 = {"dtype": "fp8", "rate": gemm_rate(ctx, "mxfp4_fp8", sp), "operand_bytes": 0.53125}
    rest, experts, rest_bytes = outside_experts(ctx, "mxfp4_fp8", w4a8, 0.53125, sp)
    assert rest == {"dtype": "bf16", "rate": gemm_rate(ctx, "bf16", sp), "operand_bytes": 2.0}
    assert experts == w4a8 and rest_bytes == 2.0
    # An 8-bit checkpoint, or a model whose checkpoints quantize every layer, is one format.
    assert outside_experts(ctx, "fp8", w4a8, 1.0, sp) == (w4a8, None, 1.0)
    qwen = _ctx("hgx-b200-8", "qwen3-30b-a3b", "fp8")
    assert outside_experts(qwen, "fp4", w4a8, 0.5625, sp) == (w4a8, None, 0.5625)


def test_gpt_oss_weights_held_match_its_model_card():
    # gpt-oss-120b model card, Table 1: 116.83B parameters, of which the MLP (experts) 114.71B.
    # MXFP4 experts at 4.25 bits and the other 2.12B parameters in BF16: 60.94 + 4.24 = 65.2 GB
    # on one GPU; with one short sequence the cache adds under 0.1 GB to the model's memory.
    ctx = _ctx("hgx-b200-8", "gpt-oss-120b", "fp8")
    out = serving_arrays(ctx, Serving(128, 128), np.array([1.0]), np.array([1.0]),
                         np.array([1.0]), "mxfp4_fp8")
    held = float(out["memory_bytes"][0]) - ctx.params.reserved_bytes
    expected = 114.71e9 * 4.25 / 8 + (116.83e9 - 114.71e9) * 2.0
    assert held == pytest.approx(expected, rel=0.02)
