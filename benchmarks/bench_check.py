"""Time to load the reference scenario with the catalog, and to check one loaded rack.

Targets (issue 2): load under 300 ms, full check of one rack under 5 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from timing import timed

from rackforge import scenario, units
from rackforge.catalog import load_catalog
from rackforge.checks import check_rack

REFERENCE = Path(__file__).parent.parent / "scenarios" / "reference.yaml"



def cold_load() -> None:
    load_catalog.cache_clear()
    units._parse_text.cache_clear()
    scenario.load(REFERENCE)


def first_load_in_new_process() -> float:
    """Wall time of imports + Pint registry + catalog + scenario in a fresh interpreter [s]."""
    code = ("import time; t = time.perf_counter(); from rackforge import scenario; "
            f"scenario.load({str(REFERENCE)!r}); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    fresh = statistics.median(first_load_in_new_process() for _ in range(3))
    print(f"fresh process: import + load reference scenario + catalog: {fresh * 1e3:.0f} ms")
    med, best = timed(cold_load, 20)
    print(f"load reference scenario + catalog (cold): median {med * 1e3:.1f} ms, "
          f"best {best * 1e3:.1f} ms  (target < 300 ms)")
    scen = scenario.load(REFERENCE)
    layout = next(iter(scen.layouts.values()))
    med, best = timed(lambda: check_rack(layout, scen.spec.site), 200)
    findings = check_rack(layout, scen.spec.site)
    print(f"full check of rack {layout.id} ({len(findings)} findings): median "
          f"{med * 1e3:.2f} ms, best {best * 1e3:.2f} ms  (target < 5 ms)")


if __name__ == "__main__":
    main()
