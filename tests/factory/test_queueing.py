"""Closed forms against hand calculations and textbook values."""

from __future__ import annotations

import pytest

from rackforge.factory.queueing import (
    analytic,
    best_case,
    erlang_c,
    mmc,
    mva,
    practical_worst_case,
)

from .conftest import serial_line


def test_erlang_c_textbook_values():
    assert erlang_c(1, 0.9) == pytest.approx(0.9)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.8) == pytest.approx(0.8526, abs=1e-4)  # 1.62 / 1.9 by hand
    q = mmc(1.8, 1.0, 2)
    assert q.wait_h == pytest.approx(4.2632, abs=1e-4)
    assert q.time_in_system_h == pytest.approx(5.2632, abs=1e-4)
    assert mmc(0.9, 1.0, 1).time_in_system_h == pytest.approx(10.0)
    assert mmc(2.0, 1.0, 2).wait_h == float("inf")


@pytest.mark.parametrize("wip", [1, 2, 4, 7, 10, 25])
def test_mva_of_balanced_exponential_line_is_practical_worst_case(wip):
    # Factory Physics sec. 7.3: the PWC is exactly a balanced line of exponential single servers.
    th, ct = mva([2.0] * 4, [1] * 4, wip)
    pwc = practical_worst_case([2.0] * 4, [1] * 4, wip)
    assert th == pytest.approx(pwc[0])
    assert ct == pytest.approx(pwc[1])


def test_mva_multi_server_matches_closed_form_for_one_station():
    # One M/M/2 station in a closed loop with 3 jobs: CT = s when n <= c, else queueing.
    th, ct = mva([1.0], [2], 2)
    assert (th, ct) == (pytest.approx(2.0), pytest.approx(1.0))
    th, ct = mva([1.0], [2], 3)
    assert th == pytest.approx(2.0) and ct == pytest.approx(1.5)  # Little: 3 / 2


def test_best_case_penny_fab():
    assert best_case([2.0] * 4, [1] * 4, 1) == (pytest.approx(0.125), pytest.approx(8.0))
    assert best_case([2.0] * 4, [1] * 4, 8) == (pytest.approx(0.5), pytest.approx(16.0))


def test_analytic_picks_the_method_that_applies():
    assert analytic(serial_line([1, 1])).method.startswith("best case")
    expo = {"dist": "exponential", "mean_h": 1}
    assert analytic(serial_line([expo, expo])).method.startswith("MVA")
    assert analytic(serial_line([expo, 1])) is None
    push = serial_line([expo], release={"policy": "push", "rate_per_h": 0.5,
                                        "interarrival": "exponential"})
    assert analytic(push).method.startswith("Erlang C")
