"""Validated layout families (issue 11): the shipped list is exactly the families of the
validation rows, and a search result outside them says so."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rackforge.inputs import read_yaml
from rackforge.perf.api import TrainingOptions, evaluate_training
from rackforge.perf.regimes import REGIMES_FILE, regime_of
from rackforge.perf.search import SearchSpace
from rackforge.perf.validate import validate_training

DATA = Path(__file__).parents[1] / "data"


def test_shipped_regimes_are_those_of_the_validation_rows():
    counts = Counter(regime_of(row.layout) for name in ("training_throughput.csv",
                                                         "training_heldout.csv")
                     for row in validate_training(DATA / name).rows)
    shipped = {(r["sharding"], r["pp"], r["cp"], r["ep"]): r["rows"]
               for r in read_yaml(REGIMES_FILE)["regimes"]}
    assert shipped == dict(counts)


def test_fsdp_with_context_parallelism_is_flagged():
    """The issue's case: Llama 3 70B on 1,024 H100 comes out best at tp 1, FSDP, cp 2 (61.8 %
    MFU), a family no published run in the files has (their FSDP rows use neither cp nor pp);
    the JSON says validated_regime: false."""
    ev = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(top=1))
    best = ev.best
    assert (best.layout["zero"], best.layout["cp"] > 1) == ("fsdp", True)
    assert best.validated_regime is False
    megatron = evaluate_training("hgx-h100-8", "llama3-70b", 1024, TrainingOptions(
        top=1, space=SearchSpace(zero=(1,), context_parallel=(1,))))   # tp, pp: Megatron
    assert megatron.best.validated_regime is True
