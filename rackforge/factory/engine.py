"""The event-driven core of the line simulation, on SimPy.

Lean by design (one SimPy event per service, no process per rack): a station is a queue, a count
of free servers and a callback on the :class:`simpy.events.Timeout` that ends each service.
Trays move as kits (the trays of one kind one rack needs) and are counted, not tracked, once they
reach the assembly. A rack order is a two-item list ``[order id, release time [h]]``.

Statistics are running time integrals updated at each state change (busy, blocked, down, units
in station) and one float per shipped rack, so a replication of 70,000 racks allocates no
per-event Python objects beyond SimPy's own.

Time-weighted state accounting follows Law, *Simulation Modeling and Analysis*, 5th ed., sec. 1.4
(area under the state curve); blocking is *blocking after service* (Hopp & Spearman, *Factory
Physics*, 3rd ed., sec. 8.7): a server that finished a unit holds it until the next station has
room.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from simpy import Environment
from simpy.events import Timeout

NO_LIMIT = 1 << 60
EPS_H = 1e-9


class Line(Protocol):
    """What the stations use of the line they belong to (one replication, e.g.
    :class:`~rackforge.factory.simulation.LineSim`)."""

    env: Environment
    trace: list | None  # (time [h], event, station, rack order) tuples, or None: no trace

    def ship(self, job: list) -> None:
        """Take a rack order that left the last station out of the line."""

    def scrap(self, job: list) -> None:
        """Take a rack order that failed a station with ``on_fail: scrap`` out of the line."""


class Station:
    """A station of ``c`` parallel servers with a FIFO queue ahead of it."""

    def __init__(self, sim: Line, name: str, servers: int, draw: Callable[[], float],
                 fail: Callable[[], bool] | None = None) -> None:
        self.sim, self.env, self.name = sim, sim.env, name
        self.trace: list | None = sim.trace
        self.c = self.free = servers
        self.draw, self.fail = draw, fail
        self.queue: deque = deque()
        self.limit = NO_LIMIT
        self.next: Station | TrayBin | None = None
        self.rework: Station | None = self
        self.scrap = False
        self.senders: deque = deque()  # (on_accept, job) waiting for room here
        self.pausable = False
        self.paused = 0
        self.inservice: dict = {}
        self.held: list = []
        self.t_last = 0.0
        self.n_busy = self.n_blocked = self.n_in = 0
        self.a_busy = self.a_blocked = self.a_down = self.a_in = 0.0
        self.done = 0

    # -- statistics --------------------------------------------------------------------------
    def acc(self, now: float) -> None:
        """Add the state since the last change to the time integrals [unit h]."""
        dt = now - self.t_last
        if dt:
            self.a_busy += self.n_busy * dt
            self.a_in += self.n_in * dt
            if self.n_blocked or self.paused:
                self._acc_rare(dt)
            self.t_last = now

    def _acc_rare(self, dt: float) -> None:
        self.a_blocked += self.n_blocked * dt
        if self.paused:
            self.a_down += (self.c - self.n_blocked) * dt

    def reset(self, now: float) -> None:
        self.acc(now)
        self.a_busy = self.a_blocked = self.a_down = self.a_in = 0.0
        self.done = 0

    # -- flow --------------------------------------------------------------------------------
    def offer(self, job: list, on_accept: Callable[[], None]) -> bool:
        """Take `job` if there is room (True); else call `on_accept` once it is taken."""
        if (self.free and not self.paused) or len(self.queue) < self.limit:
            self.arrive(job)
            return True
        self.senders.append((on_accept, job))
        return False

    def arrive(self, job: list) -> None:
        now = self.env._now
        dt = now - self.t_last
        if dt:  # acc() inlined: this and finish() are the hot path
            self.a_busy += self.n_busy * dt
            self.a_in += self.n_in * dt
            if self.n_blocked or self.paused:
                self._acc_rare(dt)
            self.t_last = now
        self.n_in += 1
        if self.free and not self.paused:
            self.start(job, now)
        else:
            self.queue.append(job)

    def start(self, job: list, now: float) -> None:
        self.free -= 1
        self.n_busy += 1
        delay = self.draw()
        ev = Timeout(self.env, delay, job)
        ev.callbacks.append(self.finish)
        if self.pausable:
            self.inservice[ev] = now + delay
        if self.trace is not None:
            self.trace.extend((now, "start", self.name, j[0]) for j in self._jobs(job))

    @staticmethod
    def _jobs(unit: list) -> list:
        """The jobs a unit of service holds (one job; a batch station serves a list of them)."""
        return [unit]

    def finish(self, ev: Timeout) -> None:
        job = ev._value
        now = self.env._now
        dt = now - self.t_last  # acc(now), inlined: this is the hottest path of the simulation
        if dt:
            self.a_busy += self.n_busy * dt
            self.a_in += self.n_in * dt
            if self.n_blocked or self.paused:
                self._acc_rare(dt)
            self.t_last = now
        self.n_busy -= 1
        self.done += 1
        if self.pausable:
            del self.inservice[ev]
        if self.trace is not None:
            self.trace.append((now, "finish", self.name, job[0]))
        if self.send(job, self.unblocked):
            self.n_in -= 1
            self.free += 1
            if self.queue:
                self.pull()
        else:
            self.n_blocked += 1

    def send(self, job: list, on_accept: Callable[[], None]) -> bool:
        """Route a finished `job`: to rework or scrap when it fails, else to ``next``."""
        dest = self.next
        if self.fail is not None and self.fail():
            if self.trace is not None:
                self.trace.append((self.env._now, "fail", self.name, job[0]))
            if self.scrap:
                self.sim.scrap(job)
                return True
            dest = self.rework
        if dest is None:
            self.sim.ship(job)
            return True
        return dest.offer(job, on_accept)

    def unblocked(self) -> None:
        self.acc(self.env._now)
        self.n_blocked -= 1
        self.n_in -= 1
        self.free_server()

    def free_server(self) -> None:
        self.free += 1
        self.pull()

    def pull(self) -> None:
        """Start queued jobs on free servers; let a blocked sender in for each."""
        queue = self.queue
        while self.free and queue and not self.paused:
            self.start(queue.popleft(), self.env._now)
            self.admit()

    def admit(self) -> None:
        if self.senders and len(self.queue) < self.limit:
            on_accept, job = self.senders.popleft()
            self.arrive(job)
            on_accept()

    # -- failures and shifts -----------------------------------------------------------------
    def pause(self) -> None:
        """Stop work (failure or off shift); jobs in service resume where they stopped."""
        if self.paused:
            self.paused += 1
            return
        now = self.env._now
        self.acc(now)
        self.paused = 1
        for ev, end in self.inservice.items():
            ev.callbacks.remove(self.finish)
            self.held.append((ev._value, end - now))
        self.inservice.clear()
        self.n_busy = 0

    def resume(self) -> None:
        if self.paused > 1:
            self.paused -= 1
            return
        now = self.env._now
        self.acc(now)
        self.paused = 0
        for job, remaining in self.held:
            self.n_busy += 1
            ev = Timeout(self.env, remaining, job)
            ev.callbacks.append(self.finish)
            self.inservice[ev] = now + remaining
        self.held.clear()
        self.pull()


class BatchStation(Station):
    """Chambers of ``size`` racks that start when full, or when the oldest waiting rack has
    waited ``timeout_h`` [h] (``None``: only when full). ``draw`` gives the batch time [h]."""

    def __init__(self, sim: Line, name: str, servers: int, draw: Callable[[], float],
                 fail: Callable[[], bool] | None = None) -> None:
        super().__init__(sim, name, servers, draw, fail)
        self.size = 1
        self.timeout_h: float | None = None

    def arrive(self, job: list) -> None:
        now = self.env._now
        self.acc(now)
        self.n_in += 1
        self.queue.append((job, now))
        if len(self.queue) == 1:
            self._arm(now)
        self.pull()

    def _arm(self, now: float) -> None:
        if self.timeout_h is not None and self.queue:
            wait = max(self.queue[0][1] + self.timeout_h - now, 0.0)
            Timeout(self.env, wait).callbacks.append(self._on_timer)

    def _on_timer(self, ev: Timeout) -> None:
        self.acc(self.env._now)
        self.pull()

    def _ready(self, now: float) -> bool:
        q = self.queue
        return len(q) >= self.size or (self.timeout_h is not None
                                       and q[0][1] + self.timeout_h <= now + EPS_H)

    def pull(self) -> None:
        now = self.env._now
        q = self.queue
        while self.free and q and not self.paused and self._ready(now):
            batch = [q.popleft()[0] for _ in range(min(self.size, len(q)))]
            self.start(batch, now)
            self._arm(now)
            for _ in batch:
                self.admit()

    @staticmethod
    def _jobs(unit: list) -> list:
        return unit

    def finish(self, ev: Timeout) -> None:
        batch = ev._value
        now = self.env._now
        self.acc(now)
        self.n_busy -= 1
        self.n_blocked += 1  # the chamber holds its racks until all have left
        self.done += len(batch)
        if self.pausable:
            del self.inservice[ev]
        left = [len(batch)]

        def accepted() -> None:
            self.acc(self.env._now)
            self.n_in -= 1
            left[0] -= 1
            if not left[0]:
                self.n_blocked -= 1
                self.free_server()

        for job in batch:
            if self.trace is not None:
                self.trace.append((now, "finish", self.name, job[0]))
            if self.send(job, accepted):
                accepted()


class AssemblyStation(Station):
    """Joins the trays of one rack (``need[k]`` trays of kind ``k``) into the rack order that
    waits here; trays are counted in ``stock``."""

    def __init__(self, sim: Line, name: str, servers: int, draw: Callable[[], float],
                 fail: Callable[[], bool] | None = None) -> None:
        super().__init__(sim, name, servers, draw, fail)
        self.need: list[int] = []
        self.stock: list[int] = []

    def arrive(self, job: list) -> None:
        self.acc(self.env._now)
        self.n_in += 1
        self.queue.append(job)
        self.pull()

    def add_trays(self, kind: int, count: int) -> None:
        self.acc(self.env._now)
        self.stock[kind] += count
        self.pull()

    def pull(self) -> None:
        stock, need, queue = self.stock, self.need, self.queue
        while self.free and queue and not self.paused:
            for k, n in enumerate(need):
                if stock[k] < n:
                    return
            for k, n in enumerate(need):
                stock[k] -= n
            self.start(queue.popleft(), self.env._now)
            self.admit()


class TrayBin:
    """Where a tray station's last step puts its kit: the assembly's tray count of a kind."""

    def __init__(self, assembly: AssemblyStation, kind: int, count: int) -> None:
        self.assembly, self.kind, self.count = assembly, kind, count

    def offer(self, job: list, on_accept: Callable[[], None]) -> bool:
        self.assembly.add_trays(self.kind, self.count)
        return True
