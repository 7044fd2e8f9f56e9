"""Closed-form queueing results to check the line simulation against.

Functions
---------
:func:`erlang_c`, :func:`mmc`: the M/M/c queue (open lines: a Jackson network of M/M/c stations
in series is the sum of its stations [3]).
:func:`mva`: exact mean value analysis of a closed network of exponential stations with
``c`` servers (load-dependent MVA) [2] -- a CONWIP line [1].
:func:`best_case`, :func:`practical_worst_case`: Factory Physics' bounds for a CONWIP line [1].
:func:`analytic`: whichever of these applies exactly to a :class:`LineSpec`, or None.

References
----------
[1] Hopp, W. J., Spearman, M. L., *Factory Physics*, 3rd ed., Waveland, 2008, sec. 7.3
    (best case: TH = min(w / T0, rb), CT = max(T0, w / rb); practical worst case:
    TH = w / (W0 + w - 1) rb, CT = T0 + (w - 1) / rb, with W0 = rb T0).
[2] Reiser, M., Lavenberg, S. S., "Mean-value analysis of closed multichain queuing networks",
    J. ACM 27(2), 1980, pp. 313-322 (load-dependent form: Lazowska et al., *Quantitative System
    Performance*, 1984, sec. 20.3).
[3] Erlang, A. K., 1917; Kleinrock, L., *Queueing Systems*, vol. 1, 1975, sec. 3.5 (M/M/c,
    Erlang C formula) and sec. 4.8 (Jackson networks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rackforge.factory.spec import RACK, LineSpec


@dataclass(frozen=True)
class Analytic:
    """A closed-form prediction for a line: method, throughput [racks/h], cycle time [h]."""

    method: str
    throughput_per_h: float
    cycle_time_h: float

    @property
    def wip_racks(self) -> float:
        return self.throughput_per_h * self.cycle_time_h


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue, ``offered_load = lambda/mu`` [Erl]
    < `servers` (Erlang C formula [3])."""
    c, a = servers, offered_load
    if a >= c:
        return 1.0
    term, total = 1.0, 1.0  # a^k / k!, summed for k = 0 .. c-1
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c * c / (c - a)  # a^c / c! * c / (c - a)
    return last / (total + last)


@dataclass(frozen=True)
class MMc:
    """Steady state of an M/M/c queue: waiting probability, wait and time in system [h]."""

    utilization: float
    p_wait: float
    wait_h: float
    time_in_system_h: float


def mmc(arrival_rate_per_h: float, mean_service_h: float, servers: int) -> MMc:
    """The M/M/c queue [3]: ``Wq = C(c, a) / (c mu - lambda)``, ``W = Wq + 1/mu``."""
    a = arrival_rate_per_h * mean_service_h
    if a >= servers:
        return MMc(a / servers, 1.0, math.inf, math.inf)
    pw = erlang_c(servers, a)
    wq = pw / (servers / mean_service_h - arrival_rate_per_h)
    return MMc(a / servers, pw, wq, wq + mean_service_h)


def mva(mean_service_h: list[float], servers: list[int], wip: int) -> tuple[float, float]:
    """Exact MVA of a closed line of exponential stations [2]: (throughput [1/h], cycle [h]).

    Station ``i`` serves at rate ``min(n, c_i) / s_i`` with ``n`` jobs present; the marginal
    queue-length probabilities ``p_i(j | n)`` are carried from population ``n - 1`` to ``n``.
    """
    probs = [[1.0] for _ in mean_service_h]  # p_i(j | 0)
    throughput = cycle = 0.0
    for n in range(1, wip + 1):
        resid = []
        for s, c, p in zip(mean_service_h, servers, probs, strict=True):
            resid.append(sum(j * s / min(j, c) * p[j - 1] for j in range(1, n + 1)))
        cycle = sum(resid)
        throughput = n / cycle
        for i, (s, c) in enumerate(zip(mean_service_h, servers, strict=True)):
            old = probs[i]
            new = [0.0] + [throughput * s / min(j, c) * old[j - 1] for j in range(1, n + 1)]
            new[0] = max(1.0 - sum(new[1:]), 0.0)
            probs[i] = new
    return throughput, cycle


def best_case(mean_service_h: list[float], servers: list[int], wip: int) -> tuple[float, float]:
    """Factory Physics best case of a CONWIP line [1]: (throughput [1/h], cycle time [h])."""
    t0 = sum(mean_service_h)
    rb = min(c / t for c, t in zip(servers, mean_service_h, strict=True))
    return min(wip / t0, rb), max(t0, wip / rb)


def practical_worst_case(mean_service_h: list[float], servers: list[int],
                         wip: int) -> tuple[float, float]:
    """Factory Physics practical worst case [1]: (throughput [1/h], cycle time [h])."""
    t0 = sum(mean_service_h)
    rb = min(c / t for c, t in zip(servers, mean_service_h, strict=True))
    w0 = rb * t0
    return wip / (w0 + wip - 1) * rb, t0 + (wip - 1) / rb


def analytic(line: LineSpec) -> Analytic | None:
    """The exact closed form for `line` if it fits one, else None.

    Fits: a line of rack stations only (no trays, batches, failures, yield losses, buffers or
    shifts) whose times are all exponential (CONWIP: MVA; push with exponential interarrival
    times: M/M/c per station) or, for CONWIP, all fixed (best case, exact for deterministic
    lines).
    """
    st = line.stations
    simple = (not line.rack.trays and line.calendar.always_on
              and all(s.kind == "process" and s.unit == RACK and s.mtbf_h is None
                      and s.first_pass_yield == 1.0 and s.buffer is None for s in st))
    if not simple or not _serial(line):
        return None
    dists = {s.time_h.dist for s in st}
    means = [s.time_h.expected_h for s in st]
    servers = [s.servers for s in st]
    rel = line.release
    if rel.policy == "conwip" and dists == {"exponential"}:
        return Analytic("MVA (Reiser & Lavenberg)", *mva(means, servers, rel.wip_cap))
    if rel.policy == "conwip" and dists == {"fixed"}:
        return Analytic("best case (Hopp & Spearman)", *best_case(means, servers, rel.wip_cap))
    if rel.policy == "push" and rel.interarrival == "exponential" and dists == {"exponential"}:
        lam = rel.arrival_rate_per_h
        queues = [mmc(lam, m, c) for m, c in zip(means, servers, strict=True)]
        return Analytic("Erlang C (M/M/c)", lam, sum(q.time_in_system_h for q in queues))
    return None


def _serial(line: LineSpec) -> bool:
    """True if the stations form one chain from the first to ``ship`` in list order."""
    names = [s.name for s in line.stations]
    return all(s.next == (names[i + 1] if i + 1 < len(names) else "ship")
               for i, s in enumerate(line.stations))
