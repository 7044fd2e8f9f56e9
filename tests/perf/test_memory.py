"""Memory per GPU against Korthikanti et al. (2022) Table 2 and the 18-bytes-per-parameter rule."""

from __future__ import annotations

import numpy as np
import pytest

from rackforge.perf.context import Context
from rackforge.perf.layout import Execution, single
from rackforge.perf.memory import activation_bytes_per_token, memory_arrays
from rackforge.perf.params import load_params
from rackforge.perf.validate import row_machine
from rackforge.perf.workload import Source, Workload

SRC = Source(title="test model", publisher="rackforge", year=2026)
GPT = Workload(id="gpt-test", name="GPT", source=SRC, layers=8, hidden=4096, ffn_hidden=16384,
               heads=32, kv_heads=32, vocab=51200, ffn="gelu", seq_len=2048,
               dropout=True)


def _ctx(flash: bool) -> Context:
    machine = row_machine({"accelerator": "a100-sxm-80gb", "scaleup_domain": "8",
                           "scaleout_gbps_per_gpu": "200"})
    ex = Execution(dtype="bf16", seq_len=2048, global_batch=8, flash_attention=flash)
    return Context(GPT, machine, ex, load_params())


@pytest.mark.parametrize(("sp", "rc", "expected"), [
    (False, "none", lambda h, a, s, t: h * (10 + 24 / t + 5 * a * s / (h * t))),
    (True, "none", lambda h, a, s, t: h / t * (34 + 5 * a * s / h)),
    # Megatron-Core selective recompute (core attention, norms, activation function) also
    # drops the two norm outputs (4h) and the GELU output (8h) from Korthikanti's 34 s b h / t.
    (True, "selective", lambda h, a, s, t: h / t * (34 - 4 - 8)),
])
def test_activation_bytes_match_korthikanti_table2(sp, rc, expected):
    h, a, s, t = 4096, 32, 2048, 8
    lay = single(tp=t, sp=sp, recompute=rc)
    got = activation_bytes_per_token(_ctx(flash=False), lay, moe=False)[0]
    assert got == pytest.approx(expected(h, a, s, t), rel=1e-12)


def test_static_memory_is_18_bytes_per_parameter_without_sharding():
    ctx = _ctx(flash=True)
    lay = single(tp=1, pp=1, dp=1, zero=0)
    mem = memory_arrays(ctx, lay, np.array([8.0]))
    params = mem["dense_params"][0]
    static = mem["weights"][0] + mem["gradients"][0] + mem["optimizer"][0]
    assert static == pytest.approx(18 * params)
    sharded = memory_arrays(ctx, single(dp=8, zero=1), np.array([1.0]))
    assert sharded["optimizer"][0] == pytest.approx(12 * params / 8)


def test_full_recompute_keeps_only_layer_inputs():
    ctx = _ctx(flash=True)
    none = memory_arrays(ctx, single(tp=8, sp=True), np.array([8.0]))["activations"][0]
    full = memory_arrays(ctx, single(tp=8, sp=True, recompute="full"),
                         np.array([8.0]))["activations"][0]
    tokens, h, t, layers = 2048, 4096, 8, 8
    one_layer = activation_bytes_per_token(ctx, single(tp=8, sp=True), False)[0] * tokens
    assert full == pytest.approx(layers * 2 * h / t * tokens + one_layer)
    assert none == pytest.approx(layers * one_layer)


def test_pipeline_peak_is_the_busier_of_the_first_and_last_stage():
    # 1F1B (Narayanan et al. SC21, Sec. 2.2.2): with 8 layers in 4 stages of 2 and 8
    # microbatches, the first stage holds 4 microbatches' activations, the last stage one
    # microbatch's plus the logits, 2,048 x 51,200 x 4 bytes / tp 8 = 52.4 MB. Here the first
    # stage peaks (4 x 2 layers x 2,048 tokens x 22 h / 8 bytes = 185 MB against 46 + 52 MB),
    # so the logits do not add to the peak; with one stage they do.
    ctx = _ctx(flash=True)
    per_layer = 2048 * 4096 / 8 * (34 - 4 - 8)
    staged = memory_arrays(ctx, single(tp=8, pp=4, sp=True, recompute="selective"),
                           np.array([8.0]))
    assert staged["activations"][0] == pytest.approx(4 * 2 * per_layer)
    assert staged["logits"][0] == 0.0
    one = memory_arrays(ctx, single(tp=8, sp=True, recompute="selective"), np.array([8.0]))
    assert one["logits"][0] == pytest.approx(2048 * 51200 * 4 / 8)
    assert one["activations"][0] == pytest.approx(8 * per_layer)


@pytest.mark.parametrize(("modules", "expected"), [
    # Korthikanti's 34 s b h / t with sequence parallelism, less what each module rebuilds:
    # the two norm outputs 4h; the dense FFN's internals (GELU input 2 x 4h and output 8h,
    # 16h); the attention core the 5 a s / h scores, which it keeps otherwise.
    (("layernorm",), lambda h, a, s, t: h / t * (34 - 4 + 5 * a * s / h)),
    (("mlp",), lambda h, a, s, t: h / t * (34 - 16 + 5 * a * s / h)),
    (("core_attn",), lambda h, a, s, t: h / t * 34),
    (("core_attn", "layernorm", "mlp"), lambda h, a, s, t: h / t * (34 - 4 - 16)),
])
def test_recompute_modules_drop_what_they_rebuild(modules, expected):
    from dataclasses import replace
    h, a, s, t = 4096, 32, 2048, 8
    ctx = _ctx(flash=False)
    ctx = replace(ctx, execution=replace(ctx.execution, recompute_modules=modules))
    got = activation_bytes_per_token(ctx, single(tp=t, sp=True, recompute="selective"),
                                     moe=False)[0]
    assert got == pytest.approx(expected(h, a, s, t), rel=1e-12)
