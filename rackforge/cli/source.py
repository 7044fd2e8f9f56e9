"""``rackforge source FILE [--what-if NAME] [--json]``: BOM, domestic content, sourcing plan."""

from __future__ import annotations

from typing import Annotated

import typer

from rackforge import scenario as scenario_mod
from rackforge.cache import DEFAULT_FOLDER
from rackforge.calendar import format_quarter
from rackforge.cli.app import (
    EXIT_FAILED,
    CacheDirOption,
    ExplainFlag,
    JsonFlag,
    NoCacheFlag,
    ScenarioFile,
    StageOptions,
    app,
    console,
    err_console,
    money,
    print_json,
    run_stages,
    simple_table,
)
from rackforge.errors import InputError
from rackforge.sourcing.content import FALLBACKS
from rackforge.sourcing.report import DesignSourcing, SourcingReport, with_what_if
from rackforge.sourcing.results import SourcingResult
from rackforge.sourcing.solve import PlanOptions
from rackforge.sourcing.whatif import WhatIfResult

WhatIf = Annotated[str | None, typer.Option("--what-if", help="Also solve this named what-if "
                                            "of sourcing.what_if and compare it with the base.")]


@app.command(name="source")
def source_cmd(file: ScenarioFile, what_if: WhatIf = None, json: JsonFlag = False,
               no_cache: NoCacheFlag = False, cache_dir: CacheDirOption = DEFAULT_FOLDER,
               explain: ExplainFlag = False) -> None:
    """Plan sourcing at least landed cost under a domestic-content floor.

    Shows the bill of materials per rack, the racks it buys for (the deployment ramp's racks
    built per quarter, when the scenario has a plan: for each rack design sourced, the racks of
    its generation), the plan by supplier, the domestic share per design and delivery year by
    the scenario's rule (FAR 25 or IRA) against the floor, whether it meets the year's threshold,
    only the fallback threshold or neither, binding limits with their shadow prices and
    suppliers at capacity. An infeasible plan says which limit must give and by how much
    (exit 1).
    """
    scenario = scenario_mod.load(file)
    run = run_stages(scenario, ["source"], StageOptions.of(no_cache, cache_dir, explain),
                     quiet=json)
    report: SourcingReport = run.outcomes["source"].result
    if what_if is not None:
        spec = report.resolved.spec
        with err_console.status("sourcing: what-if", spinner="dots") as status:
            options = PlanOptions(mip_gap=spec.mip_gap, time_limit_s=spec.time_limit_s,
                                  progress=lambda text: status.update(f"sourcing: {text}"))
            try:
                report = with_what_if(report, what_if, options)
            except InputError as exc:
                raise exc.at(scenario.file) from None
    if json:
        print_json(report.to_dict())
    else:
        _show(report)
    if report.whole.status == "infeasible":
        raise typer.Exit(EXIT_FAILED)


def _show(report: SourcingReport) -> None:
    r = report.whole
    parts = report.by_design
    flag = " [yellow](example supplier data)[/]" if report.resolved.example else ""
    console.print(f"[bold]Sourcing {', '.join(d.design for d in parts)}[/]{flag}: {r.status}; "
                  f"rule {r.rule}: {r.rule_text}")
    for d in parts:
        racks = ", ".join(f"{format_quarter(q)} {n:,.0f}" for q, n in d.racks.items() if n)
        who = f"{d.design} (generation {d.generation}): " if len(parts) > 1 else ""
        console.print(f"{who}parts for {d.racks_total:,.0f} racks: {racks or 'none'}",
                      highlight=False)
        title = "BOM per rack, priced at the plan's landed cost" if len(parts) == 1 else \
            f"BOM per rack of {d.design}, priced at the plan's landed cost"
        bom = simple_table(title, ["part", "count", "unit $", "extended $"])
        for line in d.bom.lines:
            bom.add_row(line.part, f"{line.count:,.2f}".rstrip("0").rstrip("."),
                        f"{line.unit_price_usd:,.0f}", f"{line.extended_usd:,.0f}")
        bom.add_row("[bold]total[/]", "", "", f"[bold]{d.bom.total_usd:,.0f}[/]")
        console.print(bom)
        if d.bom.unpriced:
            console.print(f"[yellow]not sourced (no supplier):[/] {', '.join(d.bom.unpriced)}")
    _show_result(r, parts)
    if report.what_if is not None:
        _show_what_if(report.what_if)


_TEST_WORDS = {"threshold": "meets threshold", "fallback": "[yellow]fallback only[/]",
               "neither": "[red]neither[/]", None: "-"}


