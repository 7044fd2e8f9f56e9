"""Output analysis across replications: means with 95 % confidence intervals, the bottleneck,
and Little's law.

Replication/deletion method: each replication discards its warm-up and yields one observation of
each statistic; the confidence interval uses Student's t with ``R - 1`` degrees of freedom
(Law, *Simulation Modeling and Analysis*, 5th ed., sec. 9.4.1 and 9.5.1).

Little's law ``L = lambda W`` (Little, Oper. Res. 9(3), 1961) is checked on every run: the
time-average number of racks inside (release to ship) against throughput [racks/h] times mean
cycle time [h]. The two sides differ only by racks straddling the ends of the window.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from rackforge.factory.queueing import Analytic, analytic
from rackforge.factory.spec import HOURS_PER_WEEK, LineSpec

# Two-sided 95 % Student t quantiles t(0.975, df).
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
         16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042,
         40: 2.021, 60: 2.000, 120: 1.980}


def t975(df: int) -> float:
    """Student t quantile for a two-sided 95 % interval with `df` degrees of freedom."""
    if df < 1:
        return math.inf
    if df in _T975:
        return _T975[df]
    keys = sorted(_T975)
    hi = next((k for k in keys if k > df), None)
    if hi is None:
        return 1.960 + 2.4 / df  # large df: approaches the normal quantile
    lo = max(k for k in keys if k < df)
    w = (1 / df - 1 / hi) / (1 / lo - 1 / hi)  # interpolate in 1/df
    return _T975[hi] + w * (_T975[lo] - _T975[hi])


@dataclass(frozen=True)
class Estimate:
    """Mean over replications and the half-width of its 95 % confidence interval."""

    mean: float
    half_width: float
    n: int

    @classmethod
    def of(cls, values: np.ndarray | list[float]) -> Estimate:
        x = np.asarray(values, dtype=float)
        n = len(x)
        hw = t975(n - 1) * x.std(ddof=1) / math.sqrt(n) if n > 1 else math.inf
        return cls(float(x.mean()), float(hw), n)

    @classmethod
    def with_control(cls, values: np.ndarray | list[float], controls: np.ndarray | list[float],
                     control_mean: float) -> Estimate:
        """Control-variate estimate of the mean of `values`, using `controls` whose true mean
        `control_mean` is known (Lavenberg & Welch, Manage. Sci. 27(3), 1981; Law, sec. 11.3):
        regress ``Y_i = a + b (C_i - mu_C) + e_i``; ``a`` is the estimate, with a t interval
        on ``R - 2`` degrees of freedom."""
        y, c = np.asarray(values, dtype=float), np.asarray(controls, dtype=float) - control_mean
        n = len(y)
        s_cc = float(((c - c.mean()) ** 2).sum())
        if n < 4 or s_cc == 0.0:
            return cls.of(y)
        b = float(((c - c.mean()) * (y - y.mean())).sum()) / s_cc
        a = float(y.mean() - b * c.mean())
        resid = y - a - b * c
        var_e = float((resid ** 2).sum()) / (n - 2)
        hw = t975(n - 2) * math.sqrt(var_e * (1.0 / n + c.mean() ** 2 / s_cc))
        return cls(a, hw, n)

    @property
    def relative_half_width(self) -> float:
        return self.half_width / abs(self.mean) if self.mean else math.inf

    def scaled(self, factor: float) -> Estimate:
        return Estimate(self.mean * factor, self.half_width * abs(factor), self.n)


@dataclass(frozen=True)
class RepStats:
    """Raw statistics of one replication (per-station arrays in the line's station order).

    ``busy``, ``blocked`` and ``down`` are fractions of server time; ``in_station`` is the
    time-average number of units at each station [units]."""

    window_h: float
    shipped: int
    scrapped: int
    cycle_h: np.ndarray
    wip_racks: float
    busy: np.ndarray
    blocked: np.ndarray
    down: np.ndarray
    in_station: np.ndarray
    events: int

    @property
    def throughput_per_h(self) -> float:
        return self.shipped / self.window_h


@dataclass(frozen=True)
class StationResult:
    """One station: fractions of its server time busy, blocked (holding a finished unit),
    down (failed or off shift) and starved (idle with nothing to do); utilization is busy over
    available (not down) time, the figure that names the bottleneck."""

    name: str
    servers: int
    utilization: Estimate
    busy: float
    blocked: float
    down: float
    starved: float
    units_inside: Estimate


@dataclass(frozen=True)
class LittleCheck:
    """Little's law ``L = lambda W``: WIP [racks] vs throughput [racks/h] x cycle time [h]."""

    wip_racks: float
    throughput_per_h: float
    cycle_time_h: float

    @property
    def relative_error(self) -> float:
        rhs = self.throughput_per_h * self.cycle_time_h
        if not rhs:  # nothing inside on either side (0 h routes) agrees; else 100 % off
            return 0.0 if not self.wip_racks else 1.0
        return abs(self.wip_racks - rhs) / rhs


@dataclass(frozen=True)
class LineResult:
    """What a line delivers, summarized over replications (95 % confidence intervals)."""

    line: str
    replications: int
    seed: int
    warmup_h: float
    window_h: float
    throughput_per_h: Estimate
    racks_per_week: Estimate
    cycle_time_h: Estimate
    cycle_time_percentiles_h: dict[str, float]
    wip_racks: Estimate
    stations: tuple[StationResult, ...]
    bottleneck: str
    little: LittleCheck
    analytic: Analytic | None
    scrapped_per_week: float
    events: int
    wall_s: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s else 0.0

    def station(self, name: str) -> StationResult:
        return next(s for s in self.stations if s.name == name)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["little"]["relative_error"] = self.little.relative_error
        out["events_per_s"] = self.events_per_s
        return out


def summarize(line: LineSpec, stats: list[RepStats], seed: int, warmup_h: float,
              wall_s: float) -> LineResult:
    """Combine replications of `line` into a :class:`LineResult`.

    Every replication must have shipped a rack in its window (see
    :func:`~rackforge.factory.simulation.check_shipped`); one that did not counts a 0 h cycle
    time here rather than an undefined one, so no figure is NaN."""
    th = Estimate.of([s.throughput_per_h for s in stats])
    ct = Estimate.of([s.cycle_h.mean() if len(s.cycle_h) else 0.0 for s in stats])
    wip = Estimate.of([s.wip_racks for s in stats])
    stations = _stations(line, stats)
    pooled = np.concatenate([s.cycle_h for s in stats])
    pct = {f"p{q}": float(np.percentile(pooled, q)) if len(pooled) else 0.0
           for q in (50, 90, 95, 99)}
    bottleneck = max(stations, key=lambda s: s.utilization.mean).name
    scrapped = sum(s.scrapped for s in stats) / sum(s.window_h for s in stats) * HOURS_PER_WEEK
    return LineResult(
        line=line.name, replications=len(stats), seed=seed, warmup_h=warmup_h,
        window_h=float(np.mean([s.window_h for s in stats])), throughput_per_h=th,
        racks_per_week=th.scaled(HOURS_PER_WEEK), cycle_time_h=ct,
        cycle_time_percentiles_h=pct, wip_racks=wip, stations=stations, bottleneck=bottleneck,
        little=LittleCheck(wip.mean, th.mean, ct.mean), analytic=analytic(line),
        scrapped_per_week=scrapped, events=sum(s.events for s in stats), wall_s=wall_s)


def _stations(line: LineSpec, stats: list[RepStats]) -> tuple[StationResult, ...]:
    busy = np.array([s.busy for s in stats])
    blocked = np.array([s.blocked for s in stats])
    down = np.array([s.down for s in stats])
    inside = np.array([s.in_station for s in stats])
    available = np.clip(1.0 - down, 1e-12, None)
    out = []
    for i, spec in enumerate(line.stations):
        b, k, d = busy[:, i].mean(), blocked[:, i].mean(), down[:, i].mean()
        out.append(StationResult(
            name=spec.name, servers=spec.servers,
            utilization=Estimate.of(busy[:, i] / available[:, i]),
            busy=float(b), blocked=float(k), down=float(d),
            starved=float(max(1.0 - b - k - d, 0.0)),
            units_inside=Estimate.of(inside[:, i])))
    return tuple(out)
