"""PDU formulas against hand calculations."""

from __future__ import annotations

import pytest

from rackforge.design import electrical


def test_phase_current_wye_hand_calc():
    # 6.8 kW on one phase of a 415 V wye PDU at pf 0.95: 6800 / (0.95 x 239.6 V) = 29.87 A
    assert electrical.phase_current_a(6800, 415, 3, 0.95) == pytest.approx(29.87, abs=0.01)


def test_cords_dealt_round_robin_and_balance():
    loads = electrical.deal_cords_w([9000.0, 9000.0], 3, 2, 3)
    assert loads == [[3000.0] * 3, [3000.0] * 3]
    assert electrical.phase_imbalance([10.0, 10.0, 10.0]) == 0.0
    assert electrical.phase_imbalance([20.0, 10.0, 0.0]) == pytest.approx(1.0)
