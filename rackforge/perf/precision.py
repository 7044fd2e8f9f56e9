"""What each GEMM of a served checkpoint runs at and what each weight costs in memory.

A serving precision names a checkpoint format (``PEAK_KEY``): its tensor-core rate (the
accelerator must have that precision) and its bytes per stored weight, block scales included.
Some checkpoints keep parts of the model wider: DeepSeek-R1's NVFP4 checkpoint its MLA
projections in BF16 (``kept_bf16``), ModelOpt's auto_quantize a share of the layers in the
next wider format (``mixed_checkpoint``) [AUTOQ], and gpt-oss's MXFP4 checkpoints everything but
the routed experts (``outside_experts``) [GPTOSS]. MXFP4 weights served with 8-bit activations
(``mxfp4_fp8``, W4A8: TensorRT-LLM's default for gpt-oss on Blackwell [TRTW4A8], AMD Quark's
``mxfp4_fp8`` scheme) run at the FP8 tensor-core rate [MMA].

References
----------
[AUTOQ] NVIDIA Model Optimizer, ``modelopt.torch.quantization.auto_quantize``: per-layer formats
    searched under an ``effective_bits`` constraint over the weights (NVFP4 4 bits, FP8 8,
    none 16); NVIDIA's MLPerf Mixtral checkpoints: FP8 or none at 8.75 bits (Hopper), NVFP4,
    FP8 or none at 7.25 (B200) (closed/NVIDIA/code/mixtral-8x7b/modelopt, v5.1; v5.0
    configurations).
[MMA] NVIDIA CUTLASS, media/docs/cpp/blackwell_functionality.md (19fc8b0f): tcgen05.mma
    ``kind::f8f6f4`` / ``kind::mxf8f6f4`` (any pair of FP4, FP6, FP8 operands) at 2x Hopper's
    FP8 rate, ``kind::mxf4`` / ``kind::mxf4nvf4`` (both operands FP4) at 4x; measured on B200
    (meta-pytorch/MSLK pull request 344, N = K = 16,384): MXFP8 x MXFP4 2.05-2.13 PFLOP/s,
    MXFP8 x MXFP8 1.85-1.91, NVFP4 x NVFP4 3.8-4.3. AMD ROCm blog, Matrix Core Programming on
    CDNA3 and CDNA4: the F8F6F4 MFMAs take the larger cycle count if either A or B is FP8.
[TRTW4A8] TensorRT-LLM ``tensorrt_llm/_torch/model_config.py`` ``get_mxfp4_quant_algo``
    (1a0dc5f7): an MXFP4 checkpoint on SM 100+ runs W4A8_MXFP4_MXFP8 (TRTLLM and CUTLASS MoE
    backends), W4A16_MXFP4 on Hopper; tech blog 9 and the gpt-oss deployment guide likewise.
[GPTOSS] openai/gpt-oss-120b and gpt-oss-20b config.json, quantization_config
    ``modules_to_not_convert``: self_attn, mlp.router, embed_tokens, lm_head; OpenAI,
    gpt-oss-120b & gpt-oss-20b Model Card (arXiv 2508.10925), Sec. 2.1: the MoE weights are
    quantized to MXFP4.
"""

from __future__ import annotations

from typing import Any

from rackforge.errors import InputError
from rackforge.perf.context import Context
from rackforge.perf.serving_params import ServingParams, for_accelerator, load_serving_params

# mxfp4_fp8: MXFP4 weights with 8-bit activations (W4A8): a tensor core takes an FP4 x FP8
# pair at its FP8 rate, half the FP4 rate that needs both operands in FP4 [MMA].
PEAK_KEY = {"bf16": "bf16", "fp16": "fp16", "fp8": "fp8", "fp4": "fp4", "nvfp4": "fp4",
            "mxfp4": "fp4", "mxfp4_fp8": "fp8"}
BYTES_KEY = {"nvfp4": "fp4", "mxfp4_fp8": "mxfp4"}


def known_precision(dtype: str, where: str = "dtype") -> str:
    """`dtype` if it names a serving precision; else an InputError at key `where`."""
    if dtype not in PEAK_KEY:
        raise InputError("unknown serving precision", None, where, dtype,
                         f"one of {', '.join(PEAK_KEY)}")
    return dtype


