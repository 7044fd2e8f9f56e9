"""Parallelism search: every valid layout of a model on a system, evaluated at once with NumPy.

:func:`enumerate_layouts` builds the candidate arrays (tensor, pipeline, context, data and expert
parallel sizes, virtual stages, microbatch, recompute mode, sequence parallelism, optimizer
sharding) from the few admissible values of each axis, keeps the combinations that satisfy the
divisibility and domain-mapping rules, and :func:`search_training` evaluates them all in one call
of :func:`~rackforge.perf.training.estimate_arrays` (in chunks, to report progress), drops those
that do not fit memory and ranks the rest by step time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rackforge.errors import InputError
from rackforge.perf.context import Context
from rackforge.perf.layout import Layouts, experts_split, from_columns
from rackforge.perf.training import estimate_arrays

Progress = Callable[[int, int], None]
CHUNK = 262144      # layouts per estimate call (a progress step); ~0.5 kB of arrays each


@dataclass(frozen=True)
class SearchSpace:
    """Admissible values of the free axes (the layout rules prune them further)."""

    microbatches: tuple[int, ...] = (1, 2, 4, 8)
    virtual_stages: tuple[int, ...] = (1, 2, 4, 8)
    context_parallel: tuple[int, ...] = (1, 2, 4, 8, 16)
    recompute: tuple[int, ...] = (0, 1, 2)
    zero: tuple[int, ...] = (0, 1, 3)
    sequence_parallel: tuple[int, ...] = (0, 1)
    max_tp: int | None = None            # default: the scale-up domain


class NothingFits(InputError):
    """No training layout fits the accelerators' memory: an error for a training question, a
    partial answer where serving was asked too (serving holds no gradients or optimizer)."""


@dataclass(frozen=True)
class SearchResult:
    """All evaluated candidates (arrays) and the ranking of those that fit."""

    layouts: Layouts
    arrays: dict[str, np.ndarray]
    order: np.ndarray                    # indices of fitting candidates, fastest first
    n_candidates: int
    elapsed_s: float
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def n_fitting(self) -> int:
        return int(self.order.shape[0])

    def best_index(self) -> int:
        if self.n_fitting == 0:
            raise NothingFits("no layout fits in memory", None, "gpus",
                             expected="more GPUs, a larger accelerator or a smaller batch / "
                             "sequence")
        return int(self.order[0])


def _divisors(n: int, most: int) -> np.ndarray:
    """Divisors of `n` up to `most` (without an array of n elements for a huge `n`)."""
    d = np.arange(1, min(n, most) + 1)
    return d[n % d == 0]


def _outer(**axes: np.ndarray) -> dict[str, np.ndarray]:
    """Cartesian product of 1-D arrays, as flat arrays keyed like `axes`."""
    grids = np.meshgrid(*axes.values(), indexing="ij")
    return {k: g.ravel() for k, g in zip(axes, grids, strict=True)}


def _base_grid(ctx: Context, n_gpus: int, space: SearchSpace) -> dict[str, np.ndarray]:
    """Valid (tp, cp, pp, dp) combinations [1, Sec. 3.3 of training.py's references]."""
    w, ex = ctx.workload, ctx.execution
    max_tp = space.max_tp or ctx.machine.scaleup_domain
    tps = np.array([t for t in (1, 2, 4, 8, 16, 32, 64) if t <= max_tp and w.heads % t == 0
                    and (w.kv_heads % t == 0 or t % w.kv_heads == 0)], dtype=np.int64)
    cps = np.array([c for c in space.context_parallel if ex.seq_len % (2 * c) == 0
                    or c == 1], dtype=np.int64)
    g = _outer(tp=tps, cp=cps, pp=_divisors(n_gpus, w.layers))
    ok = (n_gpus % (g["tp"] * g["cp"] * g["pp"]) == 0) & (g["pp"] <= w.layers)
    g = {k: v[ok] for k, v in g.items()}
    g["dp"] = n_gpus // (g["tp"] * g["cp"] * g["pp"])
    return g


def enumerate_layouts(ctx: Context, n_gpus: int, space: SearchSpace | None = None) -> Layouts:
    """Every layout of `n_gpus` GPUs that satisfies the rules (memory is checked later)."""
    if n_gpus < 1:
        raise InputError("number of GPUs must be positive", None, "gpus", n_gpus, "1 or more")
    space = space or SearchSpace()
    w, ex = ctx.workload, ctx.execution
    base = _base_grid(ctx, n_gpus, space)
    eps = np.array([1], dtype=np.int64) if w.moe is None else \
        np.array([e for e in (1, 2, 4, 8, 16, 32, 64, 128, 256) if w.moe.experts % e == 0])
    # Two stages, each filtered before the next multiplies it: the axes whose rules involve
    # the batch, experts and pipeline first, then recompute, sequence parallelism and zero.
    idx = _outer(i=np.arange(base["tp"].shape[0]), ep=eps, vp=np.array(space.virtual_stages),
                 mb=np.array(space.microbatches))
    cols = {k: base[k][idx["i"]] for k in ("tp", "cp", "pp", "dp")}
    cols.update({k: idx[k].astype(np.int64) for k in ("ep", "vp", "mb")})
    m = ex.global_batch // np.maximum(1, cols["dp"] * cols["mb"])
    ok = (ex.global_batch % (cols["dp"] * cols["mb"]) == 0)
    ok &= experts_split(cols["tp"], cols["cp"], cols["dp"], cols["ep"],
                        w.moe.experts if w.moe else 1)
    ok &= (cols["vp"] == 1) | ((cols["pp"] > 1) & (m % cols["pp"] == 0)
                               & (cols["vp"] * cols["pp"] <= w.layers))
    first = np.flatnonzero(ok)
    tail = {k: v.astype(np.int64) for k, v in _outer(
        recompute=np.array(space.recompute), sp=np.array(space.sequence_parallel),
        zero=np.array(space.zero)).items()}
    # The second stage's rules, row by tail combination, before any column is built for it.
    keep = ((tail["sp"] == 0)[None, :] | (cols["tp"][first] > 1)[:, None]) \
        & ((tail["zero"] != 3)[None, :] | (cols["pp"][first] == 1)[:, None])  # no FSDP + PP
    if not keep.any():
        raise InputError("no valid layout", None, "gpus", n_gpus,
                         "a GPU count that divides the global batch and the model's shapes")
    row, combo = np.nonzero(keep)
    row = first[row]
    out = {k: v[row] for k, v in cols.items()}
    out.update({k: v[combo] for k, v in tail.items()})
    return from_columns(out)


def search_training(ctx: Context, n_gpus: int, space: SearchSpace | None = None,
                    progress: Progress | None = None) -> SearchResult:
    """Evaluate every valid layout and rank those that fit, fastest first."""
    start = time.perf_counter()
    lay = enumerate_layouts(ctx, n_gpus, space)
    n = len(lay)
    chunks: list[dict[str, np.ndarray]] = []
    for lo in range(0, n, CHUNK):
        chunks.append(estimate_arrays(ctx, lay.take(slice(lo, lo + CHUNK))))
        if progress:
            progress(min(lo + CHUNK, n), n)
    arrays = {k: np.concatenate([np.broadcast_to(c[k], (min(CHUNK, n - i * CHUNK),))
                                 for i, c in enumerate(chunks)]) if len(chunks) > 1
              else np.broadcast_to(chunks[0][k], (n,)) for k in chunks[0]}
    fit = np.flatnonzero(arrays["fits"])
    order = fit[np.argsort(arrays["step_s"][fit], kind="stable")]
    return SearchResult(lay, arrays, order, n, time.perf_counter() - start)
