"""Inference roofline: decode at batch 1 is bandwidth-bound; KV cache and batch limits."""

from __future__ import annotations

import numpy as np
import pytest

from rackforge.perf.api import TrainingOptions, evaluate_inference, training_context
from rackforge.perf.inference import Serving, inference_arrays, max_batch


@pytest.fixture(scope="module")
def ctx():
    return training_context("hgx-h100-8", "llama3-70b", TrainingOptions(dtype="fp8"))


def test_decode_at_batch_one_reads_all_weights(ctx):
    srv = Serving(input_tokens=1000, output_tokens=200)
    out = inference_arrays(ctx, srv, np.array([8]), np.array([1]))
    weights = 70.55e9 / 8                                     # fp8: one byte per parameter
    kv = 1100 * 80 * 2 * 128 * 1                               # one KV head per GPU, fp8
    hbm = 3.35e12 * 0.85
    floor = (weights + kv) / hbm
    # + 160 all-reduces of 5 us x (1 + log2 8) latency and the 0.2 ms step overhead
    assert floor < out["tpot_s"][0] < floor + 160 * 20e-6 + 0.2e-3 + 0.5e-3


def test_max_batch_from_free_memory(ctx):
    srv = Serving(input_tokens=1000, output_tokens=1000)
    got = max_batch(ctx, srv, np.array([8]))[0]
    free = 80e9 - 70.55e9 / 8 - 4e9
    per_seq = 2000 * 80 * 2 * 128
    assert got == pytest.approx(free / per_seq, abs=1)


def test_latency_target_lowers_throughput(ctx):
    free = evaluate_inference("hgx-h100-8", "llama3-70b", 8, Serving(1000, 200))
    tight = evaluate_inference("hgx-h100-8", "llama3-70b", 8, Serving(1000, 200, 1.0, 0.02))
    assert tight.tpot_s <= 0.02
    assert tight.decode_bound == "memory"                   # small batch: weights dominate
    short = evaluate_inference("hgx-h100-8", "llama3-70b", 8, Serving(100, 100))
    assert short.decode_bound == "compute"                  # large batch, short context
    assert tight.tokens_per_s_per_gpu < free.tokens_per_s_per_gpu
    assert free.batch <= free.max_batch
