"""The stage graph: read from the stages' signatures, ordered topologically, run with a result
cache; a failing stage is recorded and the others still run; a stage whose input failed is
skipped with the reason."""

from __future__ import annotations

import typing
from types import ModuleType

import pytest
from typer.testing import CliRunner

from rackforge import pipeline
from rackforge.cache import ResultCache
from rackforge.cli import app
from rackforge.errors import InputError
from rackforge.pipeline import Stage, StageGraphError, order
from rackforge.scenario import from_dict
from tests.test_scenario_errors import _set, scenario_text


def fake_stage(name: str, run, sections=("racks",)) -> Stage:
    """A stage made the way the pipeline reads a stage module."""
    module = ModuleType(f"tests.fake_stages.{name}")
    module.TITLE, module.SECTIONS, module.run = name.title(), sections, run
    module.summary = lambda result: f"{name}: {result}"
    return Stage.of(module)


def _boom(racks):
    raise InputError("no such thing", None, "line.stations[0]", 0, "a station")


def _bug(racks):
    return 1 / 0


def test_failures_are_recorded_and_later_stages_still_run(mini_catalog, mini_scenario):
    scen = from_dict(mini_scenario, mini_catalog, file="mini.yaml")
    graph = order([fake_stage("a", _boom), fake_stage("b", _bug),
                   fake_stage("c", lambda racks: len(racks)),
                   fake_stage("d", lambda racks, a: 1),
                   fake_stage("e", lambda racks, a=None: 1)])
    out = pipeline.run(scen, graph=graph).outcomes
    assert out["a"].status == "failed"
    assert out["a"].error == "mini.yaml:line.stations[0]: no such thing; got 0; expected a station"
    assert out["b"].status == "failed" and "ZeroDivisionError" in out["b"].summary
    assert out["c"].status == "ok" and out["c"].result == 1
    assert out["d"].status == "skipped" and "a failed" in out["d"].summary
    assert out["e"].status == "skipped"   # an optional input that failed is not left out


def test_order_follows_the_declarations_and_rejects_cycles():
    graph = order([fake_stage("z", lambda racks, y: 1), fake_stage("y", lambda racks, x: 1),
                   fake_stage("x", lambda racks: 1)])
    assert [s.name for s in graph] == ["x", "y", "z"]
    with pytest.raises(StageGraphError, match="cycle: x, y"):
        order([fake_stage("x", lambda racks, y: 1), fake_stage("y", lambda racks, x: 1)])
    with pytest.raises(StageGraphError, match="reads .'w'., which no stage makes"):
        order([fake_stage("x", lambda racks, w: 1)])
    with pytest.raises(StageGraphError, match="not scenario sections"):
        fake_stage("x", lambda rackz: 1, sections=("rackz",))


def test_the_shipped_graph_is_typed_end_to_end():
    """Each upstream parameter is annotated with the type its upstream stage returns."""
    for stage in pipeline.STAGES:
        hints = typing.get_type_hints(stage.run)
        assert "return" in hints, stage.name
        for name in stage.upstream:
            wanted = {a for a in typing.get_args(hints[name]) if a is not type(None)} or \
                {hints[name]}
            made = typing.get_type_hints(pipeline.BY_NAME[name].run)["return"]
            assert wanted == {made}, (stage.name, name)


def test_stages_read_only_what_they_declare():
    plan = pipeline.BY_NAME["plan"]
    assert plan.sections == ("plan", "economics")
    assert plan.upstream == ("demand", "build", "supply", "lines")
    assert plan.optional == {"economics", "build", "supply", "lines"}
    cost = pipeline.BY_NAME["cost"]
    assert cost.sections == ("economics",)
    assert cost.upstream == ("plan", "demand", "build", "source", "lines")
    assert cost.optional == {"economics", "build", "source", "lines"}
    assert [s.name for s in pipeline.STAGES].index("cost") > \
        max([s.name for s in pipeline.STAGES].index(u) for u in cost.upstream)


def test_a_cached_stage_is_not_run_again(mini_catalog, mini_scenario, tmp_path):
    calls = []
    graph = order([fake_stage("a", lambda racks: calls.append(1) or len(calls)),
                   fake_stage("b", lambda racks, a: a * 10)])
    scen = from_dict(mini_scenario, mini_catalog)
    first = pipeline.run(scen, cache=ResultCache(tmp_path), graph=graph)
    second = pipeline.run(scen, cache=ResultCache(tmp_path), graph=graph)
    assert calls == [1] and second.outcomes["b"].result == 10
    assert [o.cached for o in second.outcomes.values()] == [True, True]
    assert [o.key for o in second.outcomes.values()] == [o.key for o in first.outcomes.values()]
    for entry in tmp_path.rglob("*.pkl"):           # a damaged entry is a miss, not a crash
        entry.write_bytes(b"not a pickle")
    third = pipeline.run(scen, cache=ResultCache(tmp_path), graph=graph)
    assert calls == [1, 1] and not any(o.cached for o in third.outcomes.values())


def test_a_memory_only_cache_serves_the_same_process_and_writes_nothing(
        mini_catalog, mini_scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    graph = order([fake_stage("a", lambda racks: calls.append(1) or len(calls))])
    scen = from_dict(mini_scenario, mini_catalog)
    memory = ResultCache(None)
    pipeline.run(scen, cache=memory, graph=graph)
    again = pipeline.run(scen, cache=memory, graph=graph)
    assert calls == [1] and again.outcomes["a"].cached
    assert not list(tmp_path.rglob("*"))


def test_a_changed_section_changes_the_key(mini_catalog, mini_scenario):
    graph = order([fake_stage("a", lambda racks, site=None: 1, ("racks", "site"))])
    scen = from_dict(mini_scenario, mini_catalog)
    other = dict(mini_scenario, site={"floor_rating_kg_per_m2": "1600 kg/m^2"})
    key = pipeline.run(scen, graph=graph).outcomes["a"].key
    assert pipeline.run(from_dict(other, mini_catalog), graph=graph).outcomes["a"].key != key
    assert pipeline.run(scen, graph=graph).outcomes["a"].key == key


def test_json_document_reports_every_stage(mini_catalog, mini_scenario):
    scen = from_dict(mini_scenario, mini_catalog)
    doc = pipeline.run(scen, targets=["checks"]).to_json()
    assert doc["schema_version"] == pipeline.SCHEMA_VERSION
    checks = doc["stages"]["checks"]
    assert checks["status"] == "ok" and checks["passed"] is True
    assert checks["data"]["r1"]["power"]["it_power_w"] == 62_000
    assert (checks["inputs"], checks["sections"]) == ([], ["layouts", "site"])
    assert checks["cached"] is False and len(checks["key"]) == 64


def test_targets_run_their_upstream_and_nothing_else(mini_catalog, mini_scenario):
    assert pipeline.needed(["plan"]) == {"plan", "demand", "build", "lines", "supply", "cluster",
                                         "evaluate", "fabric"}
    scen = from_dict(mini_scenario, mini_catalog)
    assert pipeline.missing_sections(scen, "plan") == ["plan"]
    assert list(pipeline.run(scen, targets=["checks"]).outcomes) == ["checks"]


def test_run_exits_1_when_a_design_fails(tmp_path):
    path = tmp_path / "fail.yaml"
    path.write_text(scenario_text(_set(("cooling", "available_flow_lpm"), "60 L/min")))
    result = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "out" / "report.html").stat().st_size > 1_000_000
    assert "FAIL" in result.output
