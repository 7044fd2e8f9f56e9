"""Simulate a line: build the stations of a :class:`LineSpec`, run seeded replications.

Entry points
------------
:func:`simulate` runs replications and returns a :class:`~rackforge.factory.statistics.LineResult`
(racks per week, cycle time, WIP, per-station utilization, bottleneck, Little's law, and the
closed-form figures where the line fits their assumptions). :func:`run_replication` runs one and
returns raw :class:`~rackforge.factory.statistics.RepStats`; :func:`trace` returns the event
trace of one short run.

Reproducibility: replication ``r`` of seed ``s`` draws from ``SeedSequence(s).spawn(R)[r]``;
each station has its own child streams, and SimPy breaks ties by scheduling order, so the same
seed gives the same numbers exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy
from simpy.events import Timeout

from rackforge.errors import RackforgeError
from rackforge.factory.distributions import fail_stream, kit_stream, time_stream
from rackforge.factory.engine import AssemblyStation, BatchStation, Station, TrayBin
from rackforge.factory.spec import (
    HOURS_PER_WEEK,
    RACK,
    SHIP,
    CalendarSpec,
    Distribution,
    LineSpec,
    StationSpec,
)
from rackforge.factory.statistics import LineResult, RepStats, summarize


class SimulationError(RackforgeError):
    """The line cannot make progress (e.g. a batch that never fills)."""


@dataclass(frozen=True)
class RunConfig:
    """Length of one replication: until `racks` racks have shipped after the warm-up, or for
    `horizon_h` [h] after it. `warmup_h` [h] of statistics are discarded first."""

    warmup_h: float
    racks: int | None = None
    horizon_h: float | None = None
    trace: bool = False


class LineSim:
    """One replication of a line: the SimPy environment, stations and line-level counters."""

    def __init__(self, line: LineSpec, seed: np.random.SeedSequence, config: RunConfig) -> None:
        self.env = simpy.Environment()
        self.line, self.config = line, config
        self.trace: list | None = [] if config.trace else None
        self.cycle_h: list[float] = []
        self.scrapped = self.next_id = self.wip = 0
        self.t_wip = self.a_wip = self.t_start = 0.0
        self.conwip = line.release.policy == "conwip"
        self.measuring = False
        self.target = config.racks
        self.stop = self.env.event()
        seeds = iter(seed.spawn(3 * len(line.stations) + 2))
        self.stations = [self._build(s, seeds) for s in line.stations]
        self._link()
        self.entries = [self.by_name[line.entry(k).name] for k in line.rack.trays]
        self.entries.append(self.by_name[line.entry(RACK).name])
        self._start_failures(seeds)
        self._start_calendar()
        self._start_release(np.random.default_rng(next(seeds)))
        Timeout(self.env, config.warmup_h).callbacks.append(self._end_warmup)

    def _build(self, s: StationSpec, seeds) -> Station:
        rng_t, rng_f = (np.random.default_rng(next(seeds)) for _ in range(2))
        fail = fail_stream(s.first_pass_yield, rng_f) if s.unit == RACK else None
        if s.unit != RACK:
            draw = kit_stream(s.time_h, self.line.rack.trays[s.unit], s.kit, s.rework_h,
                              s.first_pass_yield, rng_t)
        else:
            draw = time_stream(s.time_h, rng_t)
        cls = {"process": Station, "batch": BatchStation, "assembly": AssemblyStation}[s.kind]
        st = cls(self, s.name, s.servers, draw, fail)
        st.limit = s.buffer if s.buffer is not None else st.limit
        st.scrap = s.on_fail == "scrap"
        st.pausable = s.mtbf_h is not None or (s.attended and not self.line.calendar.always_on)
        if s.kind == "batch":
            st.size, st.timeout_h = s.batch_size, s.batch_timeout_h
        return st

    def _link(self) -> None:
        self.by_name = {st.name: st for st in self.stations}
        kinds = list(self.line.rack.trays)
        for st, s in zip(self.stations, self.line.stations, strict=True):
            st.rework = self.by_name[s.rework_to or s.name]
            target = None if s.next == SHIP else self.by_name[s.next]
            if isinstance(target, AssemblyStation) and s.unit != RACK:
                target = TrayBin(target, kinds.index(s.unit), self.line.rack.trays[s.unit])
            st.next = target
            if isinstance(st, AssemblyStation):
                st.need = list(self.line.rack.trays.values())
                st.stock = [0] * len(kinds)

    # -- release and exit --------------------------------------------------------------------
    def _start_release(self, rng: np.random.Generator) -> None:
        if self.conwip:
            for _ in range(self.line.release.wip_cap):
                self.release()
            return
        mean_h = 1.0 / self.line.release.arrival_rate_per_h
        interarrival = Distribution(dist=self.line.release.interarrival, mean_h=mean_h)
        self._gap = time_stream(interarrival, rng)
        Timeout(self.env, self._gap()).callbacks.append(self._arrival)

    def _arrival(self, ev: Timeout) -> None:
        self.release()
        Timeout(self.env, self._gap()).callbacks.append(self._arrival)

    def release(self) -> None:
        """Release one rack order: its tray kits and the rack order itself enter the line."""
        now = self.env._now
        self.a_wip += self.wip * (now - self.t_wip)
        self.t_wip = now
        self.wip += 1
        self.next_id += 1
        job = [self.next_id, now]
        if self.trace is not None:
            self.trace.append((now, "release", "", job[0]))
        for entry in self.entries:
            entry.arrive(job)

    def ship(self, job: list) -> None:
        now = self.env._now
        self.a_wip += self.wip * (now - self.t_wip)
        self.t_wip = now
        self.wip -= 1
        if self.trace is not None:
            self.trace.append((now, "ship", "", job[0]))
        if self.measuring:
            self.cycle_h.append(now - job[1])
            if self.target is not None and len(self.cycle_h) == self.target:
                self.stop.succeed()
        if self.conwip:
            self.release()

    def _wip(self, now: float, delta: int) -> None:
        self.a_wip += self.wip * (now - self.t_wip)
        self.t_wip = now
        self.wip += delta

    def scrap(self, job: list) -> None:
        self._wip(self.env._now, -1)
        self.scrapped += 1
        if self.trace is not None:
            self.trace.append((self.env._now, "scrap", "", job[0]))
        if self.conwip:
            self.release()

    def _end_warmup(self, ev: Timeout) -> None:
        now = self.env._now
        for st in self.stations:
            st.reset(now)
        self._wip(now, 0)
        self.a_wip, self.scrapped, self.t_start = 0.0, 0, now
        self.measuring = True
        self.cycle_h.clear()

    # -- outages -----------------------------------------------------------------------------
    def _start_failures(self, seeds) -> None:
        for st, s in zip(self.stations, self.line.stations, strict=True):
            rng = np.random.default_rng(next(seeds))
            if s.mtbf_h is not None:
                self.env.process(_failures(self.env, st, (s.mtbf_h, s.mttr_h), rng))

    def _start_calendar(self) -> None:
        cal = self.line.calendar
        attended = [st for st, s in zip(self.stations, self.line.stations, strict=True)
                    if s.attended]
        if not cal.always_on and attended:
            self.env.process(_calendar(self.env, attended, off_windows_h(cal)))

    # -- running -----------------------------------------------------------------------------
    def run(self) -> RepStats:
        cfg = self.config
        try:
            if cfg.racks is not None:
                self.env.run(until=self.stop)
            else:
                self.env.run(until=cfg.warmup_h + cfg.horizon_h)
        except RuntimeError as exc:  # SimPy: no events left before the stop event
            raise SimulationError(f"line '{self.line.name}' stalled at t = {self.env.now:.1f} h "
                                  f"with {self.wip} racks inside ({exc})") from None
        return self._stats()

    def _stats(self) -> RepStats:
        now = self.env.now
        for st in self.stations:
            st.acc(now)
        self._wip(now, 0)
        window = now - self.t_start
        caps = np.array([st.c for st in self.stations], dtype=float) * window
        return RepStats(
            window_h=window, shipped=len(self.cycle_h), scrapped=self.scrapped,
            cycle_h=np.asarray(self.cycle_h), wip_racks=self.a_wip / window,
            busy=np.array([st.a_busy for st in self.stations]) / caps,
            blocked=np.array([st.a_blocked for st in self.stations]) / caps,
            down=np.array([st.a_down for st in self.stations]) / caps,
            in_station=np.array([st.a_in for st in self.stations]) / window,
            events=next(self.env._eid))


def _failures(env: simpy.Environment, st: Station, mtbf_mttr_h: tuple[float, float],
              rng: np.random.Generator):
    """Alternate exponential up [h] and repair [h] times (calendar time) for one station."""
    mtbf_h, mttr_h = mtbf_mttr_h
    while True:
        yield env.timeout(rng.exponential(mtbf_h))
        st.pause()
        yield env.timeout(rng.exponential(mttr_h))
        st.resume()


def off_windows_h(cal: CalendarSpec) -> list[tuple[float, float]]:
    """Off-shift windows of one week as merged ``(start, end)`` pairs [h from Monday 00:00]."""
    raw = []
    for day in range(7):
        if day >= cal.days_per_week:
            raw.append((day * 24.0, day * 24.0 + 24.0))
        elif cal.hours_per_day < 24.0:
            raw.append((day * 24.0 + cal.hours_per_day, day * 24.0 + 24.0))
    merged: list[tuple[float, float]] = []
    for start, end in raw:
        if merged and math.isclose(merged[-1][1], start):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _calendar(env: simpy.Environment, stations: list[Station], windows: list[tuple]):
    week = 0.0
    while True:
        for start, end in windows:
            yield env.timeout(week + start - env.now)
            for st in stations:
                st.pause()
            yield env.timeout(week + end - env.now)
            for st in stations:
                st.resume()
        week += HOURS_PER_WEEK


def run_replication(line: LineSpec, seed: np.random.SeedSequence, config: RunConfig) -> RepStats:
    """Run one replication of `line` and return its raw statistics."""
    return LineSim(line, seed, config).run()


def trace(line: LineSpec, horizon_h: float, seed: int = 0) -> list[tuple]:
    """The event trace ``(time [h], event, station, rack order)`` of one run of `horizon_h` [h]
    without warm-up: events ``release``, ``start``, ``finish``, ``fail``, ``ship``, ``scrap``."""
    config = RunConfig(warmup_h=0.0, horizon_h=horizon_h, trace=True)
    sim = LineSim(line, np.random.SeedSequence(seed), config)
    sim.env.run(until=horizon_h)
    return [(round(t, 9), e, s, j) for t, e, s, j in sim.trace]


def run_config(line: LineSpec, racks: int | None = None, weeks: float | None = None) -> RunConfig:
    """The run length: `racks` or `weeks` if given, else the line's ``run`` defaults
    (52 weeks when it names neither)."""
    if racks is None and weeks is None:
        racks, weeks = line.run.racks, line.run.weeks
        if racks is None and weeks is None:
            weeks = 52.0
    horizon = None if weeks is None else weeks * HOURS_PER_WEEK
    return RunConfig(warmup_h=line.run.warmup_h, racks=racks if weeks is None else None,
                     horizon_h=horizon)


def simulate(line: LineSpec, *, racks: int | None = None, weeks: float | None = None,
             replications: int | None = None, seed: int | None = None,
             on_progress: Callable[[int, int], None] | None = None) -> LineResult:
    """Simulate `line` for `racks` shipped racks or `weeks` [week] per replication.

    Defaults come from ``line.run``. `on_progress(done, total)` is called after each
    replication. Returns the across-replication summary with 95 % confidence intervals.
    """
    config = run_config(line, racks, weeks)
    reps = replications or line.run.replications
    seed = line.run.seed if seed is None else seed
    children = np.random.SeedSequence(seed).spawn(reps)
    t0 = time.perf_counter()
    stats = []
    for i, child in enumerate(children):
        stats.append(run_replication(line, child, config))
        if on_progress is not None:
            on_progress(i + 1, reps)
    check_shipped(line, stats)
    return summarize(line, stats, seed, config.warmup_h, time.perf_counter() - t0)


def check_shipped(line: LineSpec, stats: list[RepStats]) -> None:
    """Raise :class:`SimulationError` if a replication shipped no rack in its measured window:
    its cycle time would be undefined (0 / 0), so no figure of the run could be trusted."""
    for i, s in enumerate(stats):
        if s.shipped == 0:
            slowest = max(line.stations, key=lambda st: st.time_h.expected_h / st.servers)
            raise SimulationError(
                f"line '{line.name}': replication {i + 1} of {len(stats)} shipped no rack in "
                f"its {s.window_h / HOURS_PER_WEEK:.3g}-week measured window, so there is no "
                f"cycle time; simulate longer (line.run.weeks, --weeks) or check the station "
                f"times (slowest: '{slowest.name}', {slowest.time_h.expected_h:.4g} h per "
                f"unit on {slowest.servers} server(s))")
