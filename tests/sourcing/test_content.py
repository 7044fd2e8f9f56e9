"""Domestic content share against hand calculations, and the thresholds by delivery year."""

from __future__ import annotations

from datetime import date

import pytest

from rackforge.sourcing.content import (
    ComponentCost,
    domestic_share,
    threshold,
    year_threshold,
)

# A small hand-built BOM. Landed unit cost = price x (1 + tariff) + freight (FAR 25.003):
#   A  2 x (100 x 1.00 + 5)  = 210  US
#   B  1 x (300 x 1.25 + 10) = 385  CN
#   C  4 x ( 50 x 1.00 + 2)  = 208  MX, 40 % US content
#   D  1 x (400 x 1.00 + 0)  = 400  US, 70 % US content
# total 1203; FAR 25 domestic = A + D = 610; IRA domestic = 210 + 0.4 x 208 + 0.7 x 400 = 573.2
BOM = [
    ComponentCost("a", 2, 100.0, "US", freight_usd_per_unit=5.0),
    ComponentCost("b", 1, 300.0, "CN", freight_usd_per_unit=10.0, tariff_rate=0.25),
    ComponentCost("c", 4, 50.0, "MX", freight_usd_per_unit=2.0, us_content_fraction=0.4),
    ComponentCost("d", 1, 400.0, "US", us_content_fraction=0.7),
]


def test_far25_share_matches_hand_calculation():
    share = domestic_share(BOM, "far25")
    assert share.total_usd == pytest.approx(1203.0)
    assert share.domestic_usd == pytest.approx(610.0)
    assert share.share == pytest.approx(610.0 / 1203.0)  # 0.50707
    assert share.rule == "far25" and "FAR 25" in share.method
    assert not share.passes(year_threshold("far25", 2027).share)


def test_ira_counts_only_us_origin_content():
    share = domestic_share(BOM, "ira")
    assert share.domestic_usd == pytest.approx(573.2)
    assert share.share == pytest.approx(573.2 / 1203.0)  # 0.47648
    assert "IRA" in share.method


def test_duty_and_freight_enter_the_denominator():
    # Without the 25 % duty on B the foreign cost falls by 75 and the share rises.
    no_duty = [c if c.part != "b" else ComponentCost("b", 1, 300.0, "CN", 10.0) for c in BOM]
    assert domestic_share(no_duty).share == pytest.approx(610.0 / 1128.0)


@pytest.mark.parametrize(("year", "expected"), [
    (2021, 0.55), (2022, 0.60), (2023, 0.60), (2024, 0.65), (2028, 0.65), (2029, 0.75),
    (2035, 0.75)])
def test_far25_thresholds_by_delivery_year(year, expected):
    assert year_threshold("far25", year).share == expected  # 87 FR 12780


def test_far25_threshold_changes_on_25_october_2022():
    assert threshold("far25", date(2022, 10, 24)).share == 0.55
    assert threshold("far25", date(2022, 10, 25)).share == 0.60


@pytest.mark.parametrize(("year", "expected"), [(2024, 0.40), (2025, 0.45), (2026, 0.50),
                                                (2027, 0.55), (2030, 0.55)])
def test_ira_thresholds(year, expected):
    assert year_threshold("ira", year).share == expected
