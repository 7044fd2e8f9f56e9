"""Validated layout families (issue 11): the shipped list is exactly the families of the
validation rows with the model's errors on them, a search result inside one carries its
family's error, and one outside them says so."""

from __future__ import annotations

import json
from collections import Counter

from typer.testing import CliRunner

from rackforge.cli import app
from rackforge.inputs import read_yaml
from rackforge.perf.api import TrainingOptions, evaluate_training
from rackforge.perf.regimes import (
    REGIMES_FILE,
    family_errors,
    serving_errors,
    serving_record,
    validated,
)
from rackforge.perf.search import SearchSpace
from tests.data.update_ledgers import serving_rows, training_rows


def test_shipped_regimes_are_those_of_the_validation_rows():
    """Every family of the dense, MoE and MXFP8 rows, with its row count and the model's
    current errors on them (tests/data/update_ledgers.py rewrites the file)."""
    rows = training_rows()
    families = family_errors((layout, error) for layout, error, _ in rows)
    assert {r.key: r for r in families} == validated()
    assert sum(r.rows for r in validated().values()) == len(rows)
    accelerators = Counter(accelerator for *_, accelerator in rows)
    assert read_yaml(REGIMES_FILE)["training_accelerators"] == dict(accelerators)


def test_family_errors_by_hand():
    fsdp = {"zero": "fsdp", "pp": 1, "cp": 2, "ep": 1}
    megatron = {"zero": "optimizer", "pp": 4, "cp": 1, "ep": 8}
    got = family_errors([(fsdp, -0.10), (megatron, 0.05), (fsdp, 0.30)])
    # most rows first; MAPE (10 + 30) / 2 = 20 %, worst 30 %
    assert [(r.key, r.rows, r.mape_pct, r.worst_pct) for r in got] == [
        (("fsdp", False, True, False), 2, 20.0, 30.0),
        (("optimizer", True, False, True), 1, 5.0, 5.0)]


def test_searched_layouts_carry_their_familys_validation():
    """The issue's case: Llama 3 70B on 1,024 H100 comes out best at tp 1, FSDP, cp 2 (61.8 %
    MFU, above any published H100 run). One published run has that family (NeMo Automodel's
    Llama 3 70B, FSDP with cp 2), and the model is 11.7 % off on it: the result says so. A
    family no row has (no optimizer sharding with cp) says validated_regime: false."""
    best = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(top=1)).best
    assert (best.layout["zero"], best.layout["cp"] > 1) == ("fsdp", True)
    assert (best.validated_regime, best.regime_rows, best.regime_mape_pct) == (True, 1, 11.7)
    unsharded = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(
        top=1, space=SearchSpace(zero=(0,), context_parallel=(2,)))).best
    assert (unsharded.layout["zero"], unsharded.layout["cp"]) == ("none", 2)
    assert (unsharded.validated_regime, unsharded.regime_rows) == (False, 0)
    assert unsharded.regime_mape_pct is None


def test_shipped_serving_groups_are_those_of_the_inference_rows():
    """Dense or MoE model, latency-bound (server, interactive) or not: the model's errors on
    every modelled row of the four inference files."""
    rows = serving_rows()
    groups = serving_errors((moe, bound, error) for moe, bound, error, _ in rows)
    assert all(serving_record(g.architecture == "moe", g.latency_bound, "h100-sxm-80gb") == g
               for g in groups)
    assert sum(g.rows for g in groups) == len(rows)
    accelerators = Counter(accelerator for *_, accelerator in rows)
    assert read_yaml(REGIMES_FILE)["serving_accelerators"] == dict(accelerators)


def test_no_error_is_claimed_for_an_accelerator_no_row_ran_on():
    """No published training run in the files is on AMD parts, and none at all on the
    catalog's custom XPU: their estimates are flagged, whatever the layout family."""
    mi355x = evaluate_training("mi355x-8", "llama3-70b", 64, TrainingOptions(top=1)).best
    assert (mi355x.validated_regime, mi355x.regime_rows, mi355x.regime_mape_pct) == (
        False, 0, None)
    assert serving_record(False, True, "mi355x") is not None      # MLPerf v6.0 serving rows
    assert serving_record(False, True, "custom-xpu") is None


def test_serving_errors_by_hand():
    got = serving_errors([(True, True, 0.25), (False, False, -0.1), (True, True, -0.75)])
    # MoE latency-bound: (25 + 75) / 2 = 50 %, worst 75 %; dense throughput: 10 %
    assert [(g.architecture, g.latency_bound, g.rows, g.mape_pct, g.worst_pct)
            for g in got] == [("moe", True, 2, 50.0, 75.0), ("dense", False, 1, 10.0, 10.0)]


def test_serving_estimates_carry_their_groups_error():
    """DeepSeek-R1 served at a TPOT limit is an MoE latency-bound estimate: the JSON and the
    CLI say how far off the model is on published runs of that kind."""
    args = ["evaluate", "--system", "hgx-b200-8", "--model", "deepseek-r1", "--gpus", "8",
            "--top", "1", "--serve", "1000:1000:50", "--serve-precision", "nvfp4"]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    validation = json.loads(res.stdout)[0]["inference"]["validation"]
    expected = serving_record(True, True, "b200-sxm-180gb")
    assert validation == expected.model_dump() and validation["architecture"] == "moe"
    text = " ".join(CliRunner().invoke(app, args).output.split())
    assert (f"on {expected.rows} published MoE latency-bound runs the model's throughput is off "
            f"by {expected.mape_pct:.1f} % on average") in text
