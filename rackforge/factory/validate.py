"""``rackforge validate queueing``: simulate each case of a queueing reference table.

The table (``queueing_reference.csv``, see ``tests/data/README.md``) has one row per case: a
CONWIP line (``wip`` racks) or an open line (``arrival_rate_per_h``) of ``stations`` in series
with ``servers`` and ``mean_service_h`` per station (comma lists), ``distribution``
``exponential`` or ``deterministic``, and the reference ``throughput_per_h`` and
``cycle_time_h``. Each case becomes a :class:`LineSpec` and is simulated replication by
replication until the 95 % confidence interval is narrow enough (below), then shown beside the
closed form. A case passes when the reference lies within the tolerance of the estimate.

Sequential stopping: the sequential procedure for a relative precision of Law & Kelton
(Law, *Simulation Modeling and Analysis*, 5th ed., 2015, sec. 9.4.1): after ``n0`` replications,
add one at a time until the half-width ``delta(n)`` of the 95 % interval satisfies
``delta(n) / |mean(n)| <= gamma / (1 + gamma)`` for the relative precision ``gamma``
(``--precision``), for the throughput and the cycle time alike, then the relative error of the
mean is at most ``gamma`` with about 95 % confidence. A case that reaches
:data:`MAX_REPLICATIONS` first is *inconclusive*: its interval never got narrow enough to say.
Open cases estimate the cycle time with the realized utilization as a control variate (see
:meth:`~rackforge.factory.statistics.Estimate.with_control`), which removes the part of the
run-to-run noise due to the realized load (about 40 % of the variance at rho = 0.9).

Run lengths: a closed line settles quickly; an open M/M/c queue at utilization ``rho`` has
relaxation time about ``1 / (mu (1 - sqrt(rho))^2)`` (Kleinrock, *Queueing Systems* vol. 1,
1975, sec. 2.3) and the variance of its mean waiting time grows as ``(1 - rho)^-4`` (Whitt,
Oper. Res. 37(6), 1989), so open cases get a warm-up of 20 relaxation times and horizons sized
from that variance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rackforge.errors import InputError
from rackforge.factory.queueing import Analytic, analytic
from rackforge.factory.simulation import RunConfig, run_replication
from rackforge.factory.spec import LineSpec
from rackforge.factory.statistics import Estimate
from rackforge.inputs import read_csv_rows, validate

TOLERANCE = 0.02
PRECISION = 0.02          # default relative precision gamma of the sequential procedure
MAX_REPLICATIONS = 40     # twice the fixed count the open cases used to get
# Open cases: the run a replication needs grows as (1 - rho)^-4 (module docstring): at
# rho = 0.95 it is 16 times the rho = 0.9 case's (about 10 s a replication), beyond it minutes.
MAX_RHO = 0.95
# Closed cases: a replication runs 1000 cycle times, i.e. 1000 x wip racks (Little's law).
MAX_WIP = 1000
MAX_STATIONS = 50
COLUMNS = ("case", "model", "stations", "servers", "mean_service_h", "arrival_rate_per_h",
           "wip", "distribution", "throughput_per_h", "cycle_time_h")


@dataclass(frozen=True)
class Case:
    """One row of the reference table and the line it describes."""

    name: str
    source: str
    line: LineSpec
    throughput_per_h: float
    cycle_time_h: float
    note: str = ""


@dataclass(frozen=True)
class CaseResult:
    """Simulated throughput [racks/h] and cycle time [h] with 95 % CIs vs the reference."""

    case: Case
    throughput_per_h: Estimate
    cycle_time_h: Estimate
    analytic: Analytic | None
    precision: float = PRECISION

    @property
    def throughput_error(self) -> float:
        return self.throughput_per_h.mean / self.case.throughput_per_h - 1.0

    @property
    def cycle_time_error(self) -> float:
        return self.cycle_time_h.mean / self.case.cycle_time_h - 1.0

    @property
    def narrow(self) -> bool:
        """Both intervals within the relative precision (Law & Kelton's stopping rule)."""
        return all(narrow_enough(e, self.precision)
                   for e in (self.throughput_per_h, self.cycle_time_h))

    @property
    def status(self) -> str:
        """``passed`` (each reference within the tolerance of its estimate), ``failed``, or
        ``inconclusive`` (the intervals never got narrow enough to say)."""
        if not self.narrow:
            return "inconclusive"
        ests = ((self.throughput_per_h, self.case.throughput_per_h),
                (self.cycle_time_h, self.case.cycle_time_h))
        ok = all(abs(ref - e.mean) <= TOLERANCE * abs(e.mean) for e, ref in ests)
        return "passed" if ok else "failed"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        a = self.analytic
        return {"case": self.case.name, "source": self.case.source,
                "reference": {"throughput_per_h": self.case.throughput_per_h,
                              "cycle_time_h": self.case.cycle_time_h},
                "simulated": {"throughput_per_h": vars(self.throughput_per_h),
                              "cycle_time_h": vars(self.cycle_time_h)},
                "analytic": None if a is None else {"method": a.method,
                                                    "throughput_per_h": a.throughput_per_h,
                                                    "cycle_time_h": a.cycle_time_h},
                "error": {"throughput": self.throughput_error,
                          "cycle_time": self.cycle_time_error},
                "replications": self.throughput_per_h.n, "status": self.status,
                "passed": self.passed}


def narrow_enough(e: Estimate, precision: float) -> bool:
    """Half-width within ``precision / (1 + precision)`` of the mean (Law & Kelton's adjusted
    relative precision, so the mean's relative error is within ``precision``)."""
    return e.half_width <= precision / (1.0 + precision) * abs(e.mean)


def read_cases(path: str | Path) -> list[Case]:
    """Read a queueing reference CSV; a malformed row is an :class:`InputError`."""
    path = Path(path)
    rows = read_csv_rows(path)
    if not rows or any(c not in rows[0] for c in COLUMNS):
        raise InputError("not a queueing reference table", str(path), None, None,
                         f"CSV columns {', '.join(COLUMNS)}")
    return [_case(row, str(path), i + 2) for i, row in enumerate(rows)]


def _numbers(row: dict[str, str], file: str, where: str) -> tuple[int, list, list, tuple]:
    """Stations, servers, mean service times [h] and the two references of a row."""
    try:
        if None in row:
            raise ValueError
        n_stations = int(row["stations"])
        servers = [int(x) for x in row["servers"].split(",")]
        means = [float(x) for x in row["mean_service_h"].split(",")]
        refs = float(row["throughput_per_h"]), float(row["cycle_time_h"])
        if not all(0 < x < math.inf for x in (*means, *refs)) or min(servers) < 1 \
                or not 1 <= n_stations <= MAX_STATIONS:
            raise ValueError
    except ValueError:
        raise InputError("stations, servers, mean_service_h and the references must be numbers "
                         "(positive; no more cells than the header)", file, where,
                         row.get("case"), f"e.g. stations '2' (at most {MAX_STATIONS}), servers "
                         "'1,1', mean_service_h '2,2'") from None
    return n_stations, servers, means, refs


def _case(row: dict[str, str], file: str, line_no: int) -> Case:
    where = f"line {line_no}"
    n_stations, servers, means, refs = _numbers(row, file, where)
    dist = {"deterministic": "fixed", "exponential": "exponential"}.get(row["distribution"])
    if dist is None or len(servers) != len(means) or len(servers) != n_stations:
        raise InputError("bad case", file, where, row["case"],
                         "distribution deterministic or exponential and one server count and "
                         "mean per station")
    if row["model"] not in ("conwip", "open"):
        raise InputError("unknown queueing model", file, f"{where}, column model", row["model"],
                         "conwip (closed, wip given) or open (arrival_rate_per_h given)")
    names = [f"s{i + 1}" for i in range(len(means))]
    stations = [{"name": n, "servers": c, "time_h": {"dist": dist, "mean_h": m},
                 "next": names[i + 1] if i + 1 < len(names) else "ship"}
                for i, (n, c, m) in enumerate(zip(names, servers, means, strict=True))]
    if row["model"] == "conwip":
        release = {"policy": "conwip", "wip_cap": row["wip"]}
    else:
        release = {"policy": "push", "rate_per_h": row["arrival_rate_per_h"],
                   "interarrival": "exponential"}
    spec = validate(LineSpec, {"name": row["case"], "release": release, "stations": stations},
                    file, where)
    _check_load(spec, file, where)
    return Case(row["case"], row.get("source", ""), spec, *refs, row.get("note", ""))


def _check_load(line: LineSpec, file: str, where: str) -> None:
    """An open case must be a stable queue not too close to saturation (:data:`MAX_RHO`); a
    closed one at most :data:`MAX_WIP` racks. Checked before any simulation."""
    if line.release.policy == "conwip":
        if line.release.wip_cap > MAX_WIP:
            raise InputError("too many racks in a closed case to simulate in bounded time",
                             file, f"{where}, column wip", line.release.wip_cap,
                             f"at most {MAX_WIP} (each replication ships 1000 x wip racks)")
        return
    rate = line.release.arrival_rate_per_h
    rho, name = max((rate * s.time_h.expected_h / s.servers, s.name) for s in line.stations)
    if rho >= 1.0:
        raise InputError(f"the queue is unstable: utilization rho = {rho:.4g} >= 1 at station "
                         f"{name}, so it grows without bound and has no steady state", file,
                         f"{where}, column arrival_rate_per_h", rate,
                         "arrival_rate_per_h x mean_service_h / servers < 1 at every station")
    if rho > MAX_RHO:
        raise InputError(f"utilization rho = {rho:.4g} at station {name} is too close to 1 to "
                         f"simulate in bounded time (run length grows as (1 - rho)^-4)", file,
                         f"{where}, column arrival_rate_per_h", rate,
                         f"rho <= {MAX_RHO} at every station")


def plan(case: Case) -> tuple[int, RunConfig]:
    """Replications and run length for `case` (see the module docstring)."""
    line = case.line
    if line.release.policy == "conwip":
        cycle = case.cycle_time_h
        if all(s.time_h.dist == "fixed" for s in line.stations):
            return 2, RunConfig(warmup_h=10 * cycle, horizon_h=100 * cycle)
        return 10, RunConfig(warmup_h=50 * cycle, horizon_h=1000 * cycle)
    rho, mean_h, servers = max((line.release.arrival_rate_per_h * s.time_h.expected_h / s.servers,
                                s.time_h.expected_h, s.servers) for s in line.stations)
    relax_h = mean_h / (1.0 - math.sqrt(rho)) ** 2
    # The variance of the mean time in system is of order (1 - rho)^-4 per hour simulated:
    # 20 (s / c) (1 - rho)^-4 hours a replication, 20 replications and the utilization control
    # variate give a half-width near 1.6 % (measured at rho = 0.9: M/M/1 and M/M/2). The
    # sequential procedure starts from n0 = 10 (Law's advice for a usable variance estimate).
    horizon_h = 20.0 * mean_h / servers * (1.0 - rho) ** -4
    return 10, RunConfig(warmup_h=20 * relax_h, horizon_h=max(horizon_h, 1000 * mean_h))


def run_case(case: Case, seed: int = 1,
             on_progress: Callable[[int, int], None] | None = None, *,
             precision: float = PRECISION,
             max_replications: int = MAX_REPLICATIONS) -> CaseResult:
    """Simulate `case` replication by replication until both 95 % intervals are within the
    relative `precision` or `max_replications` have run (Law & Kelton's sequential procedure,
    module docstring), and compare it with its reference. `on_progress(done, most)` is called
    after each replication. Replication ``i`` draws from ``SeedSequence(seed).spawn(...)[i]``,
    so a longer run extends a shorter one."""
    first, config = plan(case)
    first = min(first, max_replications)
    stats = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(max_replications)):
        stats.append(run_replication(case.line, child, config))
        if on_progress is not None:
            on_progress(i + 1, max_replications)
        if i + 1 < first:
            continue
        th, ct = _estimates(case, stats)
        if narrow_enough(th, precision) and narrow_enough(ct, precision):
            break
    return CaseResult(case, th, ct, analytic(case.line), precision)


def _estimates(case: Case, stats: list) -> tuple[Estimate, Estimate]:
    """Throughput [racks/h] and cycle time [h] over the replications so far."""
    th = Estimate.of([s.throughput_per_h for s in stats])
    cycles = [s.cycle_h.mean() if len(s.cycle_h) else 0.0 for s in stats]
    rate = case.line.release.arrival_rate_per_h
    if rate is None:
        return th, Estimate.of(cycles)
    # control variate: the realized utilization, whose mean lambda s / c is known
    rho = np.mean([rate * s.time_h.expected_h / s.servers for s in case.line.stations])
    return th, Estimate.with_control(cycles, [s.busy.mean() for s in stats], float(rho))
