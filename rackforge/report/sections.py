"""One report section per stage, built from that stage's result object."""

from __future__ import annotations

from collections import defaultdict
from itertools import accumulate

from rackforge.calendar import add_quarters
from rackforge.calendar import format_quarter as quarter
from rackforge.catalog.models import PartBase
from rackforge.checks import RackCheck
from rackforge.checks.findings import Finding
from rackforge.pipeline import Outcome, RunResult
from rackforge.report import charts
from rackforge.report.blocks import Figure, Row, Section, Svg, Table, num, table, txt
from rackforge.report.elevation import elevation_svg
from rackforge.scenario import Scenario
from rackforge.units import format_value

SEVERITY_CSS = {"error": "sev-error", "warning": "sev-warning", "pass": "sev-pass",
                "info": "sev-info"}


def checks_section(outcome: Outcome, run: RunResult) -> Section:
    scenario = run.scenario
    blocks: list = []
    for rid, rc in (outcome.result or {}).items():
        layout = scenario.layouts[rid]
        power: dict[str, float] = defaultdict(float)
        for p in layout.trays:
            power[p.part.id] += p.part.max_power_w
        trays = {t.id: (power[t.id], t.liquid_cooled_fraction)
                 for t in {p.part.id: p.part for p in layout.trays}.values()}
        blocks += [Row([Svg(elevation_svg(layout), f"Rack elevation, {rid}"),
                        _budget_table(rc)]), _findings_table(rc),
                   Figure(charts.power_sankey(rc, trays)),
                   Figure(charts.margin_bars(rc))]
    return Section("checks", "Rack design checks", outcome.status, outcome.summary, blocks)


def _budget_table(rc: RackCheck) -> Table:
    p, t, m = rc.power, rc.thermal, rc.mass
    rows = [
        ["Accelerators", num(rc.accelerators)], ["Rack units used", num(rc.units_used, "U")],
        ["IT load (max)", num(p.it_power_w, "W")],
        ["Usable shelf capacity", num(p.usable_capacity_w, "W")],
        ["Input power", num(p.input_power_w, "W")],
        ["Conversion loss", num(p.conversion_loss_w, "W")],
        ["Busbar current", num(p.busbar_current_a, "A")],
        ["Liquid heat", num(t.liquid_heat_w, "W")], ["Air heat", num(t.air_heat_w, "W")],
        ["Coolant flow needed", num(t.required_flow_lpm, "L/min")],
        ["Coolant flow delivered", num(t.delivered_flow_lpm, "L/min")],
        ["Supply / return", txt("no liquid loop" if t.supply_temp_c is None else
                                f"{t.supply_temp_c:.1f} / {t.return_temp_c:.1f} degC")],
        ["Rack mass (total)", num(m.total_kg, "kg")],
    ]
    return table(["quantity", "value"], rows, f"Budget of rack {rc.rack_id}")


def _findings_table(rc: RackCheck) -> Table:
    return _findings(rc.findings, f"Findings, rack {rc.rack_id}")


def _findings(findings: list[Finding], caption: str) -> Table:
    rows = [[txt(f.rule), txt(f.severity, SEVERITY_CSS[f.severity]), txt(f.subject),
             num(f.value, f.unit), num(f.limit, f.unit),
             num(None) if f.margin is None else num(f.margin * 100, "%"), txt(f.message)]
            for f in findings]
    return table(["rule", "severity", "subject", "value", "limit", "margin", "message"], rows,
                 caption)


def assumptions_section(run: RunResult) -> Section:
    """Every input the results rest on, with its source; invented example data flagged."""
    scenario = run.scenario
    used = _parts_used(scenario)
    rows = [[txt(p.kind), txt(p.id), txt(p.source.cite()),
             txt("example (invented)" if p.example else "approximate" if p.approximate else "",
                 "flag-example" if p.example else "")]
            for p in sorted(used.values(), key=lambda p: (p.kind, p.id))]
    rows += _stage_assumptions(run)
    flagged = sum(1 for r in rows if r[3].text.startswith("example"))
    summary = (f"{len(rows)} inputs with their sources; {flagged} are invented example data, "
               "flagged below" if flagged else f"{len(rows)} inputs, each with its source")
    return Section("assumptions", "Inputs and their sources", "ok", summary,
                   [table(["kind", "input", "source", "flags"], rows)], flagged)


