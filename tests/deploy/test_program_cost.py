"""The program's whole cost against hand calculations from capex.yaml's figures.

Common case: 1,000 racks of 72 GPUs, 100 kW IT and $3.0 M each (+ $0.1 M integration), PUE
1.25, economics defaults otherwise (tier 3, liquid: $12.7 M per MW; grid $470 k per MW; land
1.3 acres per MW at $244 k; networks $8,200 + $2,500 and storage $1,000 per GPU; carrying 20 %
a year). The ramp, by hand: 2027Q1 builds 1,000 and ships 800 (200 in stock), 2027Q2 ships the
other 200 and energizes 800, 2027Q3 energizes 200; 1,000 racks x 125 kW = 125 MW of facility
power online at the end.
"""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest

from rackforge import pipeline
from rackforge.calendar import parse_quarter
from rackforge.deploy.capex_data import CapexItem, capex_data
from rackforge.deploy.demand import Demand, DeployedRack
from rackforge.deploy.program_cost import ProgramOptions, parts_held_units, program_cost
from rackforge.deploy.ramp import QuarterPlan, RampResult
from rackforge.deploy.sites import chain_items
from rackforge.economics import EconomicsSpec
from rackforge.errors import InputError
from rackforge.inputs import validate
from rackforge.scenario import load
from rackforge.sourcing.model import part_reference_cost
from rackforge.sourcing.whatif import build_case
from rackforge.stages import cost as cost_stage
from tests.test_reference import REFERENCE

RACK = DeployedRack(None, None, accelerators=72, it_power_w=100e3, price_usd=3e6)
ECON = EconomicsSpec(pue=1.25, integration_usd_per_rack=100_000)
Q = [parse_quarter(q) for q in ("2027Q1", "2027Q2", "2027Q3")]
# 8760 h / 80: each rack is held an 80th of a year in the line
LINE = SimpleNamespace(line="test-line", cycle_time_h=SimpleNamespace(mean=109.5),
                       wip_racks=SimpleNamespace(mean=10.0),
                       racks_per_week=SimpleNamespace(mean=10.0))


def quarter(day: date, built=0.0, shipped=0.0, energized=0.0, online=0.0, stock=0.0
            ) -> QuarterPlan:
    return QuarterPlan(
        quarter=day, racks_built=built, racks_shipped=shipped, racks_energized=energized,
        racks_online=online, accelerators_online=online * 72, it_power_online_w=online * 100e3,
        facility_power_online_w=online * 125e3, rack_capex_usd=0.0, facility_capex_usd=0.0,
        binding="-", binding_family="none", factory_capacity_racks=1e4, site_power_w=1e9,
        racks_in_stock=stock, racks_by_system={"rack": built},
        online_by_system={"rack": online})


RAMP = RampResult((quarter(Q[0], built=1000, shipped=800, stock=200),
                   quarter(Q[1], shipped=200, energized=800, online=800),
                   quarter(Q[2], energized=200, online=1000)),
                  "max-capacity", None, "facility", None, None, (), {}, {})
DEMAND = Demand((RACK,), 1.25, (1.25,), tuple(Q), 1, None, "facility", (0.0,) * 3, (0.0,) * 3)


def by_id(cost):
    return {i.id: i for i in cost.items}


def test_items_match_hand_calculation():
    cost = program_cost(RAMP, DEMAND, ECON, LINE)
    items = by_id(cost)
    assert cost.quarters == tuple(Q)
    assert items["racks"].by_quarter_usd == pytest.approx((3.1e9, 0, 0))  # 1,000 x 3.1 M
    # 800 then 200 racks energized x 72 GPUs = 57,600 and 14,400 GPUs
    assert items["scale-out-network"].by_quarter_usd == pytest.approx((0, 472.32e6, 118.08e6))
    assert items["front-end-network"].total_usd == pytest.approx(180e6)   # 72,000 x 2,500
    assert items["storage"].total_usd == pytest.approx(72e6)              # 72,000 x 1,000
    # 80 MW then 20 MW of critical IT energized
    assert items["facility"].by_quarter_usd == pytest.approx((0, 1.016e9, 254e6))
    assert items["facility"].quantity == pytest.approx(100.0)            # MW
    assert items["grid-interconnect"].by_quarter_usd == pytest.approx((0, 37.6e6, 9.4e6))
    # 104 and 26 acres x 244 k
    assert items["land"].by_quarter_usd == pytest.approx((0, 25.376e6, 6.344e6))
    assert items["land"].quantity == pytest.approx(130.0)
    # work in progress: 3.1 B x 20 % / 80; stock: 200 x 3.1 M x 20 % / 4
    assert items["carrying-wip"].by_quarter_usd == pytest.approx((7.75e6, 0, 0))
    assert items["carrying-stock"].by_quarter_usd == pytest.approx((31e6, 0, 0))
    assert "carrying-parts" not in items                     # no sourcing plan
    assert cost.total_usd == pytest.approx(5_329.87e6)
    assert cost.cash_flow_usd == pytest.approx((3_138.75e6, 1_752.896e6, 438.224e6))


