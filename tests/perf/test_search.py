"""The layout search: validity rules, speed targets, bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rackforge.errors import InputError
from rackforge.perf.api import TrainingOptions, evaluate_training, training_context
from rackforge.perf.search import enumerate_layouts, search_training


def test_layouts_respect_the_rules():
    ctx = training_context("hgx-h100-8", "deepseek-v3", TrainingOptions())
    lay = enumerate_layouts(ctx, 1024)
    assert np.all(lay.n_gpus == 1024)
    assert np.all(lay.tp <= 8)
    assert np.all((lay.tp * lay.cp * lay.dp) % lay.ep == 0)
    assert np.all(256 % lay.ep == 0)
    assert np.all(ctx.execution.global_batch % (lay.dp * lay.mb) == 0)
    assert np.all((lay.sp == 0) | (lay.tp > 1))


def test_405b_on_16384_h100_under_two_seconds_and_sensible():
    start = time.perf_counter()
    ev = evaluate_training("hgx-h100-8", "llama3.1-405b", 16384, TrainingOptions(top=20))
    assert time.perf_counter() - start < 2.0
    best = ev.best.layout
    assert best["tp"] >= 4 and best["pp"] >= 8          # Llama 3 used TP 8, PP 16
    meta = [e for e in ev.top if e.layout["tp"] == 8 and e.layout["pp"] == 16]
    assert meta and meta[0].step_s < 1.05 * ev.best.step_s
    assert 0.3 < ev.best.mfu < 0.7
    assert ev.best.memory_bytes <= 80e9


def test_at_least_100k_layouts_per_second():
    ctx = training_context("gb200-nvl72", "deepseek-v3", TrainingOptions(dtype="fp8"))
    search_training(ctx, 2048)                            # warm caches
    start = time.perf_counter()
    res = search_training(ctx, 2048)
    rate = res.n_candidates / (time.perf_counter() - start)
    assert res.n_candidates > 100_000
    assert rate > 100_000


def test_time_and_energy_to_train():
    ev = evaluate_training("hgx-h100-8", "llama3-8b", 64, TrainingOptions(tokens=1e12, top=1))
    b = ev.best
    assert b.train_time_s == pytest.approx(1e12 / b.tokens_per_s)
    assert b.train_energy_j == pytest.approx(b.train_time_s * 64 * 1275.0)


@pytest.mark.parametrize(("args", "match"), [
    (("hgx-h100-8", "llama3-70b", 0), "positive"),
    (("hgx-h100", "llama3-70b", 8), "Did you mean"),
    (("hgx-h100-8", "llama-70b", 8), "Did you mean"),
    (("hgx-h100-8", "llama3.1-405b", 1), "no layout fits"),
])
def test_bad_input_raises_input_error(args, match):
    with pytest.raises(InputError, match=match):
        evaluate_training(*args)
