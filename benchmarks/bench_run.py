"""Time per stage of ``rackforge run`` on the reference scenario, and of writing the report.

Target (issue 8): the whole run, as ``make demo`` does it, under 60 s after installation.
"""

from __future__ import annotations

import time
from pathlib import Path

from rackforge import pipeline, scenario
from rackforge.report.html import render_html

REFERENCE = Path(__file__).parent.parent / "scenarios" / "reference.yaml"


def main() -> None:
    t0 = time.perf_counter()
    scen = scenario.load(REFERENCE)
    t_load = time.perf_counter() - t0
    result = pipeline.run_all(scen)
    t1 = time.perf_counter()
    html = render_html(result)
    t_render = time.perf_counter() - t1
    print(f"{'load':<10} {t_load:8.3f} s")
    for name, outcome in result.outcomes.items():
        print(f"{name:<10} {outcome.seconds:8.3f} s  {outcome.status:<7} {outcome.summary}")
    print(f"{'report':<10} {t_render:8.3f} s  ({len(html) / 1e6:.1f} MB HTML)")
    print(f"{'total':<10} {time.perf_counter() - t0:8.3f} s  (target < 60 s)")


if __name__ == "__main__":
    main()
