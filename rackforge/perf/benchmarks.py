"""The MLPerf Inference LLM benchmarks the serving model is checked against
(``data/serving.yaml``): each benchmark's model, mean request lengths and their spreads (from
the official dataset files), and its server / interactive p99 TTFT and TPOT limits, each with
its source; and :class:`Limits`, the latency limits a serving search must meet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field

from rackforge.catalog.models import Frozen, Source, SourcedValue
from rackforge.errors import InputError
from rackforge.inputs import read_yaml, validate
from rackforge.perf.inference import Serving

Figure = SourcedValue      # a constant with its source (or assumption and reason)

BENCHMARKS_FILE = Path(__file__).parent / "data" / "serving.yaml"


class LimitSpec(Frozen):
    """99th-percentile TTFT and TPOT limits of one MLPerf scenario [s]."""

    ttft_s: float = Field(gt=0)
    tpot_s: float = Field(gt=0)


class Benchmark(Frozen):
    """One MLPerf LLM benchmark (``data/serving.yaml``)."""

    model: str
    input_tokens: Figure
    output_tokens: Figure
    input_cv: Figure | None = None      # coefficients of variation of the lengths
    output_cv: Figure | None = None
    server: LimitSpec | None = None
    interactive: LimitSpec | None = None
    limits_source: Source
    kv_bytes: float = Field(default=1.0, gt=0)

    def serving(self) -> Serving:
        """Mean request lengths as a :class:`Serving` [tokens]."""
        return Serving(self.input_tokens.value, self.output_tokens.value, self.kv_bytes,
                       input_cv=self.input_cv.value if self.input_cv else None,
                       output_cv=self.output_cv.value if self.output_cv else None)

    def limits(self, scenario: str) -> Limits:
        """The scenario's limits (offline: none); InputError for a scenario it lacks."""
        if scenario == "offline":
            return Limits()
        spec = getattr(self, scenario, None) if scenario in ("server", "interactive") else None
        if spec is None:
            raise InputError("benchmark has no such scenario", None, "scenario", scenario,
                             "offline, server" + (", interactive" if self.interactive else ""))
        return Limits(spec.ttft_s, spec.tpot_s)


@lru_cache(maxsize=2)
def load_benchmarks(path: Path = BENCHMARKS_FILE) -> dict[str, Benchmark]:
    """The MLPerf LLM benchmarks by name."""
    data = read_yaml(path)
    return {name: validate(Benchmark, entry, str(path), f"benchmarks.{name}")
            for name, entry in data["benchmarks"].items()}


def benchmark_for(model: str) -> Benchmark:
    """The benchmark that serves workload `model`; InputError if none does."""
    for bench in load_benchmarks().values():
        if bench.model == model:
            return bench
    raise InputError("no serving benchmark for model", None, "model", model,
                     "a model listed in perf/data/serving.yaml")


@dataclass(frozen=True)
class Limits:
    """99th-percentile latency limits [s]; None: no limit (the offline scenario)."""

    ttft_s: float | None = None
    tpot_s: float | None = None
