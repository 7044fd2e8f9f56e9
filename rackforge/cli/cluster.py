"""``rackforge cluster FILE``: size the cluster's fabrics, power and floor, and check them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from rackforge import scenario as scenario_mod
from rackforge.cache import DEFAULT_FOLDER
from rackforge.checks.findings import count
from rackforge.cli.app import (
    EXIT_FAILED,
    EXIT_OK,
    CacheDirOption,
    ExplainFlag,
    JsonFlag,
    NoCacheFlag,
    ScenarioFile,
    StageOptions,
    app,
    console,
    print_json,
    run_stages,
)
from rackforge.cli.check import findings_table
from rackforge.design.cluster import ClusterResult, FabricResult, fabric_bom
from rackforge.design.cluster_spec import variant_spec
from rackforge.design.cluster_summary import to_dict
from rackforge.units import format_si, format_value

VariantOption = Annotated[list[str] | None, typer.Option(
    "--variant", help="Size this variant of cluster.variants (repeatable).")]
AllFlag = Annotated[bool, typer.Option("--all", help="Size the cluster and every variant.")]
StrictFlag = Annotated[bool, typer.Option("--strict", help="Treat warnings as failures.")]


@app.command()
def cluster(file: ScenarioFile, json: JsonFlag = False, variant: VariantOption = None,
            all_variants: AllFlag = False, strict: StrictFlag = False,
            no_cache: NoCacheFlag = False, cache_dir: CacheDirOption = DEFAULT_FOLDER,
            explain: ExplainFlag = False) -> None:
    """Size the cluster of FILE: fabric switches, optics, power and floor, then check them.

    Exit 0 when no rule fails, 1 when one does (or a warning under --strict), 2 on bad input.
    """
    scen = scenario_mod.load(file)
    spec = scen.spec.cluster
    for name in variant or []:
        if spec is not None:
            variant_spec(spec, name, str(file))   # an unknown name is bad input
    run = run_stages(scen, ["cluster"], StageOptions.of(no_cache, cache_dir, explain),
                     quiet=json)
    sized = run.outcomes["cluster"].result
    names = list(sized.results) if all_variants else (variant or [sized.base.name])
    results = [sized.results[name] for name in names]
    findings = {name: sized.findings[name] for name in names}
    bad = ("error", "warning") if strict else ("error",)
    failed = any(f.severity in bad for fs in findings.values() for f in fs)
    if json:
        print_json({"scenario": scen.name, "status": "fail" if failed else "pass",
                    "clusters": [{**to_dict(r), "findings": [f.to_dict() for f in
                                                             findings[r.name]]}
                                 for r in results]})
    else:
        for r in results:
            _print(r)
            table = findings_table(r.name, findings[r.name])
            table.title = f"Checks of cluster {r.name}"
            console.print(table)
        totals = count([f for fs in findings.values() for f in fs])
        console.print(f"{'[bold red]FAIL[/]' if failed else '[bold green]PASS[/]'}: "
                      f"{totals['error']} error(s), {totals['warning']} warning(s)")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _print(r: ClusterResult) -> None:
    su = r.scaleup
    console.print(
        f"[bold]Cluster {r.name}[/]: {r.accelerators:,} accelerators in {r.racks:,} racks of "
        f"{r.spec.rack} (+{r.network_racks} network racks), scale-up {su.kind} "
        f"{su.domain_gpus} GPUs; IT {format_si(r.it_power_w, 'W')} = racks "
        f"{format_si(r.racks_it_power_w, 'W')} + fabric {format_si(r.fabric_power_w, 'W')}; "
        f"facility {format_si(r.facility_power_w, 'W')} at PUE {r.spec.hall.pue:g}; "
        f"floor {r.floor_area_m2:,.0f} m2; this fabric reaches at most "
        f"{r.max_accelerators:,} accelerators", highlight=False)
    if su.switch is not None and su.links is not None:
        console.print(
            f"scale-up Ethernet: {su.domains} domains of {su.domain_gpus} GPUs, {su.switches:,} "
            f"x {su.switch.id}, {su.links.links:,} links on {su.links.cables:,} "
            f"{su.links.cable.id} ({su.links.transceivers:,} transceivers), "
            f"{format_si(su.power_w, 'W')}", highlight=False)
    for f in r.fabrics:
        console.print(_fabric_table(f))
    console.print(_tiers_table(r))
    console.print(_bom_table(r))


def _fabric_table(f: FabricResult) -> Table:
    s = f.sizing
    table = Table(title=f"{f.name} fabric: {s.shape.topology}, {len(s.tiers)} tiers of "
                  f"{f.switch.id} at {f.port_gbps:g}G (radix {s.shape.radix}); "
                  f"{s.endpoints_used:,} of max {s.max_endpoints:,} endpoints; bisection "
                  f"{format_si(f.bisection_bytes_per_s, 'B/s')}; worst latency "
                  f"{f.latency_s * 1e6:.2f} us over {s.hops} hops", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("level", "switches", "down/up", "ports spare", "links", "part", "parts",
                "transceivers", "run mean/max", "power"):
        table.add_column(col, justify="left" if col in ("level", "part") else "right",
                         overflow="fold")
    for t, g in zip(s.tiers, f.links, strict=True):
        table.add_row(f"{t.name} / {g.name.replace('_', '-')}", f"{t.switches:,}",
                      f"{t.down_ports}/{t.up_ports}", f"{t.ports_spare:,}", f"{g.links:,}",
                      g.cable.id + (" (auto)" if g.chosen else ""), f"{g.cables:,}",
                      f"{g.transceivers:,}", f"{g.run.mean_m:.1f}/{g.run.max_m:.1f} m",
                      format_si(g.power_w, "W"))
    table.add_row("switch boxes", "", "", "", "", "", "", "", "",
                  format_si(f.switch_power_w, "W"))
    return table


def _bom_table(r: ClusterResult) -> Table:
    table = Table(title="Fabric bill of materials", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    for col in ("part", "count", "what"):
        table.add_column(col, justify="right" if col == "count" else "left", overflow="fold")
    for part, n, label in fabric_bom(r):
        table.add_row(part, f"{n:,}", label)
    return table


def _tiers_table(r: ClusterResult) -> Table:
    table = Table(title="Bandwidth per GPU by collective span (for the performance model)",
                  title_justify="left")
    for col in ("tier", "span GPUs", "bandwidth per GPU", "latency"):
        table.add_column(col, justify="left" if col == "tier" else "right")
    for t in r.tiers:
        table.add_row(t.name, f"{t.span_gpus:,}",
                      format_value(t.bandwidth_bytes_per_s_per_gpu, "B/s"),
                      f"{t.latency_s * 1e6:.2f} us")
    return table
