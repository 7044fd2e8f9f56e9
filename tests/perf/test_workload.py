"""Parameter, FLOP and KV-cache counts against hand calculations and published totals."""

from __future__ import annotations

import pytest

from rackforge.errors import InputError
from rackforge.perf.workload import (
    Window,
    Workload,
    counts,
    get_workload,
    load_workloads,
    training_flops_per_token,
)


@pytest.mark.parametrize("wid", ["llama3-70b", "deepseek-v3", "llama3.1-405b", "gpt3-175b",
                                 "qwen3-235b-a22b", "qwen3-30b-a3b", "gpt-oss-120b",
                                 "gpt-oss-20b"])
def test_total_parameters_within_1_percent_of_published(wid):
    w = get_workload(wid)
    assert counts(w).params == pytest.approx(w.published_params, rel=0.01)


def test_llama3_70b_parameters_by_hand():
    h, f, layers, vocab, kv = 8192, 28672, 80, 128256, 8 * 128
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * f           # Q, O, K, V; SwiGLU
    assert counts(get_workload("llama3-70b")).params == layers * per_layer + 2 * vocab * h


def test_deepseek_v3_active_parameters_near_37b():
    # MLA: q_a, q_b, kv_a, kv_b, o; 3 dense layers; 58 MoE layers with 8 routed + 1 shared.
    c = counts(get_workload("deepseek-v3"))
    h = 7168
    mla = h * 1536 + 1536 * 128 * 192 + h * 576 + 512 * 128 * 256 + 128 * 128 * h
    assert c.attn_params == mla
    expert = 3 * h * 2048
    active = 61 * mla + 3 * 3 * h * 18432 + 58 * (9 * expert + h * 256) + 2 * 129280 * h
    assert c.active_params == active
    assert active == pytest.approx(37e9, rel=0.02)


def test_training_flops_match_narayanan_eq3_for_gpt3():
    # 72 B s l h^2 (1 + s/6h + V/12lh) per iteration [Narayanan et al. 2021, Eq. 3 without
    # recompute], i.e. per token 72 l h^2 + 12 l h s + 6 V h = 6N(matmul) + attention.
    w = get_workload("gpt3-175b")
    h, layers, s, v = 12288, 96, 2048, 50257
    expected = 72 * layers * h**2 + 12 * layers * h * s + 6 * v * h
    assert training_flops_per_token(w) == pytest.approx(expected, rel=1e-12)


def test_moe_training_flops_use_active_experts_only():
    w = get_workload("qwen3-30b-a3b")
    c = counts(w)
    h, layers, s = 2048, 48, 4096
    attn = 2 * h * 4096 + 2 * h * 512
    expert = 3 * h * 768
    matmul = layers * (attn + 8 * expert + h * 128) + 151936 * h
    attention = layers * 2 * (4096 + 4096) * s
    assert training_flops_per_token(w) == pytest.approx(3 * (2 * matmul + attention), rel=1e-12)
    assert c.active_params == pytest.approx(3.3e9, rel=0.03)


def test_kv_cache_elements_per_token():
    assert counts(get_workload("llama3-70b")).kv_cache_bytes_per_elem_token == 2 * 8 * 128
    assert counts(get_workload("deepseek-v3")).kv_cache_bytes_per_elem_token == 512 + 64


def test_every_workload_has_a_source_and_unknown_id_hints():
    assert all(w.source.title for w in load_workloads().values())
    with pytest.raises(InputError, match="Did you mean llama3-70b"):
        get_workload("llama3-70")


def test_sliding_window_layers_attend_to_their_window_only():
    # gpt-oss-120b: 36 layers, 18 with a 128-token window; 64 query heads of 64 dims, so
    # 2 (q_dim + v_dim) = 16,384 FLOPs per query per context token and layer.
    c = counts(get_workload("gpt-oss-120b"))
    s = 4096
    # causal mean context: dense layers s / 2; window layers W - W^2 / (2 s) = 128 - 2 = 126
    assert c.mean_causal_context(s) == pytest.approx(18 * 2048 + 18 * 126)
    # full-matrix convention: dense layers s, window layers their band W
    assert c.attention_flops_fwd(s) == pytest.approx(16384 * (18 * 4096 + 18 * 128))
    # a query (or the KV cache) at position 10,000: 18 x 10,000 + 18 x 128 tokens
    assert c.context_at(10_000) == 18 * 10_000 + 18 * 128
    # a window longer than the sequence changes nothing
    assert c.mean_causal_context(100) == pytest.approx(36 * 50)


def test_models_without_a_window_keep_full_attention():
    c = counts(get_workload("llama3-70b"))
    assert c.mean_causal_context(8192) == 80 * 4096
    assert c.attention_flops_fwd(8192) == c.attn_flops_fwd_per_ctx * 8192 * 80


def test_window_on_more_layers_than_the_model_has_is_rejected():
    base = get_workload("gpt-oss-20b").model_dump()
    base["attention_window"] = Window(tokens=128, layers=25)
    with pytest.raises(ValueError, match="attention_window.layers 25 exceeds layers 24; "
                                         "expected at most 24"):
        Workload(**base)


def test_head_size_must_be_a_whole_number_unless_given():
    """hidden 1 with 32 heads left a head size of 0, and the evaluation divided by it (NaN in
    the JSON); a head size that does not divide is asked for, one that is given is kept."""
    base = get_workload("llama3-8b").model_dump() | {"hidden": 1}
    with pytest.raises(ValueError, match="hidden 1 is not a multiple of heads 32; give head_dim"):
        Workload(**base)
    assert Workload(**(base | {"head_dim": 128})).head_dim == 128
