"""Time of ``rackforge run`` on the reference scenario: each stage, the report, and the whole
command on an empty result cache and again on the filled one.

Targets: the first run, as ``make demo`` does it, under 60 s after installation (issue 8); a
second run of the unchanged scenario with every stage cached under 0.5 s (issue 13), measured
in the process (load, stages, report) and as the whole command (Python start and imports
included).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rackforge import pipeline, scenario
from rackforge.cache import ResultCache
from rackforge.report.html import render_html

ROOT = Path(__file__).parent.parent
REFERENCE = ROOT / "scenarios" / "reference.yaml"


def in_process(cache: ResultCache) -> tuple[float, pipeline.RunResult]:
    """Load, run every stage and render the report [s]."""
    began = time.perf_counter()
    result = pipeline.run(scenario.load(REFERENCE), cache=cache)
    render_html(result)
    return time.perf_counter() - began, result


def command(cache_dir: str, out: str) -> float:
    """Wall time of ``rackforge run`` in a fresh Python process [s]."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rackforge", "run", str(REFERENCE), "-o", out,
                    "--cache-dir", cache_dir], check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        cache = ResultCache(Path(folder) / "in-process")
        first_s, first = in_process(cache)
        for name, outcome in first.outcomes.items():
            print(f"{name:<10} {outcome.seconds:8.3f} s  {outcome.status:<7} {outcome.summary}")
        cached_s, again = in_process(cache)
        hits = sum(o.cached for o in again.outcomes.values())
        print(f"in process: first run {first_s:.3f} s, cached run {cached_s:.3f} s "
              f"({hits} of {len(again.outcomes)} stages cached; target < 0.5 s)")
        cli_dir, out = str(Path(folder) / "cli"), str(Path(folder) / "out")
        print(f"command:    first run {command(cli_dir, out):.3f} s, cached run "
              f"{command(cli_dir, out):.3f} s (Python start and imports included; first "
              "run target < 60 s)")


if __name__ == "__main__":
    main()
