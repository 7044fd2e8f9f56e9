"""Latency-bound serving (rackforge.perf.serving): expected values from hand calculations with
datasheet figures and the parameter files, or from properties any serving system has."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import gamma

from rackforge.errors import InputError
from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.benchmarks import Limits, benchmark_for, load_benchmarks
from rackforge.perf.context import hbm_bandwidth
from rackforge.perf.elementwise import elementwise_bytes
from rackforge.perf.gemm import gemm_time
from rackforge.perf.inference import Engine, Serving
from rackforge.perf.precision import (
    check_precision,
    gemm_rate,
    kept_bf16,
    weight_bytes_per_element,
)
from rackforge.perf.serving import (
    BATCHES,
    graph_padded,
    search_serving,
    serve,
    serving_arrays,
    tail_latencies,
)
from rackforge.perf.serving_params import load_serving_params


def _ctx(system: str, model: str, dtype: str = "fp8"):
    return training_context(system, model, TrainingOptions(dtype=dtype))


def test_decode_step_at_batch_one_is_weights_over_bandwidth_plus_overhead():
    # Llama 3.1 8B, FP8 weights, one H100 (3.35 TB/s datasheet x 0.85 achievable HBM).
    # Matmul weights: 8.03e9 parameters minus the 128,256 x 4,096 input embedding (a lookup),
    # 1 byte each. Overhead: 200 us per step + 32 layers x 25 kernels x 3 us.
    ctx = _ctx("hgx-h100-8", "llama3.1-8b")
    out = serving_arrays(ctx, Serving(1, 10_000), np.array([1]), np.array([1]),
                         np.array([1]), "fp8")
    weights_s = (8.029995008e9 - 128256 * 4096) * 1.0 / (3.35e12 * 0.85)
    # fp8 KV over the length-biased mean context I + O (1 + cv^2) / 2 = 1 + 10,000 (cv = 1)
    kv_s = (1 + 10_000) * 32 * 2 * 8 * 128 * 1.0 / (3.35e12 * 0.85)
    overhead_s = 200e-6 + 32 * 25 * 3e-6
    assert out["step_s"][0] == pytest.approx(weights_s + kv_s + overhead_s, rel=0.02)


def test_two_pipeline_stages_hold_half_the_weights_and_hand_one_token_on():
    """Llama 3.1 8B in fp8 on H100, decode only: two one-GPU stages with two sequences (one
    per microbatch) against one GPU with one. Each stage holds half the weights; a round of
    both microbatches is one GPU's pass over all 32 layers for one sequence plus the second
    stage's per-step overhead (200 us) and the token's activations handed over NVLink:
    4,096 x 2 bytes at 450 GB/s x 0.80 plus 5 us. Per GPU the throughput is the same but
    for those two terms."""
    ctx = _ctx("hgx-h100-8", "llama3.1-8b")
    srv = Serving(1, 10_000)
    one = serving_arrays(ctx, srv, np.array([1]), np.array([1]), np.array([1]), "fp8")
    two = serving_arrays(ctx, srv, np.array([2]), np.array([1]), np.array([2]), "fp8",
                         pp=np.array([2]))
    assert two["weight_bytes"][0] == pytest.approx(one["weight_bytes"][0] / 2, rel=1e-12)
    handoff_s = 4096 * 2 / (450e9 * 0.80) + 5e-6
    assert two["decode_step_s"][0] - one["decode_step_s"][0] == pytest.approx(
        200e-6 + handoff_s, rel=1e-6)
    assert two["tokens_per_s_per_gpu"][0] == pytest.approx(1.0 / two["step_s"][0], rel=1e-12)


def test_tpot_grows_with_batch_and_throughput_per_gpu_too():
    ctx = _ctx("hgx-h100-8", "llama2-70b")
    srv = benchmark_for("llama2-70b").serving()
    batch = np.array([1, 8, 64, 256])
    out = serving_arrays(ctx, srv, np.full(4, 2), np.full(4, 2), batch, "fp8")
    _, tpot = tail_latencies(out, srv, np.arange(4))
    assert np.all(np.diff(tpot) > 0)
    assert np.all(np.diff(out["served_tokens_per_s_per_gpu"]) > 0)


def test_tighter_tpot_never_raises_throughput_and_server_below_offline():
    ctx = _ctx("hgx-h200-8", "llama2-70b")
    srv = benchmark_for("llama2-70b").serving()
    offline = serve(ctx, srv, 8).best.tokens_per_s_per_gpu
    last = offline
    for tpot in (0.2, 0.1, 0.04, 0.02):
        best = serve(ctx, srv, 8, Limits(ttft_s=2.0, tpot_s=tpot)).best
        got = best.tokens_per_s_per_gpu if best else 0.0
        assert got <= last * (1 + 1e-12)
        last = got
    assert serve(ctx, srv, 8, Limits(2.0, 0.2)).best.tokens_per_s_per_gpu <= offline


def test_offline_ttft_counts_from_admission():
    """Offline, every request is issued at the start, so its wait is the run's length and
    TTFT counts from admission: the p99 of the prompt's prefill (gamma-distributed lengths,
    shape 1 / cv^2: the closed-form quantile of scipy) plus half a step to the step boundary,
    with no queue. The offline best point reports that, a few seconds at most."""
    ctx = _ctx("hgx-h200-8", "llama2-70b")
    srv = benchmark_for("llama2-70b").serving()
    out = serving_arrays(ctx, srv, np.array([1]), np.array([1]), np.array([256]), "fp8")
    ttft, _ = tail_latencies(out, srv, np.array([0]), queued=False)
    cv = srv.input_cv
    prefill_s = srv.input_tokens * out["prefill_s_per_token"][0]
    expected = gamma.ppf(0.99, 1 / cv**2, scale=prefill_s * cv**2) + 0.5 * out["served_step_s"][0]
    # the model reads the service distribution at cell midpoints (latency._service_nodes),
    # which puts its p99 about 3 % below the exact quantile
    assert ttft[0] == pytest.approx(expected, rel=0.05)
    queued, _ = tail_latencies(out, srv, np.array([0]))
    assert queued[0] > ttft[0]
    best = serve(ctx, srv, 8).best
    assert 0 < best.ttft_s < 10.0


def test_impossible_limit_gives_no_layout_and_the_fastest_reached():
    ctx = _ctx("hgx-h100-8", "llama2-70b")
    res = serve(ctx, benchmark_for("llama2-70b").serving(), 8, Limits(ttft_s=10.0, tpot_s=1e-3))
    assert res.best is None and res.fastest_tpot_s > 1e-3
    assert "no layout meets TPOT 1 ms; the fastest reaches" in res.shortfall()


def test_curve_is_a_pareto_front_with_finite_fields():
    ctx = _ctx("gb200-nvl72", "deepseek-r1", "fp4")
    res = serve(ctx, benchmark_for("deepseek-r1").serving(), 72)
    per_user = [p.tokens_per_s_per_user for p in res.curve]
    per_gpu = [p.tokens_per_s_per_gpu for p in res.curve]
    assert len(res.curve) >= 3
    assert per_user == sorted(per_user, reverse=True) and per_gpu == sorted(per_gpu)
    for p in res.curve:
        assert {"tp", "ep", "gpus", "dp"} <= set(p.layout)
        assert all(math.isfinite(v) for v in (p.ttft_s, p.tpot_s, p.tokens_per_s_per_gpu))
    # offline may also carry prompt work evenly in every step: at least the curve's best
    assert res.best.tokens_per_s_per_gpu >= max(per_gpu) * (1 - 1e-12)


def test_elementwise_traffic_by_hand():
    # Per token and layer, 2-byte activations: two fused residual-add + RMSNorm kernels
    # (8 h-wide passes), rotary embedding reads and writes q (32 x 128) and k (8 x 128), and
    # SwiGLU reads gate and up and writes their product (3 passes over the FFN width).
    sp = load_serving_params()
    dense = _ctx("hgx-h100-8", "llama3.1-8b")
    per_token_layer = 2 * (8 * 4096 + 2 * (4096 + 1024) + 3 * 14336)        # 172,032 bytes
    one_gpu = elementwise_bytes(dense, np.array([1000.0]), np.array([1.0]), np.array([1.0]), sp)
    assert one_gpu[0] == pytest.approx(1000 * 32 * per_token_layer)
    # Tensor parallel over 4: the add + RMSNorm runs on a quarter of the tokens inside the
    # all-reduce (two-shot), rope and the FFN activation on this rank's quarter of the heads
    # and of the FFN width.
    tp4 = elementwise_bytes(dense, np.array([1000.0]), np.array([4.0]), np.array([4.0]), sp)
    assert tp4[0] == pytest.approx(1000 * 32 * 2 * (8 * 4096 + 2 * 5120 + 3 * 14336) / 4)
    # Mixtral 8x7B on 8 GPUs (attention TP 8, experts over 8): per token, 2 routed copies spread
    # over 8 GPUs, each with SwiGLU over 14,336 and 3 h-wide permute / unpermute passes, plus
    # one h-wide combine write per token on its attention group.
    moe = _ctx("hgx-h200-8", "mixtral-8x7b")
    got = elementwise_bytes(moe, np.array([800.0]), np.array([8.0]), np.array([8.0]), sp)
    hidden = 32 * 800 * 2 * (8 * 4096 / 8 + 2 * (4096 / 8 + 1024 / 8))
    routed = 32 * 2 * (800 * 2 / 8 * (3 * 14336 + 3 * 4096) + 800 * 4096)
    assert got[0] == pytest.approx(hidden + routed)


def test_moe_decode_reads_only_the_touched_experts():
    # Mixtral 8x7B, top-2 of 8: at one token a step reads 2 of 8 experts (1 - (1 - 2/8)^1).
    ctx = _ctx("hgx-h200-8", "mixtral-8x7b")
    one = serving_arrays(ctx, Serving(1, 10_000), np.array([1]), np.array([1]), np.array([1]),
                         "fp8")
    big = serving_arrays(ctx, Serving(1, 10_000), np.array([1]), np.array([1]),
                         np.array([64]), "fp8")
    assert one["step_s"][0] < 0.5 * big["step_s"][0]


def test_expert_parallel_all_to_all_pays_the_kernels_fixed_time():
    """DeepSeek-R1 on 8 B200, attention DP 8, one sequence per rank: each of the 58 MoE layers
    waits for a dispatch and a combine, 18.9 + 31.0 us on TensorRT-LLM's NVLink kernels at one
    token per rank (tech blog 18, EP 8); the bytes (a token's 8 copies of 7,168 values, 3 bytes
    for FP8 out and BF16 back, over 900 GB/s x 0.80) add under 1 us per layer."""
    ctx = _ctx("hgx-b200-8", "deepseek-r1", "fp4")
    out = serving_arrays(ctx, Serving(1, 10_000), np.array([8]), np.array([1]),
                         np.array([8]), "fp4")
    floor_s = 58 * (18.9e-6 + 31.0e-6)
    assert floor_s <= out["comm_s"][0] <= floor_s + 58 * 1e-6


@pytest.mark.parametrize(("system", "dtype"), [("hgx-h100-8", "fp4"), ("hgx-h200-8", "fp4"),
                                               ("mi300x-8", "fp4"), ("hgx-a100-8", "fp8")])
def test_precision_the_accelerator_lacks_is_an_input_error(system, dtype):
    ctx = _ctx(system, "llama2-70b", "bf16")
    with pytest.raises(InputError, match="has no"):
        serve(ctx, Serving(512, 256), 8, dtype=dtype)


def test_benchmarks_carry_limits_and_provenance():
    benches = load_benchmarks()
    assert set(benches) == {"llama2-70b", "llama3.1-405b", "llama3.1-8b", "mixtral-8x7b",
                            "deepseek-r1", "gpt-oss-120b"}
    assert benches["llama2-70b"].limits("interactive") == Limits(0.45, 0.04)
    assert benches["deepseek-r1"].limits("server") == Limits(2.0, 0.08)
    # MLPerf v6.0 (loadgen/mlperf.conf; every v6.0 log's Test Parameters)
    assert benches["deepseek-r1"].limits("interactive") == Limits(1.5, 0.015)
    assert benches["gpt-oss-120b"].limits("interactive") == Limits(2.0, 0.015)
    assert benches["llama2-70b"].output_tokens.value == 294.45
    with pytest.raises(InputError):
        benches["mixtral-8x7b"].limits("interactive")


def test_chunked_prefill_step_interpolates_and_caps_bound_the_batch():
    # Llama 3.1 8B on one H100, B = 64, I = 1,000, O = 128: 500 prompt tokens per step; with
    # 2,048-token chunks a share f = 500 / 2,048 of the steps carries a chunk, and the mean step
    # is t_0 + f (t_C - t_0). With no prompt work the p99 TPOT is the decode step itself.
    ctx = _ctx("hgx-h100-8", "llama3.1-8b")
    one = np.array([1])
    out = serving_arrays(ctx, Serving(1000, 128), one, one, np.array([64]), "fp8",
                         np.array([2048.0]))
    share = 64 * 1000 / 128 / 2048
    assert out["chunk_share"][0] == pytest.approx(share)
    t0, tc = out["decode_step_s"][0], out["chunk_step_s"][0]
    assert out["served_step_s"][0] == pytest.approx(t0 + share * (tc - t0))
    bare_srv = Serving(1e-9, 128)
    bare = serving_arrays(ctx, bare_srv, one, one, np.array([64]), "fp8", np.array([2048.0]))
    _, tpot = tail_latencies(bare, bare_srv, np.array([0]))
    assert tpot[0] == pytest.approx(bare["decode_step_s"][0], rel=1e-3)
    # Caps (TensorRT-LLM defaults): B (1 + I / O) <= 8,192 tokens per step, B <= 2,048.
    # (TP 2, so that the KV cache of 910 sequences fits in memory.)
    two = np.array([2])
    cap = serving_arrays(ctx, Serving(1024, 128), two, two, np.array([910, 911]), "fp8")
    assert cap["fits"].tolist() == [True, False]            # 910 x 9 = 8,190; 911 x 9 = 8,199
    # With prompts arriving at random, a chunk of 256 tokens cannot keep up with 910 x 8 =
    # 7,280 prompt tokens per step; one of 7,282 (the cap less the batch) just can.
    chunks = serving_arrays(ctx, Serving(1024, 128), two, two, np.array([910, 910]), "fp8",
                            np.array([256.0, 8192.0 - 910]))
    assert chunks["served_fits"].tolist() == [False, True]


def test_sliding_window_layers_cache_only_their_window():
    # gpt-oss-120b, FP8 KV cache, one GPU: 8 KV heads x 64 dims x (K, V) = 1,024 bytes per
    # token and layer. Prompt 1,000, output 2 (cv 1): in-flight context 1,000 + 2 = 1,002
    # tokens on the 18 dense layers, the 128-token window on the other 18.
    ctx = _ctx("hgx-h200-8", "gpt-oss-120b")
    one = np.array([1])
    out = serving_arrays(ctx, Serving(1000, 2), one, one, np.array([1, 2]), "fp8")
    per_sequence = out["memory_bytes"][1] - out["memory_bytes"][0]
    assert per_sequence == pytest.approx((18 * 1002 + 18 * 128) * 1024)


def test_fp4_checkpoint_keeps_mla_projections_in_bf16():
    # NVIDIA's DeepSeek-R1 NVFP4 checkpoint excludes fused_a, q_b_proj and kv_b_proj from FP4
    # (serving_params.yaml, fp4_excluded). From the DeepSeek-V3 config (h 7,168, q_lora 1,536,
    # kv_lora 512, 128 heads of 128 + 64 rope dims, values 128): q_a 7,168 x 1,536, q_b
    # 1,536 x 128 x 192, kv_a 7,168 x 576, kv_b 512 x 128 x 256 = 69,664,768 weights per layer,
    # each 2 bytes instead of NVFP4's 0.5625.
    sp = load_serving_params()
    precision, extra = kept_bf16(_ctx("hgx-b200-8", "deepseek-r1", "fp4"), "fp4", sp)
    assert precision["dtype"] == "bf16" and precision["operand_bytes"] == 2.0
    weights = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256
    assert extra == pytest.approx(weights * (2.0 - 0.5625))
    # FP8 checkpoints and models without MLA are unaffected
    assert kept_bf16(_ctx("hgx-b200-8", "deepseek-r1", "fp8"), "fp8", sp) == (None, 0.0)
    assert kept_bf16(_ctx("hgx-b200-8", "llama2-70b", "fp4"), "fp4", sp) == (None, 0.0)


@pytest.mark.parametrize(("tokens", "measured_us"), [
    (8, 57.68), (32, 117.2), (64, 141.68), (128, 161.87), (256, 172.17), (384, 186.92)])
def test_moe_module_matches_tensorrt_llm_measurement(tokens, measured_us):
    # TensorRT-LLM's measured MoE module latency (blog "MoE as Dense GEMM", TRTLLM-Gen column):
    # DeepSeek-V3 routed experts (hidden 7,168, 256 experts, top-8, NVFP4) on one TP8 rank of a
    # B200, so each expert is 256 wide. Model: both grouped expert GEMMs over the experts the
    # tokens touch, weights at the grouped rate, plus the per-layer MoE overhead. 384 tokens lie
    # outside the 1-256 the two parameters were fitted on.
    ctx, sp = _ctx("hgx-b200-8", "deepseek-r1", "fp4"), load_serving_params()
    grouped_bw = hbm_bandwidth(ctx) * sp.grouped_weight_bandwidth_fraction.value
    precision = {"dtype": check_precision(ctx, "fp4"), "rate": gemm_rate(ctx, "fp4", sp),
                 "operand_bytes": weight_bytes_per_element("fp4", sp),
                 "weight_bandwidth": grouped_bw}
    rows, share, one = np.array([tokens * 8 / 256]), 1 - (1 - 8 / 256) ** tokens, np.ones(1)
    fc1 = gemm_time(ctx, (rows, 512 * one, 7168 * one), 256 * one, weight_share=share, **precision)
    fc2 = gemm_time(ctx, (rows, 7168 * one, 256 * one), 256 * one, weight_share=share, **precision)
    model_us = (fc1[0] + fc2[0] + sp.moe_layer_overhead_s.value) * 1e6
    assert model_us == pytest.approx(measured_us, rel=0.12)


@pytest.mark.parametrize("system,host_s", [
    # Grace: TensorRT-LLM PR 10273 measured 45.11 ms of host time per iteration with 1,536
    # sequences per rank on GB200; x86: that over 2.75 (37.08 / 13.48 us, the same PyTorch call
    # on Grace and on a DGX H100's Xeon, Transformer Engine issue 2053).
    ("gb200-nvl72", 45.11e-3 / 1536),
    ("hgx-b200-8", 45.11e-3 / 1536 / (37.08 / 13.48)),
])
def test_host_loop_bounds_the_step_of_a_small_model_at_large_batch(system, host_s):
    # Qwen3-30B-A3B (3.3B active) in FP4 on one GPU: at 4,096 sequences the GPU's decode step
    # is shorter than the host's, so the step is the host's time; at 64 the GPU's is longer.
    ctx = _ctx(system, "qwen3-30b-a3b", "fp4")
    batch = np.array([64.0, 4096.0])
    out = serving_arrays(ctx, Serving(128, 128), np.ones(2), np.ones(2), batch, "fp4")
    host = host_s * batch
    assert out["decode_step_s"][1] == pytest.approx(host[1], rel=1e-3)
    assert out["decode_step_s"][0] > 2 * host[0]


def test_attention_groups_chunk_at_random_and_the_busiest_paces_the_step():
    # Qwen3-30B-A3B on 8 GPUs, attention data parallel over 8 groups (tp 1): B = 256,
    # I = O = 1,000, chunks of 512. Each group prefills 256 x 1,000 / 1,000 / 8 = 32 prompt
    # tokens per step, so it chunks in f = 32 / 512 = 1/16 of the steps, independently of the
    # others: 1 - (15/16)^8 of the steps carry a chunk on some group (TensorRT-LLM blog 10:
    # an iteration lasts as long as its busiest rank).
    ctx = _ctx("hgx-b200-8", "qwen3-30b-a3b", "fp8")
    eight, one = np.array([8.0]), np.array([1.0])
    out = serving_arrays(ctx, Serving(1000, 1000), eight, one, np.array([256.0]), "fp8",
                         np.array([512.0]))
    assert out["chunk_share"][0] == pytest.approx(1 - (15 / 16) ** 8)
    t0, tc = out["decode_step_s"][0], out["chunk_step_s"][0]
    assert out["served_step_s"][0] == pytest.approx(t0 + out["chunk_share"][0] * (tc - t0))
    # A chunk step is paced by the group holding the chunk: slower than a step whose groups
    # each hold a 64-token chunk.
    spread = serving_arrays(ctx, Serving(1000, 1000), eight, one, np.array([256.0]), "fp8",
                            np.array([64.0]))
    assert tc > spread["chunk_step_s"][0]
    # One group (dp 1) gives the single-engine mix of the chunked-prefill test above.
    solo = serving_arrays(ctx, Serving(1000, 1000), one, one, np.array([32.0]), "fp8",
                          np.array([512.0]))
    assert solo["chunk_share"][0] == pytest.approx(1 / 16)


def test_unchunked_engine_admits_every_waiting_prompt_whole():
    # Llama 2 70B on one H100, no chunked prefill, a batch equal to the output length: one
    # arrival per step on average (m = B / O = 1, Poisson). A step that carries prompts carries
    # E[N | N >= 1] = m / (1 - e^-m) = e / (e - 1) = 1.58198 of them, and a share
    # P(N >= 1) = 1 - 1/e = 0.63212 of the steps carries some.
    ctx = _ctx("hgx-h100-8", "llama2-70b")
    out_len = float(BATCHES[30])
    srv = Serving(500, out_len)
    out = search_serving(ctx, srv, 1, "fp8", Engine(chunked_prefill=False))
    one = np.flatnonzero(out["batch"] == BATCHES[30])
    assert one.size == 1
    assert out["chunk_tokens"][one[0]] == pytest.approx(500 * 1.58198, rel=1e-5)
    assert out["chunk_share"][one[0]] == pytest.approx(0.63212, rel=1e-5)


def test_engine_caps_bound_the_batch_and_the_step_tokens():
    # An engine admitting 64 requests and 1,024 tokens per step: no fitting candidate has more
    # in flight per engine, and a chunk step's decodes plus chunk stay within the budget.
    ctx = _ctx("hgx-h100-8", "llama2-70b")
    srv = benchmark_for("llama2-70b").serving()
    out = search_serving(ctx, srv, 8, "fp8", Engine(max_batch_size=64, max_num_tokens=1024))
    per_engine = out["batch"] / (out["g"] // out["tp"])
    ok = out["served_fits"]
    assert ok.any() and per_engine[ok].max() <= 64
    assert (per_engine[ok] + out["chunk_tokens"][ok]).max() <= 1024
    default = search_serving(ctx, srv, 8, "fp8")
    assert (default["batch"][default["served_fits"]]).max() > 64


@pytest.mark.parametrize("system, narrow, wider", [("hgx-h100-8", "fp8", "bf16"),
                                                   ("hgx-b200-8", "fp4", "fp8")])
def test_mixed_checkpoint_blends_its_two_formats_steps(system, narrow, wider):
    # A checkpoint keeping 3/32 of its weights in the next wider format (ModelOpt effective
    # bits 8.75 of FP8 / 16-bit, or 4.375 of NVFP4 / FP8): weights held blend by count; at a
    # compute-bound batch the GEMM time is close to (1 - x) of the all-narrow step's plus x
    # of the all-wider step's (each layer family split in the same proportion), computed here
    # by two independent runs.
    ctx = _ctx(system, "llama2-70b")
    share, args = 3.0 / 32.0, (np.array([1]), np.array([1]), np.array([512]))
    srv = benchmark_for("llama2-70b").serving()
    low, high = (serving_arrays(ctx, srv, *args, dtype) for dtype in (narrow, wider))
    mixed = serving_arrays(ctx, replace(srv, wider_share=share), *args, narrow)
    assert mixed["weight_bytes"][0] == pytest.approx(
        (1 - share) * low["weight_bytes"][0] + share * high["weight_bytes"][0], rel=1e-9)
    blend = (1 - share) * low["gemm_s"][0] + share * high["gemm_s"][0]
    assert low["gemm_s"][0] < mixed["gemm_s"][0] < high["gemm_s"][0]
    assert mixed["gemm_s"][0] == pytest.approx(blend, rel=0.03)


def test_cuda_graph_padding_runs_a_decode_step_at_the_next_captured_size():
    """TensorRT-LLM pads a generation-only batch to the next captured CUDA-graph size (tech
    blog 20): with NVIDIA's DeepSeek-R1 server sizes 128, 256, 384, 512, 154 sequences run as
    256, 128 as 128, and 600 (above every size) eagerly as 600. The padded slots cost GEMM,
    element-wise and all-to-all work but no attention (they hold no context)."""
    sizes = (128, 256, 384, 512)
    assert graph_padded(np.array([154.0, 128.0, 600.0, 1.0]), sizes).tolist() == \
        [256.0, 128.0, 600.0, 128.0]
    ctx = _ctx("hgx-b200-8", "deepseek-r1", "fp4")
    srv = benchmark_for("deepseek-r1").serving()
    args = (ctx, srv, np.array([8]), np.array([1]), np.array([8 * 154.0]), "fp4", None)
    plain = serving_arrays(*args)
    padded = serving_arrays(*args, Engine(cuda_graph_batch_sizes=sizes))
    exact = serving_arrays(*args, Engine(cuda_graph_batch_sizes=(154,)))
    assert padded["decode_step_s"][0] > plain["decode_step_s"][0]
    assert exact["decode_step_s"][0] == pytest.approx(plain["decode_step_s"][0], rel=1e-12)
    assert padded["step_s"][0] == pytest.approx(plain["step_s"][0], rel=1e-12)  # has prompts


def test_gemm_allreduce_fusion_hides_the_all_reduce_behind_its_gemm():
    """Llama 3 70B in BF16 on two H100 (TP 2), one 4,096-token prompt prefilled whole. Each
    of the 160 all-reduces (two per layer) moves 2 x (1/2) x 4,096 x 8,192 x 2 bytes over
    NVLink at 450 GB/s x 0.80 plus 2 x 5 us, about 0.19 ms; the row-parallel GEMM before it
    (the 8,192 x 4,096 output projection, 0.28 TFLOP, or the 14,336 x 8,192 down projection,
    0.96 TFLOP, at a few hundred TFLOP/s) takes longer. Fused into the GEMM (TensorRT-LLM's
    gemm_allreduce_plugin) the all-reduces vanish from the step; nothing else changes."""
    ctx = _ctx("hgx-h100-8", "llama3-70b", "bf16")
    srv = Serving(4096, 100, input_cv=0.0, output_cv=0.0)
    args = (ctx, srv, np.array([2]), np.array([2]), np.array([1.0]), "bf16", None)
    plain = serving_arrays(*args)
    fused = serving_arrays(*args, Engine(gemm_allreduce_fusion=True))
    all_reduce_s = 2 * 0.5 * 4096 * 8192 * 2 / (450e9 * 0.80) + 5e-6 * 2
    assert plain["prefill_step_s"][0] - fused["prefill_step_s"][0] == pytest.approx(
        160 * all_reduce_s, rel=1e-6)
    assert fused["decode_step_s"][0] <= plain["decode_step_s"][0]


def test_guaranteed_no_evict_reserves_each_requests_whole_cache():
    """Llama 3.1 8B with an FP8 KV cache on one H100, requests of 128 prompt and 2,048 output
    tokens (fixed). A sequence in flight has written 128 + 2,048 / 2 = 1,152 tokens on
    average; TensorRT-LLM's GUARANTEED_NO_EVICT admits it only with all 2,176 reserved. Per
    token the cache holds 32 layers x 2 (K, V) x 8 heads x 128 x 1 byte = 65,536 bytes, so
    100 sequences hold 100 x 1,024 x 65,536 bytes more; nothing else changes."""
    ctx = _ctx("hgx-h100-8", "llama3.1-8b")
    srv = Serving(128, 2048, input_cv=0.0, output_cv=0.0)
    args = (ctx, srv, np.array([1]), np.array([1]), np.array([100.0]), "fp8", None)
    on_demand = serving_arrays(*args)
    reserved = serving_arrays(*args, Engine(reserve_full_request=True))
    assert reserved["memory_bytes"][0] - on_demand["memory_bytes"][0] == pytest.approx(
        100 * 1024 * 65536, rel=1e-9)
    assert reserved["step_s"][0] == on_demand["step_s"][0]


def test_nvfp4_moe_pads_every_attention_group_to_the_busiest():
    # TensorRT-LLM tech blog 10: DeepSeek-V3 on 8 GB200 (attention DP 8, EP 8) at the MLPerf
    # DeepSeek-R1 lengths (803 / 3,653 tokens) ran 25,664 tokens/s with contexts placed on
    # ranks as they came and 34,140 when the ranks ran their contexts together: a 25 % loss.
    # With every group's MoE input padded to the busiest group's tokens (TensorRT-LLM's
    # use_dp_padding for NVFP4 experts) the model's served steps (prompts at random on each
    # group) lose at least half of that against its balanced steady steps; without the
    # padding they lost 3 %.
    ctx = _ctx("gb200-nvl72", "deepseek-v3", "fp4")
    srv = Serving(803, 3653, input_cv=0.505, output_cv=1.253)
    out = search_serving(ctx, srv, 8, "fp4", Engine(chunked_prefill=False))
    replica = (out["g"] == 8) & (out["tp"] == 1)
    steady = np.where(out["fits"] & replica, out["tokens_per_s_per_gpu"], 0.0).max()
    served = np.where(out["served_fits"] & replica, out["served_tokens_per_s_per_gpu"],
                      0.0).max()
    measured_loss = 1.0 - 25_664 / 34_140
    assert 1.0 - served / steady >= 0.5 * measured_loss
    # FP8 experts take TensorRT-LLM's unpadded all-gather path: a chunk on one group adds only
    # its own tokens to the experts, so the same chunk step is shorter than in NVFP4 relative
    # to its decode step.
    fp8 = _ctx("gb200-nvl72", "deepseek-v3", "fp8")
    args = (np.array([8.0]), np.array([1.0]), np.array([2048.0]))
    padded = serving_arrays(ctx, srv, *args, "fp4", np.array([800.0]))
    unpadded = serving_arrays(fp8, srv, *args, "fp8", np.array([800.0]))
    rise = {name: float(o["chunk_step_s"][0] / o["decode_step_s"][0])
            for name, o in (("fp4", padded), ("fp8", unpadded))}
    assert rise["fp4"] > rise["fp8"]