def _parts_used(scenario: Scenario) -> dict[str, PartBase]:
    """Catalog parts behind the racks, the evaluated and compared systems and their GPUs."""
    used: dict[str, PartBase] = {}
    for layout in scenario.layouts.values():
        parts = [p.part for p in layout.placed] + [layout.rack]
        parts += [x for x in (layout.busbar, layout.coolant, layout.loop, layout.cdu,
                              layout.rear_door, layout.power_rack, layout.pdu) if x]
        parts += [run.cable for run in layout.cable_runs]
        used.update({p.id: p for p in parts})
    spec = scenario.spec
    systems = list(spec.evaluate.systems) if spec.evaluate else []
    systems += [c.system for c in spec.compare.candidates] if spec.compare else []
    used.update({s: scenario.catalog.parts[s] for s in systems if s in scenario.catalog})
    accelerators = {getattr(p, "accelerator", None) for p in list(used.values())}
    used.update({a: scenario.catalog.parts[a] for a in accelerators if a in scenario.catalog})
    return used


def _stage_assumptions(run: RunResult) -> list[list]:
    """Economics defaults, supplier data and line times, as the stages report them."""
    rows = []
    compare = run.outcomes.get("compare")
    if compare and compare.status == "ok":
        rows += [[txt("economics"), txt(f"{a['name']} = {a['value']:g}"),
                  txt(a["origin"].lstrip("~")),
                  txt("example (invented)" if "example" in a["origin"] else "",
                      "flag-example" if "example" in a["origin"] else "")]
                 for a in compare.result.assumptions]
    source = run.outcomes.get("source")
    if source and source.status == "ok" and source.result.resolved.example:
        rows.append([txt("suppliers"), txt("supplier prices, capacities, lead times, tariffs"),
                     txt("scenario supplier table"), txt("example (invented)", "flag-example")])
    line = run.scenario.spec.line
    if line is not None:
        cited = "; ".join(src.cite() for src in line.sources) or "scenario"
        rows.append([txt("line"), txt(f"{line.name}: station times, yields, failures"),
                     txt(cited), txt("example (invented)" if line.example else "",
                                     "flag-example" if line.example else "")])
    return rows


def evaluate_section(outcome: Outcome, run: RunResult) -> Section:
    evals = outcome.result
    rows = []
    for e in evals:
        b = e.best
        lay = " ".join(f"{k}={v}" for k, v in b.layout.items()) + f" ({e.framework})" + (
            f" (layout family validated on {b.regime_rows} row(s), mean error "
            f"{b.regime_mape_pct:.1f} %)" if b.validated_regime
            else " (no validation row has this layout family on this accelerator: extrapolated)")
        g = e.goodput
        rows.append([txt(e.system), txt(e.workload), num(e.n_gpus), num(b.step_s, "s"),
                     num(b.tokens_per_s_per_gpu, "tokens/s"), num(b.mfu * 100, "%"),
                     num(b.memory_bytes, "B"), txt(lay),
                     num(b.train_time_s / 86400 if b.train_time_s else None, "days"),
                     num(g.fraction * 100 if g else None, "%"),
                     num(g.interruptions_per_day if g else None, "per day"),
                     num(g.time_to_train_s / 86400 if g else None, "days"),
                     num(b.train_energy_j / 3.6e12 if b.train_energy_j else None, "GWh")])
    headers = ["system", "workload", "GPUs", "step", "per GPU", "MFU", "memory/GPU",
               "best layout", "without failures", "goodput", "interruptions",
               "time to train", "energy"]
    return Section("evaluate", "Performance (training, best layout)", outcome.status,
                   outcome.summary, [table(headers, rows),
                                     Figure(charts.step_breakdown(evals))])


