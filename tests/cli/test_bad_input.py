"""User mistakes found by mutating the reference scenario, the measurement CSVs and the command
options one at a time: each gives one line with the file, the key path (or option), the value and
what was expected, and exit code 2 -- never a traceback, never exit 0 or 1.

Every case fails while loading or checking its input, so none runs a solver or a simulation.
"""

from __future__ import annotations

import copy
import csv
import io
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rackforge.catalog import load_catalog
from rackforge.cli import app

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = yaml.safe_load((ROOT / "scenarios" / "reference.yaml").read_text(encoding="utf-8"))
DATA = ROOT / "tests" / "data"
runner = CliRunner()


def write(tmp_path: Path, mutate=None) -> str:
    """The reference scenario with one mistake, next to a copy of its supplier table."""
    data = copy.deepcopy(REFERENCE)
    if mutate:
        mutate(data)
    shutil.copy(ROOT / "scenarios" / "suppliers-reference.csv", tmp_path)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def one_line_error(args: list[str], *parts: str) -> str:
    result = runner.invoke(app, args, terminal_width=400)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert text.startswith("Error:") and "\n" not in text, text
    for part in parts:
        assert part in text, text
    return text


def _set(*path_value):
    *path, value = path_value

    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _no_cluster_but_fabric_from_it(data):
    del data["cluster"]
    data["evaluate"]["fabric_from_cluster"] = True


def _duplicate_variant(data):
    data["cluster"]["variants"].append(copy.deepcopy(data["cluster"]["variants"][0]))


def _schedule_before_start(data):
    del data["plan"]
    data["sourcing"]["build_schedule"] = {"2025Q1": 10, "2027Q1": 40}
    data["sourcing"].pop("what_if", None)


def _shadow_catalog_part(data):
    catalog = load_catalog()
    part = catalog.parts["mgmt-switch-1u"].model_dump(mode="json", exclude={"replaces"})
    data["parts"] = [part]


LOST = ("sourcing", "what_if", "lose-alamo-2027h2", "supplier_lost", 0, "quarters")