def test_cost_per_facility_gw_and_the_check():
    cost = program_cost(RAMP, DEMAND, ECON, LINE)
    assert cost.facility_power_w == pytest.approx(125e6)
    assert cost.usd_per_gw == pytest.approx(5_329.87e6 / 0.125)   # 42.64 B per GW
    assert cost.item_usd_per_gw("facility") == pytest.approx(10.16e9)
    check = cost.check
    assert check.within is True                                 # 33-60 B per GW
    # facility, grid and land: 1,348.72 M of 5,329.87 M
    assert check.non_it_share == pytest.approx(1_348.72 / 5_329.87)
    assert check.non_it_within is False                         # below 0.30
    assert check.message.startswith("$42.6B per facility GW lies within the public range "
                                    "$33B-$60B; non-IT share 0.25")
    assert "racks 58%" in check.message and "construction cost only" in check.message
    labels = {r.label: r for r in check.references}
    assert labels["bernstein-2025"].low_usd_per_gw == 35e9
    assert labels["barclays-2025"].high_usd_per_gw == pytest.approx(57e9)   # $57 M per MW
    assert labels["morgan-stanley-2026 gb300"].low_usd_per_gw == 33e9


def test_tier_cooling_and_options():
    tier4 = program_cost(RAMP, DEMAND, ECON.model_validate(
        {"pue": 1.25, "integration_usd_per_rack": 100_000, "facility_tier": 4,
         "cooling": "air"}))
    facility = by_id(tier4)["facility"]
    assert facility.total_usd == pytest.approx(1.46e9)         # 100 MW x 14.6 M
    assert facility.flags == ("assumption",) and "Tier IV" in facility.note
    assert facility.name.endswith("(tier 4, air cooling)")
    built = program_cost(RAMP, DEMAND, ECON, options=ProgramOptions(
        network_storage_at="built", carrying_rate_per_year=0.10))
    assert by_id(built)["storage"].by_quarter_usd == pytest.approx((72e6, 0, 0))
    assert by_id(built)["carrying-stock"].total_usd == pytest.approx(15.5e6)
    assert "carrying-wip" not in by_id(built)                   # no line
    assert any("no line simulation" in text for text in built.left_out)


def test_a_stated_rate_says_so_and_a_default_cites_capex_yaml():
    cost = program_cost(RAMP, DEMAND, ECON.model_validate(
        {"pue": 1.25, "storage_usd_per_gpu": 500}))
    items = by_id(cost)
    assert items["storage"].total_usd == pytest.approx(36e6)
    assert items["storage"].origin == "scenario (economics.storage_usd_per_gpu)"
    assert items["storage"].flags == ("scenario",)
    assert "Bernstein" in items["scale-out-network"].origin
    assert items["scale-out-network"].flags == ("approximate",)
    assert "Cushman & Wakefield" in items["land"].origin
    assert items["racks"].flags == ("example",)                 # integration is an example


def test_parts_bought_early_extend_the_horizon():
    """Stand-in sourcing plan: 72,000 GPUs at $30 k delivered in 2026Q4 for the 1,000 racks
    built in 2027Q1, so 2026Q4 ends holding $2.16 B of parts: 20 % / 4 of it is $108 M."""
    early = parse_quarter("2026Q4")
    report = SimpleNamespace(
        result=SimpleNamespace(status="optimal", plan=("one line",), quarters=(early, Q[0]),
                               deliveries=lambda: {"gpu": {early: 72_000}}),
        resolved=SimpleNamespace(bom=SimpleNamespace(counts=lambda: {"gpu": 72.0}),
                                 design=SimpleNamespace(id="r")),
        racks={Q[0]: 1000.0}, bom=SimpleNamespace(lines=[SimpleNamespace(
            part="gpu", unit_price_usd=30_000.0)]))
    report.whole, report.by_design = report.result, (report,)     # a plan of one design
    cost = program_cost(RAMP, DEMAND, ECON, LINE, report)
    items = by_id(cost)
    assert cost.quarters == (early, *Q)
    assert items["carrying-parts"].by_quarter_usd == pytest.approx((108e6, 0, 0, 0))
    assert items["racks"].by_quarter_usd == pytest.approx((0, 3.1e9, 0, 0))
    assert cost.total_usd == pytest.approx(5_329.87e6 + 108e6)