def build_section(outcome: Outcome, run: RunResult) -> Section:
    r = outcome.result
    rows = [["Racks per week", num(r.racks_per_week.mean, "racks"),
             num(r.racks_per_week.half_width, "racks")],
            ["Cycle time", num(r.cycle_time_h.mean, "h"), num(r.cycle_time_h.half_width, "h")],
            ["Work in process", num(r.wip_racks.mean, "racks"),
             num(r.wip_racks.half_width, "racks")],
            ["Little's law: throughput x cycle time", num(
                r.little.throughput_per_h * r.little.cycle_time_h, "racks"), None],
            ["Scrapped per week", num(r.scrapped_per_week, "racks"), None]]
    stations = [[txt(st.name), num(st.servers), num(st.utilization.mean * 100, "%"),
                 num(st.busy * 100, "%"), num(st.blocked * 100, "%"),
                 num(st.starved * 100, "%"), num(st.down * 100, "%")] for st in r.stations]
    return Section("build", "Assembly and test line", outcome.status, outcome.summary, [
        table(["measure", "mean", "95% CI half-width"], rows,
              f"{r.replications} replications, seed {r.seed}, bottleneck: {r.bottleneck}"),
        table(["station", "servers", "utilization", "busy", "blocked", "starved", "down"],
              stations),
        Figure(charts.station_utilization(r))])


def cluster_section(outcome: Outcome, run: RunResult) -> Section:
    stage = outcome.result
    rows = []
    for name, r in stage.results.items():
        tiers = " / ".join(f"{t.switches} {t.name}" for t in r.fabric.sizing.tiers)
        rows.append([txt(name), num(r.accelerators), num(r.racks), txt(tiers),
                     num(r.fabric.transceivers), num(r.fabric_power_w, "W"),
                     num(r.it_power_w, "W"), num(r.facility_power_w, "W"),
                     num(r.floor_area_m2, "m2"), num(r.max_accelerators)])
    blocks = [table(["variant", "accelerators", "racks", "scale-out switches", "transceivers",
                     "fabric power", "IT power", "facility power", "floor area",
                     "fabric limit (accelerators)"], rows)]
    for name, findings in stage.findings.items():
        blocks.append(_findings(findings, f"Cluster findings, {name}"))
    blocks.append(Figure(charts.cluster_power(stage.results)))
    return Section("cluster", "Cluster and scale-out fabric", outcome.status, outcome.summary,
                   blocks)


def compare_section(outcome: Outcome, run: RunResult) -> Section:
    c = outcome.result
    rows = [[txt(r.id), txt(r.system_id), txt(quarter(r.available)), num(r.racks),
             num(r.accelerators), num(r.fleet_capex_usd, "USD"),
             num(r.tco.cost_per_accelerator_hour_usd, "USD/GPU-h"),
             txt(quarter(r.finish) if r.finish else "never"),
             txt("yes" if r.meets_deadline else "no", "" if r.meets_deadline else "sev-warning"),
             num(r.work_done_fraction * 100, "%"), num(r.cost_of_work_usd, "USD"),
             txt(r.fit_note), num(None if r.domestic_share is None else r.domestic_share * 100,
                                  "%"), txt(r.domestic_basis),
             num(r.landed_cost_usd, "USD")]
            for r in c.results]
    per_workload = [[txt(r.id), txt(w), num(p.tokens_per_s_per_gpu, "tokens/s"),
                     num(p.model_error_pct, "%"),
                     num(p.goodput * 100, "%"), num(r.tokens[w].cost_per_mtok_usd, "USD/Mtok"),
                     num(r.tokens[w].energy_per_mtok_kwh, "kWh/Mtok"),
                     num(r.tokens[w].tokens_per_s_per_kw, "tokens/s/kW")]
                    for r in c.results for w, p in r.perf.items()]
    sens = [[txt(x.name), txt(x.winner), txt(", ".join(x.ranking)),
             txt("yes" if x.winner_changed else "no", "sev-warning" if x.winner_changed else "")]
            for x in c.sensitivity]
    rec = c.recommendation
    return Section("compare", "Candidate systems: buy now or wait", outcome.status,
                   outcome.summary, [
        table(["candidate", "system", "delivery", "racks", "accelerators", "fleet capex",
               "cost per GPU-hour", "portfolio done", "by deadline", "done by deadline",
               "cost of the work", "hall fit", "domestic", "domestic from",
               "landed cost per rack (sourcing)"], rows,
              f"Decision {quarter(c.decision)}, deadline {quarter(c.deadline)}: "
              f"{rec.action} {rec.candidate_id}. {rec.reason}"),
        table(["candidate", "workload", "per GPU", "model error", "goodput", "cost", "energy",
               "per kW"],
              per_workload, "Per workload, from the performance model; model error: its mean "
              "error on published runs of the same kind (training layout family, or dense / "
              "MoE serving with or without latency limits), blank for a rate the scenario "
              "states or a kind no published run checks; cost and energy over wall time, so "
              "training pays for the time lost to failures (goodput)"),
        table(["case", "winner", "ranking", "winner changes"], sens,
              "Sensitivity of the ranking to the key assumptions"),
        Figure(charts.compare_scatter(c)),
        *([Figure(curves)] if (curves := charts.serving_curves(c)) else [])])


