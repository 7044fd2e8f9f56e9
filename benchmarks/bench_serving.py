"""Speed of the latency-bound serving search, as ``evaluate --serve`` runs it.

One search = every (replica size, attention TP, batch) candidate of DeepSeek-R1 in FP4 on a
GB200 NVL72 (72 GPUs, wide expert parallelism; the largest grid of the shipped benchmarks) and
of Llama 2 70B in FP8 on an HGX H100, evaluated with NumPy at once
(rackforge.perf.serving.search_serving), then the best colocated layout meeting the MLPerf
server limits picked with the throughput-interactivity curve (serve) and the best
disaggregated pools (rackforge.perf.disaggregated); DeepSeek-R1 also with 3 MTP draft tokens
(speculative decoding evaluates the step twice: verification and drafts). Printed:
candidates, median and best time over 20 runs of the three. Target: median under 50 ms; the
exit status is 1 if not.
"""

from __future__ import annotations

import sys

from timing import timed

from rackforge.perf.api import TrainingOptions, training_context
from rackforge.perf.benchmarks import benchmark_for
from rackforge.perf.disaggregated import disaggregated
from rackforge.perf.inference import Engine
from rackforge.perf.serving import search_serving, serve

TARGET_S = 0.050
CASES = (("gb200-nvl72", "deepseek-r1", "fp4", 72, 0), ("gb200-nvl72", "deepseek-r1", "fp4", 72, 3),
         ("hgx-h100-8", "llama2-70b", "fp8", 8, 0))


def main() -> int:
    worst = 0.0
    for system, model, dtype, gpus, drafts in CASES:
        ctx = training_context(system, model, TrainingOptions(dtype=dtype))
        bench = benchmark_for(model)
        srv, limits, engine = bench.serving(), bench.limits("server"), Engine(draft_tokens=drafts)
        res = serve(ctx, srv, gpus, limits, dtype, engine=engine)          # warm caches

        def evaluate(c=ctx, s=srv, lim=limits, d=dtype, g=gpus, e=engine) -> None:
            searched = search_serving(c, s, g, d, e)
            serve(c, s, g, lim, d, searched, e)
            disaggregated(c, s, g, lim, d, searched)

        median, best = timed(evaluate, 20)
        worst = max(worst, median)
        mtp = f" +{drafts} drafts" if drafts else ""
        print(f"{system} {model} {dtype}{mtp} x{gpus}: {res.candidates} candidates, "
              f"{len(res.curve)} curve points, median {median * 1e3:.2f} ms, "
              f"best {best * 1e3:.2f} ms")
    ok = worst < TARGET_S
    print(f"{'PASS' if ok else 'FAIL'}: slowest median {worst * 1e3:.2f} ms "
          f"(target {TARGET_S * 1e3:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
