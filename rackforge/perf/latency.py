"""Tail latencies of a serving engine with chunked prefill under Poisson arrivals.

An engine steps its ``B`` running sequences; prompts that arrive (Poisson) queue and are
prefilled ``C`` tokens per step (a chunk) beside the decode tokens [1]. Two 99th percentiles
follow, each as MLPerf measures it per request [2]:

* **TTFT**: the prompt queue is an M/G/1 queue (M/G/c where ``c`` pipeline microbatches each
  prefill a prompt [5]) whose server is the chunk lane (service of a
  prompt of ``L`` tokens: ``L`` times the chunk step time per chunk token), prompt lengths
  gamma-distributed around their mean (the benchmark's coefficient of variation). Its wait
  tail is the Cramer-Lundberg form ``P(W > t) = C exp(-eta t)`` [3, 4]: ``eta`` solves
  ``lambda (E[exp(eta S)] - 1) = eta`` and ``C = (1 - rho) / (lambda E[S exp(eta S)] - 1)``,
  capped at the exact ``P(W > 0) = rho`` (exact for M/M/1, where ``C = rho`` and
  ``eta = mu - lambda``). TTFT is that wait plus the prompt's own service; its quantile is
  solved by bisection.
* **TPOT**: a request's output takes ``n`` steps, each its decode work ``t_0`` plus the prefill
  work the engine admits into it; the prompts that arrive while the request runs are prefilled
  during it, and so are those that arrive during their prefill. Its ``n`` intervals therefore
  take ``n t_0`` plus the busy periods of the prompts that arrive during ``n t_0``: the busy
  period of an M/G/1 queue that starts with work ``n t_0`` [6]. A request that shares its steps
  with many prompts waits on each one and on what arrived during it, so its TPOT varies with
  the arrivals around it: the step lengths are correlated (a long step admits more prompts into
  the next) and do not average out as independent steps would [1]. The p99 over requests mixes
  the output-length distribution (gamma with the mean and coefficient of variation of the
  benchmark; exponential at cv 1): short requests that catch a long prompt set the tail [1].

All functions take NumPy arrays that broadcast together; units are seconds and tokens.

References
----------
[1] Agrawal et al., Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve,
    OSDI 2024, Sec. 3 (generation stalls: decodes that share a step with a long prefill) and
    Sec. 4 (chunked prefill with a token budget per step).
[2] MLCommons, MLPerf Inference rules (inference_rules.adoc), LLM latency metrics: TTFT is the
    time to the first token; TPOT the mean interval between the later tokens of a request; both
    are constrained at their 99th percentile over requests.
[3] Kleinrock, Queueing Systems, Vol. 1: Theory, Wiley 1975, Sec. 5.6-5.7 (M/G/1: P(W > 0) =
    rho, the waiting time's transform; the M/M/1 waiting-time distribution
    P(W > t) = rho exp(-mu (1 - rho) t)).
[4] Asmussen, Applied Probability and Queues, 2nd ed., Springer 2003, Ch. XIII.5 (Cramer-Lundberg
    approximation of the M/G/1 waiting time, which by PASTA is the virtual wait: the adjustment
    coefficient and its constant); Abate, Choudhury and Whitt, Exponential approximations for
    tail probabilities in queues, I: waiting times, Operations Research 43 (1995) 885-901 (the
    asymptotic decay rate against the simpler exp(-rho t / E[W]) fit).
[5] Tijms, A First Course in Stochastic Models, Wiley 2003, Sec. 5.4 and 9.2 (Erlang's B and C
    formulas, the exponential M/M/c wait given a wait, and the two-moment M/G/c approximation
    ``E[W] ~ (1 + cv^2) / 2 E[W_M/M/c]`` of Lee and Longton).
[6] Takacs, Introduction to the Theory of Queues, Oxford University Press 1962, Ch. 2; Kleinrock,
    Queueing Systems, Vol. 1, Sec. 5.8: the M/G/1 busy period, ``E[B] = E[S] / (1 - rho)``,
    ``E[B^2] = E[S^2] / (1 - rho)^3``; a busy period that starts with work ``x`` is ``x`` plus
    the busy periods of the Poisson(``lambda x``) arrivals during ``x``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from scipy.special import gammaincc
from scipy.stats import gamma

# Cells of the output-length distribution (cumulative probability): fine in the short tail,
# where the p99 TPOT is decided, coarse in the body.
_CELLS = np.array([0.0, 0.001, 0.002, 0.004, 0.007, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.12,
                   0.2, 0.35, 0.5, 0.7, 0.9, 1.0])
_BISECTIONS = 30        # TTFT: bracket / 2^30
_TPOT_BISECTIONS = 24   # TPOT: its bracket / 2^24
_ROOT_BISECTIONS = 48   # wait-tail decay rate: eta * theta to 4e-15


def _upper_quantile(tail: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray,
                    q: float, steps: int) -> np.ndarray:
    """The `q` quantile of a distribution given by its `tail` (``P(X > x)``, non-increasing),
    bracketed by `lo` and `hi`: bisection, returning the upper end of the last bracket."""
    for _ in range(steps):
        mid = (lo + hi) / 2.0
        over = tail(mid) > 1.0 - q
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    return hi


@lru_cache(maxsize=64)
def output_length_nodes(mean_tokens: float, cv: float) -> tuple[np.ndarray, np.ndarray]:
    """Output intervals per request at the midpoints of `_CELLS` of a gamma distribution with
    mean `mean_tokens` and coefficient of variation `cv` (at least one interval), and the
    cells' probabilities; at ``cv = 0`` (fixed lengths) one node of probability 1."""
    if cv == 0.0:
        return _frozen(np.array([max(round(mean_tokens) - 1.0, 1.0)])), _frozen(np.ones(1))
    shape = 1.0 / cv ** 2
    mid = (_CELLS[1:] + _CELLS[:-1]) / 2.0
    tokens = gamma.ppf(mid, shape, scale=mean_tokens / shape)
    return _frozen(np.maximum(np.round(tokens) - 1.0, 1.0)), _frozen(np.diff(_CELLS))


