"""The models against published measurements (tests/data, see its README for the sources).

Bounds are the issue's targets: training MAPE <= 10 % and no row worse than 25 %, with one
parameter set for all rows. Inference: MLPerf offline, server and interactive rows of the
development and held-out files and of the MLPerf v6.0 external check (targets MAPE <= 15 %,
worst row <= 30 %; not met yet, xfail), and TensorRT-LLM's fixed-length perf-overview rows
(development only; the same targets).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from rackforge.errors import InputError
from rackforge.perf.benchmarks import benchmark_for
from rackforge.perf.validate import (
    _wider_share,
    get_workload,
    read_csv,
    validate_inference,
    validate_training,
)

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def training():
    return validate_training(DATA / "training_throughput.csv")


def test_training_mape_and_worst_error_within_targets(training):
    assert len(training.rows) == 26 and not training.skipped
    assert training.mape <= 0.10
    assert training.max_abs_error <= 0.25


def test_training_errors_are_not_one_sided(training):
    errors = [r.error for r in training.rows]
    assert min(errors) < -0.03 and max(errors) > 0.03


def test_unmodelled_rows_are_reported_as_skipped(tmp_path):
    text = (DATA / "training_throughput.csv").read_text().splitlines()
    bad = text[1].replace("a100-sxm-80gb", "tpu-v5p", 1)
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([text[0], bad, text[2]]) + "\n")
    report = validate_training(path)
    assert len(report.rows) == 1
    assert report.skipped[0][0] == "narayanan2021-1.7b"
    assert "tpu-v5p" in report.skipped[0][1]


@pytest.fixture(scope="module", params=["inference_throughput.csv", "inference_heldout.csv",
                                         "inference_mlperf_v6.csv"])
def inference(request):
    return request.param, validate_inference(DATA / request.param)


def test_inference_models_every_row_and_scenario(inference):
    # Offline, server and interactive rows are all modelled; none is skipped for its scenario.
    name, report = inference
    assert not report.skipped, report.skipped
    scenarios = {r.case.split("-")[-1] if not r.case[-1].isdigit() else r.case.split("-")[-2]
                 for r in report.rows}
    assert scenarios == {"offline", "server", "interactive"}
    assert all(0 < r.predicted < float("inf") for r in report.rows)


def test_inference_h100_llama2_offline_within_25_percent():
    # DGX H100, Llama 2 70B offline, MLPerf v5.0 (31,306.8 tok/s). The same machine gave
    # 24,524.9 in v4.1: software alone made it 28 % faster, and the model stands for the
    # current software, so the newest round is the one it must meet.
    report = validate_inference(DATA / "inference_throughput.csv")
    row = next(r for r in report.rows if r.case == "v5.0-nvidia-h100-sxm-80gbx8-llama2-70b-offline")
    assert row.measured == 31306.8 and abs(row.error) <= 0.25


def test_mlperf_rows_are_modelled_in_the_layout_their_configuration_ran(inference):
    # `tp` / `pp` / `dp` and the engine settings come from the submission's own configuration
    # (tensor_parallelism, pipeline_parallelism, enable_attention_dp, batch and token caps per
    # microbatch, chunked context), cited in `layout_source` with repository, commit and path;
    # a blank layout (private or disaggregated runs) says why and is searched with the default
    # engine.
    name, report = inference
    rows = {r["case"]: r for r in read_csv(DATA / name)}
    held = 0
    for row in report.rows:
        given, source = rows[row.case], rows[row.case]["layout_source"]
        assert re.search(r"inference_results_v[0-9.]+@[0-9a-f]{40}:closed/", source), source
        if given["tp"]:
            tp, pp, dp = int(given["tp"]), int(given["pp"] or 1), int(given["dp"])
            assert (row.layout["tp"], row.layout["pp"], row.layout["dp"], row.layout["gpus"]) \
                == (tp, pp, dp, tp * pp * dp)
            held += 1
            if given["chunked_prefill"] == "false":     # whole prompts: at least one per step
                prompt = benchmark_for(given["model"]).input_tokens.value
                assert row.layout["chunk_tokens"] >= int(prompt)
            if given["max_batch_size"]:
                assert row.layout["batch"] / (dp * pp) <= int(given["max_batch_size"])
            if given["gemm_allreduce_fusion"] == "true":    # the build flag, cited
                assert tp > 1 and "gemm_allreduce_plugin 'float16'" in source
        else:
            assert "left to the search" in source
            assert not (given["max_batch_size"] or given["max_num_tokens"]
                        or given["chunked_prefill"] or given["gemm_allreduce_fusion"])
    assert held >= 0.8 * len(report.rows)


def test_disaggregated_runs_are_modelled_on_their_pools(inference):
    # `prefill_gpus` / `decode_gpus`: the pools of a disaggregated run, from its deployment
    # (cited in `note`); each pool is whole replicas of the layout the model picks for it.
    name, report = inference
    rows = {r["case"]: r for r in read_csv(DATA / name)}
    pooled = [row for row in report.rows if rows[row.case].get("prefill_gpus")]
    for row in pooled:
        given = rows[row.case]
        assert "disaggregated, prefill_gpus / decode_gpus from" in given["note"]
        assert int(given["prefill_gpus"]) % row.layout["prefill"]["gpus"] == 0
        assert int(given["decode_gpus"]) % row.layout["decode"]["gpus"] == 0
    assert len(pooled) == {"inference_throughput.csv": 1, "inference_heldout.csv": 0,
                           "inference_mlperf_v6.csv": 11}[name]


def test_pools_that_do_not_split_the_gpus_are_bad_input(tmp_path):
    with open(DATA / "inference_mlperf_v6.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if r["case"] == "v6.0-nvidia-gb300x72-llama3.1-405b-interactive")
    assert (row["prefill_gpus"], row["decode_gpus"], row["n_gpus"]) == ("52", "20", "72")
    path = tmp_path / "rows.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row | {"decode_gpus": "10"})
    with pytest.raises(InputError, match="prefill_gpus and decode_gpus do not split n_gpus"):
        validate_inference(path)


@pytest.mark.xfail(strict=True, reason="issue-12 targets not met: development MAPE 12.0 %, "
                   "worst 35 %; held-out 14.3 %, worst 67 %; MLPerf v6.0 external check "
                   "24.0 %, worst 115 % (see tests/data/README.md)")
def test_inference_targets(inference):
    # Targets on every file: MAPE <= 15 %, no row worse than 30 %.
    _, report = inference
    assert report.mape <= 0.15 and report.max_abs_error <= 0.30


@pytest.fixture(scope="module")
def trtllm():
    """TensorRT-LLM's perf-overview rows (fixed request lengths), split dense / MoE."""
    report = validate_inference(DATA / "inference_trtllm_dev.csv")
    moe = {r["case"] for r in read_csv(DATA / "inference_trtllm_dev.csv")
           if get_workload(r["model"]).moe is not None}
    return report, moe


