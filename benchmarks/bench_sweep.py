"""Points per second of sweeps on the reference scenario, and Monte Carlo risk samples.

- checks + evaluate: a Latin hypercube over the rack's coolant supply temperature and loop
  delta-T and the pod size; 10,000 points on 2 workers (target: under 2 minutes on 2 cores), and
  1,000 on 1 worker for the scaling ratio, and on Ray with 2 CPUs;
- the whole pipeline: points that change the line (so the line is simulated again), 1 and 2
  workers;
- risk: Monte Carlo samples of the ramp (target: 1,000 in under 10 minutes on 2 cores).

Each sweep starts from an empty result cache and an empty output folder.
``--quick`` runs a tenth of each.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rackforge.sweep.run import SweepOptions, sweep
from rackforge.sweep.space import SpaceSpec

REFERENCE = Path(__file__).parent.parent / "scenarios" / "reference.yaml"
COOLING = {"racks[0].cooling.supply_temp_c": {"dist": "uniform", "low": 30, "high": 45},
           "racks[0].cooling.delta_t_k": {"dist": "uniform", "low": 5, "high": 12},
           "cluster.racks": {"values": [8, 16, 32]}}
PROGRAM = {"line.stations[7].servers": {"values": [12, 13, 14, 15, 16, 17, 18]},
           "plan.target_w": {"dist": "uniform", "low": 6e9, "high": 12e9}}


def timed_sweep(parameters: dict, samples: int, stages: list[str] | None,
                options: SweepOptions) -> float:
    """Points per second of one sweep from scratch."""
    spec = SpaceSpec.model_validate({"mode": "latin", "samples": samples, "seed": 1,
                                     "stages": stages, "parameters": parameters})
    with tempfile.TemporaryDirectory() as folder:
        options = SweepOptions(options.backend, options.workers, None, f"{folder}/cache")
        began = time.perf_counter()
        summary = sweep(REFERENCE, spec, Path(folder) / "out", options)
        seconds = time.perf_counter() - began
    ok = summary.table.column("status").to_pylist().count("ok")
    print(f"  {samples:,} points ({ok:,} ok), {options.backend} x {options.workers}: "
          f"{seconds:.1f} s, {samples / seconds:,.1f} points/s")
    return samples / seconds


def main() -> None:
    scale = 10 if "--quick" in sys.argv else 1
    print("checks + evaluate")
    one = timed_sweep(COOLING, 1000 // scale, ["checks", "evaluate"], SweepOptions("local", 1))
    two = timed_sweep(COOLING, 10_000 // scale, ["checks", "evaluate"],
                      SweepOptions("local", 2))
    print(f"  2 workers / 1 worker: {two / one:.2f}x; 10,000 points take about "
          f"{10_000 / two:.0f} s on 2 workers (target < 120 s)")
    try:
        timed_sweep(COOLING, 1000 // scale, ["checks", "evaluate"], SweepOptions("ray", 2))
    except Exception as exc:  # noqa: BLE001 - Ray is an optional extra
        print(f"  ray: not run ({exc})")
    print("whole pipeline (the line simulated again at each new burn-in size)")
    one = timed_sweep(PROGRAM, 40 // scale, None, SweepOptions("local", 1))
    two = timed_sweep(PROGRAM, 40 // scale, None, SweepOptions("local", 2))
    print(f"  2 workers / 1 worker: {two / one:.2f}x")


if __name__ == "__main__":
    main()