def _show_result(r: SourcingResult, parts: tuple[DesignSourcing, ...] = ()) -> None:
    if r.cost is not None:
        c = r.cost
        console.print(f"cost {money(c.total_usd)}: price {money(c.price_usd)}, freight "
                      f"{money(c.freight_usd)}, duty {money(c.duty_usd)}, holding "
                      f"{money(c.holding_usd)}, risk {money(c.risk_usd)}"
                      + (f"; gap {r.gap:.3%} ({r.method}, {r.solve_s:.1f} s)"
                         if r.status != "infeasible" else ""))
    several = len(parts) > 1
    views = [(d.generation or d.design, d.result) for d in parts] if several else [("", r)]
    title = "Domestic share by delivery year" + (" and generation" if several else "")
    columns = ["year", "share", "floor", "threshold", "test", "purchases"]
    years = simple_table(title, (["generation"] if several else []) + columns,
                         2 if several else 1)
    for name, view in views:
        for y in view.share_by_year:
            if several and y.share is None:
                continue
            share = "-" if y.share is None else f"{y.share:.1%}"
            ok = y.share is None or y.share >= y.floor - 1e-9
            threshold = "-" if y.threshold is None else f"{y.threshold:.0%}" + (
                f" ({y.fallback:.0%})" if y.fallback is not None else "")
            row = [str(y.year), share if ok else f"[red]{share}[/]", f"{y.floor:.0%}",
                   threshold, _TEST_WORDS[y.test], money(y.total_usd)]
            years.add_row(*(([name] if several else []) + row))
    console.print(years)
    console.print("threshold: the rule's for the delivery year, its fallback in brackets "
                  f"({_fallback_source(r.rule)})", highlight=False, markup=False)
    for name, view in views:
        fallback = [str(y.year) for y in view.share_by_year if y.test == "fallback"]
        neither = [y for y in view.share_by_year if y.test == "neither"]
        who = f"{name}: " if several else ""
        if fallback:
            console.print(f"[yellow]{who}meets only the fallback threshold in "
                          f"{', '.join(fallback)}[/] (it applies only when no domestic offer "
                          "meets the threshold, or its cost is unreasonable)", highlight=False)
        if neither:
            what = "meets neither the threshold nor the fallback" if any(
                y.fallback is not None for y in neither) else "misses the threshold"
            console.print(f"[red]{who}{what} in {', '.join(str(y.year) for y in neither)}[/]",
                          highlight=False)
    for name, view in views:
        by_quarter = ", ".join(f"{format_quarter(q)} {s:.1%}"
                               for q, s in view.share_by_quarter.items() if s is not None)
        who = f" ({name})" if several else ""
        console.print(f"domestic share by delivery quarter{who}: {by_quarter}", highlight=False)
    if several and r.cost is not None:
        for name, view in views:
            if view.cost is not None:
                console.print(f"{name}: landed cost {money(view.cost.landed_usd)}, domestic "
                              f"share {_share(view)}", highlight=False)
    _show_plan(r)
    if r.explanation is not None:
        err_console.print(f"[bold red]{r.explanation.summary}[/]", highlight=False)
    shown: dict[str, int] = {}
    for b in r.binding:  # the three dearest of each family
        shown[b.constraint] = shown.get(b.constraint, 0) + 1
        if shown[b.constraint] <= 3:
            console.print(f"binding {b.constraint} ({b.subject}): shadow price "
                          f"{b.shadow_price_usd:,.4g} USD per unit of bound. {b.note}",
                          highlight=False, markup=False)
    if r.dual_method:
        console.print(f"shadow prices from the {r.dual_method}", highlight=False, markup=False)
    if r.at_capacity:
        hits = sorted({f"{a.supplier}/{a.part}" for a in r.at_capacity})
        console.print(f"at capacity in some quarter: {', '.join(hits)}", highlight=False)
    if r.risk is not None and r.risk.top_supplier:
        total = sum(r.risk.spend_by_origin_usd.values()) or 1.0
        spend = ", ".join(f"{c} {v / total:.1%}" for c, v in r.risk.spend_by_origin_usd.items())
        top = max(r.risk.top_supplier.items(), key=lambda kv: kv[1][1])
        console.print(f"risk: spend by origin {spend}; risk-weighted spend "
                      f"{money(r.risk.risk_weighted_spend_usd)}; most concentrated part "
                      f"{top[0]} ({top[1][0]} {top[1][1]:.0%})", highlight=False)
    for note in r.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False)


def _share(view: SourcingResult) -> str:
    total = sum(y.total_usd for y in view.share_by_year)
    return f"{sum(y.domestic_usd for y in view.share_by_year) / total:.1%}" if total else "-"


def _fallback_source(rule: str) -> str:
    found = next(iter(FALLBACKS.get(rule, ())), None)
    return found.source if found else "this rule has no fallback threshold"


def _show_plan(r: SourcingResult) -> None:
    totals: dict[tuple[str, str, str, str], list[float]] = {}
    for line in r.plan:
        key = (line.design, line.part, line.supplier, line.country_of_origin)
        acc = totals.setdefault(key, [0.0, 0.0])
        acc[0] += line.quantity
        acc[1] += line.cost_usd
    several = any(design for design, *_ in totals)
    plan = simple_table(f"Plan {format_quarter(r.quarters[0])}-{format_quarter(r.quarters[-1])}, "
                        "by supplier", (["design"] if several else [])
                        + ["part", "supplier", "origin", "units", "landed cost"],
                        4 if several else 3)
    for (design, part, supplier, origin), (units, cost) in sorted(totals.items()):
        plan.add_row(*([design] if several else []), part, supplier, origin, f"{units:,.0f}",
                     money(cost))
    console.print(plan)


def _show_what_if(w: WhatIfResult) -> None:
    console.print(f"[bold]What-if[/] {w.summary}", highlight=False)
    for year, delta in w.delta_share_by_year.items():
        if delta is not None:
            console.print(f"  domestic share {year}: {(round(delta * 100, 1) or 0.0):+.1f} pp")
    for design, deltas in w.delta_share_by_design.items():
        moved = ", ".join(f"{year} {(round(d * 100, 1) or 0.0):+.1f} pp"
                          for year, d in deltas.items() if d is not None)
        if moved:
            console.print(f"  {design}: {moved}", highlight=False)
    if w.shortfall_units:
        console.print(f"  [red]shortfall: {w.shortfall_units:,.0f} units[/]")
