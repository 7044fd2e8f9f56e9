"""``rackforge compare FILE`` (which system to buy, and when) and ``rackforge plan FILE`` (the
quarterly deployment ramp and what limits it)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rackforge import scenario as scenario_mod
from rackforge.cache import DEFAULT_FOLDER
from rackforge.calendar import format_quarter, quarters_as_text
from rackforge.cli.app import (
    CacheDirOption,
    ExplainFlag,
    JsonFlag,
    NoCacheFlag,
    ScenarioFile,
    StageOptions,
    app,
    console,
    money,
    print_json,
    run_stages,
    simple_table,
)
from rackforge.compare import CandidateResult, Comparison, to_dict
from rackforge.deploy.ramp import RampResult
from rackforge.deploy.spec import MAX_TARGET_W
from rackforge.errors import InputError


@app.command(name="compare")
def compare_cmd(file: ScenarioFile, json: JsonFlag = False, no_cache: NoCacheFlag = False,
                cache_dir: CacheDirOption = DEFAULT_FOLDER, explain: ExplainFlag = False) -> None:
    """Compare candidate systems on a workload portfolio and recommend buy now or wait.

    Shows performance, TCO, perf per dollar and per watt, hall fit and domestic content side by
    side, and how the ranking moves with energy price, utilization and delivery slip. Runs the
    stages the comparison reads (evaluate; sourcing, for the domestic share and landed cost of
    the candidate built of the sourced rack design).
    """
    options = StageOptions.of(no_cache, cache_dir, explain)
    run = run_stages(scenario_mod.load(file), ["compare"], options, quiet=json)
    result: Comparison = run.outcomes["compare"].result
    if json:
        print_json(to_dict(result))
        return
    console.print(_candidates_table(result))
    console.print(_fit_table(result))
    console.print(_workloads_table(result))
    console.print(_sensitivity_table(result))
    console.print(_assumptions_table(result))
    rec = result.recommendation
    console.print(f"[bold]Recommendation:[/] {rec.action} [bold]{rec.candidate_id}[/] "
                  f"(delivery {format_quarter(rec.quarter)}): {rec.reason}")


def _candidates_table(result: Comparison) -> Table:
    table = simple_table(f"Candidates, deadline {format_quarter(result.deadline)} (best first)",
                   ["candidate", "system", "delivery", "GPUs", "capex", "$/GPU-h",
                    "finish", "by deadline", "work cost"], 3)
    for r in result.results:
        table.add_row(
            r.id, r.system_id, format_quarter(r.available), f"{r.accelerators:,}",
            money(r.fleet_capex_usd), f"{r.tco.cost_per_accelerator_hour_usd:,.2f}",
            format_quarter(r.finish) if r.finish else "never",
            "[green]yes[/]" if r.meets_deadline else f"[red]{r.work_done_fraction:.0%}[/]",
            money(r.cost_of_work_usd))
    return table


def _fit_table(result: Comparison) -> Table:
    table = simple_table("Fit in the planned halls, domestic content",
                   ["candidate", "racks", "rack kW", "fleet MW", "domestic", "landed/rack",
                    "hall"], 1)
    table.columns[-1].justify = "left"
    for r in result.results:
        landed = "-" if r.landed_cost_usd is None else money(r.landed_cost_usd)
        table.add_row(r.id, f"{r.racks:,}", f"{r.rack_it_power_w / 1e3:,.0f}",
                      f"{r.fleet_it_power_w / 1e6:,.1f}", domestic_text(r), landed,
                      r.fit_note if r.fits_hall else f"[red]{r.fit_note}[/]")
    return table


def domestic_text(r: CandidateResult) -> str:
    """``65% sourced``, ``45% stated (below threshold)`` or ``not sourced``."""
    if r.domestic_share is None:
        return "not sourced"
    below = "" if r.meets_domestic else " (below threshold)"
    return f"{r.domestic_share:.0%} {r.domestic_basis}{below}"


def _workloads_table(result: Comparison) -> Table:
    table = simple_table("Per workload (costs over wall time: training pays for its goodput; "
                         "±: the model's mean error on published runs of the kind)",
                         ["candidate", "workload", "tok/s/GPU", "±", "goodput", "$/Mtok",
                          "kWh/Mtok", "tok/s/kW", "tok/$"], 2)
    for r in result.results:
        for wid, te in r.tokens.items():
            error = r.perf[wid].model_error_pct
            table.add_row(r.id, wid, f"{r.perf[wid].tokens_per_s_per_gpu:,.0f}",
                          "" if error is None else f"{error:.0f}%",
                          f"{r.perf[wid].goodput:.1%}",
                          f"{te.cost_per_mtok_usd:,.3f}", f"{te.energy_per_mtok_kwh:,.3f}",
                          f"{te.tokens_per_s_per_kw:,.0f}", f"{te.tokens_per_usd:,.0f}")
    return table


def _sensitivity_table(result: Comparison) -> Table:
    table = simple_table("Sensitivity of the ranking", ["case", "winner", "ranking", "changed"], 3)
    for case in result.sensitivity:
        table.add_row(case.name, case.winner, " > ".join(case.ranking),
                      "[yellow]yes[/]" if case.winner_changed else "no")
    return table


def _assumptions_table(result: Comparison) -> Table:
    table = simple_table("Assumptions (economics)", ["name", "value", "origin"], 1)
    table.columns[-1].justify = "left"
    for a in result.assumptions:
        value = a["value"]
        table.add_row(a["name"], f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:g}",
                      escape(a["origin"]))
    return table


@app.command(name="plan")
def plan_cmd(file: ScenarioFile, json: JsonFlag = False,
             target_gw: Annotated[float | None, typer.Option(
                 "--target-gw", help="Power online by the end [GW], facility or IT "
                 "per plan.target_basis; overrides plan.target_w.")] = None,
             no_cache: NoCacheFlag = False, cache_dir: CacheDirOption = DEFAULT_FOLDER,
             explain: ExplainFlag = False) -> None:
    """Plan the quarterly deployment ramp and say whether the target is reached.

    Per quarter: racks built, shipped and energized, accelerators and GW online, capex and the
    limit that binds; when the target is out of reach, what must grow and by how much. Runs
    the stages the ramp reads (demand, the line simulation, the parts supply), so it prints the
    same plan as ``rackforge run``.
    """
    if target_gw is not None and not 0 < target_gw <= MAX_TARGET_W / 1e9:
        raise InputError("the target must be positive and at most 1,000 GW", None,
                         "--target-gw", target_gw, "a power in GW greater than 0 and at most "
                         "1,000")
    scen = scenario_mod.load(file)
    if target_gw is not None:
        scen = scenario_mod.with_changes(scen, "plan", {"target_w": target_gw * 1e9})
    run = run_stages(scen, ["plan"], StageOptions.of(no_cache, cache_dir, explain), quiet=json)
    result: RampResult = run.outcomes["plan"].result
    if json:
        print_json(quarters_as_text(result.to_dict()))
        return
    console.print(_ramp_table(result))
    mix = _mix_table(result)
    if mix is not None:
        console.print(mix)
    for note in dict.fromkeys(q.binding_note for q in result.quarters if q.binding_note):
        console.print(escape(note), highlight=False)
    for line in _verdict(result):
        console.print(line)


def _ramp_table(result: RampResult) -> Table:
    table = simple_table("Deployment ramp (racks; GW online)",
                   ["quarter", "built", "shipped", "energized", "online", "wanted\nGW",
                    "IT GW", "facility\nGW", "capex", "binding limit"])
    table.columns[-1].justify, table.columns[-1].no_wrap = "left", False   # text: may wrap
    table.caption_justify = "left"
    table.caption = (f"wanted: power ({result.target_basis}) the sites can take by then, up to "
                     "the target (the demand); binding limit: what stops more racks being "
                     "energized that quarter (--json names the constraint row and its build or "
                     "energize quarter)")
    for q in result.quarters:
        table.add_row(format_quarter(q.quarter), f"{q.racks_built:,.0f}",
                      f"{q.racks_shipped:,.0f}", f"{q.racks_energized:,.0f}",
                      f"{q.racks_online:,.0f}", f"{q.power_wanted_online_w / 1e9:,.2f}",
                      f"{q.it_power_online_w / 1e9:,.3f}",
                      f"{q.facility_power_online_w / 1e9:,.3f}",
                      money(q.rack_capex_usd + q.facility_capex_usd),
                      _limit(q.binding, q.binding_family))
    return table


def _mix_table(result: RampResult) -> Table | None:
    """Racks built per quarter by generation, when the plan deploys more than one."""
    generations = list(result.quarters[0].racks_by_system)
    if len(generations) < 2:
        return None
    table = simple_table("Racks built by generation", ["quarter", *generations])
    for q in result.quarters:
        table.add_row(format_quarter(q.quarter),
                      *(f"{q.racks_by_system[g]:,.0f}" for g in generations))
    return table


def _limit(row: str, family: str) -> str:
    """``site-power-upper[tx-1,2027Q1]`` -> ``site tx-1`` (a power-chain item: ``chain la-1``,
    the notes under the table name the item); ``factory-output-upper[..]`` -> ``factory`` (and
    ``demand``); the family otherwise."""
    if "[" not in row or family in ("factory", "demand"):
        return family
    return escape(f"{family} {row[row.index('[') + 1: -1].split(',')[0]}")


def _verdict(result: RampResult) -> list[str]:
    final = result.final
    end = format_quarter(final.quarter)
    lines = [f"By {end}: {final.racks_online:,.0f} racks, "
             f"{final.accelerators_online / 1e6:,.2f} M accelerators, "
             f"{final.it_power_online_w / 1e9:,.2f} GW IT, "
             f"{final.facility_power_online_w / 1e9:,.2f} GW facility; capex "
             f"{money(result.capex_usd)}."]
    if result.target_w is None:
        return lines
    goal = f"{result.target_w / 1e9:,.2f} GW {result.target_basis}"
    if result.target_reached:
        lines.append(f"[bold green]Target {goal} reached[/] in "
                     f"{format_quarter(result.target_quarter)}.")
        return lines
    lines.append(f"[bold red]Target {goal} by {end} not reached[/] "
                 f"({result.power_online_w(final) / 1e9:,.2f} GW). To reach it, grow:")
    lines += [f"  - {escape(g.describe())}" for g in result.growth]
    return lines
