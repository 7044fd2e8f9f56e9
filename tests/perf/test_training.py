"""The training model: bubble, communication formulas and one model for search and validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.gemm import gemm_time, layer_gemm_time
from rackforge.perf.layout import single
from rackforge.perf.search import enumerate_layouts
from rackforge.perf.training import (
    _ep_comm,
    _link,
    _moe_host,
    _per_layer,
    _ring,
    attention_efficiency,
    distinct,
    estimate_arrays,
    per_op_recompute_share,
    remote_domains,
)
from rackforge.perf.workload import Moe, get_workload


@pytest.fixture(scope="module")
def ctx():
    return training_context("hgx-h100-8", "llama3-70b", TrainingOptions(global_batch=512))


def test_pipeline_bubble_is_pp_minus_1_over_vp_microbatch_times(ctx):
    for pp, vp in ((4, 1), (4, 2), (8, 5)):
        out = estimate_arrays(ctx, single(tp=8, pp=pp, vp=vp, dp=4, mb=1, sp=True))
        m = 512 / 4
        t_mb = sum(out[k][0] for k in out if k.startswith("t_") and k not in (
            "t_bubble", "t_dp_comm", "t_optimizer")) / m
        assert out["t_bubble"][0] == pytest.approx((pp - 1) / vp * t_mb, rel=1e-9)


def test_ring_all_reduce_cost():
    # 2 (n-1)/n V / B + 2 (n-1) alpha, Thakur et al. 2005: 1 GB over 8 ranks at 100 GB/s.
    t = _ring(np.array([1e9]), np.array([8]), np.array([100e9]), np.array([5e-6]), 2.0)
    assert t[0] == pytest.approx(2 * 7 / 8 * 1e9 / 100e9 + 2 * 7 * 5e-6)


def test_search_and_single_estimate_agree(ctx):
    lay = enumerate_layouts(ctx, 512)
    many = estimate_arrays(ctx, lay)
    for i in (0, len(lay) // 2, len(lay) - 1):
        one = estimate_arrays(ctx, lay.take(np.array([i])))
        assert one["step_s"][0] == pytest.approx(many["step_s"][i], rel=1e-12)
        assert one["memory_bytes"][0] == pytest.approx(many["memory_bytes"][i], rel=1e-12)


def test_throughput_scales_with_data_parallelism_and_mfu_is_plausible(ctx):
    small = estimate_arrays(ctx, single(tp=8, pp=4, dp=2, mb=1, sp=True))
    big = estimate_arrays(ctx, single(tp=8, pp=4, dp=16, mb=1, sp=True))
    assert big["tokens_per_s"][0] > 5 * small["tokens_per_s"][0]
    assert 0.25 < big["mfu"][0] < 0.75


def test_recompute_trades_time_for_memory(ctx):
    base = dict(tp=8, pp=4, dp=4, mb=1, sp=True)
    runs = {rc: estimate_arrays(ctx, single(**base, recompute=rc))
            for rc in ("none", "selective", "full")}
    assert runs["none"]["step_s"][0] < runs["selective"]["step_s"][0] < runs["full"]["step_s"][0]
    assert runs["full"]["memory_bytes"][0] < runs["none"]["memory_bytes"][0]
    # Full recompute repeats the forward pass: about a third more GEMM work.
    extra = runs["full"]["t_recompute"][0] / runs["full"]["t_gemm"][0]
    assert 0.3 < extra < 0.6


def test_tp_across_scale_out_costs_more_than_inside_the_domain():
    opts = TrainingOptions(global_batch=64)
    inside = training_context("gb200-nvl72", "llama3-70b", opts)
    outside = training_context("hgx-b200-8", "llama3-70b", opts)
    lay = single(tp=16, pp=1, dp=4, mb=1, sp=True, recompute="full")
    a = estimate_arrays(inside, lay)["t_tp_comm"][0]
    b = estimate_arrays(outside, lay)["t_tp_comm"][0]
    # Across nodes the ring runs over 8 NICs per node [NCCL]: slower, not hopeless.
    assert b > 1.5 * a


def _fp8_elementwise(system: str, **execution) -> float:
    from dataclasses import replace
    c = training_context(system, "llama3-70b", TrainingOptions(dtype="fp8", global_batch=512))
    c = replace(c, execution=replace(c.execution, **execution))
    return estimate_arrays(c, single(tp=8, pp=4, dp=4, mb=1, sp=True))["t_elementwise"][0]


def test_fp8_quantization_traffic_follows_transformer_engine():
    # TE docs: Hopper FP8 GEMMs need a transposed FP8 copy (Blackwell reads one copy in either
    # layout); current scaling reads each input twice (amax, then scale and cast).
    from rackforge.perf.params import load_params
    assert load_params().device("h100-sxm-80gb").fp8_transpose
    assert not load_params().device("b200-sxm-180gb").fp8_transpose
    for system in ("hgx-h100-8", "hgx-b200-8"):
        assert _fp8_elementwise(system, fp8_scaling="current") > _fp8_elementwise(system)


def test_bf16_gradients_halve_gradient_memory_and_reduction(ctx):
    from dataclasses import replace
    lay = single(tp=8, pp=4, dp=16, mb=1, sp=True)
    fp32 = estimate_arrays(ctx, lay)
    bf16 = estimate_arrays(replace(ctx, execution=replace(ctx.execution, grad_bytes=2)), lay)
    assert bf16["mem_gradients"][0] == pytest.approx(fp32["mem_gradients"][0] / 2)
    assert bf16["memory_bytes"][0] < fp32["memory_bytes"][0]
    assert bf16["step_s"][0] <= fp32["step_s"][0]


# Mixture-of-experts terms (issue 11), checked against hand calculations.

@pytest.fixture(scope="module")
def moe_ctx():
    return training_context("hgx-h100-8", "qwen3-235b-a22b", TrainingOptions(global_batch=512))


def test_per_expert_gemms_without_grouped_kernel_quantize_their_own_waves(moe_ctx):
    # 8 GEMMs of 256 x 256 output tiles (2 tiles each) on 132 SMs: one grid of 16 tiles is one
    # wave; eight separate launches are eight waves, so eight times the compute time [TEGG].
    # k = 128 is shallower than two per-tile overheads (k0 = 1 us x 989 TFLOP/s / 132 SMs /
    # (2 x 256 x 128) = 114 K-steps), so no launch splits K.
    shape = (np.array([256.0]), np.array([256.0]), np.array([128.0]))
    grouped = gemm_time(moe_ctx, shape, 8.0, grouped=True)
    separate = gemm_time(moe_ctx, shape, 8.0, grouped=False)
    assert separate[0] == pytest.approx(8.0 * grouped[0], rel=1e-9)


def test_a_grid_with_idle_sms_splits_k(moe_ctx):
    # One bf16 GEMM 256 x 256 x 16384 on an H100: 2 output tiles of 256 x 128 for 132 SMs.
    # Unsplit, 2 SMs work: about 190 us. Split along K (powers of two up to 64, one wave),
    # the compute falls and the FP32 partials (8 B per element per split) add traffic. By hand,
    # with rate 989 x 0.803 x 0.94 = 746 TFLOP/s, k0 = 114, and HBM 3.35 TB/s x 0.85:
    #   split 16: compute 2.88 us / (32/132) / (16384 / (16384 + 16 k0)) = 13.2 us (> memory)
    #   split 32: compute 7.3 us; memory (16.9 MB operands + 16.8 MB partials) = 11.8 us
    #   split 64: compute 4.3 us; memory (16.9 + 33.6 MB) = 17.7 us
    # so split 32 is the fastest and memory-bound.
    bandwidth = 3.35e12 * 0.85
    operands = 2.0 * (256 * 16384 + 16384 * 256 + 256 * 256)
    expected = (operands + 8.0 * 256 * 256 * 32) / bandwidth
    shape = (np.array([256.0]), np.array([256.0]), np.array([16384.0]))
    assert gemm_time(moe_ctx, shape)[0] == pytest.approx(expected, rel=0.01)


def test_moe_host_floor_and_sync_drain(moe_ctx):
    # Hopper (no grouped kernel), 128 experts over ep 8 = 16 local experts: forward ops
    # 40 + 16 x 2 = 72, backward 60 + 16 x 4 = 124; 196 ops x 10 us = 1.96 ms, plus 30 us drain.
    p = moe_ctx.params
    assert (p.moe_host_op_s, p.moe_sync_drain_s) == (1e-5, 3e-5)
    lay = single(tp=1, ep=8, dp=8)
    assert _moe_host(moe_ctx, lay, np.zeros(1))[0] == pytest.approx(196 * 1e-5 + 3e-5)
    # Device-bound layer: only the drain is left; full recompute adds a second forward sync.
    assert _moe_host(moe_ctx, lay, np.ones(1))[0] == pytest.approx(3e-5)
    full = single(tp=1, ep=8, dp=8, recompute="full")
    assert _moe_host(moe_ctx, full, np.ones(1))[0] == pytest.approx(6e-5)


def test_megatron_core_times_experts_one_gemm_at_a_time_on_blackwell_too():
    # Transformer Engine's GroupedLinear loops cuBLAS GEMMs over the experts on every GPU; the
    # cuBLASLt grouped GEMM is opt-in [TEGG]. So a Megatron-Core run on a B200 issues the 16
    # local experts' launches as the H100 case above: 196 ops x 10 us + the 30 us drain, and
    # only the block's 100 ops where the run uses a grouped kernel (CuTe DSL fused grouped MLP).
    from dataclasses import replace
    ctx = training_context("hgx-b200-8", "qwen3-235b-a22b", TrainingOptions(global_batch=512))
    assert not ctx.execution.grouped_experts
    lay = single(tp=1, ep=8, dp=8)
    assert _moe_host(ctx, lay, np.zeros(1))[0] == pytest.approx(196 * 1e-5 + 3e-5)
    fused = replace(ctx, execution=replace(ctx.execution, grouped_experts=True))
    assert _moe_host(fused, lay, np.zeros(1))[0] == pytest.approx(100 * 1e-5 + 3e-5)
    # One grid over all experts never takes longer than one grid per expert.
    per_expert = estimate_arrays(ctx, lay)["t_gemm"][0]
    assert estimate_arrays(fused, lay)["t_gemm"][0] <= per_expert


def _ep16_links(ctx):
    """4,096 tokens of h-wide bf16 activations, the NVLink rate and the NIC rate and latency of
    ep 16 (two 8-GPU domains)."""
    token_bytes = 4096 * ctx.workload.hidden * 2.0
    bw_up = ctx.machine.accelerator.scaleup_bandwidth_bytes_per_s \
        * ctx.machine.device.scaleup_efficiency
    bw_out, lat_out = _link(ctx, np.array([16]))
    return np.array([4096.0]), token_bytes, bw_up, bw_out[0], lat_out[0]


def test_hierarchical_all_to_all_with_node_dedup(moe_ctx):
    # ep 16 on 8-GPU NVLink domains: 2 domains. Per token (h = 4096, bf16 = 8192 B) top-8:
    # NVLink carries 8 x 15/16 copies, the NIC 1 x (1 - (1/2)^8) token copies (once per remote
    # domain hit) [DEEPEP]; each tier at its own bandwidth, the slower sets the time; four
    # all-to-alls (dispatch and combine, forward and backward).
    ctx = moe_ctx
    lay = single(tp=1, ep=16, dp=16)
    tokens, token_bytes, bw_up, bw_out, lat_out = _ep16_links(ctx)
    t_up = token_bytes * 8 * 15 / 16 / bw_up + ctx.params.scaleup_latency_s * (1 + 3)
    t_out = token_bytes * (1 - 0.5 ** 8) / bw_out + lat_out * (1 + 1)
    assert _ep_comm(ctx, lay, tokens)[0] == pytest.approx(4 * max(t_up, t_out), rel=1e-9)
    # Inside one domain (ep 8) nothing crosses the NICs.
    inside = single(tp=1, ep=8, dp=8)
    t8 = token_bytes * 8 * 7 / 8 / bw_up + ctx.params.scaleup_latency_s * (1 + 3)
    assert _ep_comm(ctx, inside, tokens)[0] == pytest.approx(4 * t8, rel=1e-9)


def test_group_limited_routing_crosses_fewer_domains():
    """DeepSeek-V3's node-limited routing (its report, Sec. 2.1.2; config.json n_group 8,
    topk_group 4): a token's 8 experts from 4 of 8 groups. Hand counts of the remote domains a
    token reaches, once per domain (DeepEP / HybridEP):
    - 8 domains, one group each: the 4 groups hit 4 domains, the own one with probability
      4/8, so 4 - 0.5 = 3.5 remote (free routing: 7 (1 - (7/8)^8) = 4.59);
    - 4 domains, two groups each: a domain is missed when none of its groups is picked,
      C(6, 4) / C(8, 4) = 15/70, so 4 x 55/70 domains hit, 3 x 55/70 = 2.357 remote;
    - 16 domains, each group over two: a group's 2 experts miss one of its domains with
      probability 1/4, so 4 x 2 x 3/4 = 6 domains hit, 6 x 15/16 = 5.625 remote;
    - 3 domains (no whole groups either way): free routing, 2 (1 - (2/3)^8)."""
    moe = get_workload("deepseek-v3").moe
    got = remote_domains(moe, np.array([1.0, 8.0, 4.0, 16.0, 3.0]))
    free = 2 * (1 - (2 / 3) ** 8)
    assert got == pytest.approx([0.0, 3.5, 3 * 55 / 70, 5.625, free], rel=1e-12)
    plain = Moe(experts=256, top_k=8, moe_ffn_hidden=2048)
    assert remote_domains(plain, np.array([8.0]))[0] == pytest.approx(7 * (1 - (7 / 8) ** 8))
    with pytest.raises(ValueError, match="expert_groups must divide"):
        Moe(experts=256, top_k=8, moe_ffn_hidden=2048, expert_groups=6, groups_per_token=2)


def test_alltoall_dispatcher_sends_a_copy_per_remote_rank(moe_ctx):
    # Same ep 16 as above with the plain all-to-all dispatcher: of a token's 8 copies, 8 x 7/16
    # stay on NVLink (the other 7 ranks of its domain) and 8 x 8/16 cross the NICs.
    ctx = replace(moe_ctx, execution=replace(moe_ctx.execution, moe_dispatcher="alltoall"))
    lay = single(tp=1, ep=16, dp=16)
    tokens, token_bytes, bw_up, bw_out, lat_out = _ep16_links(ctx)
    t_up = token_bytes * 8 * 7 / 16 / bw_up + ctx.params.scaleup_latency_s * (1 + 3)
    t_out = token_bytes * 8 * 8 / 16 / bw_out + lat_out * (1 + 1)
    assert _ep_comm(ctx, lay, tokens)[0] == pytest.approx(4 * max(t_up, t_out), rel=1e-9)
    deepep = replace(moe_ctx, execution=replace(moe_ctx.execution, moe_dispatcher="deepep"))
    assert _ep_comm(deepep, lay, tokens)[0] == pytest.approx(_ep_comm(moe_ctx, lay, tokens)[0])


def test_cuda_graph_scope_sets_what_the_host_issues(moe_ctx):
    # As in test_moe_host_floor_and_sync_drain, 196 MoE ops; without the attention graph the
    # layer's 25 + 45 attention-block kernels are issued too; a full-iteration graph issues
    # nothing and has no tokens-per-expert sync.
    lay = single(tp=1, ep=8, dp=8)

    def host(graphs):
        ctx = replace(moe_ctx, execution=replace(moe_ctx.execution, cuda_graphs=graphs))
        return _moe_host(ctx, lay, np.zeros(1))[0]

    assert host("attn") == pytest.approx(196 * 1e-5 + 3e-5)
    assert host("none") == pytest.approx((196 + 25 + 45) * 1e-5 + 3e-5)
    assert host("full_iteration") == 0.0


def test_distinct_rows_and_their_inverse_give_the_columns_back():
    # (1, 4) three times, (2, 4), (2, 5), (3, 4): four distinct rows, in lexicographic order.
    a = np.array([1, 2, 1, 2, 3, 1])
    b = np.array([4, 4, 4, 5, 4, 4])
    (rows_a, rows_b), back = distinct(a, b)
    assert list(zip(rows_a.tolist(), rows_b.tolist(), strict=True)) == [(1, 4), (2, 4),
                                                                        (2, 5), (3, 4)]
    assert rows_a[back].tolist() == a.tolist() and rows_b[back].tolist() == b.tolist()


def test_search_evaluates_distinct_shapes_once_with_the_same_answer():
    # The per-layer GEMM times computed on distinct (mb, cp, tp, ep) rows equal those computed
    # layout by layout.
    ctx = training_context("hgx-h100-8", "mixtral-8x7b", TrainingOptions(dtype="bf16"))
    lay = enumerate_layouts(ctx, 64)
    tokens = lay.mb * ctx.execution.seq_len / lay.cp.astype(float)
    direct = layer_gemm_time(ctx, tokens, lay.tp, lay.ep, True)
    (mb, cp, tp, ep), back = distinct(lay.mb, lay.cp, lay.tp, lay.ep)
    once = layer_gemm_time(ctx, mb * ctx.execution.seq_len / cp.astype(float), tp, ep, True)
    assert np.allclose(once[back], direct, rtol=1e-12)
    assert len(mb) < len(lay) / 20


def _on(system: str, **execution):
    c = training_context(system, "llama3-8b", TrainingOptions(global_batch=64, seq_len=8192))
    return replace(c, execution=replace(c.execution, **execution))


def test_torchtitan_per_op_checkpoint_recomputes_every_second_matmul():
    """torchtitan's per-op policy recomputes the k, out and second FFN projections of a Llama
    block. Llama 3 8B (h 4096, 8 KV heads of 128, FFN 14336, SwiGLU), by hand:
    (1024 + 4096 + 14336) / (2 x 4096 + 2 x 1024 + 3 x 14336) = 19456 / 53248."""
    titan = _on("hgx-h100-8", selective_recompute="per_op")
    assert per_op_recompute_share(titan) == pytest.approx(19456 / 53248, rel=1e-12)
    megatron = _on("hgx-h100-8")
    lay = single(tp=1, dp=8, mb=2, recompute="selective")
    per_op, attention = _per_layer(titan, lay, False), _per_layer(megatron, lay, False)
    # same forward element-wise pass in both; per-op swaps the attention forward (saved) for
    # the share of the layer's forward GEMMs (a third of its GEMM total)
    swap = per_op["recompute"][0] - attention["recompute"][0]
    assert swap == pytest.approx(19456 / 53248 * per_op["gemm"][0] / 3
                                 - attention["attention"][0] / 3.5, rel=1e-9)


def test_sdpa_runs_flashattention_2_before_blackwell():
    """torchtitan's SDPA order calls FlashAttention-2 on Hopper (35 % forward, 30 % backward of
    the H100 peak [FA3]: 3.5 / (1 / 0.35 + 2.5 / 0.30) = 0.31) and cuDNN on Blackwell."""
    assert attention_efficiency(_on("hgx-h100-8", attention_kernel="sdpa")) == 0.31
    assert 3.5 / (1 / 0.35 + 2.5 / 0.30) == pytest.approx(0.31, abs=0.005)
    assert attention_efficiency(_on("hgx-h100-8")) == 0.45
    blackwell = _on("hgx-b200-8", attention_kernel="sdpa")
    assert attention_efficiency(blackwell) == blackwell.machine.device.attention_efficiency


def test_megatron_eager_expert_bias_and_clamp_cost_their_hbm_passes():
    """Megatron-Core adds the experts' output bias in FP32 outside the grouped GEMM (64 bytes
    per hidden element of a routed copy, forward and backward) and clamps gpt-oss's GLU halves
    with separate ops (36 bytes per expert-FFN element). gpt-oss-120b on a GB200, one 4,096-token
    microbatch, by hand: 4,096 x 4 copies x (64 x 2,880 + 36 x 2,880) bytes = 4.719 GB over
    8 TB/s x 0.85 achievable = 0.694 ms per MoE layer; nothing where the framework fuses them or
    the model has neither (Qwen3-235B)."""
    def elementwise(model: str, eager: bool) -> float:
        c = training_context("gb200-nvl72", model, TrainingOptions(global_batch=64))
        c = replace(c, execution=replace(c.execution, eager_expert_ops=eager, seq_len=4096))
        return _per_layer(c, single(tp=1, pp=1, dp=64, ep=8, mb=1), moe=True)["elementwise"][0]

    expected = 4096 * 4 * (64 * 2880 + 36 * 2880) / (8e12 * 0.85)
    assert elementwise("gpt-oss-120b", True) - elementwise("gpt-oss-120b", False) == \
        pytest.approx(expected, rel=1e-9)
    assert elementwise("qwen3-235b-a22b", True) == elementwise("qwen3-235b-a22b", False)


def test_mxfp8_runs_on_blackwell_fp8_cores_at_the_measured_ratio():
    """MXFP8 needs Blackwell's block-scaled FP8 tensor cores (TE MXFP8 docs): on an H100 it is
    bad input. On a GB300 a large GEMM takes 1.94 / 1.74 of its per-tensor FP8 time (TE's
    pre-quantized B300 GEMM profile: 1.94x and 1.74x over BF16), and quantizing an input reads
    it once and writes row- and column-wise FP8 copies with an E8M0 scale per 32 values each:
    2 + 1 + 1 + 2 / 32 bytes per element."""
    from rackforge.errors import InputError
    from rackforge.perf.training import _fp8_cast_bytes
    with pytest.raises(InputError, match="h100-sxm-80gb has no mxfp8"):
        training_context("hgx-h100-8", "llama3-70b", TrainingOptions(dtype="mxfp8"))
    mx = training_context("gb300-nvl72", "llama3-70b", TrainingOptions(dtype="mxfp8"))
    shape = (np.array([16384.0]), np.array([16384.0]), np.array([8192.0]))
    ratio = gemm_time(mx, shape, dtype="mxfp8")[0] / gemm_time(mx, shape, dtype="fp8")[0]
    assert ratio == pytest.approx(1.94 / 1.74, rel=0.01)
    assert _fp8_cast_bytes(mx) == 2 + 1 + 1 + 2 / 32


def test_ep_overlap_hides_the_all_to_all_behind_the_layers_compute(moe_ctx):
    """Megatron-Core's batch-level EP overlap runs one microbatch's dispatch and combine under
    another's forward and backward: what exceeds the layer's compute stays exposed, and the
    hidden part slows the compute it shares SMs with by comm_sm_share (0.15)."""
    lay = single(tp=1, pp=8, dp=16, ep=32, mb=1)
    plain = _per_layer(moe_ctx, lay, moe=True)
    hidden_ctx = replace(moe_ctx, execution=replace(moe_ctx.execution, ep_overlap=True))
    over = _per_layer(hidden_ctx, lay, moe=True)
    window = sum(plain[k][0] for k in ("gemm", "attention", "elementwise", "recompute"))
    t_ep = plain["ep_comm"][0]
    assert t_ep > 0
    expected = max(t_ep - window, 0.0) + 0.15 * min(t_ep, window)
    assert over["ep_comm"][0] == pytest.approx(expected, rel=1e-12)
    assert over["gemm"][0] == plain["gemm"][0]


def test_recompute_modules_repeat_the_rebuilt_share_of_the_forward(ctx):
    """Megatron-Core's "mlp" module recomputes a dense FFN: its share of the layer's GEMM
    parameters, for Llama 3 70B by hand 3 x 8192 x 28672 / (2 x 8192 x 8192 + 2 x 8192 x 1024
    + 3 x 8192 x 28672) = 704,643,072 / 855,638,016, plus the memory-bound ops; with
    "core_attn" alone, the attention core's forward."""
    lay = single(tp=8, pp=4, dp=4, mb=1, sp=True, recompute="selective")

    def parts(modules):
        c = replace(ctx, execution=replace(ctx.execution, recompute_modules=modules))
        return _per_layer(c, lay, moe=False)

    mlp = parts(("mlp",))
    gemm_fwd, elem_fwd = mlp["gemm"][0] / 3.0, mlp["elementwise"][0] / 3.0
    assert mlp["recompute"][0] == pytest.approx(
        gemm_fwd * 704_643_072 / 855_638_016 + elem_fwd, rel=1e-12)
    attn = parts(("core_attn",))
    assert attn["recompute"][0] == pytest.approx(attn["attention"][0] / 3.5, rel=1e-12)
