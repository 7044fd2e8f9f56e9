"""Goodput wired into evaluation (issue 11): `evaluate` carries it, `compare` trains at the
goodput rate, and the published Llama 3 check holds end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rackforge.catalog import load_catalog
from rackforge.catalog.models import System
from rackforge.cli import app
from rackforge.compare import training_goodput
from rackforge.compare_spec import WorkloadItem
from rackforge.perf.api import TrainingOptions, evaluate_training
from rackforge.perf.goodput import Recovery
from rackforge.perf.search import SearchSpace

runner = CliRunner()
DAY_S = 86_400.0


def test_llama3_405b_on_16k_h100_trains_above_90_percent_of_the_time():
    """Meta: more than 90 % effective training time for Llama 3 405B on 16,384 H100 (Dubey
    et al. 2024, Sec. 3.3.4), 419 unexpected interruptions in 54 days = 7.76 a day."""
    ev = evaluate_training("hgx-h100-8", "llama3.1-405b", 16_384,
                           TrainingOptions(tokens=15e12, top=1))
    g = ev.goodput
    assert g.interruptions_per_day == pytest.approx(419 / 54)
    assert 0.90 < g.fraction < 1.0
    assert g.time_to_train_s == pytest.approx(ev.best.train_time_s / g.fraction)
    # checkpoint: the model's ~405e9 parameters x 14 B (bf16 + fp32 master + two fp32 moments)
    assert g.checkpoint_bytes == pytest.approx(14 * 405e9, rel=0.02)


def test_no_tokens_no_goodput_and_no_spares_costs_time():
    assert evaluate_training("hgx-h100-8", "llama3-8b", 64, TrainingOptions(top=1)).goodput \
        is None
    opts = {"tokens": 1e12, "top": 1}
    spared = evaluate_training("hgx-h100-8", "llama3-70b", 4096, TrainingOptions(**opts))
    bare = evaluate_training("hgx-h100-8", "llama3-70b", 4096, TrainingOptions(
        **opts, recovery=Recovery(spare_domains=0)))
    assert bare.goodput.repair_wait_s > 0 and bare.goodput.fraction < spared.goodput.fraction


def test_nvl72_hosts_are_trays_of_four():
    """A GB200 NVL72 compute tray holds 4 GPUs: the same GPU count has twice the hosts of an
    8-GPU HGX cluster, so host-caused interruptions (43 of Llama 3's 419, per host) double."""
    catalog = load_catalog()
    assert catalog.get("gb200-nvl72", System).host_gpus == 4
    assert catalog.get("hgx-h100-8", System).host_gpus == 8
    hgx = evaluate_training("hgx-h100-8", "llama3-70b", 2304, TrainingOptions(tokens=1e12, top=1))
    nvl = evaluate_training("gb200-nvl72", "llama3-70b", 2304,
                            TrainingOptions(tokens=1e12, top=1))
    host_causes = [c for c in hgx.goodput.by_cause if c in nvl.goodput.by_cause]
    assert sum(nvl.goodput.by_cause.values()) > sum(hgx.goodput.by_cause[c]
                                                    for c in host_causes)


def test_compare_trains_at_the_goodput_rate():
    catalog = load_catalog()
    system = catalog.get("hgx-h100-8", System)
    train = WorkloadItem(id="t", model="llama3-70b", tokens=15e12, gpus=16_384)
    serve = WorkloadItem(id="s", model="llama3-70b", mode="serving", tokens=1e12)
    fraction = training_goodput(system, train, 1_000.0, catalog)
    assert 0.5 < fraction < 1.0
    assert training_goodput(system, serve, 1_000.0, catalog) == 1.0


def test_evaluate_json_carries_goodput():
    res = runner.invoke(app, ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-8b",
                              "--gpus", "1024", "--tokens", "1e12", "--top", "1", "--json"])
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)[0]["goodput"]
    assert {"fraction", "interruptions_per_day", "checkpoint_interval_s",
            "time_to_train_s"} <= set(g)
    text = runner.invoke(app, ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-8b",
                               "--gpus", "1024", "--tokens", "1e12", "--top", "1"])
    assert "Goodput" in text.output and "interruptions a day" in text.output


def test_scenario_goodput_inputs_are_checked(tmp_path):
    path = tmp_path / "eval.yaml"
    path.write_text("name: goodput\nevaluate:\n  systems: [hgx-h100-8]\n  workloads: [llama3-8b]"
                    "\n  gpus: 64\n  tokens: 1e11\n  goodput: {storage_write_bytes_per_s: -1}\n")
    res = runner.invoke(app, ["evaluate", "--scenario", str(path)])
    assert res.exit_code == 2
    assert "evaluate.goodput.storage_write_bytes_per_s" in res.output
    path.write_text("name: goodput\nevaluate:\n  systems: [hgx-h100-8]\n  workloads: [llama3-8b]"
                    "\n  gpus: 64\n  tokens: 1e11\n  goodput: {storage_write_bytes_per_s: "
                    "100 GB/s, spare_domains: 0}\n")
    res = runner.invoke(app, ["evaluate", "--scenario", str(path), "--no-cache"])
    assert res.exit_code == 0, res.output
    assert "Goodput" in res.output


def test_mfu_conventions_are_apart():
    """Issue 11: MFU counts attention over the full score matrix (12 L h s per token, PaLM
    App. B); counted causal it is half, 6 L h s = 6 x 126 x 16,384 x 8,192 = 1.0146e14 FLOP per
    token less for Llama 3.1 405B at 8k; a selective recompute layout executes the attention
    core again (2 L h s per token, causal)."""
    from rackforge.catalog.models import Accelerator
    ev = evaluate_training("hgx-h100-8", "llama3.1-405b", 16_384,
                           TrainingOptions(top=1, space=SearchSpace(recompute=(1,))))
    b = ev.best
    peak = load_catalog().get("h100-sxm-80gb", Accelerator).peak_flops["bf16"]
    per_gpu = b.tokens_per_s_per_gpu / peak
    assert b.mfu - b.mfu_causal == pytest.approx(6 * 126 * 16_384 * 8_192 * per_gpu, rel=1e-9)
    assert b.hfu - b.mfu_causal == pytest.approx(2 * 126 * 16_384 * 8_192 * per_gpu, rel=1e-9)
    res = runner.invoke(app, ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-8b",
                              "--gpus", "64", "--top", "1", "--json"])
    assert "12 L h s" in json.loads(res.stdout)[0]["flop_conventions"]["mfu"]