SCENARIO_CASES = {
    # supplier_lost in a quarter the sourcing plan does not cover was silently ignored
    "what-if-quarter-outside": (
        "source", _set(*LOST, ["2035Q1"]),
        ["sourcing.what_if.lose-alamo-2027h2.supplier_lost[0].quarters[0]", "'2035Q1'",
         "quarter outside the sourcing horizon", "from 2025Q4 to 2029Q4"]),
    # a build schedule of zeros crashed the source command (max() of an empty sequence)
    "schedule-all-zero": (
        "source", _set("sourcing", "build_schedule", {"2026Q3": 0}),
        ["sourcing", "more than 0 in at least one quarter"]),
    # negative duty rates were accepted and lowered the landed cost
    "tariff-negative": (
        "source", _set("sourcing", "tariffs", {"CN": -0.5}),
        ["sourcing.tariffs.CN", "-0.5", "greater than or equal to 0"]),
    "what-if-tariff-negative": (
        "source", _set("sourcing", "what_if", "taiwan-tariff-25", "tariffs", {"TW": -2}),
        ["sourcing.what_if.taiwan-tariff-25.tariffs.TW", "greater than or equal to 0"]),
    # a domestic-content floor above 100 % made the plan infeasible (exit 1)
    "domestic-floor-above-one": (
        "source", _set("sourcing", "domestic_floor", 2),
        ["sourcing.domestic_floor", "got 2", "less than or equal to 1"]),
    "what-if-extra-racks-negative": (
        "source", _set("sourcing", "what_if", "demand-surge-20", "extra_racks", {"2027Q1": -5}),
        ["sourcing.what_if.demand-surge-20.extra_racks.2027Q1", "got -5"]),
    # a deployment plan that builds nothing was sourced as zero demand (and crashed the CLI)
    "schedule-from-plan-builds-nothing": (
        "source", lambda d: (_set("sourcing", "build_schedule", "plan")(d),
                             _set("plan", "factory", "lines", 0)(d)),
        ["sourcing.build_schedule", "the deployment plan builds no racks to source"]),
    # .inf / .nan in plain number fields: '$infM', 'HiGHS stopped: Empty', or a simulation
    # that never ends
    "economics-pue-inf": (
        "compare", _set("economics", "pue", float("inf")),
        ["economics.pue", "finite number", "got inf"]),
    "plan-racks-per-week-nan": (
        "plan", _set("plan", "factory", "racks_per_week", float("nan")),
        ["plan.factory.racks_per_week:", "finite number", "got nan"]),
    "schedule-inf": (
        "source", _set("sourcing", "build_schedule", {"2026Q3": float("inf")}),
        ["sourcing.build_schedule.2026Q3", "finite number"]),
    "line-weeks-inf": (
        "build", _set("line", "run", "weeks", float("inf")),
        ["line.run.weeks", "finite number"]),
    # a huge GPU count crashed the layout search ('Maximum allowed size exceeded')
    "compare-gpus-huge": (
        "compare", _set("compare", "workloads", 0, "gpus", 10**30),
        ["compare.workloads[0].gpus", "expected 1 to 10,000,000"]),
    # a variant's fabric was only checked when that variant was asked for
    "variant-oversubscription": (
        "cluster", _set("cluster", "variants", 0, "oversubscription", [1]),
        ["cluster.variants[0]", "oversubscription needs 2 value(s)"]),
    "variant-duplicate-name": (
        "cluster", _duplicate_variant,
        ["cluster.variants[1].name", "duplicate variant name", "'100k'"]),
    # an unknown dtype silently fell back to bf16
    "evaluate-dtype": (
        "check", _set("evaluate", "dtype", "int3"), ["evaluate.dtype", "'int3'", "'bf16'"]),
    "compare-dtype": (
        "compare", _set("compare", "workloads", 1, "dtype", "int3"),
        ["compare.workloads[1].dtype", "'int3'"]),
    # fabric_from_cluster without a cluster was silently ignored
    "fabric-from-missing-cluster": (
        "check", _no_cluster_but_fabric_from_it,
        ["evaluate.fabric_from_cluster", "needs a cluster section"]),
    # a bad quarter in a step schedule was reported at 'plan.factory.lines.float'
    "plan-schedule-bad-quarter": (
        "plan", _set("plan", "factory", "lines", {"2026Q9": 1}),
        ["plan.factory.lines.2026Q9", "'2026Q9' is not a quarter"]),
    # a huge CONWIP cap released every order at once and never finished
    "line-wip-cap-huge": (
        "build", _set("line", "release", "wip_cap", 10**30),
        ["line.release.wip_cap", "less than or equal to 100000"]),
    # quarters scheduled before sourcing.start made the sourcing plan fail with exit 1
    "schedule-before-start": (
        "source", _schedule_before_start,
        ["sourcing:", "build_schedule starts in 2025Q1, before start 2025Q4"]),
    # a factory that builds nothing got advice about the commissioning lag
    "plan-racks-per-week-zero": (
        "plan", _set("plan", "factory", "racks_per_week", 0),
        ["plan.factory.racks_per_week", "the factory builds nothing"]),
    "plan-lines-huge": (
        "plan", _set("plan", "factory", "lines", 10**12),
        ["plan.factory.lines", "at most 1,000,000"]),
    "plan-target-huge": (
        "plan", _set("plan", "target_w", "1e30 W"),
        ["plan.target_w", "less than or equal to 1000000000000"]),
    # count: true was read as 1
    "bool-for-count": (
        "check", _set("racks", 0, "slots", 0, "count", True),
        ["racks[0].slots[0].count", "true/false is not a number", "got True"]),
    # a second part with the same id silently replaced the first
    "scenario-part-shadows-catalog": (
        "check", _shadow_catalog_part, ["parts[0].id", "part id already in the catalog"]),
    # a supply temperature below absolute zero was judged as a design instead of rejected
    "temperature-below-absolute-zero": (
        "check", _set("racks", 0, "cooling", "supply_temp_c", "-300 degC"),
        ["racks[0].cooling.supply_temp_c", "-300", "greater than or equal to -273.15"]),
}


@pytest.mark.parametrize("name", sorted(SCENARIO_CASES))
def test_scenario_mistake_is_one_line_exit_2(tmp_path, name):
    command, mutate, parts = SCENARIO_CASES[name]
    one_line_error([command, write(tmp_path, mutate)], *parts)


def test_evaluate_scenario_without_fitting_layout_names_file_and_key(tmp_path):
    path = write(tmp_path, _set("evaluate", "gpus", 5))
    one_line_error(["evaluate", "--scenario", path], f"{path}:evaluate.gpus",
                   "no layout fits in memory")


def test_evaluate_huge_gpu_count(tmp_path):
    path = write(tmp_path, _set("evaluate", "gpus", 10**30))
    one_line_error(["evaluate", "--scenario", path], f"{path}:evaluate.gpus", "1 to 10,000,000")


EVALUATE = ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-70b", "--gpus", "64"]


@pytest.mark.parametrize(("option", "value", "parts"), [
    ("--top", "0", ["--top", "got 0", "1 or more"]),
    ("--top", "-1", ["--top", "got -1"]),
    ("--tokens", "0", ["--tokens", "greater than 0"]),
    ("--tokens", "-1", ["--tokens", "got -1.0"]),
    ("--dtype", "int3", ["--dtype", "'int3'", "unknown dtype", "bf16"]),
    ("--tokens", "inf", ["--tokens", "got inf"]),       # 'Training: inf days', exit 0
])
def test_evaluate_option_out_of_range(option, value, parts):
    one_line_error([*EVALUATE, option, value], *parts)