def check_precision(ctx: Context, dtype: str) -> str:
    """The peak-FLOP/s key of `dtype`; InputError when the accelerator lacks that precision."""
    key = PEAK_KEY[known_precision(dtype)]
    acc = ctx.machine.accelerator
    # a W4A8 GEMM feeds the 4-bit weights to the tensor cores as they are [MMA]
    for needed in {key, "fp4"} if BYTES_KEY.get(dtype) == "mxfp4" else {key}:
        if needed not in acc.peak_flops:
            raise InputError(f"{acc.id} has no {needed} tensor cores", None, "dtype", dtype,
                             f"a precision it supports: {', '.join(sorted(acc.peak_flops))}")
    return key


def weight_bytes_per_element(dtype: str, sp: ServingParams | None = None) -> float:
    """Bytes of one stored weight element, block scales included [bytes]."""
    sp = sp or load_serving_params()
    return sp.weight_bytes[BYTES_KEY.get(dtype, dtype)].value


def gemm_rate(ctx: Context, dtype: str, sp: ServingParams | None = None) -> float:
    """Achievable GEMM rate of one GPU in `dtype` [FLOP/s]: peak x efficiency x the sustained
    fraction of perf_params.yaml (FP8 / BF16 efficiency: MAMF; FP4: serving_params.yaml)."""
    sp = sp or load_serving_params()
    key, machine = check_precision(ctx, dtype), ctx.machine
    eff = for_accelerator(sp.gemm_efficiency_fp4, ctx) if key == "fp4" \
        else machine.gemm_efficiency(key)
    return machine.peak_flops(key) * eff * ctx.params.gemm_sustained_fraction


def kept_bf16(ctx: Context, dtype: str, sp: ServingParams) -> tuple[dict[str, Any] | None,
                                                                    float]:
    """The GEMM precision of the attention's input projections where the checkpoint keeps them
    in BF16 (FP4 checkpoints of MLA models, ``fp4_excluded``), else None; and the bytes those
    weights add per layer over the checkpoint's dtype [bytes]."""
    w, c = ctx.workload, ctx.counts
    if PEAK_KEY[dtype] != "fp4" or w.mla is None or not sp.fp4_excluded.mla_projections:
        return None, 0.0
    extra = c.attn_in_params * (2.0 - weight_bytes_per_element(dtype, sp))
    return {"dtype": "bf16", "rate": gemm_rate(ctx, "bf16", sp), "operand_bytes": 2.0}, extra


def mixed_checkpoint(ctx: Context, gemm: dict[str, Any], share: float, sp: ServingParams
                     ) -> tuple[float, dict[str, Any]]:
    """Bytes per weight and GEMM precision of a checkpoint that keeps `share` of its weights
    (by count) in the next wider format (16 bits beside FP8, FP8 beside FP4) and the rest in
    `gemm`'s (ModelOpt's auto_quantize at an effective-bits budget [AUTOQ]): the bytes blend by
    count and the rate harmonically, as if the wider layers were spread evenly over the step's
    GEMM work (which layers the search keeps is not published)."""
    wider = "fp8" if gemm["dtype"] == "fp4" else "bf16"
    rate = 1.0 / ((1.0 - share) / gemm["rate"] + share / gemm_rate(ctx, wider, sp))
    w_elem = (1.0 - share) * gemm["operand_bytes"] + share * weight_bytes_per_element(wider, sp)
    return w_elem, gemm | {"rate": rate, "operand_bytes": w_elem}


def outside_experts(ctx: Context, dtype: str, gemm: dict[str, Any], w_elem: float,
                    sp: ServingParams) -> tuple[dict[str, Any], dict[str, Any] | None, float]:
    """GEMM precision and bytes per weight of everything outside the routed experts, and the
    experts' own precision where it differs (else None): a 4-bit checkpoint that quantizes
    only the experts keeps the rest in BF16 [GPTOSS]; otherwise the whole model is `gemm`."""
    four_bit = weight_bytes_per_element(dtype, sp) < 1.0
    if not four_bit or ctx.workload.id not in sp.bf16_outside_experts.models:
        return gemm, None, w_elem
    bf16 = {"dtype": "bf16", "rate": gemm_rate(ctx, "bf16", sp), "operand_bytes": 2.0}
    return bf16, gemm, weight_bytes_per_element("bf16", sp)
