"""What suppliers can deliver by each quarter: capacity from the first delivery after the lead
time, none in a supplier's outage quarters, back after them; the MIP's base case loses the same
quarters. Every expected number is worked out by hand in the comments."""

from __future__ import annotations

import copy
from datetime import date

import numpy as np
import pytest

from rackforge.calendar import parse_quarter
from rackforge.design.spec import RackDesign
from rackforge.errors import InputError
from rackforge.sourcing.capacity import PartSupply, outage_quarters, supply
from rackforge.sourcing.spec import SourcingSpec, SupplierOutage
from rackforge.sourcing.suppliers import load_suppliers, resolve_sourcing
from rackforge.sourcing.whatif import build_case
from tests.conftest import mini_rack

Q = [parse_quarter(q) for q in ("2027Q1", "2027Q2", "2027Q3", "2027Q4")]


def _spec(outages=(), schedule=None) -> SourcingSpec:
    """t-compute (10 per rack of the mini rack): "a" ships 100 a quarter with no lead time;
    "b" ships 50 a quarter after 14 weeks, i.e. from the third quarter (ceil(14 / 13) = 2)."""
    offer = {"part": "t-compute", "unit_price_usd": 1000, "country_of_origin": "US"}
    return SourcingSpec.model_validate({
        "build_schedule": schedule or {"2027Q1": 1, "2027Q4": 1},
        "suppliers": [offer | {"supplier": "a", "capacity_per_quarter": 100,
                               "lead_time_weeks": 0},
                      offer | {"supplier": "b", "capacity_per_quarter": 50,
                               "lead_time_weeks": 14}],
        "outages": list(outages)})


def _supply(spec: SourcingSpec, mini_catalog) -> PartSupply:
    design = RackDesign.model_validate(copy.deepcopy(mini_rack()))
    parts = supply(resolve_sourcing(spec, mini_catalog, design), Q[0]).parts
    return next(p for p in parts if p.part == "t-compute")


def test_capacity_steps_up_after_each_lead_time(mini_catalog):
    part = _supply(_spec(), mini_catalog)
    # a: 100 from 2027Q1; b: +50 from 2027Q3 -> 100, 100, 150, 150; cumulative 100, 200, 350, 500
    assert part.capacity(4).tolist() == [100, 100, 150, 150]
    assert part.delivered_by(Q[0], Q).tolist() == [100, 200, 350, 500]
    assert part.units_per_rack == 10


def test_an_outage_drops_capacity_to_zero_and_it_comes_back(mini_catalog):
    # a is out in 2027Q2 and 2027Q3; b's outage in 2027Q1 is before its first delivery, so it
    # changes nothing. Per quarter: Q1 100 (a); Q2 0 (a out, b not yet); Q3 50 (b only);
    # Q4 150 (both). Cumulative: 100, 100, 150, 300.
    outages = [{"supplier": "a", "quarters": ["2027Q2", "2027Q3"]},
               {"supplier": "b", "quarters": ["2027Q1"]}]
    part = _supply(_spec(outages), mini_catalog)
    assert part.capacity(4).tolist() == [100, 0, 50, 150]
    assert part.delivered_by(Q[0], Q).tolist() == [100, 100, 150, 300]
    assert part.lost_per_quarter == ((1, 100.0), (2, 100.0))


def test_a_supplier_out_in_every_quarter_adds_nothing(mini_catalog):
    part = _supply(_spec([{"supplier": "a"}]), mini_catalog)
    # only b: 0, 0, 50, 50 -> cumulative 0, 0, 50, 100
    assert part.delivered_by(Q[0], Q).tolist() == [0, 0, 50, 100]
    assert part.added_per_quarter == ((2, 50.0),)


def test_delivered_by_counts_nothing_before_the_start():
    part = PartSupply("x", 1.0, ((0, 10.0),), ((1, 10.0),))
    quarters = [parse_quarter("2026Q4"), *Q[:3]]
    # before the start 0; then 10, 0 (lost), 10 -> cumulative 10, 10, 20
    assert part.delivered_by(Q[0], quarters).tolist() == [0, 10, 10, 20]
    assert part.delivered_by(Q[0], quarters[:1]).tolist() == [0]
    assert part.delivered_by(Q[0], []).shape == (0,)


def test_outage_quarters_merge_and_every_quarter_wins():
    start = Q[0]
    outages = [SupplierOutage(supplier="a", quarters=["2026Q4", "2027Q2"]),
               SupplierOutage(supplier="a", quarters=["2027Q4"]),
               SupplierOutage(supplier="b", quarters=["2027Q1"]),
               SupplierOutage(supplier="b")]
    # 2026Q4 is before the start and does not count
    assert outage_quarters(outages, start) == {"a": frozenset({1, 3}), "b": None}


def test_the_mip_base_case_loses_the_same_quarters(mini_catalog):
    spec = _spec([{"supplier": "a", "quarters": ["2027Q2", "2027Q3"]}])
    design = RackDesign.model_validate(copy.deepcopy(mini_rack()))
    case = build_case(resolve_sourcing(spec, mini_catalog, design))
    assert case.outages == (("a", (date(2027, 4, 1), date(2027, 7, 1))),)
    problem = case.problem()
    row = list(problem.offers.supplier).index("a")
    np.testing.assert_array_equal(problem.offers.capacity[row], [100, 0, 0, 100])


def test_outage_suppliers_and_quarters_are_checked(mini_catalog, tmp_path):
    with pytest.raises(InputError) as err:
        load_suppliers(_spec([{"supplier": "aa", "quarters": ["2027Q2"]}]), tmp_path,
                       mini_catalog, "s.yaml")
    assert (err.value.file, err.value.path) == ("s.yaml", "sourcing.outages[0].supplier")
    assert err.value.value == "aa" and "Did you mean a" in err.value.hint
    with pytest.raises(InputError) as err:
        load_suppliers(_spec([{"supplier": "a", "quarters": ["2027Q2", "2030Q1"]}]), tmp_path,
                       mini_catalog)
    assert err.value.path == "sourcing.outages[0].quarters[1]"
    assert "2027Q1 to 2027Q4" in err.value.expected


def test_an_outage_names_at_least_one_quarter():
    with pytest.raises(ValueError, match="at least 1"):
        _spec([{"supplier": "a", "quarters": []}])
