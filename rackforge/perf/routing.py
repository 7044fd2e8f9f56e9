"""Load imbalance of served steps: the busiest expert-parallel rank's routed tokens over the
mean rank's, and the busiest attention data-parallel group's step over the mean group's.

Served requests are routed as the router decides, with no balancing loss and no forced
balance, so one rank receives more token copies than the mean and the layer waits for it [1].
TensorRT-LLM measured DeepSeek-R1 on real requests at 32-way expert parallelism with 8 experts
per rank: the hottest rank received ``1 + I_32`` times the mean, ``I_32 = 1.564`` (averaged
over layers and iterations), and the per-expert loads were close to independent (the per-rank
spread, 0.48 of the mean, is the per-expert spread, 1.28, over sqrt(8)) [2]. For other sizes
the excess scales as for independent expert loads: a rank's spread falls as
``1 / sqrt(experts per rank)`` and the largest of ``R`` ranks' loads lies ``z(R)`` spreads
above the mean, with ``z`` the expected maximum of ``R`` standard normals (Blom's
approximation ``z(R) = Phi^-1((R - 0.375) / (R + 0.25))`` [3]):

    max / mean = 1 + I_32 * sqrt(8 / n) * z(R) / z(32),   n = E / R experts per rank.

One rank (or experts held whole by every rank) has no imbalance.

Attention data parallel: each group runs its own requests, so even with the engine's
balancing (contexts held until every group has one) an iteration lasts as long as its busiest
group. TensorRT-LLM measured DeepSeek-V3 on 8 GB200 (DP 8, EP 8, the MLPerf DeepSeek-R1
dataset's lengths) at 34,140 tokens/s against 37,912 had every iteration run at the mean
group's load: steps ``A_8 = 37,912 / 34,140 - 1 = 0.1105`` longer [4]. For ``dp`` groups the
excess is taken to scale as the expected largest of ``dp`` independent loads,
``A_8 z(dp) / z(8)``.

References
----------
[1] Lepikhin et al., GShard, 2020, Sec. 2.2 (the most loaded expert sets the pace; capacity).
[2] NVIDIA TensorRT-LLM tech blog, Scaling Expert Parallelism in TensorRT-LLM (Part 1),
    E2E evaluation, The effect of EP Load Balancer, Table 1 (no EPLB, EP 32: by rank average
    1,024, std 491.6, imbalance ratio (max - mean) / mean 1.564; by expert slot average 128,
    std 164.1).
[3] Blom, Statistical Estimates and Transformed Beta-Variables, 1958 (expected normal order
    statistics); Harter, Expected values of normal order statistics, Biometrika 1961.
[4] NVIDIA TensorRT-LLM tech blog 10, ADP Balance Strategy, Performance Summary (ADP Balance,
    full strategy: actual 34,140 tokens/s, speed of light at perfect per-iteration balance
    37,912).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

MEASURED_RANKS = 32            # the measurement's expert-parallel size [2]
MEASURED_EXPERTS_PER_RANK = 8
MEASURED_GROUPS = 8            # the attention data-parallel measurement's groups [4]


def expected_normal_maximum(ranks: np.ndarray) -> np.ndarray:
    """Expected largest of `ranks` independent standard normals (Blom [3]); 0 for one."""
    ranks = np.asarray(ranks, dtype=float)
    return np.where(ranks > 1, norm.ppf((ranks - 0.375) / (ranks + 0.25)), 0.0)


def scaled_excess(ranks: np.ndarray, measured_excess: float, measured_ranks: int
                  ) -> np.ndarray:
    """A busiest-of-`ranks` excess over the mean measured at `measured_ranks`, scaled as the
    expected largest of independent normal loads, ``z(ranks) / z(measured_ranks)``; 0 at one
    rank [dimensionless]."""
    return measured_excess * expected_normal_maximum(ranks) \
        / expected_normal_maximum(np.array(measured_ranks))


def busiest_group_step(groups: np.ndarray, measured_excess: float) -> np.ndarray:
    """Step time of `groups` attention data-parallel groups over that of balanced groups, with
    `measured_excess` ``A_8`` of the module docstring [dimensionless]."""
    sizes, back = np.unique(np.asarray(groups, dtype=float), return_inverse=True)
    return (1.0 + scaled_excess(sizes, measured_excess, MEASURED_GROUPS))[back] \
        .reshape(np.shape(groups))


def busiest_rank_load(ranks: np.ndarray, experts: int, measured_excess: float) -> np.ndarray:
    """Routed tokens of the busiest of `ranks` expert-parallel ranks over the mean rank's, for
    `experts` routed experts spread evenly over them; `measured_excess` is ``I_32`` of the
    module docstring (at 32 ranks of 8 experts) [dimensionless]."""
    # a search passes thousands of candidates but only a few distinct rank counts
    sizes, back = np.unique(np.minimum(np.asarray(ranks, dtype=float), experts),
                            return_inverse=True)
    excess = np.sqrt(MEASURED_EXPERTS_PER_RANK * sizes / experts) \
        * scaled_excess(sizes, measured_excess, MEASURED_RANKS)
    return (1.0 + excess)[back].reshape(np.shape(ranks))
