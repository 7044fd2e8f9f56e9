"""Tail latencies of chunked-prefill serving (rackforge.perf.latency): expected values from the
Poisson-Erlang series by hand, from M/G/1 closed forms, from a Lindley-recursion simulation
of the prompt queue and a step-by-step simulation of the engine (independent computations of
the same processes)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import gamma

from rackforge.perf.latency import (
    _multi_server_wait_tail,
    _wait_tail,
    output_length_nodes,
    tpot_quantile,
    ttft_quantile,
)


def test_tpot_p99_of_rare_prompts_is_the_poisson_erlang_quantile():
    # One interval of decode work t0 = 10 ms; prompts arrive at 5/s (0.05 expected during it),
    # exponential prefill of mean 2 ms (rho = 0.01, so a busy period is the prefill itself, to
    # 1 %). By hand: P(TPOT > t0 + x) = sum_k Poisson(k; 0.05) P(Erlang_k > x), which is 1 %
    # at x = 1.625 mean prefills (k = 1: 0.04756 e^-x, k = 2: 0.00119 e^-x (1 + x), ...).
    lam, t0, prefill = 5.0, 0.01, 0.002
    rho = lam * prefill
    served = t0 / (1.0 - rho)
    x = brentq(lambda x: sum(math.exp(-0.05) * 0.05 ** k / math.factorial(k)
                             * gamma.sf(x, k) for k in range(1, 8)) - 0.01, 0.1, 10.0)
    assert x == pytest.approx(1.625, abs=1e-3)
    got = tpot_quantile(np.array([t0]), np.array([served]), np.array([lam * served]), 1.0,
                        np.array([1.0]), np.array([1.0]))
    assert got[0] == pytest.approx(t0 + x * prefill, rel=0.01)


def test_tpot_of_requests_that_see_no_prompt_is_the_decode_step():
    # 0.005 prompts expected during a request's decode work: fewer than 1 % see one; and
    # engines with no prompt work at all (no arrivals, or steps no longer than decode-only).
    got = tpot_quantile(np.full(3, 0.01), np.array([0.0101, 0.0101, 0.01]),
                        np.array([0.0005, 0.0, 2.0]), 0.5, np.array([10.0]), np.array([1.0]))
    assert got.tolist() == [0.01, 0.01, 0.01]


def test_tpot_of_very_long_requests_is_the_mean_step():
    # Over a million intervals the busy periods average out: TPOT is the served step
    # t0 / (1 - rho), here 10 ms / 0.6 (the M/G/1 mean busy period per unit of work).
    got = tpot_quantile(np.array([0.01]), np.array([0.01 / 0.6]), np.array([2.0]), 0.5,
                        np.array([1e6]), np.array([1.0]))
    assert got[0] == pytest.approx(0.01 / 0.6, rel=0.005)


def test_output_length_nodes_of_cv_one_are_exponential_quantiles():
    intervals, weights = output_length_nodes(300.0, 1.0)
    assert weights.sum() == pytest.approx(1.0)
    # the cell from 0.5 to 0.7 has its node at u = 0.6: -300 ln(0.4) = 274.9 tokens, 274 intervals
    mid = np.flatnonzero(np.isclose(weights, 0.2))[0]
    assert intervals[mid] == round(-300 * math.log(0.4)) - 1


def test_fixed_output_length_is_one_node():
    # cv 0 (synthetic benchmarks: every request alike): 128 output tokens are 127 intervals.
    intervals, weights = output_length_nodes(128.0, 0.0)
    assert intervals.tolist() == [127.0] and weights.tolist() == [1.0]


def test_ttft_without_queueing_is_the_service_quantile():
    # Vanishing load: TTFT is the service time itself, gamma with mean 1 s and cv 0.5
    # (shape 4): its 99th percentile, from the gamma quantile function, up to the node grid.
    got = ttft_quantile(np.array([1e-9]), np.array([1.0]), 0.5)
    assert got[0] == pytest.approx(gamma.ppf(0.99, 4.0, scale=0.25), rel=0.03)


def test_ttft_unstable_queue_is_infinite():
    assert np.isinf(ttft_quantile(np.array([1.2]), np.array([1.0]), 0.5))[0]


@pytest.mark.parametrize("cv", [0.43, 0.77])
@pytest.mark.parametrize("rho", [0.05, 0.2, 0.5, 0.8, 0.9])
def test_ttft_p99_against_a_lindley_simulation(rho, cv):
    # M/G/1 with gamma service of mean 1 s; wait by Lindley's recursion
    # W_{k+1} = max(0, W_k + S_k - A_{k+1}), written as a running minimum of the partial sums.
    rng = np.random.default_rng(7)
    n, shape = 1_000_000, 1.0 / cv ** 2
    gaps, service = rng.exponential(1.0 / rho, n), rng.gamma(shape, 1.0 / shape, n)
    walk = np.concatenate(([0.0], np.cumsum(service[:-1] - gaps[1:])))
    wait = walk - np.minimum.accumulate(walk)
    simulated = np.quantile(wait + service, 0.99)
    got = ttft_quantile(np.array([rho]), np.array([1.0]), cv)[0]
    # the Cramer-Lundberg wait tail: within about -1 % to +4 % of the simulated queue (the
    # former exp(-rho t / E[W]) fit was up to 10 % high at cv 0.43)
    assert simulated * 0.98 <= got <= simulated * 1.05


def test_wait_tail_of_exponential_service_is_the_m_m_1_distribution():
    # M/M/1: P(W > t) = rho exp(-(mu - lambda) t) [Kleinrock 5.7]: eta = mu - lambda, C = rho.
    eta, const = _wait_tail(np.array([0.3, 0.8]), np.array([2.0, 0.5]), 1.0)
    assert eta == pytest.approx([1 / 2.0 - 0.3 / 2.0, 1 / 0.5 - 0.8 / 0.5], rel=1e-9)
    assert const == pytest.approx([0.3, 0.8], rel=1e-9)


def test_wait_tail_of_erlang_2_service_by_hand():
    # Erlang-2 service (cv 1/sqrt 2), mean 1 s, rho 0.5. With u = 1 - eta theta (theta = 1/2) the
    # adjustment equation (rho / 2) (u^-2 - 1) = 1 - u factors to 2 u^2 - rho u - rho = 0, so
    # u = (rho + sqrt(rho^2 + 8 rho)) / 4 = 0.640388; eta = 2 (1 - u) = 0.719224;
    # C = (1 - rho) / (rho u^-3 - 1) = 0.553170.
    u = (0.5 + math.sqrt(0.25 + 4.0)) / 4.0
    eta, const = _wait_tail(np.array([0.5]), np.array([1.0]), 1.0 / math.sqrt(2.0))
    assert eta[0] == pytest.approx(2.0 * (1.0 - u), rel=1e-9)
    assert const[0] == pytest.approx(0.5 / (0.5 / u ** 3 - 1.0), rel=1e-9)
    assert eta[0] == pytest.approx(0.719224, rel=1e-5)
    assert const[0] == pytest.approx(0.553170, rel=1e-5)


def test_wait_tail_of_m_m_2_by_hand():
    # M/M/2, mean service 1 s, lambda 1.2 (rho 0.6): Erlang C = 2 rho^2 / (1 + rho) = 0.45 and
    # a wait, given one, is exponential at rate c mu - lambda = 0.8 [Tijms 5.4].
    eta, waits = _multi_server_wait_tail(np.array([0.6]), np.array([1.0]), 1.0, np.array([2.0]))
    assert waits[0] == pytest.approx(2 * 0.6 ** 2 / 1.6, rel=1e-12)
    assert eta[0] == pytest.approx(0.8, rel=1e-12)


@pytest.mark.parametrize("servers", [2, 4])
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_ttft_p99_of_several_prefill_lanes_against_a_simulation(servers, rho):
    # M/G/c FCFS with gamma service (cv 0.43, the Llama 3.1 405B prompts), mean 1 s, simulated
    # by the Kiefer-Wolfowitz workload vector: an arrival waits for the least loaded server.
    rng = np.random.default_rng(11)
    n, shape = 200_000, 1.0 / 0.43 ** 2
    gaps = rng.exponential(1.0 / (rho * servers), n)
    service = rng.gamma(shape, 1.0 / shape, n)
    load, total = [0.0] * servers, np.empty(n)
    for k in range(n):
        load.sort()
        total[k] = load[0] + service[k]
        load[0] = total[k]
        load = [max(x - gaps[k], 0.0) for x in load]
    simulated = np.quantile(total, 0.99)
    got = ttft_quantile(np.array([rho * servers]), np.array([1.0]), 0.43,
                        servers=np.array([float(servers)]))[0]
    # the two-moment approximation: 0 to +6 % over c = 2, 4, rho 0.2 to 0.9, cv 0.43 and 1
    # (400,000 arrivals each); the bound leaves room for this shorter run's sampling error
    assert simulated * 0.98 <= got <= simulated * 1.10


def _measured_runs() -> list[dict[str, str]]:
    with (Path(__file__).parent.parent / "data" / "mlperf_latency_quantiles.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("run", _measured_runs(), ids=lambda run: run["case"])
def test_ttft_quantiles_against_mlperf_server_runs(run):
    """Measured TTFT of MLPerf v5.1 Llama 3.1 405B server runs with one engine on the system
    (mlperf_log_detail.txt: the queries per second completed and the 50th, 90th and 99th
    percentile TTFT). The prompt queue's one unknown, the prefill time of a mean prompt, is
    set so that the model's median matches the measured one; the M/G/1 queue (Poisson arrivals,
    prompt lengths of cv 0.431) must then give the measured 90th and 99th percentiles: it
    comes out +1 to +9 % and +7 to +12 %. Runs that deal their queries over several engines
    are not here: their tails are lighter than one M/G/1 queue per engine (tests/data/README)."""
    lam = np.array([float(run["queries_per_s"])])
    quantile = {q: float(run[f"ttft_p{q}_s"]) for q in (50, 90, 99)}

    def model(service_s: float, q: float) -> float:
        return float(ttft_quantile(lam, np.array([service_s]), 0.431, q=q)[0])

    service_s = brentq(lambda s: model(s, 0.5) - quantile[50], 0.05, 0.999 / lam[0])
    assert 0.3 < lam[0] * service_s < 0.8                 # a loaded queue, not an idle one
    assert model(service_s, 0.9) == pytest.approx(quantile[90], rel=0.12)
    assert model(service_s, 0.99) == pytest.approx(quantile[99], rel=0.15)


def _simulated_tpot(decode_s, prefill_s_per_token, arrivals_per_s, prompt_tokens, prompt_cv,
                    intervals, budget_tokens, steps=100_000, seed=5):
    """Quantiles (50, 90, 99 %) of TPOT over requests in a simulated step sequence: each step
    takes `decode_s` plus the prefill of the prompt tokens it admits (those that arrived
    during the previous step and any backlog, at most `budget_tokens`); a request spans
    `intervals` consecutive steps from a random start. Also the mean step."""
    rng = np.random.default_rng(seed)
    shape = 1.0 / prompt_cv ** 2
    step_s, backlog, previous = np.empty(steps), 0.0, decode_s
    for k in range(steps):
        count = rng.poisson(arrivals_per_s * previous)     # arrivals during the last step
        if count:
            backlog += rng.gamma(shape, prompt_tokens / shape, count).sum()
        admitted = min(backlog, budget_tokens)
        backlog -= admitted
        previous = step_s[k] = decode_s + prefill_s_per_token * admitted
    walk = np.concatenate(([0.0], np.cumsum(step_s)))
    starts = rng.integers(1_000, steps - intervals, 100_000)
    tpot = (walk[starts + intervals] - walk[starts]) / intervals
    return np.quantile(tpot, [0.5, 0.9, 0.99]), step_s[1_000:].mean()


@pytest.mark.parametrize("run", _measured_runs(), ids=lambda run: run["case"])
def test_tpot_quantiles_against_mlperf_server_runs(run):
    """Measured TPOT of the same single-engine 405B server runs (mean and 50th, 90th and 99th
    percentiles). The mean TPOT is the mean step; the one unknown, the share of the engine's
    time that goes to prefill, is set so that the model's median matches the measured one
    (0.48 on the H200 runs, 0.36 on the GB200 ones); the busy-period model must then give the
    measured 90th and 99th percentiles: +0.2..+1.7 % and -0.8..+1.1 % on H200, -5..-6 % and
    -9..-11 % on GB200. Output lengths: the benchmark's mean 684.68 and cv 0.381."""
    lam, mean = float(run["queries_per_s"]), float(run["tpot_mean_s"])
    quantile = {q: float(run[f"tpot_p{q}_s"]) for q in (50, 90, 99)}
    intervals, weights = output_length_nodes(684.68, 0.381)

    def model(prefill_share: float, q: float) -> float:
        return float(tpot_quantile(np.array([mean * (1.0 - prefill_share)]), np.array([mean]),
                                   np.array([lam * mean]), 0.431, intervals, weights, q=q)[0])

    share = brentq(lambda x: model(x, 0.5) - quantile[50], 0.01, 0.6)
    assert 0.2 < share < 0.6
    assert model(share, 0.9) == pytest.approx(quantile[90], rel=0.08)
    assert model(share, 0.99) == pytest.approx(quantile[99], rel=0.13)


