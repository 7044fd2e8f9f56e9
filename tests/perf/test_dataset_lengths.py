"""The serving benchmarks' length statistics (rackforge/perf/data/serving.yaml) are those of the
benchmarks' own dataset files: recomputed here from the per-sample token counts copied into
tests/data/mlperf_dataset_lengths/ (source in tests/data/README.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from rackforge.perf.benchmarks import load_benchmarks

LENGTHS = Path(__file__).parents[1] / "data" / "mlperf_dataset_lengths"
FILES = {"llama2-70b": "llama2-70b-99.csv", "llama3.1-405b": "llama3-1-405b.csv",
         "llama3.1-8b": "llama3-1-8b-datacenter.csv", "mixtral-8x7b": "mixtral-8x7b.csv",
         "deepseek-r1": "deepseek-r1.csv"}


def _column(name: str, column: str) -> np.ndarray:
    with (LENGTHS / FILES[name]).open(newline="") as fh:
        return np.array([float(row[column]) for row in csv.DictReader(fh)])


@pytest.mark.parametrize("name", sorted(FILES))
def test_prompt_length_mean_and_spread_are_the_datasets(name):
    bench, prompts = load_benchmarks()[name], _column(name, "input_length")
    assert bench.input_tokens.value == pytest.approx(prompts.mean(), abs=0.05)
    assert bench.input_cv.value == pytest.approx(prompts.std() / prompts.mean(), abs=5e-4)


@pytest.mark.parametrize("name", ["llama2-70b", "llama3.1-405b", "mixtral-8x7b", "deepseek-r1"])
def test_output_length_spread_is_the_datasets(name):
    outputs = _column(name, "output_length")
    assert load_benchmarks()[name].output_cv.value == pytest.approx(
        outputs.std() / outputs.mean(), abs=5e-4)


@pytest.mark.parametrize(("name", "rules"), [("llama3.1-405b", 684.68),
                                             ("mixtral-8x7b", 144.84)])
def test_the_extraction_agrees_with_the_rules_tokens_per_sample(name, rules):
    # The reference outputs of these files are the benchmark's own generations: their mean is
    # the rules' tokens_per_sample, an independent check of the copied counts.
    assert _column(name, "output_length").mean() == pytest.approx(rules, rel=1e-3)
