"""Speculative decoding with the model's own draft module (DeepSeek's MTP layer): a decode step
verifies k drafts and yields the measured tokens per step; its cost is checked against the
speed-ups NVIDIA measured for the same runs."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rackforge.cli import app
from rackforge.errors import InputError
from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.inference import Engine, Serving
from rackforge.perf.serving import serving_arrays
from rackforge.perf.serving_params import SpeculativeDecoding, tokens_per_step

runner = CliRunner()

# NVIDIA TensorRT-LLM tech blog 1 (Pushing Latency Boundaries: Optimizing DeepSeek-R1
# Performance on NVIDIA B200 GPUs), Autoregressive MTP Layers table: DeepSeek-R1 FP4 on 8 B200,
# ISL 1k / OSL 2k, batch 1. Tokens/s per user over no MTP, for 1 to 5 draft tokens. The same
# table's acceptance column is the model's tokens per step, so the speed-up over it tests what
# the drafts and their verification cost.
PUBLISHED_SPEEDUP = {1: 1.78, 2: 2.25, 3: 2.28, 4: 2.21, 5: 2.15}


def _per_user(draft_tokens: int) -> float:
    ctx = training_context("hgx-b200-8", "deepseek-r1", TrainingOptions(dtype="fp4"))
    out = serving_arrays(ctx, Serving(1024, 2048, 1.0), np.array([8]), np.array([8]),
                         np.array([1.0]), "fp4", np.array([1.0]),
                         Engine(draft_tokens=draft_tokens))
    return float(out["tokens_per_s_per_user"][0])


def test_mtp_speedup_at_batch_one_matches_nvidia_measurement():
    """Within 15 % of each published speed-up, and no gain past 4 drafts (acceptance levels
    off while each draft still costs a pass)."""
    alone = _per_user(0)
    speedup = {k: _per_user(k) / alone for k in PUBLISHED_SPEEDUP}
    for k, published in PUBLISHED_SPEEDUP.items():
        assert speedup[k] == pytest.approx(published, rel=0.15), (k, speedup)
    assert speedup[5] < speedup[4]


def test_drafts_beyond_the_measurement_or_without_one_are_refused():
    assert tokens_per_step("deepseek-r1", 0) == 1.0
    assert tokens_per_step("deepseek-r1", 3) == 2.82
    with pytest.raises(InputError, match="measured up to 5 draft tokens"):
        tokens_per_step("deepseek-r1", 6)
    with pytest.raises(InputError, match="no measured speculative-decoding acceptance"):
        tokens_per_step("llama3-70b", 1)


def test_acceptance_above_k_plus_one_is_bad_data():
    """k drafts yield at most k + 1 tokens per step (all accepted plus the sampled one)."""
    source = {"title": "a test", "publisher": "nobody", "year": 2026}
    SpeculativeDecoding(method="mtp", tokens_per_step=(2.0, 2.9), source=source)
    with pytest.raises(ValueError, match="between 1 and k"):
        SpeculativeDecoding(method="mtp", tokens_per_step=(2.5,), source=source)


def test_cli_draft_tokens():
    """--draft-tokens reaches the serving search and its JSON; bad values exit 2, one line."""
    args = ["evaluate", "--system", "hgx-b200-8", "--model", "deepseek-r1", "--gpus", "8",
            "--serve", "1000:2000:20", "--serve-precision", "fp4", "--json"]
    plain = json.loads(runner.invoke(app, args).stdout)[0]["inference"]
    res = runner.invoke(app, [*args, "--draft-tokens", "3"])
    assert res.exit_code == 0, res.output
    mtp = json.loads(res.stdout)[0]["inference"]
    assert (mtp["draft_tokens"], mtp["tokens_per_step"]) == (3, 2.82)
    assert plain["draft_tokens"] == 0 and plain["tokens_per_step"] == 1.0
    # at the same TPOT limit, fewer steps per token leave room for a larger batch
    assert mtp["best"]["tokens_per_s_per_gpu"] > plain["best"]["tokens_per_s_per_gpu"]
    assert mtp["best"]["tpot_s"] <= 0.020
    text = runner.invoke(app, [*args[:-1], "--draft-tokens", "3"]).output
    assert "3 draft tokens: 2.82 per step" in " ".join(text.split())
    for extra, needle in ((["--draft-tokens", "9"], "measured up to 5"),
                          (["--draft-tokens", "-1"], "bad --draft-tokens")):
        res = runner.invoke(app, [*args[:-1], *extra])
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert needle in res.output, res.output
    res = runner.invoke(app, ["evaluate", "--system", "hgx-b200-8", "--model", "llama3-70b",
                              "--gpus", "8", "--serve", "1000:200", "--draft-tokens", "1"])
    assert res.exit_code == 2 and "no measured speculative-decoding acceptance" in res.output