def test_capex_yaml_loads_with_every_figure_cited():
    data = capex_data()
    assert {i.id for i in data.items} >= {"facility-tier3-liquid", "grid-interconnect-substation",
                                          "land-price", "land-area", "scale-out-network",
                                          "front-end-network", "storage"}
    for item in data.items:
        assert item.source or item.assumption or item.example, item.id
    assert data.carrying_cost.total_per_year.value == pytest.approx(0.20)
    with pytest.raises(InputError, match="cites a source"):
        validate(CapexItem, {"id": "x", "basis": "per_gpu", "usd_per_gpu": 1.0})
    with pytest.raises(InputError, match="needs usd_per_gpu"):
        validate(CapexItem, {"id": "x", "basis": "per_gpu", "example": True})


def test_grid_item_agrees_with_the_power_chain():
    """capex.yaml's grid interconnect per MW of IT is power_chain.yaml's per MW of facility
    power x PUE 1.2: $393 k x 1.2 = $471.6 k, within 0.5 % of $470 k."""
    grid = chain_items()["grid-interconnect"]
    per_mw_facility = grid.cost_usd(1.0) / (grid.unit_capacity_w / 1e6)
    assert per_mw_facility == pytest.approx(393_000)
    item = capex_data().item("grid-interconnect-substation")
    assert item.usd_per_mw == pytest.approx(per_mw_facility * 1.2, rel=5e-3)


@pytest.fixture(scope="module")
def reference_run():
    return pipeline.run(load(REFERENCE), targets=["cost"])


def test_reference_cost_per_gw_in_the_envelope_or_explained(reference_run):
    outcome = reference_run.outcomes["cost"]
    assert outcome.status == "ok", outcome.error
    cost = outcome.result
    check = cost.check
    assert check.usd_per_gw is not None
    in_range = check.low_usd_per_gw <= check.usd_per_gw <= check.high_usd_per_gw
    assert check.within is in_range
    if not (check.within and check.non_it_within):
        assert "of the total" in check.message      # names the items that dominate
    per_gw = sum(cost.item_usd_per_gw(i.id) for i in cost.items)
    assert per_gw == pytest.approx(check.usd_per_gw)
    plan = reference_run.outcomes["plan"].result
    assert by_id(cost)["racks"].quantity == pytest.approx(sum(q.racks_built
                                                              for q in plan.quarters))
    assert "per facility GW" in outcome.summary
    data = outcome.data
    json.dumps(data)
    assert data["quarters"][-1] == "2029Q4"
    assert data["total_usd"] == pytest.approx(cost.total_usd)
    assert len(data["cash_flow_usd"]) == len(data["quarters"])


def test_reference_parts_held_are_the_sourcing_mips(reference_run):
    """The parts held, derived from the plan's deliveries, priced as the MIP prices holding
    (rate per quarter x the part's cheapest landed cost), give its holding cost exactly."""
    report = reference_run.outcomes["source"].result
    parts, _, held = parts_held_units(report.by_design[0])
    problem = build_case(report.resolved).problem()
    assert parts == problem.parts
    rate = problem.settings.holding_rate_per_quarter * part_reference_cost(problem)
    assert float(rate @ held.sum(axis=1)) == pytest.approx(report.result.cost.holding_usd)
    assert np.all(held >= 0)


def test_stage_summary_and_data():
    cost = cost_stage.run(RAMP, DEMAND, ECON, LINE)
    assert cost_stage.summary(cost) == ("total capex $5.3B, $42.6B per facility GW (0.12 GW), "
                                        "within the public range $33B-$60B")
    data = cost_stage.data(cost)
    assert data["quarters"] == ["2027Q1", "2027Q2", "2027Q3"]
    racks = data["items"][0]
    assert racks["id"] == "racks" and racks["usd_per_gw"] == pytest.approx(24.8e9)
    assert data["cumulative_usd"][-1] == pytest.approx(5_329.87e6)
