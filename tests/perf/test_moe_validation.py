"""The training model on mixture-of-experts and FSDP runs (issue 11).

Rows: tests/data/training_moe_dev.csv (development, 27 rows) and
tests/data/training_moe_heldout.csv (held-out, 10 rows), split from the modellable rows of
training_moe_fsdp_candidates.csv before any MoE term was chosen (rule and sources in
tests/data/README.md). Issue targets on both files: MAPE <= 12 %, worst row <= 25 %.

Not met yet, so the bound tests are strict xfails that carry the current figures: development
MAPE 14.3 %, worst 31.9 % (14.4 % before GB300's GEMM rate took GB200's measured uplift over
B200; 15.2 % / 32.2 % before DeepSeek-V3's group-limited routing was counted in the
deduplicated dispatch; 15.6 % before three H100 dispatcher runs were added, which the model
puts 11-13 % short; 15.9 % / 32.4 % before Megatron-Core's experts were timed one GEMM per
expert on Blackwell as on Hopper, as Transformer Engine runs them; 16.5 % / 32.3 % before
the rows' Megatron-Core settings were read from their configurations; 18.3 % / 38.8 % before
Megatron-Core's eager expert bias and GLU clamp were costed; 18.5 % before the NeMo Automodel
Llama 3.1 70B row's SDPA attention was read from its recipe; 18.3 % before the gpt-oss-20b row's
expert parallelism was corrected to its recipe's; was 29.9 % / 70.7 % before the MoE terms,
18.0 % / 36.0 % before gpt-oss's sliding-window layers were costed as such, 18.7 % before the
torchtitan rows ran as torchtitan runs); held-out MAPE 25.8 %, worst 58.1 % (run after each
model change, never used to choose a term; 26.1 % before the GB300 GEMM rate; 25.7 % before
the per-expert GEMMs on Blackwell;
25.6 % before the configurations' settings; 27.9 % before the eager expert bias and clamp;
34.5 % / 71.9 % before the gpt-oss-120b row's expert parallelism was corrected to its recipe's;
34.7 % / 64.6 % before the FSDP2 rows' zero_stage cells were corrected to what their sources
say, 36.3 % / 80.3 % before split-K, 35.4 % before torchtitan).
The rows the model under-predicts most in development are gpt-oss-120b in Megatron-Bridge
(bf16, all systems, -23 to -32 %), Qwen3-30B-A3B FP8 on H100 (-27 to -32 %) and Mixtral on GB200
(about -25 %); no per-model term is added for them (the eager expert bias and clamp follow the
model's attributes, `expert_bias` and `glu_clamped`, and the framework's code).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rackforge.perf.validate import predict_training_row, read_csv, validate_training

DATA = Path(__file__).parents[1] / "data"
FILES = {"dev": "training_moe_dev.csv", "heldout": "training_moe_heldout.csv"}
# Megatron-Bridge's MXFP8 rows, split apart before the model had an MXFP8 term.
MXFP8 = {"dev": "training_mxfp8_dev.csv", "heldout": "training_mxfp8_heldout.csv"}


@pytest.fixture(scope="module", params=sorted(FILES))
def report(request):
    return validate_training(DATA / FILES[request.param])


def test_every_split_row_is_modelled(report):
    assert report.rows and not report.skipped


@pytest.mark.parametrize("name", [*FILES.values(), "training_moe_fsdp_candidates.csv"])
def test_zero_stage_says_what_the_source_says(name):
    # A source table's "FSDP N" (N ranks sharding parameters, gradients and optimizer state;
    # FSDP2 is ZeRO-3-like) is zero stage 3; "FSDP 0" or no FSDP is not.
    for row in read_csv(DATA / name):
        ranks = re.search(r"FSDP (\d+)", row["source"])
        if ranks:
            assert (row["zero_stage"].strip() == "3") == (int(ranks.group(1)) > 0), row["case"]


def test_attention_kernel_column_overrides_the_framework_default():
    # NeMo Automodel's Llama 3.1 70B benchmark runs PyTorch SDPA (FlashAttention-2 on H100,
    # 0.31 of peak against the fused kernels' 0.45 [FA3]); blank, the row takes the default
    # framework's fused kernel and a shorter step.
    row = next(r for r in read_csv(DATA / FILES["dev"])
               if r["case"] == "automodel-h100-llama3-70b-fsdp-bf16")
    assert row["attention_kernel"] == "sdpa"
    assert predict_training_row(row)[0] > predict_training_row(row | {"attention_kernel": ""})[0]


# Development rows added after the split, from Megatron-Bridge's guides (tests/data/README.md):
# one layout, three dispatcher settings.
DISPATCHER_RUNS = {f"bridge-h100-qwen3-30b-a3b-bf16-gbs1024-mbs1-pp1-ep16-{run}-doc": step_s
                   for run, step_s in (("hybridep-overlap", 20.147), ("alltoall-eager", 41.36),
                                       ("alltoall-graphs", 42.00))}


@pytest.mark.parametrize(("files", "sizes"), [(FILES, (27, 10)), (MXFP8, (16, 7))])
def test_split_files_are_disjoint_and_come_from_the_candidates(files, sizes):
    dev = {r["case"] for r in read_csv(DATA / files["dev"])}
    held = {r["case"] for r in read_csv(DATA / files["heldout"])}
    candidates = {r["case"] for r in read_csv(DATA / "training_moe_fsdp_candidates.csv")}
    assert not dev & held and (dev | held) <= candidates | set(DISPATCHER_RUNS)
    assert (len(dev), len(held)) == sizes


def test_cross_node_all_to_all_costs_what_the_dispatcher_a_b_measured():
    # Same 16 H100, same layout: the plain all-to-all without overlap took 41.36 s a step, HybridEP
    # (one copy per destination node) with the EP overlap 20.15 s, 2.05x. The model's ratio must
    # come within 15 % of the measured one.
    rows = {r["case"]: r for r in read_csv(DATA / FILES["dev"]) if r["case"] in DISPATCHER_RUNS}
    for case, step_s in DISPATCHER_RUNS.items():
        assert float(rows[case]["measured_step_s"]) == pytest.approx(step_s, abs=1e-3)
    slow, fast = (f"bridge-h100-qwen3-30b-a3b-bf16-gbs1024-mbs1-pp1-ep16-{run}-doc"
                  for run in ("alltoall-eager", "hybridep-overlap"))
    ratio = predict_training_row(rows[slow])[0] / predict_training_row(rows[fast])[0]
    assert ratio == pytest.approx(DISPATCHER_RUNS[slow] / DISPATCHER_RUNS[fast], rel=0.15)


@pytest.fixture(scope="module", params=sorted(MXFP8))
def mxfp8_report(request):
    return validate_training(DATA / MXFP8[request.param])


def test_every_mxfp8_row_is_modelled(mxfp8_report):
    assert mxfp8_report.rows and not mxfp8_report.skipped


@pytest.mark.xfail(strict=True, reason="MoE targets not met on MXFP8 either: dev MAPE 16.7 % "
                   "worst 61.8 %, held-out MAPE 8.1 % worst 28.2 % (targets 12 % / 25 %)")
def test_mxfp8_mape_and_worst_error(mxfp8_report):
    assert mxfp8_report.mape <= 0.12
    assert mxfp8_report.max_abs_error <= 0.25


@pytest.mark.xfail(strict=True, reason="MoE targets not met: dev MAPE 14.3 % worst 31.9 %, "
                   "held-out MAPE 25.8 % worst 58.1 % (targets 12 % / 25 %)")
def test_moe_mape_and_worst_error(report):
    assert report.mape <= 0.12
    assert report.max_abs_error <= 0.25
