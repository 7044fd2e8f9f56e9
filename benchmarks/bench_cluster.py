"""Time to size a cluster (resolve ids, size fabrics, pick media, power, floor) and check it.

Target (cluster issue): the reference cluster and its 100,000-accelerator variant each size in
under 100 ms. Uses scenarios/reference.yaml when it has a cluster section, else the example
scenarios/examples/cluster-nvl72.yaml.
"""

from __future__ import annotations

from pathlib import Path

from timing import timed

from rackforge import scenario
from rackforge.checks.fabric import check_cluster
from rackforge.design.cluster import size_cluster

ROOT = Path(__file__).parent.parent / "scenarios"
CANDIDATES = (ROOT / "reference.yaml", ROOT / "examples" / "cluster-nvl72.yaml")



def load():
    for path in CANDIDATES:
        if path.exists():
            scen = scenario.load(path)
            if getattr(scen.spec, "cluster", None) is not None:
                return path, scen
    raise SystemExit("no scenario with a cluster section found")


def main() -> None:
    path, scen = load()
    print(f"scenario {path.relative_to(ROOT.parent)}")
    spec = scen.spec.cluster

    def size(variant: str | None):
        return size_cluster(spec, scen.catalog, scen.layouts, variant)

    for name in [None, *(v.name for v in spec.variants)]:
        result = size(name)
        med, best = timed(lambda n=name: size(n), 50)
        cmed, _ = timed(lambda r=result: check_cluster(r), 50)
        f = result.fabric
        print(f"  {result.name}: {result.accelerators:,} accelerators, {result.racks:,} racks, "
              f"{f.sizing.switches:,} scale-out switches, {f.transceivers:,} transceivers, "
              f"IT {result.it_power_w / 1e6:.2f} MW; size median {med * 1e3:.2f} ms, best "
              f"{best * 1e3:.2f} ms, check {cmed * 1e3:.2f} ms  (target < 100 ms)")


if __name__ == "__main__":
    main()