def plan_section(outcome: Outcome, run: RunResult) -> Section:
    r = outcome.result
    source = run.outcomes.get("source")
    sourced = source.result.racks if source is not None and source.status == "ok" else {}
    whole = r.racks_built_whole()
    rows = [[txt(quarter(q.quarter)), num(q.power_wanted_online_w, "W"),
             num(sourced.get(q.quarter) if sourced else None, "racks"),
             num(whole[q.quarter], "racks"), num(q.racks_shipped, "racks"),
             num(q.racks_energized, "racks"), num(q.racks_online, "racks"),
             num(q.accelerators_online), num(q.it_power_online_w, "W"),
             num(q.facility_power_online_w, "W"),
             num(q.rack_capex_usd + q.facility_capex_usd, "USD"), txt(q.binding)]
            for q in r.quarters]
    note = ("Racks sourced are what the sourcing plan buys parts for: the ramp's racks of the "
            "sourced design built, in whole racks." if sourced else
            "No sourcing stage ran on this scenario.")
    blocks = [table(["quarter", "wanted online", "sourced", "built", "shipped", "energized",
                     "online", "accelerators", "IT power", "facility power", "capex",
                     "binding limit"], rows,
                    f"Wanted online: the demand (the power the sites can take, up to the "
                    f"target, {r.target_basis}). {note} Shipped, energized and online are LP "
                    "values."),
              Figure(charts.ramp(r))]
    generations = list(r.quarters[0].racks_by_system)
    if len(generations) > 1:
        blocks.append(table(["quarter", *generations],
                            [[txt(quarter(q.quarter)),
                              *(num(q.racks_by_system[g], "racks") for g in generations)]
                             for q in r.quarters], "Racks built by generation"))
    notes = list(dict.fromkeys(q.binding_note for q in r.quarters if q.binding_note))
    if notes:
        blocks.append(table(["what lifts the power-chain limit"], [[txt(n)] for n in notes],
                            "Power-chain items that bind"))
    if r.growth:
        blocks.append(table(["limit", "must grow by"], [[txt(g.limit), txt(g.describe())]
                                                         for g in r.growth],
                            "To reach the target"))
    return Section("plan", "Deployment ramp 2026-2029", outcome.status, outcome.summary,
                   blocks)


def demand_section(outcome: Outcome, run: RunResult) -> Section:
    d = outcome.result
    racks = [[txt(r.id), txt(r.design or "-"), txt(r.system or "-"), num(r.accelerators),
              num(r.it_power_w, "W"), num(r.price_usd, "USD"),
              txt(quarter(r.available) if r.available else "start"),
              num(r.tokens_per_s_per_gpu), txt(r.origin)] for r in d.racks]
    wanted = [[txt(quarter(q)), num(online, "W"), num(shipped, "W")]
              for q, online, shipped in zip(d.quarters, d.wanted_online_w, d.wanted_shipped_w,
                                            strict=True)]
    return Section("demand", "Demand: the racks deployed and the power wanted",
                   outcome.status, outcome.summary, [
        table(["generation", "rack design", "system", "accelerators", "IT power", "price",
               "from", "tokens/s per GPU", "numbers from"], racks,
              f"The racks the ramp deploys; PUE by site {', '.join(f'{p:g}' for p in d.site_pue)}"
              f"; target {d.target_w / 1e9 if d.target_w else 0:,.2f} GW ({d.target_basis})"),
        table(["quarter", "wanted online", "wanted shipped"], wanted,
              f"Power ({d.target_basis}) the sites can take as it comes online, up to the "
              f"target; racks ship {d.lag} quarter(s) before they are energized")])


