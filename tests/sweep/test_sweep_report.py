"""The sweep report: the Pareto front against hand-worked cases and a brute-force property,
and the page of small hand-made tables (every section, no NaN or Infinity, escaped text,
missing figure columns, a table of bad inputs only)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plotly.offline import get_plotlyjs

from rackforge.sweep import report
from rackforge.sweep.report import pareto_front, sweep_report

NAN = math.nan
SUPPLY = "racks[0].cooling.supply_c"
SYSTEM = "system"
PARAMETERS = [SUPPLY, SYSTEM]
SECTIONS = ("summary", "front", "parallel", "best", "problems")
FIGURES = {"worst_margin": pa.float64(), "worst_rule": pa.string(), "design_passed": pa.bool_(),
           "step_s": pa.float64(), "mfu": pa.float64(), "tokens_per_s_per_gpu": pa.float64(),
           "cost_per_gpu_hour_usd": pa.float64(), "landed_cost_usd": pa.float64(),
           "domestic_share": pa.float64(), "racks_per_week": pa.float64(),
           "gw_by_end": pa.float64(), "racks_total": pa.float64()}
SCHEMA = pa.schema([("point", pa.int64()), ("key", pa.string()), ("status", pa.string()),
                    ("error", pa.string()), (SUPPLY, pa.float64()), (SYSTEM, pa.string()),
                    *FIGURES.items()])


# ---------------------------------------------------------------- pareto_front by hand

def test_two_objectives_front_listed_by_hand():
    # (3, 4) is beaten by (2, 3); (5, 5) by everything; (3, 2) survives: only (4, 1) has a
    # smaller second cost, and it is worse in the first.
    costs = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [5, 5], [3, 2]], dtype=float)
    assert pareto_front(costs).tolist() == [True, True, False, True, False, True]


def test_duplicates_stay_on_the_front_and_a_tie_in_one_column_still_dominates():
    costs = np.array([[1, 2], [1, 2], [2, 1], [1, 3]], dtype=float)
    assert pareto_front(costs).tolist() == [True, True, True, False]
    assert pareto_front(np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])).tolist() == \
        [True, True, False]


def test_rows_with_nan_are_never_on_the_front_and_dominate_nothing():
    costs = np.array([[NAN, 0], [1, 1], [0, NAN], [2, 0], [-100, NAN]], dtype=float)
    assert pareto_front(costs).tolist() == [False, True, False, True, False]
    assert pareto_front(np.full((3, 2), NAN)).tolist() == [False, False, False]


def test_three_objectives_by_hand():
    costs = np.array([[1, 2, 3], [2, 1, 3], [3, 3, 1], [2, 2, 3], [1, 2, 3.5]])
    assert pareto_front(costs).tolist() == [True, True, True, False, False]


def test_one_objective_gives_the_best_points_and_negation_maximizes():
    assert pareto_front(np.array([[3.0], [1.0], [2.0], [1.0]])).tolist() == \
        [False, True, False, True]
    performance = np.array([[3.0], [1.0], [2.0], [3.0]])
    assert pareto_front(-performance).tolist() == [True, False, False, True]


def test_infinities_are_ordinary_values():
    costs = np.array([[math.inf, 0], [0, math.inf], [1, 1], [math.inf, math.inf]])
    assert pareto_front(costs).tolist() == [True, True, True, False]


def test_degenerate_shapes():
    assert pareto_front(np.zeros((0, 3))).tolist() == []
    assert pareto_front(np.zeros((3, 0))).tolist() == [True, True, True]
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        pareto_front(np.zeros(4))


def test_a_front_of_every_row():
    line = np.arange(2000.0)
    assert pareto_front(np.column_stack([line, -line])).all()


def test_blocks_give_the_same_front(monkeypatch):
    costs = np.random.default_rng(7).integers(0, 6, size=(300, 3)).astype(float)
    whole = pareto_front(costs)
    monkeypatch.setattr(report, "PARETO_BLOCK_ELEMENTS", 50)
    assert (pareto_front(costs) == whole).all()


def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda k: st.tuples(st.just(k), st.lists(
    st.lists(st.one_of(st.integers(0, 4).map(float), st.just(NAN)), min_size=k, max_size=k),
    max_size=25))))
def test_front_property_against_brute_force(shape_and_rows):
    """Small integers make ties and duplicates common; NaN rows are off the front."""
    columns, rows = shape_and_rows
    costs = np.array(rows, dtype=float).reshape(len(rows), columns)
    front = pareto_front(costs)
    complete = ~np.isnan(costs).any(axis=1)
    assert not (front & ~complete).any()
    for i in np.flatnonzero(front):
        assert not any(_dominates(costs[j], costs[i]) for j in np.flatnonzero(complete))
    for i in np.flatnonzero(complete & ~front):
        assert any(_dominates(costs[j], costs[i]) for j in np.flatnonzero(front))
    with pytest.MonkeyPatch.context() as patch:  # one row per block: the same front
        patch.setattr(report, "PARETO_BLOCK_ELEMENTS", 1)
        assert (pareto_front(costs) == front).all()


# ---------------------------------------------------------------- the page

def _row(point: int, status: str = "ok", error: str | None = None, **values) -> dict:
    base = {"point": point, "key": f"key-{point}", "status": status, "error": error,
            SUPPLY: 30.0 + point, SYSTEM: "gb200" if point % 2 else "hgx-h100"}
    return {**dict.fromkeys(SCHEMA.names), **base, **values}


def _ok(point: int, cost, perf, share, passed: bool | None = True, **values) -> dict:
    return _row(point, cost_per_gpu_hour_usd=cost, tokens_per_s_per_gpu=perf,
                domestic_share=share, design_passed=passed, mfu=perf / 4000,
                landed_cost_usd=None if cost is None else cost * 1e6, worst_margin=0.1,
                worst_rule="coolant-flow", step_s=1.5, racks_per_week=20.0, gw_by_end=1.2,
                racks_total=500.0, **values)


def _table() -> pa.Table:
    """Points 0, 1 and 3 are the front; 2 is dominated by 0; 4 would dominate all but fails
    the design rules; 5 has no cost; 6 is bad input and 7 failed."""
    return pa.Table.from_pylist([
        _ok(0, 2.0, 1000.0, 0.6), _ok(1, 1.5, 800.0, 0.5), _ok(2, 3.0, 900.0, 0.4),
        _ok(3, 2.5, 1200.0, 0.3, passed=None), _ok(4, 1.0, 2000.0, 0.9, passed=False),
        _ok(5, None, 1500.0, 0.7, **{SYSTEM: "<script>alert(1)</script>"}),
        _row(6, "bad input", "racks[0].cooling.supply_c: 80 is above 60\nsecond line"),
        _row(7, "failed", "HiGHS: infeasible", **{SUPPLY: NAN})], schema=SCHEMA)


def _without_plotly(page: str) -> str:
    assert get_plotlyjs() in page
    return page.replace(get_plotlyjs(), "")


def _section(page: str, name: str) -> str:
    return re.search(rf'<section id="{name}">(.*?)</section>', page, re.S).group(1)


def _table_keys(html: str) -> list[str]:
    table = re.search(r"<table>(.*?)</table>", html, re.S).group(1)
    return re.findall(r"<td[^>]*>(key-\d+)</td>", table)


@pytest.fixture(scope="module")
def page() -> str:
    return sweep_report(_table(), PARAMETERS, "Coolant & system <sweep>")


def test_page_has_every_section_and_no_nan(page):
    body = _without_plotly(page)
    for name in SECTIONS:
        assert f'<section id="{name}">' in body
    assert "NaN" not in body and "Infinity" not in body
    assert body.count("Plotly.newPlot") == 2
    assert "go.Parcoords" not in body and '"type":"parcoords"' in body


def test_summary_counts(page):
    assert "8 points: 6 ok, 1 bad input, 1 failed; 4 of 5 judged pass the design rules." in page


def test_front_table_lists_the_front_cheapest_first(page):
    front = _section(page, "front")
    assert "3 Pareto-front points of 5 ok points that pass the design rules" in front
    assert _table_keys(front) == ["key-1", "key-0", "key-3"]
    assert "$1.5" in front and "60.0%" in front and "hgx-h100" in front


def test_best_points_by_cost_per_performance(page):
    best = _section(page, "best")
    assert _table_keys(best) == ["key-4", "key-1", "key-0", "key-3", "key-2"]
    assert 'data-value="0.0005"' in best


def test_problems_show_the_first_line_of_each_error(page):
    problems = _section(page, "problems")
    assert _table_keys(problems) == ["key-6", "key-7"]
    assert "80 is above 60" in problems and "second line" not in problems
    assert "HiGHS: infeasible" in problems and "more" not in problems


def test_text_is_escaped(page):
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "Coolant &amp; system &lt;sweep&gt;" in page


def test_string_parameters_are_categorical_axes(page):
    parallel = _section(page, "parallel")
    assert '"ticktext":["\\u003cscript\\u003ealert(1)\\u003c\\u002fscript\\u003e","gb200",' \
           '"hgx-h100"]' in parallel
    assert f'"label":"{SUPPLY}"' in parallel


def test_missing_columns_fall_back_to_landed_cost_and_mfu():
    table = _table().drop_columns(["cost_per_gpu_hour_usd", "tokens_per_s_per_gpu"])
    page = sweep_report(table, PARAMETERS, "fallback")
    front = _section(page, "front")
    assert "landed cost [USD]" in front and "MFU [%]" in front
    assert _table_keys(front) == ["key-1", "key-0", "key-3"]
    assert "NaN" not in _without_plotly(page)


def test_all_null_cost_column_counts_as_missing():
    table = _table()
    index = table.schema.get_field_index("cost_per_gpu_hour_usd")
    nulls = pa.nulls(table.num_rows, pa.float64())
    page = sweep_report(table.set_column(index, "cost_per_gpu_hour_usd", nulls), PARAMETERS,
                        "null cost")
    assert "minimize cost (landed cost [USD])" in page


def test_nan_everywhere_counts_as_missing():
    table = _table()
    index = table.schema.get_field_index("domestic_share")
    nans = pa.array([NAN] * table.num_rows, pa.float64())
    page = sweep_report(table.set_column(index, "domestic_share", nans), PARAMETERS, "nan")
    assert "maximize domestic share" not in page and "domestic share [%]" not in page
    assert _table_keys(_section(page, "front")) == ["key-1", "key-0", "key-3"]
    assert "NaN" not in _without_plotly(page)


def test_one_objective_gives_the_best_points():
    table = _table().select(["point", "key", "status", "error", SUPPLY, "domestic_share"])
    page = sweep_report(table, [SUPPLY, "not.in.table"], "share only")
    front = _section(page, "front")
    assert "1 best point(s)" in front and _table_keys(front) == ["key-4"]
    assert "needs both a cost and a performance" in _section(page, "best")
    assert "NaN" not in _without_plotly(page)


def test_no_figures_at_all():
    table = _table().select(["point", "key", "status", "error", SUPPLY, SYSTEM])
    page = sweep_report(table, PARAMETERS, "no figures")
    assert "there is no front" in page
    assert "no point was judged against the design rules" in page
    assert page.count("Plotly.newPlot") == 1  # parallel coordinates of the parameters


def test_all_bad_input_table():
    rows = [{"point": i, "key": f"key-{i}", "status": "bad input", "error": f"bad value {i}",
             SUPPLY: None, **dict.fromkeys(FIGURES)} for i in range(60)]
    page = sweep_report(pa.Table.from_pylist(rows), [SUPPLY], "all bad")
    body = _without_plotly(page)
    assert "60 points: 0 ok, 60 bad input, 0 failed" in body
    assert "there is no front" in body and "No ok point with parameter" in body
    assert "bad value 49" in body and "bad value 50" not in body and "and 10 more" in body
    assert "Plotly.newPlot" not in body and "NaN" not in body


def test_empty_table():
    page = sweep_report(pa.Table.from_pylist([], schema=SCHEMA), PARAMETERS, "empty")
    assert "0 points" in page and "Every point ran." in page


def test_browser_draws_both_charts_without_console_errors(page, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed; the browser check needs it")
    path = tmp_path / "sweep.html"
    path.write_text(page, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=10000", "--dump-dom", path.as_uri()]
    dom = subprocess.run([browser, *flags], capture_output=True, text=True, timeout=120)
    console = [ln for ln in dom.stderr.splitlines()
               if ":CONSOLE" in ln and not re.search(r"WebGL|GL Driver Message", ln)]
    assert console == []  # the parallel coordinates draw with software WebGL: its notes pass
    assert dom.stdout.count('class="figure js-plotly-plot"') == 2
    assert 'class="parcoords"' in dom.stdout and dom.stdout.count('class="point"') == 5
