"""The reference scenario end to end: the stages agree with each other, ``plan`` alone prints
what ``run`` does, and the result cache re-runs only what a change reaches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackforge import pipeline
from rackforge.cache import ResultCache
from rackforge.calendar import format_quarter
from rackforge.cli import app
from rackforge.inputs import read_yaml
from rackforge.scenario import from_dict, load, with_changes

REFERENCE = Path(__file__).parent.parent / "scenarios" / "reference.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def reference():
    return load(REFERENCE)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def first_run(reference, cache_dir):
    return pipeline.run(reference, cache=ResultCache(cache_dir))


def test_every_stage_runs_and_passes(first_run):
    assert [o.status for o in first_run.outcomes.values()] == ["ok"] * 12
    assert all(o.passed and not o.cached for o in first_run.outcomes.values())


def test_racks_sourced_built_and_deployed_agree(first_run):
    plan = first_run.outcomes["plan"].result
    source = first_run.outcomes["source"].result
    built = plan.racks_built_whole()
    # sourcing buys each generation's parts for the racks of it the ramp builds; the first
    # design sourced, nvl72-us, is generation gb200 (the single-design figures are its)
    by_generation = {d.generation: d for d in source.designs}
    assert set(by_generation) == {"gb200", "gb300", "vr144", "kyber"}
    for generation, design in by_generation.items():
        assert design.racks == plan.racks_built_whole(generation), generation
    assert source.racks == plan.racks_built_whole("gb200")
    whole = {g: sum(plan.racks_built_whole(g).values()) for g in by_generation}
    assert sum(d.racks_total for d in source.designs) == sum(whole.values())
    assert plan.racks_total == sum(whole.values())     # the plan's whole racks: the sum
    for q in plan.quarters:                             # the ramp ships what it builds
        assert abs(q.racks_shipped - q.racks_built) < 1.0, format_quarter(q.quarter)
        assert abs(built[q.quarter] - q.racks_built) < len(whole)   # floors per generation
    assert plan.final.racks_in_stock < 1.0
    data = first_run.to_json()["stages"]
    assert data["plan"]["data"]["racks_total_by_system"]["gb200"] == \
        data["source"]["data"]["racks_total"]
    assert data["source"]["data"]["overall"]["racks_total"] == sum(whole.values())


def test_compare_and_source_agree_on_domestic_share(first_run):
    source = first_run.outcomes["source"].result
    results = {r.id: r for r in first_run.outcomes["compare"].result.results}
    gb200 = results["gb200-nvl72"]                      # built of the sourced rack, nvl72-us
    assert gb200.domestic_basis == "sourced"
    assert gb200.domestic_share == pytest.approx(source.domestic_share)
    assert gb200.domestic_share >= 0.65                 # every year's FAR 25 floor is met
    assert gb200.landed_cost_usd == pytest.approx(source.bom.total_usd)
    # every generation meets the FAR 25 threshold of every delivery year, 75 % in 2029
    years = [(d.generation, y) for d in source.designs for y in d.result.share_by_year
             if y.share is not None]
    assert all(y.test == "threshold" and y.share >= y.floor - 1e-9 for _, y in years)
    assert {g for g, y in years if y.year == 2029 and y.floor == y.threshold == 0.75}
    gb300 = results["gb300-nvl72"]                      # built of gb300-us, sourced as well
    design = next(d for d in source.designs if d.design == "gb300-us")
    assert gb300.domestic_basis == "sourced"
    assert gb300.domestic_share == pytest.approx(design.domestic_share)
    assert gb300.landed_cost_usd == pytest.approx(design.bom.total_usd)
    others = [r for r in results.values() if r.id not in ("gb200-nvl72", "gb300-nvl72")]
    assert len(others) >= 3 and all(r.domestic_basis == "not sourced" for r in others)


def test_reference_ramp_to_2029(first_run):
    result = first_run.outcomes["plan"].result
    assert format_quarter(result.quarters[0].quarter) == "2026Q3"
    assert format_quarter(result.final.quarter) == "2029Q4"
    # the campuses' grid power by the end: 2.5 + 2.0 + 2.2 + 1.2 GW of facility power, less
    # what crews and transformers (la-1's second order comes late) leave unfilled
    assert 6e9 < result.final.facility_power_online_w <= 7.9e9 * (1 + 1e-9)
    assert result.target_reached is False
    assert any(g.limit.startswith("site-power-upper") for g in result.growth)
    assert {q.binding_family for q in result.quarters} >= {"site", "chain", "crew"}
    # at least three rack generations deployed, each only from its roadmap quarter
    totals = {g: sum(result.racks_built_whole(g).values()) for g in result.final.racks_by_system}
    assert sum(n > 0 for n in totals.values()) >= 3, totals
    vr = [q for q in result.quarters if q.racks_by_system["vr144"] > 0]
    assert format_quarter(vr[0].quarter) >= "2026Q4"          # Vera Rubin: 2026Q4 (roadmap)
    # the transformer that binds la-1 in 2028Q3 is named, with when more had to be ordered
    la = [q.binding_note for q in result.quarters if q.binding.startswith(
        "site-chain-upper[la-1,substation-transformer,2028Q3]")]
    assert la and "order more by 2025Q3" in la[0]          # 12 quarters of lead + install


def test_second_run_is_all_cached(reference, cache_dir, first_run):
    again = pipeline.run(reference, cache=ResultCache(cache_dir))
    assert all(o.cached for o in again.outcomes.values())
    assert _answers(again) == _answers(first_run)


def _answers(run: pipeline.RunResult) -> dict:
    """Each stage's part of results.json but how long it took and whether it was cached."""
    return {name: {k: v for k, v in stage.items() if k not in ("seconds", "cached")}
            for name, stage in run.to_json()["stages"].items()}