def test_plan_target_must_be_positive():
    path = str(ROOT / "scenarios" / "reference.yaml")
    one_line_error(["plan", path, "--target-gw", "0"], "--target-gw", "greater than 0")
    one_line_error(["plan", path, "--target-gw", "-5"], "--target-gw", "greater than 0")
    # 1e30 GW reached the LP: 'HiGHS stopped: Empty'
    one_line_error(["plan", path, "--target-gw", "1e30"], "--target-gw", "at most 1,000")


def test_run_out_is_an_existing_file(tmp_path):
    out = tmp_path / "taken"
    out.write_text("mine\n", encoding="utf-8")
    one_line_error(["run", str(ROOT / "scenarios" / "reference.yaml"), "-o", str(out)],
                   "-o/--out", "existing file")
    assert out.read_text(encoding="utf-8") == "mine\n"


def test_run_out_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    out = tmp_path / "file" / "sub"
    one_line_error(["run", str(ROOT / "scenarios" / "reference.yaml"), "-o", str(out)],
                   "-o/--out", "cannot be created")
    assert not out.exists()


@pytest.mark.parametrize("args", [
    ["build", "{ref}", "--weeks", "-1"],
    ["build", "{ref}", "--replications", "0"],
    ["build", "{ref}", "--racks", "0"],
    ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-70b", "--gpus", "x"],
    ["check"],
])
def test_option_parse_errors_are_one_line(args):
    ref = str(ROOT / "scenarios" / "reference.yaml")
    text = one_line_error([a.replace("{ref}", ref) for a in args])
    assert f"{args[0]} --help' for the options" in text


def test_build_weeks_must_be_finite():
    # --weeks inf passed the option's minimum and simulated forever
    path = str(ROOT / "scenarios" / "reference.yaml")
    one_line_error(["build", path, "--weeks", "inf"], "--weeks", "must be finite")


def test_run_with_nothing_to_run_is_input_error(tmp_path):
    path = tmp_path / "only-name.yaml"
    path.write_text("name: only a name\n", encoding="utf-8")
    one_line_error(["run", str(path), "-o", str(tmp_path / "out")], str(path),
                   "no section any stage runs on")
    assert not (tmp_path / "out").exists()


def mutate_csv(src: Path, column: str, value: str, tmp_path: Path) -> str:
    rows = list(csv.reader(src.open(encoding="utf-8", newline="")))
    rows[1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path = tmp_path / src.name
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("layers", "abc", "a whole number >= 1"),         # ValueError traceback
    ("hidden", "0", "a whole number >= 1"),           # pydantic ValidationError traceback
    ("tp", "0", "a whole number >= 1"),               # numpy division warning, exit 0
    ("tp", "x", "a whole number >= 1"),
    ("n_gpus", "-8", "a whole number >= 1"),          # silently ignored
    ("measured_step_s", "0", "a number greater than 0"),     # ZeroDivisionError
    ("measured_step_s", "-1", "a number greater than 0"),    # a 422 % error, exit 0
    ("measured_step_s", "fast", "a number greater than 0"),
    ("recompute", "sometimes", "none or selective or full"),  # tuple.index traceback
    ("sequence_parallel", "maybe", "yes or no"),       # silently read as no
    ("framework", "megatron9", "(or blank: the default)"),   # issue 11: explicit columns
    ("zero_stage", "2", "0 or 1 or 3"),
])
def test_validate_training_bad_cell(tmp_path, column, value, expected):
    path = mutate_csv(DATA / "training_throughput.csv", column, value, tmp_path)
    one_line_error(["validate", "training", path], f"{path}:line 2, column {column}",
                   repr(value), expected)


@pytest.mark.parametrize(("column", "value"), [
    ("n_gpus", "x"), ("n_gpus", "0"), ("ttft_limit_s", "-1"),
    ("measured_tokens_per_s", "x"), ("measured_tokens_per_s", "0"),
])
def test_validate_inference_bad_cell(tmp_path, column, value):
    path = mutate_csv(DATA / "inference_throughput.csv", column, value, tmp_path)
    one_line_error(["validate", "inference", path], f"{path}:line 2, column {column}",
                   repr(value))


def test_validate_queueing_bad_station_count(tmp_path):
    path = mutate_csv(DATA / "queueing_reference.csv", "stations", "x", tmp_path)
    one_line_error(["validate", "queueing", path], f"{path}:line 2", "must be numbers")


def test_validate_queueing_unknown_model(tmp_path):
    path = mutate_csv(DATA / "queueing_reference.csv", "model", "nope", tmp_path)
    one_line_error(["validate", "queueing", path], f"{path}:line 2, column model", "'nope'",
                   "conwip")