def tpot_quantile(decode_step_s: np.ndarray, served_step_s: np.ndarray,
                  prompts_per_step: np.ndarray, prompt_cv: float, intervals: np.ndarray,
                  weights: np.ndarray, q: float = 0.99) -> np.ndarray:
    """The `q` quantile over requests of TPOT [s] of an engine whose steps take
    `decode_step_s` ``t_0`` without prompt work and `served_step_s` on average, admitting
    `prompts_per_step` ``m`` prompts per step (Poisson; prompt lengths, hence prefill times,
    gamma with coefficient of variation `prompt_cv`). Requests of ``n`` intervals (the nodes
    `intervals`, probabilities `weights`).

    The prefill share of the engine's time is ``rho = 1 - t_0 / served``; a prompt's prefill
    ``S`` has mean ``(served - t_0) / m`` and ``E[S^2] = E[S]^2 (1 + cv^2)``; prompts arrive at
    ``lambda = m / served``. A request's ``n`` intervals take ``n t_0`` plus the busy periods
    ``B`` of the ``N ~ Poisson(lambda n t_0)`` prompts that arrive during its decode work [6];
    their sum, given ``N >= 1``, is taken as a gamma of its first two moments (``N = 0``, the
    atom at ``n t_0``, has probability ``exp(-lambda n t_0)``). Against a simulation of the
    step sequence the p99 comes out within a few per cent (tests/perf/test_latency.py)."""
    t0, served, m = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in
                                          (decode_step_s, served_step_s, prompts_per_step)))
    rho = np.clip(1.0 - t0 / np.maximum(served, 1e-300), 0.0, 0.999)
    busy = (rho > 0.0) & (m > 0.0)
    mean_s = np.where(busy, (served - t0) / np.where(busy, m, 1.0), 0.0)
    mean_b = mean_s / (1.0 - rho)
    square_b = mean_s ** 2 * (1.0 + prompt_cv ** 2) / (1.0 - rho) ** 3
    n = np.asarray(intervals, dtype=float)
    # prompts arriving during each node's decode work, and the sum of their busy periods
    arrivals = (m / np.maximum(served, 1e-300) * t0)[..., None] * n
    some = -np.expm1(-arrivals)                                    # P(N >= 1)
    first = arrivals * mean_b[..., None] / np.maximum(some, 1e-300)
    second = arrivals * (square_b[..., None] + arrivals * mean_b[..., None] ** 2) \
        / np.maximum(some, 1e-300)
    # candidates without prompt work take a placeholder gamma, weighted by P(N >= 1) = 0
    busy_nodes = busy[..., None] & (first > 0.0)
    first = np.where(busy_nodes, first, 1.0)
    spread = np.where(busy_nodes, np.maximum(second - first ** 2, 1e-12 * first ** 2), 1.0)
    shape, scale = first ** 2 / spread, spread / first
    some = np.where(busy_nodes, some, 0.0)

    def tail(tpot: np.ndarray) -> np.ndarray:
        """P(TPOT > tpot) for each candidate."""
        excess = np.clip(tpot - t0, 0.0, None)[..., None] * n
        return (some * gammaincc(shape, excess / scale) * weights).sum(axis=-1)

    # Cantelli: no node's sum exceeds its mean + k sd with probability above 1 - q
    reach = np.sqrt(q / (1.0 - q))
    hi = t0 + np.where(busy_nodes, (first + reach * np.sqrt(spread)) / n, 0.0).max(axis=-1)
    # where fewer than 1 - q of the requests see any prompt, the quantile is t0 itself
    return np.where(tail(t0) <= 1.0 - q, t0,
                    _upper_quantile(tail, t0.copy(), hi + 1e-12, q, _TPOT_BISECTIONS))


