"""Routing imbalance of served MoE layers (rackforge.perf.routing): expected values from the
measurement it is built on and from tables of normal order statistics."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from rackforge.perf.routing import busiest_group_step, busiest_rank_load, expected_normal_maximum
from rackforge.perf.serving_params import load_serving_params

EXCESS = load_serving_params().routed_load_excess.value


@pytest.mark.parametrize("ranks,tabulated", [
    # Expected largest of n standard normals: 1 / sqrt(pi) and 3 / (2 sqrt(pi)) exactly for 2
    # and 3; the others from Harter, Biometrika 48 (1961), Table 1.
    (2, 1 / math.sqrt(math.pi)), (3, 3 / (2 * math.sqrt(math.pi))), (4, 1.0294),
    (5, 1.1630), (10, 1.5388), (20, 1.8675), (50, 2.2491), (100, 2.5076),
])
def test_blom_maximum_matches_the_tables(ranks, tabulated):
    assert expected_normal_maximum(np.array(ranks)) == pytest.approx(tabulated, rel=0.05)


def test_measured_layout_gives_the_measurement_back():
    # TensorRT-LLM blog, Scaling EP part 1, Table 1: DeepSeek-R1 (256 experts) at EP 32, no
    # EPLB, (max - mean) / mean = 1.564.
    assert EXCESS == 1.564
    assert busiest_rank_load(np.array(32), 256, EXCESS) == pytest.approx(2.564)


def test_fewer_larger_ranks_are_better_balanced_by_hand():
    # EP 8 on 256 experts: 32 per rank, so the spread is sqrt(8 / 32) = 1/2 of the measured
    # layout's, and the largest of 8 lies z(8) / z(32) as far out (Blom's z, computed here with
    # the standard library's inverse normal).
    z = NormalDist().inv_cdf
    expected = 1 + 1.564 * 0.5 * z(7.625 / 8.25) / z(31.625 / 32.25)
    assert busiest_rank_load(np.array(8), 256, EXCESS) == pytest.approx(expected, rel=1e-9)
    assert 1.5 < expected < 1.6


def test_one_rank_and_whole_experts_per_rank_bounds():
    loads = busiest_rank_load(np.array([1.0, 2.0, 8.0, 64.0, 256.0, 512.0]), 256, EXCESS)
    assert loads[0] == 1.0
    assert np.all(np.diff(loads[:5]) > 0)      # more ranks, fewer experts each: worse
    assert loads[5] == loads[4]                 # no more ranks than experts


def test_busiest_attention_group_by_hand():
    # TensorRT-LLM blog 10: 8 groups ran 37,912 / 34,140 - 1 = 11.1 % longer than at the mean
    # group's load. One group is balanced; 4 groups scale by Blom's z(4) / z(8), computed here
    # with the standard library's inverse normal.
    excess = load_serving_params().attention_dp_step_excess.value
    assert excess == pytest.approx(37_912 / 34_140 - 1, abs=5e-4)
    z = NormalDist().inv_cdf
    four = excess * z(3.625 / 4.25) / z(7.625 / 8.25)
    got = busiest_group_step(np.array([1.0, 4.0, 8.0, 4.0]), excess)
    assert got == pytest.approx([1.0, 1.0 + four, 1.0 + excess, 1.0 + four])
