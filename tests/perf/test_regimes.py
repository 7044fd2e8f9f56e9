"""Validated layout families (issue 11): the shipped list is exactly the families of the
validation rows with the model's errors on them, a search result inside one carries its
family's error, and one outside them says so."""

from __future__ import annotations

from pathlib import Path

from rackforge.perf.api import TrainingOptions, evaluate_training
from rackforge.perf.regimes import family_errors, validated
from rackforge.perf.search import SearchSpace
from rackforge.perf.validate import validate_training

DATA = Path(__file__).parents[1] / "data"
TRAINING_FILES = ("training_throughput.csv", "training_heldout.csv", "training_moe_dev.csv",
                  "training_moe_heldout.csv", "training_mxfp8_dev.csv",
                  "training_mxfp8_heldout.csv")


def test_shipped_regimes_are_those_of_the_validation_rows():
    """Every family of the dense, MoE and MXFP8 rows, with its row count and the model's
    current errors on them (tests/data/update_ledgers.py rewrites the file)."""
    rows = [(row.layout, row.error) for name in TRAINING_FILES
            for row in validate_training(DATA / name).rows]
    assert {r.key: r for r in family_errors(rows)} == validated()
    assert sum(r.rows for r in validated().values()) == len(rows)


def test_family_errors_by_hand():
    fsdp = {"zero": "fsdp", "pp": 1, "cp": 2, "ep": 1}
    megatron = {"zero": "optimizer", "pp": 4, "cp": 1, "ep": 8}
    got = family_errors([(fsdp, -0.10), (megatron, 0.05), (fsdp, 0.30)])
    # most rows first; MAPE (10 + 30) / 2 = 20 %, worst 30 %
    assert [(r.key, r.rows, r.mape_pct, r.worst_pct) for r in got] == [
        (("fsdp", False, True, False), 2, 20.0, 30.0),
        (("optimizer", True, False, True), 1, 5.0, 5.0)]


def test_searched_layouts_carry_their_familys_validation():
    """The issue's case: Llama 3 70B on 1,024 H100 comes out best at tp 1, FSDP, cp 2 (61.8 %
    MFU, above any published H100 run). One published run has that family (NeMo Automodel's
    Llama 3 70B, FSDP with cp 2), and the model is 11.7 % off on it: the result says so. A
    family no row has (no optimizer sharding with cp) says validated_regime: false."""
    best = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(top=1)).best
    assert (best.layout["zero"], best.layout["cp"] > 1) == ("fsdp", True)
    assert (best.validated_regime, best.regime_rows, best.regime_mape_pct) == (True, 1, 11.7)
    unsharded = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(
        top=1, space=SearchSpace(zero=(0,), context_parallel=(2,)))).best
    assert (unsharded.layout["zero"], unsharded.layout["cp"]) == ("none", 2)
    assert (unsharded.validated_regime, unsharded.regime_rows) == (False, 0)
    assert unsharded.regime_mape_pct is None
