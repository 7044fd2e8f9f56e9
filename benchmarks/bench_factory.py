"""Benchmark: the reference line for 70,000 racks x 10 replications (the 2026-2029 program).

Prints wall time and SimPy events per second for rackforge's line simulation, then for a plain
SimPy model of the same line written the obvious way (a process per rack order and per tray kit,
``Resource`` per station, ``Container`` for trays, a batching process for burn-in, shifts and
failures as high-priority requests), which records only cycle times. The ratio of the two wall
times is the cost of rackforge's statistics and generality.

Both models draw process times from the same pre-generated streams
(:mod:`rackforge.factory.distributions`), so the comparison is about event handling. Semantics
differ in two details: the plain model lets a job in service finish before a shift ends or a
failure starts (non-preemptive), and its assembly takes trays before it waits for a bay.

    python benchmarks/bench_factory.py [--racks 70000] [--replications 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rackforge.factory import distributions as dist  # noqa: E402
from rackforge.factory.simulation import off_windows_h, simulate  # noqa: E402
from rackforge.factory.spec import HOURS_PER_WEEK, RACK, SHIP, LineSpec  # noqa: E402
from rackforge.scenario import load  # noqa: E402


class PlainLine:
    """The reference line as a textbook SimPy model: processes and shared resources."""

    def __init__(self, line: LineSpec, seed: int, racks: int) -> None:
        self.env = env = simpy.Environment()
        self.line, self.racks = line, racks
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(40)]
        self.res = {s.name: simpy.PriorityResource(env, s.servers) for s in line.stations}
        self.draw, self.fail = {}, {}
        for i, s in enumerate(line.stations):
            if s.unit == RACK:
                self.draw[s.name] = dist.time_stream(s.time_h, rngs[2 * i])
                self.fail[s.name] = dist.fail_stream(s.first_pass_yield, rngs[2 * i + 1])
            else:
                self.draw[s.name] = dist.kit_stream(s.time_h, line.rack.trays[s.unit], s.kit,
                                                    s.rework_h, s.first_pass_yield, rngs[2 * i])
        self.rng = rngs[-1]
        self.trays = {k: simpy.Container(env) for k in line.rack.trays}
        self.tokens = simpy.Container(env, line.release.wip_cap, init=line.release.wip_cap)
        self.burn_queue = simpy.Store(env)
        self.cycle_h: list[float] = []
        self.done = env.event()
        env.process(self.releaser())
        for s in line.stations:
            if s.kind == "batch":
                env.process(self.batcher(s))
            if s.mtbf_h is not None:
                env.process(self.breakdowns(s))
        env.process(self.shifts())

    def releaser(self):
        while True:
            yield self.tokens.get(1)
            self.env.process(self.order())

    def order(self):
        env, line = self.env, self.line
        t0 = env.now
        for kind in line.rack.trays:
            env.process(self.kit(kind))
        yield simpy.AllOf(env, [self.trays[k].get(n) for k, n in line.rack.trays.items()])
        station = line.entry(RACK)
        while station is not None:
            station = yield from self.visit(station)
        self.cycle_h.append(env.now - t0)
        if len(self.cycle_h) == self.racks and not self.done.triggered:
            self.done.succeed()
        yield self.tokens.put(1)

    def kit(self, kind: str):
        station = self.line.entry(kind)
        while True:
            with self.res[station.name].request(priority=1) as req:
                yield req
                yield self.env.timeout(self.draw[station.name]())
            nxt = self.line.station(station.next)
            if nxt.kind == "assembly":
                yield self.trays[kind].put(self.line.rack.trays[kind])
                return
            station = nxt

    def visit(self, station):
        """Process a rack at `station`; return the next station (None to ship)."""
        if station.kind == "batch":
            finished = self.env.event()
            yield self.burn_queue.put(finished)
            yield finished
        else:
            with self.res[station.name].request(priority=1) as req:
                yield req
                yield self.env.timeout(self.draw[station.name]())
        fail = self.fail[station.name]
        if fail is not None and fail():
            return self.line.station(station.rework_to or station.name)
        return None if station.next == SHIP else self.line.station(station.next)

    def batcher(self, s):
        env = self.env
        while True:
            batch = [(yield self.burn_queue.get())]
            deadline = env.now + s.batch_timeout_h
            while len(batch) < s.batch_size:
                get = self.burn_queue.get()
                got = yield get | env.timeout(max(deadline - env.now, 0.0))
                if get not in got:
                    get.cancel()
                    break
                batch.append(got[get])
            req = self.res[s.name].request(priority=1)
            yield req
            env.process(self.chamber(s, req, batch))

    def chamber(self, s, req, batch):
        yield self.env.timeout(self.draw[s.name]())
        self.res[s.name].release(req)
        for finished in batch:
            finished.succeed()

    def breakdowns(self, s):
        while True:
            yield self.env.timeout(self.rng.exponential(s.mtbf_h))
            with self.res[s.name].request(priority=0) as req:
                yield req
                yield self.env.timeout(self.rng.exponential(s.mttr_h))

    def shifts(self):
        env = self.env
        attended = [s for s in self.line.stations if s.attended]
        week = 0.0
        while True:
            for start, end in off_windows_h(self.line.calendar):
                yield env.timeout(week + start - env.now)
                reqs = [self.res[s.name].request(priority=0)
                        for s in attended for _ in range(s.servers)]
                yield env.timeout(week + end - env.now)
                for r in reqs:
                    if r.triggered:
                        r.resource.release(r)
                    else:
                        r.cancel()
            week += HOURS_PER_WEEK

    def run(self) -> tuple[float, int, int]:
        self.env.run(until=self.done)
        return self.env.now, len(self.cycle_h), next(self.env._eid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--racks", type=int, default=70_000)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "reference.yaml"))
    args = parser.parse_args()
    line = load(args.scenario).spec.line
    line = line.model_copy(update={"run": line.run.model_copy(update={"warmup_h": 0.0})})

    t0 = time.perf_counter()
    result = simulate(line, racks=args.racks, replications=args.replications, seed=1)
    lib_s = time.perf_counter() - t0
    print(f"rackforge: {args.replications} x {args.racks:,} racks in {lib_s:.1f} s, "
          f"{result.events:,} events, {result.events / lib_s:,.0f} events/s; "
          f"{result.racks_per_week.mean:.1f} racks/week, cycle {result.cycle_time_h.mean:.1f} h, "
          f"bottleneck {result.bottleneck}")

    t0 = time.perf_counter()
    events = shipped = 0
    weeks = []
    for rep in range(args.replications):
        now, n, ev = PlainLine(line, 1000 + rep, args.racks).run()
        events, shipped = events + ev, shipped + n
        weeks.append(n / now * HOURS_PER_WEEK)
    plain_s = time.perf_counter() - t0
    print(f"plain SimPy: {args.replications} x {args.racks:,} racks in {plain_s:.1f} s, "
          f"{events:,} events, {events / plain_s:,.0f} events/s; "
          f"{np.mean(weeks):.1f} racks/week")
    print(f"ratio rackforge / plain SimPy wall time: {lib_s / plain_s:.2f}")


if __name__ == "__main__":
    main()
