"""Re-report the model's validation figures after a change of the model or its parameters:
``python tests/data/update_ledgers.py`` (from the repository root) rewrites

* the ledger of ``tests/data/README.md``: each file's rows, MAPE and worst row, and the SHA-256
  of each parameter file (``tests/perf/test_heldout_ledger.py`` checks both);
* ``rackforge/perf/data/validated_regimes.yaml``: the layout families of the training rows and
  the serving groups of the inference rows, with their row counts and errors
  (``tests/perf/test_regimes.py`` checks it).

It prints what it wrote; add the history line at the end of the README by hand, saying why the
figures moved. A developer tool: nothing in the product runs it; ``tests/perf/test_regimes.py``
takes its rows (:func:`training_rows`, :func:`serving_rows`) to check the shipped file."""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rackforge.inputs import read_csv_rows  # noqa: E402
from rackforge.perf.regimes import REGIMES_FILE, family_errors, serving_errors  # noqa: E402
from rackforge.perf.validate import validate_inference, validate_training  # noqa: E402
from rackforge.perf.workload import get_workload  # noqa: E402

DATA = ROOT / "tests" / "data"
README = DATA / "README.md"
# the training files whose rows make the validated layout families (tests/perf/test_regimes.py)
TRAINING_FILES = ("training_throughput.csv", "training_heldout.csv", "training_moe_dev.csv",
                  "training_moe_heldout.csv", "training_mxfp8_dev.csv",
                  "training_mxfp8_heldout.csv")
# the inference files whose rows make the serving groups
INFERENCE_FILES = ("inference_throughput.csv", "inference_heldout.csv",
                   "inference_trtllm_dev.csv", "inference_mlperf_v6.csv")
REGIMES_HEADER = """\
# Layout families (regimes) the training model has been checked in: the (sharding, pipeline,
# context, expert parallelism) combinations of the rows of the development and held-out
# training files (tests/data/training_*.csv: dense, MoE and MXFP8), with how many rows each
# and the model's mean absolute and worst step-time error on them [%]. A layout of any other
# family is reported with validated_regime: false. Serving: the groups (dense or MoE model;
# latency-bound MLPerf server / interactive rows or throughput rows) of the four inference
# files (development, held-out, TensorRT-LLM, MLPerf v6.0), with the mean absolute and worst
# throughput error [%]. The accelerators the rows ran on, with their row counts: an estimate
# on any other accelerator is unchecked (no error is claimed for it). Written by
# tests/data/update_ledgers.py; tests/perf/test_regimes.py recomputes it from the files.
"""


def _table(text: str, marker: str) -> list[str]:
    """The rows of the markdown table after ``<!-- ledger: MARKER -->``."""
    rows = []
    for line in text.split(f"<!-- ledger: {marker} -->", 1)[1].strip().splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


@cache
def report(name: str):
    """The validation report of one file of tests/data (each file is validated once)."""
    validate = validate_training if name.startswith("training") else validate_inference
    return validate(DATA / name)


def rewrite_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for line in _table(text, "figures"):
        label = line.strip("|").split("|")[0].strip()
        figures = report(label.split()[0])
        new = (f"| {label} | {len(figures.rows)} | {figures.mape * 100:.1f} | "
               f"{figures.max_abs_error * 100:.1f} |")
        text = text.replace(line, new, 1)
        print(new)
    for line in _table(text, "parameters"):
        path = line.strip("|").split("|")[0].strip()
        digest = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        text = text.replace(line, f"| {path} | {digest} |", 1)
    README.write_text(text, encoding="utf-8")


def training_rows() -> list[tuple[dict, float, str]]:
    """(layout, relative error, accelerator) of every modelled training row."""
    rows = []
    for name in TRAINING_FILES:
        cells = {row["case"]: row for row in read_csv_rows(DATA / name)}
        rows += [(result.layout, result.error, cells[result.case]["accelerator"].strip())
                 for result in report(name).rows]
    return rows


def serving_rows() -> list[tuple[bool, bool, float, str]]:
    """(MoE model, latency-bound, relative error, accelerator) of every modelled inference
    row."""
    rows = []
    for name in INFERENCE_FILES:
        cells = {row["case"]: row for row in read_csv_rows(DATA / name)}
        for result in report(name).rows:
            row = cells[result.case]
            rows.append((get_workload(row["model"].strip()).moe is not None,
                         row["scenario"].strip() != "offline", result.error,
                         row["accelerator"].strip()))
    return rows


def rewrite_regimes() -> None:
    training, serving = training_rows(), serving_rows()
    lines = [REGIMES_HEADER + "regimes:"]
    for r in family_errors((layout, error) for layout, error, _ in training):
        lines.append(f"  - {{sharding: {r.sharding}, pp: {str(r.pp).lower()}, "
                     f"cp: {str(r.cp).lower()}, ep: {str(r.ep).lower()}, rows: {r.rows}, "
                     f"mape_pct: {r.mape_pct}, worst_pct: {r.worst_pct}}}")
    lines.append("serving:")
    for r in serving_errors((moe, bound, error) for moe, bound, error, _ in serving):
        lines.append(f"  - {{architecture: {r.architecture}, "
                     f"latency_bound: {str(r.latency_bound).lower()}, rows: {r.rows}, "
                     f"mape_pct: {r.mape_pct}, worst_pct: {r.worst_pct}}}")
    for kind, rows in (("training", training), ("serving", serving)):
        accelerators = [row[-1] for row in rows]
        counts = {acc: accelerators.count(acc) for acc in sorted(set(accelerators))}
        lines.append(f"{kind}_accelerators: {{" + ", ".join(
            f"{acc}: {n}" for acc, n in counts.items()) + "}")
    REGIMES_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[1:]))


if __name__ == "__main__":
    rewrite_readme()
    rewrite_regimes()
