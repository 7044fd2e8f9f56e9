"""Training frameworks in evaluation: ``evaluate`` times a run on a named framework with the
settings its validation rows take (``perf/frameworks.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackforge import scenario
from rackforge.catalog import load_catalog
from rackforge.cli import app
from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.frameworks import framework
from rackforge.perf.layout import single
from rackforge.perf.training import estimate_arrays
from rackforge.perf.validate import _execution, read_csv
from rackforge.stages import evaluate as stage

DATA = Path(__file__).parents[1] / "data"
RUNS = {r["case"]: r for r in read_csv(DATA / "training_moe_dev.csv")
        if r["case"].startswith("bridge-h100-qwen3-30b-a3b-bf16-gbs1024-mbs1-pp1-ep16-")}
runner = CliRunner()


def _options(row: dict[str, str]) -> TrainingOptions:
    return TrainingOptions(dtype=row["dtype"], seq_len=int(row["seq_len"]),
                           global_batch=int(row["global_batch"]), framework=row["framework"],
                           moe_dispatcher=row["moe_dispatcher"] or None,
                           ep_overlap=row["ep_overlap"] == "true" if row["ep_overlap"] else None,
                           cuda_graphs=row["cuda_graphs"] or None)


@pytest.mark.parametrize("case", sorted(RUNS))
def test_evaluate_runs_with_the_settings_of_the_validation_row(case):
    row = RUNS[case]
    ctx = training_context("hgx-h100-8", "qwen3-30b-a3b", _options(row))
    assert ctx.execution == _execution(row, framework(row["framework"]), row["dtype"])


def test_the_dispatcher_a_b_on_the_catalog_system():
    # Megatron-Bridge's guides: on 16 H100 in two nodes (EP 16), Qwen3-30B-A3B BF16 took 41.36 s
    # a step with the plain all-to-all and no overlap, 20.15 s with HybridEP and the overlap.
    # The same two runs evaluated on the catalog's HGX H100 come out in that ratio (15 %).
    steps = {}
    for run in ("alltoall-eager", "hybridep-overlap"):
        row = RUNS[f"bridge-h100-qwen3-30b-a3b-bf16-gbs1024-mbs1-pp1-ep16-{run}-doc"]
        ctx = training_context("hgx-h100-8", "qwen3-30b-a3b", _options(row))
        layout = single(dp=16, ep=16, mb=1, recompute="none", zero=1)
        steps[run] = float(estimate_arrays(ctx, layout)["step_s"][0])
    assert steps["alltoall-eager"] / steps["hybridep-overlap"] == pytest.approx(41.36 / 20.147,
                                                                                rel=0.15)


def test_cli_framework_settings_and_bad_values():
    args = ["evaluate", "--system", "hgx-h100-8", "--model", "qwen3-30b-a3b", "--gpus", "16",
            "--top", "1", "--json"]
    res = runner.invoke(app, [*args, "--framework", "bridge", "--moe-dispatcher", "alltoall",
                              "--no-ep-overlap", "--per-expert-gemms", "--cuda-graphs", "attn"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["framework"] == "bridge"
    assert json.loads(runner.invoke(app, args).stdout)[0]["framework"] == "generic"
    for flag, value, needle in (("--framework", "megatron", "unknown framework"),
                                ("--moe-dispatcher", "nccl", "unknown moe dispatcher"),
                                ("--cuda-graphs", "all", "unknown cuda graphs")):
        bad = runner.invoke(app, [*args[:-1], flag, value])
        lines = bad.output.strip().splitlines()
        assert bad.exit_code == 2 and len(lines) == 1 and needle in lines[0], bad.output
    scenario = Path(__file__).parents[2] / "scenarios" / "reference.yaml"
    with_scenario = runner.invoke(app, ["evaluate", "--scenario", str(scenario),
                                        "--framework", "bridge"])
    assert with_scenario.exit_code == 2 and "--framework with --scenario" in with_scenario.output


def test_the_evaluate_section_names_the_framework():
    spec = scenario.from_dict({"name": "x", "evaluate": {
        "systems": ["hgx-h100-8"], "workloads": ["qwen3-30b-a3b"], "gpus": 16, "top": 1,
        "framework": "bridge", "moe_dispatcher": "hybridep", "ep_overlap": True}}).spec.evaluate
    (result,) = stage.run(spec, load_catalog())
    assert result.framework == "bridge"
    plain = stage.run(spec.model_copy(update={"framework": None}), load_catalog())[0]
    assert plain.framework == "generic"
