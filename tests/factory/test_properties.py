"""Invariants over random lines (Hypothesis): conservation, CONWIP cap, deterministic best case."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackforge.factory.queueing import best_case
from rackforge.factory.simulation import RunConfig, run_replication, simulate

from .conftest import serial_line

times = st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=1, max_size=4)


@settings(max_examples=15, deadline=None)
@given(times=times, servers=st.lists(st.integers(1, 3), min_size=4, max_size=4),
       wip=st.integers(1, 8))
def test_deterministic_conwip_line_hits_best_case(times, servers, wip):
    # Factory Physics sec. 7.3: a deterministic CONWIP line runs at min(w / T0, rb).
    servers = servers[: len(times)]
    line = serial_line(times, servers, release={"policy": "conwip", "wip_cap": wip})
    r = simulate(line, weeks=4, replications=2, seed=0)
    th, ct = best_case(times, servers, wip)
    assert r.throughput_per_h.mean == pytest.approx(th, rel=0.01)
    assert r.wip_racks.mean == pytest.approx(wip)
    assert r.little.relative_error < 0.02


@settings(max_examples=15, deadline=None)
@given(times=times, wip=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_random_line_conserves_racks_and_keeps_fractions_in_range(times, wip, seed):
    dists = [{"dist": "exponential", "mean_h": t} for t in times]
    line = serial_line(dists, release={"policy": "conwip", "wip_cap": wip})
    stats = run_replication(line, np.random.SeedSequence(seed), RunConfig(5.0, horizon_h=200.0))
    assert stats.wip_racks == pytest.approx(wip)  # CONWIP: exactly the cap inside
    assert stats.in_station.sum() == pytest.approx(wip)  # every rack is at some station
    total = stats.busy + stats.blocked + stats.down
    assert np.all(total <= 1 + 1e-9) and np.all(stats.busy >= 0)
    assert np.all(stats.cycle_h > 0)