def ttft_quantile(arrivals_per_s: np.ndarray, service_s: np.ndarray, service_cv: float,
                  q: float = 0.99, servers: np.ndarray | float = 1.0) -> np.ndarray:
    """The `q` quantile of wait plus service in an M/G/c queue [s]: Poisson `arrivals_per_s`,
    `servers` servers (a pipelined engine's microbatches, each prefilling one prompt at a
    time), service times gamma-distributed with mean `service_s` and coefficient of variation
    `service_cv` (prompt lengths). Infinite where ``rho = lambda E[S] / c >= 1``.

    One server: the wait is ``P(W > t) = min(rho, C exp(-eta t))`` with the Cramer-Lundberg
    decay rate and constant of the gamma service (`_wait_tail`) [3, 4]; against a
    Lindley-recursion simulation the p99 of wait plus service comes out within about -1 % to
    +4 % for rho from 0.05 to 0.9 and coefficients of variation from 0.43 to 1
    (tests/perf/test_latency.py). Several servers: ``P(W > 0) exp(-eta t)`` of
    `_multi_server_wait_tail` [5]. The service distribution enters through quantile nodes
    (fine in the upper tail)."""
    lam, mean, c = np.broadcast_arrays(np.asarray(arrivals_per_s, float),
                                       np.asarray(service_s, float),
                                       np.asarray(servers, float))
    rho = lam * mean / c
    stable = rho < 1.0
    eta, const = _wait_tail(np.where(stable, rho, 0.0), mean, service_cv)
    cap = np.where(stable, rho, 0.0)        # P(W > 0)
    many = c > 1
    if many.any():
        eta_c, waits = _multi_server_wait_tail(np.where(stable, rho, 0.0), mean, service_cv, c)
        eta, const, cap = (np.where(many, new, old) for new, old in
                           ((eta_c, eta), (waits, const), (waits, cap)))
    shares, weights = _service_nodes(service_cv)
    service = mean[..., None] * shares                   # nodes of S per candidate
    reach = np.log(np.maximum(np.maximum(const, cap), 1e-300) / (1.0 - q)).clip(0.0)
    cap, coef, rate = (a[..., None] for a in (cap, const, eta))

    def tail(t: np.ndarray) -> np.ndarray:
        """P(W + S > t) = sum over nodes: 1 where S > t, else P(W > t - S)."""
        gap = t[..., None] - service
        p = np.where(gap < 0, 1.0, np.minimum(cap, coef * np.exp(-rate * np.clip(gap, 0.0, None))))
        return (p * weights).sum(axis=-1)

    lo = np.zeros_like(mean)
    hi = service[..., -1] + reach / np.maximum(eta, 1e-300) + 1e-12
    return np.where(stable, _upper_quantile(tail, lo, hi, q, _BISECTIONS), np.inf)


