"""The line simulation: exact traces, reproducibility, Little's law, each mechanism."""

from __future__ import annotations

import numpy as np
import pytest

from rackforge.factory.queueing import mmc
from rackforge.factory.simulation import RunConfig, off_windows_h, run_replication, simulate, trace
from rackforge.factory.spec import CalendarSpec, LineSpec
from rackforge.inputs import validate

from .conftest import serial_line


def test_exact_trace_two_stations_conwip():
    # Hand-worked: s1 takes 1 h, s2 takes 2 h, two racks inside; s2 paces the line.
    expected = [
        (0, "release", "", 1), (0, "start", "s1", 1), (0, "release", "", 2),
        (1.0, "finish", "s1", 1), (1.0, "start", "s2", 1), (1.0, "start", "s1", 2),
        (2.0, "finish", "s1", 2),
        (3.0, "finish", "s2", 1), (3.0, "ship", "", 1), (3.0, "release", "", 3),
        (3.0, "start", "s1", 3), (3.0, "start", "s2", 2),
        (4.0, "finish", "s1", 3),
        (5.0, "finish", "s2", 2), (5.0, "ship", "", 2), (5.0, "release", "", 4),
        (5.0, "start", "s1", 4), (5.0, "start", "s2", 3),
    ]
    assert trace(serial_line([1, 2]), 6.0) == expected


def test_exact_trace_kits_assembly_and_batch_timeout():
    # Kits of 2 trays at 1 h each (serial: 2 h a kit) feed a 1 h assembly; a burn-in chamber
    # of 2 starts a partial batch after 0.5 h. Rack 2 times out at 5.5 h but waits for the
    # chamber until 6.5 h.
    line = validate(LineSpec, {
        "name": "kit", "rack": {"trays": {"t": 2}}, "release": {"policy": "conwip", "wip_cap": 3},
        "stations": [
            {"name": "l10", "unit": "t", "time_h": 1, "kit": "serial", "next": "l11"},
            {"name": "l11", "kind": "assembly", "time_h": 1, "next": "burn"},
            {"name": "burn", "kind": "batch", "batch_size": 2, "batch_timeout_h": 0.5,
             "time_h": 3, "next": "ship"}]})
    got = [e for e in trace(line, 9.0) if e[1] in ("start", "ship")]
    assert got == [
        (0, "start", "l10", 1), (2.0, "start", "l11", 1), (2.0, "start", "l10", 2),
        (3.5, "start", "burn", 1), (4.0, "start", "l11", 2), (4.0, "start", "l10", 3),
        (6.0, "start", "l11", 3), (6.5, "ship", "", 1), (6.5, "start", "l10", 4),
        (6.5, "start", "burn", 2), (8.5, "start", "l11", 4)]


def _random_line() -> LineSpec:
    return serial_line([{"dist": "exponential", "mean_h": 1.0},
                        {"dist": "lognormal", "mean_h": 1.5, "cv": 0.5},
                        {"dist": "triangular", "min_h": 0.5, "mode_h": 1, "max_h": 2}],
                       release={"policy": "conwip", "wip_cap": 5})


def test_same_seed_same_result_exactly():
    a = simulate(_random_line(), racks=300, replications=3, seed=7)
    b = simulate(_random_line(), racks=300, replications=3, seed=7)
    c = simulate(_random_line(), racks=300, replications=3, seed=8)
    assert a.cycle_time_h == b.cycle_time_h
    assert a.racks_per_week == b.racks_per_week
    assert [s.utilization for s in a.stations] == [s.utilization for s in b.stations]
    assert a.cycle_time_h != c.cycle_time_h
    t1, t2 = trace(_random_line(), 50.0, seed=3), trace(_random_line(), 50.0, seed=3)
    assert t1 == t2 and len(t1) > 50


def test_littles_law_and_bottleneck():
    r = simulate(_random_line(), racks=4000, replications=4, seed=1)
    assert r.wip_racks.mean == pytest.approx(5.0)  # CONWIP keeps exactly 5 inside
    assert r.little.relative_error < 0.01
    assert r.bottleneck == "s2"  # the 1.5 h station
    assert r.station("s2").utilization.mean > r.station("s1").utilization.mean