def test_trtllm_fixed_length_rows_are_all_modelled(trtllm):
    report, moe = trtllm
    assert len(report.rows) == 151 and not report.skipped and len(moe) == 51


def test_rows_that_give_their_layout_are_modelled_in_it(trtllm):
    # The page's columns are TP sizes (dense: attention TP over all GPUs; MoE: attention data
    # parallel, experts spread over all GPUs): the prediction is that layout, not the best one.
    report, _ = trtllm
    ran = {r["case"]: (int(r["tp"]), int(r["dp"]))
           for r in read_csv(DATA / "inference_trtllm_dev.csv")}
    for row in report.rows:
        tp, dp = ran[row.case]
        assert (row.layout["tp"], row.layout["dp"], row.layout["gpus"]) == (tp, dp, tp * dp)


def test_trtllm_dense_rows_meet_the_mape_target(trtllm):
    # 100 dense rows (Llama 3.1 8B, Llama 3.3 70B, Llama 3.1 405B; H100 to GB200): MAPE 8.2 %.
    report, moe = trtllm
    errors = [abs(r.error) for r in report.rows if r.case not in moe]
    assert len(errors) == 100 and sum(errors) / len(errors) <= 0.15


@pytest.mark.xfail(strict=True, reason="MoE serving is over-predicted: the 47 Qwen3 rows are "
                   "-13 % to +107 % (MAPE 37 %; 35 % with the four DeepSeek-R1 rows, +6 %, "
                   "+12 % and, at batch 1 with MTP, -18 % and +20 %); dense rows 8.2 %, worst "
                   "22 % (tests/data/README.md)")
