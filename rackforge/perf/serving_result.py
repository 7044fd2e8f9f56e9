"""What a serving search answers: operating points, the best one meeting the limits, the
throughput-interactivity front, and why no layout meets a limit
(:mod:`rackforge.perf.serving` computes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rackforge.perf.benchmarks import Limits


@dataclass(frozen=True)
class ServingPoint:
    """One serving operating point (per GPU unless named otherwise); latencies are p99."""

    tokens_per_s_per_gpu: float
    tokens_per_s_per_user: float
    ttft_s: float
    tpot_s: float
    batch: int                              # sequences in flight per replica
    layout: dict[str, int]                  # gpus (replica), tp (attention), pp, ep, dp,
                                            # chunk_tokens
    memory_bytes: float


@dataclass(frozen=True)
class ServingResult:
    """The search: the best point meeting the limits (or None), the throughput-interactivity
    Pareto front (fastest per user first) and the fastest p99 TPOT / TTFT any fitting layout
    reaches [s], so a caller can say what a too-tight limit would need."""

    best: ServingPoint | None
    curve: list[ServingPoint]
    fastest_tpot_s: float
    fastest_ttft_s: float
    candidates: int
    fitting: int
    dtype: str
    limits: Limits = field(default_factory=Limits)
    in_memory: int = 0                      # candidates whose weights and KV cache fit
    draft_tokens: int = 0                   # speculative decoding: drafts per decode step
    tokens_per_step: float = 1.0            # tokens a decode step yields per sequence

    def shortfall(self) -> str | None:
        """Why no layout meets the limits, in one line; None when one does."""
        if self.best is not None:
            return None
        if not self.fitting:
            return "no layout fits the engine's requests and tokens per step" if self.in_memory \
                else "no layout fits the GPU memory"
        lim = self.limits
        parts = []
        if lim.tpot_s is not None and self.fastest_tpot_s > lim.tpot_s:
            parts.append(f"no layout meets TPOT {lim.tpot_s * 1e3:g} ms; the fastest reaches "
                         f"{self.fastest_tpot_s * 1e3:.3g} ms")
        if lim.ttft_s is not None and self.fastest_ttft_s > lim.ttft_s:
            parts.append(f"no layout meets TTFT {lim.ttft_s * 1e3:g} ms; the fastest reaches "
                         f"{self.fastest_ttft_s * 1e3:.3g} ms")
        return "; ".join(parts) or "no layout meets TTFT and TPOT together"


def pareto(per_user: np.ndarray, per_gpu: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Indices of the throughput-interactivity front among `ok` points, fastest user first:
    no other point is both faster per user and higher per GPU."""
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return idx
    idx = idx[np.lexsort((-per_gpu[idx], -per_user[idx]))]
    gpu = per_gpu[idx]
    best_before = np.concatenate(([-np.inf], np.maximum.accumulate(gpu)[:-1]))
    return idx[gpu > best_before]


def describe(result: ServingResult) -> dict[str, Any]:
    """A JSON-ready summary of a :class:`ServingResult` (no NaN or infinity)."""
    best = result.best
    return {"dtype": result.dtype, "draft_tokens": result.draft_tokens,
            "tokens_per_step": result.tokens_per_step,
            "best": None if best is None else vars(best),
            "shortfall": result.shortfall(), "fastest_tpot_s": result.fastest_tpot_s,
            "fastest_ttft_s": result.fastest_ttft_s,
            "curve": [vars(p) for p in result.curve]}
