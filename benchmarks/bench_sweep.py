"""Points per second of sweeps on the reference scenario, and Monte Carlo risk samples.

- checks + evaluate: a Latin hypercube over the rack's coolant supply temperature and loop
  delta-T and the pod size; 10,000 points on 2 workers (target: under 2 minutes on 2 cores), and
  1,000 on 1 worker for the scaling ratio, and on Ray with 2 CPUs;
- the whole pipeline: points that change the line (so the line is simulated again), 1 and 2
  workers;
- risk: Monte Carlo samples of the ramp (target: 1,000 in under 10 minutes on 2 cores).

Peak memory of the driving process is printed after each sweep: it stays flat as the number of
points grows (rows go to Parquet in batches; workers are separate processes).

Each sweep starts from an empty result cache and an empty output folder.
``--quick`` runs a tenth of each.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from rackforge.inputs import read_yaml
from rackforge.risk_spec import RiskSpec
from rackforge.sweep.montecarlo import risk_context, run_risk
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {samples:,} points ({ok:,} ok), {options.backend} x {options.workers}: "
          f"{seconds:.1f} s, {samples / seconds:,.1f} points/s; peak memory of this process "
          f"so far {peak:,.0f} MB")
    return samples / seconds


def timed_risk(samples: int, workers: int) -> None:
    context = risk_context(str(REFERENCE), read_yaml(REFERENCE), RiskSpec(), samples, 1)
    began = time.perf_counter()
    report = run_risk(context, "local", workers)
    seconds = time.perf_counter() - began
    print(f"  {samples:,} samples on {workers} workers: {seconds:.1f} s "
          f"({samples / seconds:.2f} samples/s; {report.failed['base']} failed); 1,000 take "
          f"about {1000 * seconds / samples:.0f} s (target < 600 s)")


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
    print("risk (Monte Carlo samples of the ramp: demand, line, supply, plan)")
    timed_risk(1000 // scale, 2)


if __name__ == "__main__":
    main()