def test_trtllm_targets(trtllm):
    report, _ = trtllm
    assert report.mape <= 0.15 and report.max_abs_error <= 0.30


def test_rows_matching_a_catalog_model_take_its_attention_and_ffn():
    from rackforge.perf.validate import row_workload
    rows = {r["case"]: r for r in read_csv(DATA / "training_throughput.csv")}
    oss = row_workload(rows["bridge-h100-gpt-oss-120b-bf16"])
    assert oss.head_dim == 64                                 # not hidden / heads = 45
    gpt = row_workload(rows["narayanan2021-1.7b"])
    assert gpt.ffn == "gelu" and gpt.dropout and gpt.mla is None
    ds = dict(rows["bridge-h100-gpt-oss-120b-bf16"], layers="61", hidden="7168", heads="128",
              kv_heads="128", experts="256", top_k="8", moe_ffn_hidden="2048",
              shared_experts="1", dense_layers="3", ffn_hidden="18432", vocab="129280")
    assert row_workload(ds).mla is not None                   # DeepSeek-V3 uses MLA


def test_blank_framework_tunes_blank_knobs(tmp_path):
    # Llama 3 405B on 8,192 H100 (Llama 3 paper, Table 4: TP 8, PP 16, DP 64, 430 TFLOP/s per
    # GPU). A blank framework column takes the documented default (generic): blank virtual
    # stages and microbatch are tuned, so the interleaved schedule is used; the prediction
    # lands within 25 % of 430. The case name says nothing to the model.
    from rackforge.perf.validate import predict_training_row
    header = (DATA / "training_throughput.csv").read_text().splitlines()[0]
    row = ("bridge-405b,Llama 3 paper,,,h100-sxm-80gb,8192,8,400,126,16384,53248,128,8,8192,"
           "128256,,,,,,bf16,8,16,64,1,1,,1024,,,yes,1,,,")
    path = tmp_path / "meta.csv"
    path.write_text(header + "\n" + row + "\n")
    pred, layout = predict_training_row(read_csv(path)[0])
    assert layout["vp"] > 1
    flops_per_token = 6 * 405.85e9 + 12 * 126 * 16384 * 8192
    tflops = 1024 * 8192 * flops_per_token / pred / 8192 / 1e12
    assert 430 * 0.75 < tflops < 430 * 1.25


@pytest.mark.parametrize(("precision", "bits", "share"), [
    ("fp8", "8.75", 3.0 / 32.0),    # NVIDIA's Hopper Mixtral: 8 (1 - x) + 16 x = 8.75
    ("fp4", "7.25", 0.8125),        # its B200 Mixtral, read as FP4 / FP8: 4 (1 - x) + 8 x = 7.25
    ("fp4", "", 0.0),
])
def test_effective_bits_give_the_share_kept_in_the_next_wider_format(precision, bits, share):
    row = {"case": "c", "precision": precision, "effective_bits": bits}
    assert _wider_share(row) == pytest.approx(share, rel=1e-12)


@pytest.mark.parametrize(("precision", "bits"), [("fp4", "9"), ("fp8", "7.25"), ("bf16", "12")])
def test_effective_bits_outside_the_formats_mix_are_bad_input(precision, bits):
    with pytest.raises(InputError, match="effective_bits describes"):
        _wider_share({"case": "c", "precision": precision, "effective_bits": bits})