def test_open_mm2_station_matches_erlang_c():
    line = serial_line([{"dist": "exponential", "mean_h": 1.0}], [2],
                       release={"policy": "push", "rate_per_h": 1.2,
                                "interarrival": "exponential"})
    r = simulate(line, weeks=120, replications=5, seed=3)
    ref = mmc(1.2, 1.0, 2)
    assert r.analytic.method.startswith("Erlang C")
    assert r.analytic.cycle_time_h == pytest.approx(ref.time_in_system_h)
    assert abs(r.cycle_time_h.mean - ref.time_in_system_h) < 2 * r.cycle_time_h.half_width + 0.01
    assert r.station("s1").utilization.mean == pytest.approx(0.6, abs=0.01)


def test_yield_rework_loop_adds_expected_visits():
    # 80 % first-pass yield with retest at the same station: 1 / 0.8 visits per rack.
    line = validate(LineSpec, {
        "name": "y", "release": {"policy": "conwip", "wip_cap": 3},
        "stations": [{"name": "test", "time_h": 1, "first_pass_yield": 0.8, "next": "ship"}]})
    r = simulate(line, racks=20000, replications=3, seed=2)
    assert r.throughput_per_h.mean == pytest.approx(0.8, rel=0.02)


def test_scrap_releases_a_new_rack_under_conwip():
    line = validate(LineSpec, {
        "name": "s", "release": {"policy": "conwip", "wip_cap": 1},
        "stations": [{"name": "t", "time_h": 1, "first_pass_yield": 0.75, "on_fail": "scrap",
                      "next": "ship"}]})
    r = simulate(line, weeks=100, replications=3, seed=2)
    assert r.throughput_per_h.mean == pytest.approx(0.75, rel=0.02)
    assert r.scrapped_per_week == pytest.approx(0.25 * 168, rel=0.05)


def test_failures_cut_capacity_by_availability():
    # Availability A = mtbf / (mtbf + mttr) = 0.8 [Hopp & Spearman, Eq. 8.4]
    line = validate(LineSpec, {
        "name": "f", "release": {"policy": "conwip", "wip_cap": 4},
        "stations": [{"name": "m", "time_h": 1, "mtbf_h": 40, "mttr_h": 10, "next": "ship"}]})
    r = simulate(line, weeks=300, replications=5, seed=4)
    assert r.throughput_per_h.mean == pytest.approx(0.8, rel=0.03)
    assert r.station("m").down == pytest.approx(0.2, abs=0.02)
    assert r.station("m").utilization.mean == pytest.approx(1.0, abs=0.01)


def test_shift_calendar_limits_attended_stations():
    windows = off_windows_h(CalendarSpec(hours_per_day=16, days_per_week=5))
    assert windows[0] == (16.0, 24.0) and windows[-1] == (112.0, 168.0)
    line = validate(LineSpec, {
        "name": "c", "release": {"policy": "conwip", "wip_cap": 4},
        "calendar": {"hours_per_day": "16 h", "days_per_week": 5},
        "stations": [{"name": "m", "time_h": "30 min", "next": "ship"}]})
    r = simulate(line, weeks=20, replications=2, seed=1)
    assert r.racks_per_week.mean == pytest.approx(80 * 2, rel=0.01)  # 80 h/week at 2 per h
    assert r.station("m").down == pytest.approx(88 / 168, abs=0.01)


def test_finite_buffer_blocks_upstream():
    line = validate(LineSpec, {
        "name": "b", "release": {"policy": "conwip", "wip_cap": 10},
        "stations": [{"name": "fast", "time_h": {"dist": "exponential", "mean_h": 0.5},
                      "next": "slow"},
                     {"name": "slow", "time_h": {"dist": "exponential", "mean_h": 1.0},
                      "buffer": 1, "next": "ship"}]})
    stats = run_replication(line, np.random.SeedSequence(1), RunConfig(10.0, horizon_h=5000))
    assert stats.blocked[0] > 0.2  # fast station holds finished racks for the slow one
    assert stats.in_station[1] <= 2.0 + 1e-9  # one waiting plus one in service at most


def test_reference_line_delivers_and_names_burn_in():
    from rackforge.scenario import load

    line = load("scenarios/reference.yaml").spec.line
    r = simulate(line, weeks=8, replications=3)
    assert r.bottleneck == "burn-in"
    assert 300 < r.racks_per_week.mean < 450
    assert r.little.relative_error < 0.02
