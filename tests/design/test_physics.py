"""Electrical and thermal formulas against hand calculations."""

import math

import pytest

from rackforge.design import electrical, thermal


def test_three_phase_feed_capacity():
    # 415 V x 60 A x sqrt(3) x 0.8 = 34,502 W (the NEC continuous-load derating).
    assert electrical.feed_capacity_w(415, 60, 3) == pytest.approx(34_502.45, rel=1e-6)
    assert electrical.feed_capacity_w(230, 32, 1, 1.0) == pytest.approx(7_360.0)


def test_busbar_current():
    assert electrical.busbar_current_a(132_000, 50) == pytest.approx(2_640.0)


@pytest.mark.parametrize(("redundancy", "psu", "expected_w"), [
    ("N", "N", 8 * 33_000), ("N+1", "N", 7 * 33_000), ("N+2", "N", 6 * 33_000),
    ("N+N", "N", 4 * 33_000), ("N+1", "N+1", 7 * 5 * 5_500),
])
def test_usable_shelf_capacity(redundancy, psu, expected_w):
    shelves = [(6, 5_500.0)] * 8
    assert electrical.usable_shelf_capacity_w(shelves, redundancy, psu) == expected_w


def test_orv3_shelf_is_15_kw_at_psu_n_plus_1():
    # ORv3: one shelf of 6 x 3 kW gives 15 kW with one PSU spare (OCP ORv3 power shelf spec).
    assert electrical.usable_shelf_capacity_w([(6, 3_000.0)], "N", "N+1") == 15_000.0


def test_mixed_shelves_lose_the_largest_first():
    assert electrical.usable_shelf_capacity_w([(6, 3_000.0), (6, 5_500.0)], "N+1", "N") == 18_000


def test_pg25_flow_for_120_kw_at_10_k():
    # 120 kW / (1021.5 kg/m3 x 3920 J/(kg K) x 10 K) = 3.00e-3 m3/s = 179.8 L/min (FACTS: ~180).
    assert thermal.required_flow_lpm(120e3, 10, 1021.5, 3920) == pytest.approx(180, rel=0.01)


def test_temperature_rise_inverts_flow():
    flow = thermal.required_flow_lpm(50e3, 8, 997, 4180)
    assert thermal.temperature_rise_k(50e3, flow, 997, 4180) == pytest.approx(8.0)
    assert math.isinf(thermal.temperature_rise_k(1.0, 0.0, 997, 4180))


def test_airflow_for_10_kw_at_15_k():
    # 10 kW / (1.184 x 1006 x 15) m3/s = 0.5597 m3/s = 2,015 m3/h.
    assert thermal.required_airflow_m3_per_h(10e3, 15) == pytest.approx(2015.0, rel=1e-3)


def test_holdup():
    assert electrical.holdup_s(33_000 * 90, 66_000) == pytest.approx(45.0)