def supply_section(outcome: Outcome, run: RunResult) -> Section:
    s_ = outcome.result
    rows = [[txt(p.part), num(p.units_per_rack),
             txt(", ".join(f"+{units:,.0f} from {quarter(add_quarters(s_.start, first))}"
                           for first, units in p.added_per_quarter))]
            for p in s_.parts]
    return Section("supply", "Parts supply", outcome.status, outcome.summary, [
        table(["part", "per rack", "capacity per quarter, after lead time"], rows,
              f"What the suppliers of {s_.resolved.design.id} can deliver, ordering from "
              f"{quarter(s_.start)}: the ramp builds within it")])


def source_section(outcome: Outcome, run: RunResult) -> Section:
    rep = outcome.result
    r = rep.result
    bom = [[txt(x.part), num(x.count), num(x.unit_price_usd, "USD"), num(x.extended_usd, "USD")]
           for x in sorted(rep.bom.lines, key=lambda x: -x.extended_usd)]
    bom.append([txt("total per rack"), num(None), num(None), num(rep.bom.total_usd, "USD")])
    years = [[txt(y.year), num(None if y.share is None else y.share * 100, "%"),
              num(y.floor * 100, "%"), num(y.domestic_usd, "USD"), num(y.total_usd, "USD")]
             for y in r.share_by_year]
    spend: dict[tuple[str, str, str], list[float]] = {}
    for line in r.plan:
        key = (line.part, line.supplier, line.country_of_origin)
        units, cost = spend.get(key, [0.0, 0.0])
        spend[key] = [units + line.quantity, cost + line.cost_usd]
    plan = [[txt(p), txt(s_), txt(c), num(u), num(cost, "USD")]
            for (p, s_, c), (u, cost) in sorted(spend.items())]
    note = ("Supplier prices, capacities and tariffs are invented example data."
            if rep.resolved.example else "")
    racks = ", ".join(f"{quarter(q)} {n:,.0f}" for q, n in rep.racks.items() if n)
    return Section("source", "Bill of materials and sourcing plan", outcome.status,
                   outcome.summary, [
        table(["part", "per rack", "unit price (plan average)", "extended"], bom,
              f"Bill of materials of one {rep.bom.design} rack: "
              f"{format_value(rep.bom.total_usd, 'USD')}. {note}"),
        table(["year", "domestic share", "floor", "domestic", "all components"], years,
              r.rule_text),
        table(["part", "supplier", "origin", "units", "landed cost"], plan,
              f"Sourcing plan over the horizon, parts for {rep.racks_total:,.0f} racks: "
              f"{racks}"),
        Figure(charts.sourcing_spend(r))])


def source_totals_section(outcome: Outcome, run: RunResult) -> Section:
    """The sourcing section without supplier-level data: domestic share and cost by year, and
    the landed cost of a rack, for readers outside the organisation that owns the suppliers."""
    rep = outcome.result
    r = rep.result
    years = [[txt(y.year), num(None if y.share is None else y.share * 100, "%"),
              num(y.floor * 100, "%"), num(y.domestic_usd, "USD"), num(y.total_usd, "USD")]
             for y in r.share_by_year]
    return Section("source", "Sourcing (totals)", outcome.status, outcome.summary, [
        table(["quantity", "value"], [["Landed cost per rack", num(rep.bom.total_usd, "USD")],
                                      ["Racks sourced", num(rep.racks_total, "racks")]],
              "Supplier names, offers, prices and the plan by supplier are withheld: they "
              "belong to the organisation that owns the supplier table."),
        table(["year", "domestic share", "floor", "domestic", "all components"], years,
              r.rule_text)])


