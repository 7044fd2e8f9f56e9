"""`evaluate_inference`: the serving search behind `evaluate --serve` and `compare` (the step
model's hand calculations are in test_serving.py)."""

from __future__ import annotations

import pytest

from rackforge.errors import InputError
from rackforge.perf.api import evaluate_inference
from rackforge.perf.inference import Serving


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