@pytest.mark.parametrize(
    ("decode_s", "per_token_s", "rate", "prompt", "cv", "intervals", "budget"),
    [(0.009, 6.2e-6, 109.5, 870, 0.43, 127, 12_000),     # Llama 3.1 8B on one B200
     (0.009, 6.2e-6, 60.0, 870, 0.43, 127, 12_000),
     (0.04, 3e-5, 0.3, 9_400, 0.43, 600, 2_048),        # 405B-like: long prompts in chunks
     (0.045, 4e-5, 5.0, 800, 0.5, 300, 3_456),
     (0.02, 1e-5, 20.0, 1_000, 0.6, 20, 8_192)])        # short requests
def test_tpot_quantiles_against_a_simulated_step_sequence(decode_s, per_token_s, rate, prompt,
                                                          cv, intervals, budget):
    # The busy-period model against a step-by-step simulation: within 4 % at p50, p90 and p99
    # (it ran -0.4 to +1.2 % over these cases). Independent steps (the same per-step spread
    # without the feedback of a long step on the next one's arrivals) come out 9 % low at
    # p99 in the first case, 7 % in the last.
    (p50, p90, p99), mean_step = _simulated_tpot(decode_s, per_token_s, rate, prompt, cv,
                                                 intervals, budget)
    rho = rate * per_token_s * prompt
    served = decode_s / (1.0 - rho)
    assert mean_step == pytest.approx(served, rel=0.01)
    for q, simulated in ((0.5, p50), (0.9, p90), (0.99, p99)):
        got = tpot_quantile(np.array([decode_s]), np.array([served]),
                            np.array([rate * served]), cv, np.array([float(intervals)]),
                            np.array([1.0]), q=q)[0]
        assert got == pytest.approx(simulated, rel=0.04)