def cost_section(outcome: Outcome, run: RunResult) -> Section:
    """The program's whole cost per facility GW, item by item with the source of each rate,
    the check against public all-in estimates, and the cash flow per quarter."""
    c = outcome.result
    total, gw = c.total_usd, c.facility_power_w / 1e9
    rows = [[txt(i.name), txt(i.basis), num(i.quantity, i.unit),
             num(i.unit_cost_usd, "/a" if i.kind == "carrying" else "USD"),
             num(i.total_usd, "USD"), num(c.item_usd_per_gw(i.id), "USD/GW"),
             num(i.total_usd / total * 100 if total else None, "%"),
             txt(i.origin), txt(", ".join(i.flags),
                                "flag-example" if {"example", "assumption"} & set(i.flags)
                                else "")]
            for i in c.items]
    rows.append([txt("total"), txt(""), num(None), num(None), num(total, "USD"),
                 num(c.usd_per_gw, "USD/GW"), num(100.0 if total else None, "%"), txt(""),
                 txt("")])
    check = c.check
    refs = [[txt(r.label), num(r.low_usd_per_gw, "USD/GW"), num(r.high_usd_per_gw, "USD/GW"),
             num(None if r.non_it_share is None else r.non_it_share * 100, "%"), txt(r.cite)]
            for r in check.references]
    refs.append([txt("this plan"), num(check.usd_per_gw, "USD/GW"),
                 num(check.usd_per_gw, "USD/GW"),
                 num(None if check.non_it_share is None else check.non_it_share * 100, "%"),
                 txt(f"envelope {format_value(check.low_usd_per_gw, 'USD')}-"
                     f"{format_value(check.high_usd_per_gw, 'USD')} per GW, non-IT "
                     f"{check.non_it_share_low:.0%}-{check.non_it_share_high:.0%}",
                     "" if check.within and check.non_it_within else "sev-warning")])
    cash = list(accumulate(c.cash_flow_usd))
    flows = [[txt(quarter(q)), *(num(i.by_quarter_usd[k], "USD") for i in c.items),
              num(c.cash_flow_usd[k], "USD"), num(cash[k], "USD")]
             for k, q in enumerate(c.quarters)]
    flagged = sum(1 for i in c.items if {"example", "assumption"} & set(i.flags))
    return Section("cost", "Program cost per facility GW", outcome.status, outcome.summary, [
        table(["item", "scales with", "quantity", "unit cost", "total", "per facility GW",
               "share", "source", "flags"], rows,
              f"{c.facility}; {c.racks_built:,.0f} racks built, "
              f"{format_value(c.facility_power_w, 'W')} facility power online at the end of "
              f"the plan ({gw:,.2f} GW). Carrying cost at {c.carrying_rate_per_year:.0%} a "
              f"year of the value held. Left out: {'; '.join(c.left_out)}."),
        table(["public estimate", "low", "high", "non-IT share", "source"], refs,
              check.message),
        table(["quarter", *(i.id for i in c.items), "cash out", "cumulative"], flows,
              f"Cash flow: {c.convention}.")], flagged)


BUILDERS = {"checks": checks_section, "evaluate": evaluate_section, "cluster": cluster_section,
            "source": source_section, "compare": compare_section, "build": build_section,
            "plan": plan_section, "demand": demand_section, "supply": supply_section,
            "cost": cost_section}


def build_sections(run: RunResult, withhold_suppliers: bool = False) -> list[Section]:
    """One section per stage, then the inputs; `withhold_suppliers` shows sourcing as totals
    only (see :func:`source_totals_section`)."""
    sections = []
    for name, outcome in run.outcomes.items():
        builder = BUILDERS.get(name)
        if withhold_suppliers and name == "source":
            builder = source_totals_section
        if outcome.status != "ok" or builder is None:
            sections.append(Section(name, name.title(), outcome.status, outcome.summary))
        else:
            sections.append(builder(outcome, run))
    sections.append(assumptions_section(run))
    return sections
