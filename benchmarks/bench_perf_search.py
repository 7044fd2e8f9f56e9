"""Speed of the vectorized parallelism search (issue 11 target: above 1,000,000 layouts/s on one
core, MoE included; Llama 3.1 405B on 16,384 H100s in under 2 s). Prints one line per case and
PASS / FAIL on the slowest rate (exit status 1 if below the target)."""

from __future__ import annotations

import sys
import time

from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.search import search_training

CASES = [("hgx-h100-8", "llama3.1-405b", 16384, "bf16"),
         ("gb200-nvl72", "deepseek-v3", 2048, "fp8"),
         ("hgx-h100-8", "qwen3-235b-a22b", 4096, "bf16"),
         ("hgx-b200-8", "llama3-70b", 1024, "bf16")]


TARGET_PER_S = 1_000_000


def main() -> int:
    slowest = float("inf")
    for system, model, gpus, dtype in CASES:
        ctx = training_context(system, model, TrainingOptions(dtype=dtype))
        search_training(ctx, gpus)                       # warm-up (imports, caches)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            res = search_training(ctx, gpus)
            runs.append(time.perf_counter() - start)
        best = min(runs)
        print(f"{model} on {gpus} x {system}: {res.n_candidates:,} layouts "
              f"({res.n_fitting:,} fit) in {best * 1e3:.1f} ms = "
              f"{res.n_candidates / best:,.0f} layouts/s")
        slowest = min(slowest, res.n_candidates / best)
    ok = slowest > TARGET_PER_S
    print(f"{'PASS' if ok else 'FAIL'}: slowest {slowest:,.0f} layouts/s "
          f"(target {TARGET_PER_S:,})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
