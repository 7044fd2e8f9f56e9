"""The performance model takes per-tier bandwidth from a sized cluster: an oversubscribed
spine shows up in data-parallel time and nowhere else."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rackforge.perf.api import TrainingOptions, estimate_training, training_context
from rackforge.perf.layout import single
from rackforge.scenario import from_dict
from tests.conftest import size_scenario

REFERENCE_FILE = Path(__file__).parents[2] / "scenarios" / "reference.yaml"
REFERENCE = yaml.safe_load(REFERENCE_FILE.read_text())


def tiers_of(oversubscription: float) -> tuple[tuple[int, float, float], ...]:
    data = copy.deepcopy(REFERENCE)
    data["cluster"]["fabric"]["oversubscription"] = oversubscription
    result = size_scenario(from_dict(data, file=str(REFERENCE_FILE)))
    return tuple((t.span_gpus, t.bandwidth_bytes_per_s_per_gpu, t.latency_s)
                 for t in result.tiers[1:])


def breakdown(tiers, dp: int, pp: int = 4) -> dict[str, float]:
    ctx = training_context("gb200-nvl72", "llama3-70b",
                           TrainingOptions(global_batch=1152, scaleout_tiers=tiers))
    layout = single(tp=4, pp=pp, dp=dp, mb=1, zero=1)
    return estimate_training(ctx, layout)[0].breakdown_s


def test_tiers_divide_bandwidth_by_the_spine_oversubscription():
    flat, over = tiers_of(1), tiers_of(3)
    assert flat[0][1] == pytest.approx(over[0][1])            # leaf tier: full NIC rate
    assert over[-1][1] == pytest.approx(flat[-1][1] / 3)      # across the spine: a third


def test_three_to_one_spine_slows_traffic_that_crosses_it():
    # dp=144 x tp=4 x pp=2 spans all 1,152 GPUs: the data-parallel ring of 576 GPUs is wider
    # than the 384 GPUs one packed 3:1 leaf reaches, so the gradient reduction crosses the
    # spine, and so does the point-to-point traffic between pipeline stages 576 ranks apart.
    # Tensor-parallel traffic stays in the NVLink domain.
    flat, over = breakdown(tiers_of(1), 144, 2), breakdown(tiers_of(3), 144, 2)
    assert over["dp_comm"] > 1.5 * flat["dp_comm"] > 0
    assert over["pp_comm"] > flat["pp_comm"]
    for part in ("gemm", "tp_comm", "attention"):
        assert over[part] == pytest.approx(flat[part])


def test_without_tiers_the_flat_nic_rate_applies():
    assert breakdown((), 72)["dp_comm"] == pytest.approx(breakdown(tiers_of(1), 72)["dp_comm"],
                                                         rel=0.25)
