"""The held-out figures in tests/data/README.md are the models' current figures, reported for
the current parameter files (issue 11): a parameter file changed without the held-out figures
being re-reported fails here."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rackforge.perf.validate import validate_inference, validate_training

ROOT = Path(__file__).parents[2]
README = ROOT / "tests" / "data" / "README.md"


def _table(marker: str) -> list[list[str]]:
    """Rows of the markdown table after ``<!-- ledger: MARKER -->`` (header and rule left out)."""
    text = README.read_text(encoding="utf-8").split(f"<!-- ledger: {marker} -->", 1)[1]
    lines = []
    for line in text.strip().splitlines()[2:]:
        if not line.startswith("|"):
            break
        lines.append([cell.strip() for cell in line.strip("|").split("|")])
    return lines


def test_parameter_files_are_those_the_figures_were_reported_for():
    rows = _table("parameters")
    assert {r[0] for r in rows} >= {"rackforge/perf/data/perf_params.yaml",
                                     "rackforge/perf/data/serving_params.yaml"}
    for path, recorded in rows:
        digest = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        assert digest == recorded, (
            f"{path} changed since the held-out figures were reported: run "
            "python tests/data/update_ledgers.py (figures, SHA-256 and the layout families' "
            "errors together) and add a history line to tests/data/README.md")


@pytest.mark.parametrize("row", _table("figures"), ids=lambda r: r[0].split()[0])
def test_reported_figures_are_the_models_figures(row):
    name, rows, mape, worst = row[0].split()[0], int(row[1]), float(row[2]), float(row[3])
    validate = validate_training if name.startswith("training") else validate_inference
    report = validate(ROOT / "tests" / "data" / name)
    assert len(report.rows) == rows and not report.skipped
    assert round(report.mape * 100, 1) == mape
    assert round(report.max_abs_error * 100, 1) == worst
