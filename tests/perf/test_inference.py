"""`evaluate_inference`: the serving search behind `evaluate --serve` and `compare` (the step
model's hand calculations are in test_serving.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rackforge.errors import InputError
from rackforge.perf.api import evaluate_inference
from rackforge.perf.benchmarks import Limits
from rackforge.perf.context import Context
from rackforge.perf.disaggregated import disaggregated
from rackforge.perf.inference import Engine, Serving
from rackforge.perf.layout import Execution
from rackforge.perf.params import load_params
from rackforge.perf.serving import search_serving
from rackforge.perf.validate import row_machine
from rackforge.perf.workload import get_workload


def test_latency_target_lowers_throughput():
    free = evaluate_inference("hgx-h100-8", "llama3-70b", 8, Serving(1000, 200))
    tight = evaluate_inference("hgx-h100-8", "llama3-70b", 8, Serving(1000, 200, 1.0, 0.02))
    assert tight.best.tpot_s <= 0.02
    assert tight.tokens_per_s_per_gpu < free.tokens_per_s_per_gpu
    assert tight.best.batch < free.best.batch


def test_a_target_no_layout_meets_is_an_answer():
    """Issue 12: 'no layout meets TPOT 0.1 ms; the fastest reaches ...' (exit 0), not an
    error. A 70B model's weights alone take 70.6e9 B / 8 / (3.35e12 x 0.85) B/s = 3.1 ms per
    step on 8 H100, far above 0.1 ms."""
    ev = evaluate_inference("hgx-h100-8", "llama3-70b", 8, Serving(1000, 200, 1.0, 1e-4))
    assert ev.best is None and ev.tokens_per_s_per_gpu == 0.0
    line = ev.result.shortfall()
    assert line.startswith("no layout meets TPOT 0.1 ms; the fastest reaches ")
    assert ev.result.fastest_tpot_s > 70.6e9 / 8 / (3.35e12 * 0.85)
    assert ev.to_dict()["best"] is None and ev.to_dict()["shortfall"] == line


def test_curve_is_a_pareto_front_with_the_promised_keys():
    ev = evaluate_inference("gb200-nvl72", "llama3-70b", 72, Serving(2048, 512), "fp4")
    curve = ev.to_dict()["curve"]
    assert len(curve) >= 3
    for point in curve:
        assert {"tokens_per_s_per_gpu", "tokens_per_s_per_user", "ttft_s", "tpot_s", "batch",
                "layout"} <= set(point)
    users = [p["tokens_per_s_per_user"] for p in curve]
    gpus = [p["tokens_per_s_per_gpu"] for p in curve]
    assert users == sorted(users, reverse=True)       # fastest per user first ...
    assert gpus == sorted(gpus)                       # ... trading it for throughput per GPU


@pytest.mark.parametrize(("system", "dtype"), [("hgx-h100-8", "fp4"), ("hgx-h100-8", "nvfp4"),
                                               ("hgx-a100-8", "fp8")])
def test_a_precision_the_part_lacks_is_bad_input(system, dtype):
    with pytest.raises(InputError, match="has no fp[48] tensor cores"):
        evaluate_inference(system, "llama3-8b", 8, Serving(1000, 200), dtype)


def test_disaggregated_pools_inside_one_domain():
    """Separate prefill and decode pools (DistServe, Zhong et al. 2024). The KV cache of a
    2,048-token prompt of Llama 3 70B (80 layers x 2 x 8 KV heads x 128 x 1 byte fp8 = 163,840
    B per token, 335.5 MB) crosses NVLink 5 inside the NVL72 domain."""
    from rackforge.catalog import load_catalog
    from rackforge.catalog.models import Accelerator
    from rackforge.perf.params import load_params
    ev = evaluate_inference("gb200-nvl72", "llama3-70b", 72, Serving(2048, 512, 1.0, 0.05, 2.0))
    d = ev.disaggregated
    assert d.link == "scale-up" and d.tpot_s <= 0.05 and d.ttft_s <= 2.0
    gb200 = load_catalog().get("gb200", Accelerator)
    nvlink = gb200.scaleup_bandwidth_bytes_per_s * load_params().device("gb200").scaleup_efficiency
    assert d.link_bytes_per_s == pytest.approx(nvlink)
    kv_bytes = 2048 * 80 * 2 * 8 * 128 * 1.0
    assert d.kv_transfer_s == pytest.approx(kv_bytes / (nvlink * d.prefill["gpus"]))
    # decode steps carry no prompt work, so they are faster than the colocated p99 TPOT
    assert d.tpot_s < ev.best.tpot_s


def test_disaggregated_across_nodes_uses_the_nic():
    ev = evaluate_inference("hgx-h100-8", "llama3-70b", 16, Serving(1000, 200, 1.0, 0.1, 5.0))
    assert ev.disaggregated.link == "scale-out"
    assert ev.disaggregated.link_bytes_per_s == pytest.approx(400e9 / 8)   # 400 Gb/s NIC


def _h100_fp8(model: str) -> Context:
    """`model` in FP8 on an HGX H100 (8 GPUs to a domain, 400 Gb/s NICs)."""
    machine = row_machine({"accelerator": "h100-sxm-80gb", "scaleup_domain": "8",
                           "scaleout_gbps_per_gpu": "400"})
    return Context(get_workload(model), machine, Execution(dtype="fp8"), load_params())


def _two_layouts() -> dict[str, np.ndarray]:
    """Search arrays of two layouts: a one-GPU prefill engine taking 4 prompts in a 0.2 s step
    (0.05 GPU-s per request) and a two-GPU decode engine stepping 100 sequences in 50 ms
    (100 output tokens: 100 x 0.05 x 2 / 100 = 0.1 GPU-s per request)."""
    return {"g": np.array([1, 2]), "tp": np.array([1, 2]), "pp": np.array([1, 1]),
            "ep": np.array([1, 1]), "batch": np.array([4, 100]),
            "prefill_step_s": np.array([0.2, 9.0]), "decode_step_s": np.array([9.0, 0.05]),
            "tokens_per_step": np.array(1.0), "kv_prompt_bytes": np.array([1e6, 1e6]),
            "prefill_fits": np.array([True, False]), "fits": np.array([False, True])}


def test_pools_serve_at_the_busier_pools_rate():
    """DistServe (Zhong et al. 2024, Sec. 3): with P prefill and D decode GPUs the request rate
    is min(P / 0.05, D / 0.1). 2 + 6 GPUs: min(40, 60) = 40 requests/s, 100 x 40 / 8 = 500
    tokens/s per GPU (prefill binds); 6 + 2: min(120, 20) = 20, 250 (decode binds). Left to
    choose, the splits into whole decode engines of two GPUs are 2 + 6, 4 + 4 and 6 + 2: 500,
    500 and 250 tokens/s per GPU, so 2 + 6 (the first best), short of the balanced ratio's
    100 / (0.05 + 0.1) = 666.7 at 0.05 / 0.1 = 0.5 prefill GPUs per decode GPU, which 8 GPUs
    cannot split into."""
    ctx = _h100_fp8("llama3-8b")
    srv = Serving(1000, 100)
    assert disaggregated(ctx, srv, 8, searched=_two_layouts(), prefill_gpus=2) \
        .tokens_per_s_per_gpu == pytest.approx(500)
    fixed = disaggregated(ctx, srv, 8, searched=_two_layouts(), prefill_gpus=6)
    assert fixed.tokens_per_s_per_gpu == pytest.approx(250)
    assert (fixed.prefill_gpus, fixed.decode_gpus) == (6, 2)
    free = disaggregated(ctx, srv, 8, searched=_two_layouts())
    assert free.tokens_per_s_per_gpu == pytest.approx(500)
    assert (free.prefill_gpus, free.decode_gpus) == (2, 6)
    assert free.balanced_ratio == pytest.approx(0.5)
    # on 12 GPUs the balanced split exists: 4 + 8, min(80, 80) requests/s, 666.7 per GPU
    assert disaggregated(ctx, srv, 12, searched=_two_layouts()).tokens_per_s_per_gpu \
        == pytest.approx(100 * 80 / 12)
    # a pool is whole replicas: 3 decode GPUs hold no two-GPU decode engine, nor do 2 GPUs
    # hold a prefill and a two-GPU decode engine
    assert disaggregated(ctx, srv, 8, searched=_two_layouts(), prefill_gpus=5) is None
    assert disaggregated(ctx, srv, 2, searched=_two_layouts()) is None
    with pytest.raises(ValueError, match="prefill_gpus 8"):
        disaggregated(ctx, srv, 8, searched=_two_layouts(), prefill_gpus=8)


def test_a_prefill_pool_is_loaded_only_as_far_as_its_p99_ttft_allows():
    """A prefill engine of one prompt per 0.1 s step under Poisson arrivals, prompt lengths
    exponential (cv 1): an M/M/1 queue, whose time in system is exponential with rate
    mu - lambda (Kleinrock, Queueing Systems Vol. 1, Sec. 3.2), so its p99 is
    ln(100) / (10 - lambda). A 1 s p99 TTFT allows lambda = 10 - ln(100) = 5.395 prompts/s
    per engine. On 2 prefill + 6 decode GPUs: min(2 x 5.395, 6 / 0.1) = 10.79 requests/s,
    100 x 10.79 / 8 = 134.9 output tokens/s per GPU, the prefill pool at its TTFT limit.
    Without a TTFT limit the pool runs full (500, as in the test above)."""
    ctx = _h100_fp8("llama3-8b")
    layouts = _two_layouts() | {"batch": np.array([1, 100]),
                                "prefill_step_s": np.array([0.1, 9.0]),
                                "kv_prompt_bytes": np.array([1.0, 1.0])}
    srv = Serving(1000, 100, input_cv=1.0)
    limited = disaggregated(ctx, srv, 8, Limits(ttft_s=1.0), searched=layouts, prefill_gpus=2)
    rate = 2 * (10 - np.log(100))
    assert limited.tokens_per_s_per_gpu == pytest.approx(100 * rate / 8, rel=0.02)
    assert limited.ttft_s == pytest.approx(1.0, rel=0.02)
    free = disaggregated(ctx, srv, 8, Limits(), searched=layouts, prefill_gpus=2)
    assert free.tokens_per_s_per_gpu == pytest.approx(100 * 20 / 8)
    # a limit below the p99 of one prompt's own prefill (ln(100) x 0.1 s) no load meets
    assert disaggregated(ctx, srv, 8, Limits(ttft_s=0.4), searched=layouts,
                         prefill_gpus=2) is None


def test_a_prefill_engine_chunks_one_prompt_longer_than_its_token_cap():
    """TensorRT-LLM's chunked context: a 12,000-token prompt on an engine capped at 8,192
    tokens per step runs as chunks, so a prefill engine of one prompt per step exists at every
    TP; without chunking no such engine can take it whole."""
    ctx = _h100_fp8("llama3-70b")
    for chunked, tps in ((True, {1, 2, 4, 8}), (False, set())):
        out = search_serving(ctx, Serving(12000, 100), 8, "fp8",
                             Engine(max_num_tokens=8192, chunked_prefill=chunked))
        one = (out["pp"] == 1) & (out["batch"] == 1) & out["prefill_fits"]
        assert set(out["tp"][one].tolist()) == tps