def _wait_tail(rho: np.ndarray, mean_s: np.ndarray, cv: float) -> tuple[np.ndarray, np.ndarray]:
    """Decay rate ``eta`` [1/s] and constant ``C`` of the M/G/1 wait tail ``C exp(-eta t)`` for
    gamma service (mean `mean_s`, coefficient of variation `cv`) at load `rho` < 1 [4].

    With shape ``k = 1 / cv^2`` and scale ``theta = mean / k`` the service's moment generating
    function is ``(1 - eta theta)^-k``, so in ``x = eta theta`` the adjustment equation
    ``lambda (M(eta) - 1) = eta`` reads ``(rho / k) ((1 - x)^-k - 1) = x``: convex in x, zero
    at 0 with slope ``rho - 1 < 0``, infinite at 1, so one root in (0, 1), found by bisection.
    ``C = (1 - rho) / (lambda M'(eta) - 1) = (1 - rho) / (rho (1 - x)^(-k - 1) - 1)``."""
    shape = 1.0 / max(cv, 1e-3) ** 2
    lo, hi = np.zeros_like(rho), np.ones_like(rho)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for _ in range(_ROOT_BISECTIONS):
            mid = (lo + hi) / 2.0
            above = rho / shape * np.expm1(-shape * np.log1p(-mid)) > mid
            lo, hi = np.where(above, lo, mid), np.where(above, mid, hi)
        x = (lo + hi) / 2.0
        slope = rho * np.exp(-(shape + 1.0) * np.log1p(-x))
        const = np.where(slope > 1.0, (1.0 - rho) / (slope - 1.0), 0.0)
    busy = (rho > 0) & (mean_s > 0)
    eta = np.where(busy, x * shape / np.where(mean_s > 0, mean_s, 1.0), 0.0)
    return eta, np.where(busy, const, 0.0)


def _multi_server_wait_tail(rho: np.ndarray, mean_s: np.ndarray, cv: float, servers: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Decay rate ``eta`` [1/s] and ``P(W > 0)`` of the M/G/c wait tail ``P(W > t) =
    P(W > 0) exp(-eta t)`` at load ``rho = lambda E[S] / c`` < 1 [5]. The probability of
    waiting is Erlang's C formula of M/M/c (offered load ``a = c rho``; from Erlang's B by
    ``B_k = a B_(k-1) / (k + a B_(k-1))``, ``C = B_c / (1 - rho (1 - B_c))``), and a wait,
    given there is one, is exponential with M/M/c's mean ``E[S] / (c (1 - rho))`` times
    ``(1 + cv^2) / 2`` (the two-moment approximation of Lee and Longton). Exact for
    exponential service."""
    offered = servers * rho
    blocking = np.ones_like(rho)
    for k in range(1, int(servers.max()) + 1):
        step = offered * blocking / (k + offered * blocking)
        blocking = np.where(k <= servers, step, blocking)
    waits = np.where(rho > 0, blocking / (1.0 - rho * (1.0 - blocking)), 0.0)
    given_wait = (1.0 + cv ** 2) / 2.0 * mean_s / (servers * np.maximum(1.0 - rho, 1e-300))
    busy = (rho > 0) & (mean_s > 0)
    return np.where(busy, 1.0 / np.where(busy, given_wait, 1.0), 0.0), waits


# Cells of the prompt-length distribution: fine in the upper tail, where the p99 TTFT is decided.
_SERVICE_CELLS = np.array([0.0, 0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.88, 0.93, 0.96, 0.975, 0.985,
                           0.99, 0.993, 0.996, 0.998, 0.999, 1.0])


@lru_cache(maxsize=64)
def _service_nodes(cv: float) -> tuple[np.ndarray, np.ndarray]:
    """Service times over their mean at the midpoints of `_SERVICE_CELLS` of a gamma
    distribution with coefficient of variation `cv`, and the cells' probabilities."""
    shape = 1.0 / max(cv, 1e-3) ** 2
    mid = (_SERVICE_CELLS[1:] + _SERVICE_CELLS[:-1]) / 2.0
    return _frozen(gamma.ppf(mid, shape, scale=1.0 / shape)), _frozen(np.diff(_SERVICE_CELLS))


def _frozen(values: np.ndarray) -> np.ndarray:
    """`values`, read-only: the node tables are cached and shared by every caller."""
    values.setflags(write=False)
    return values