def test_a_line_change_reruns_build_and_what_depends_on_it(reference, cache_dir, first_run):
    changed = with_changes(reference, "line", {"stations[7].servers": 12})   # burn-in: fewer
    run = pipeline.run(changed, cache=ResultCache(cache_dir))
    reran = {name for name, o in run.outcomes.items() if not o.cached}
    # slower line (and its variants), another ramp
    assert reran == {"build", "lines", "plan", "source", "cost", "compare"}
    doc = run.to_json()["stages"]
    assert doc["plan"]["inputs"] == ["demand", "build", "supply", "lines"]
    assert doc["cost"]["inputs"] == ["plan", "demand", "build", "source", "lines"]
    assert doc["build"]["key"] != first_run.outcomes["build"].key


def test_a_stage_that_gives_the_same_answer_leaves_its_downstream_cached(
        reference, cache_dir, first_run):
    """A warmer coolant changes the rack checks and the cluster's rack, not the fabric the
    performance model sees: the fabric stage re-runs, gives the same tiers, and the layout
    searches are not run again."""
    changed = load_with(reference, "racks", {"[0].cooling.supply_temp_c": 39.0})
    run = pipeline.run(changed, targets=["evaluate", "checks"], cache=ResultCache(cache_dir))
    reran = {name for name, o in run.outcomes.items() if not o.cached}
    assert reran == {"checks", "cluster", "fabric"}
    assert run.outcomes["fabric"].result_hash == first_run.outcomes["fabric"].result_hash


def load_with(scenario, section: str, changes: dict):
    """`scenario` re-loaded from its file with `changes` (key paths within `section`)."""
    data = read_yaml(REFERENCE)
    for path, value in changes.items():
        node = data[section]
        *parents, last = [int(p) if p.isdigit() else p
                          for p in path.replace("[", ".").replace("]", "").split(".") if p]
        for step in parents:
            node = node[step]
        node[last] = value
    return from_dict(data, file=str(REFERENCE))


def test_plan_alone_prints_the_plan_of_run(tmp_path):
    result = runner.invoke(app, ["run", str(REFERENCE), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    from_run = json.loads((tmp_path / "results.json").read_text())["stages"]["plan"]["data"]
    result = runner.invoke(app, ["plan", str(REFERENCE), "--json", "--explain"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == from_run
    assert "plan      cached" in result.stderr


def test_reference_compares_four_candidates(first_run):
    result = first_run.outcomes["compare"].result
    assert len(result.results) >= 4
    assert result.recommendation.candidate_id in result.ranking
    assert all(r.tco.cost_per_accelerator_hour_usd > 0 for r in result.results)
