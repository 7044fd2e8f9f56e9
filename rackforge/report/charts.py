"""Plotly figures of the report. Pure functions from results to figures."""

from __future__ import annotations

import plotly.graph_objects as go

from rackforge.calendar import format_quarter
from rackforge.checks import RackCheck

LAYOUT = {"template": "plotly_white", "margin": {"l": 40, "r": 20, "t": 40, "b": 40},
          "height": 380}


def power_sankey(rc: RackCheck, trays: dict[str, tuple[float, float]]) -> go.Figure:
    """Power from the facility feed through the shelves to the trays, and heat out to liquid
    and air [kW]. `trays` maps tray ids to (total max power in the rack [W], liquid-cooled
    fraction)."""
    p = rc.power
    nodes = ["Facility feed", "Power shelves", "Conversion loss", *trays,
             "Liquid (CDU)", "Air"]
    idx = {n: i for i, n in enumerate(nodes)}
    src, dst, val = [idx["Facility feed"]], [idx["Power shelves"]], [p.input_power_w]
    src.append(idx["Power shelves"])
    dst.append(idx["Conversion loss"])
    val.append(p.conversion_loss_w)
    for tray, (watts, liquid) in trays.items():
        src += [idx["Power shelves"], idx[tray], idx[tray]]
        dst += [idx[tray], idx["Liquid (CDU)"], idx["Air"]]
        val += [watts, watts * liquid, watts * (1 - liquid)]
    src.append(idx["Conversion loss"])
    dst.append(idx["Air"])
    val.append(p.conversion_loss_w)
    fig = go.Figure(go.Sankey(
        valueformat=".1f", valuesuffix=" kW",
        node={"label": nodes, "pad": 14},
        link={"source": src, "target": dst, "value": [v / 1e3 for v in val]}))
    fig.update_layout(title=f"Power and heat flow, rack {rc.rack_id}", **LAYOUT)
    return fig


def margin_bars(rc: RackCheck) -> go.Figure:
    """Headroom of every judged rule as a fraction of its limit."""
    judged = [f for f in rc.findings if f.margin is not None]
    colours = {"error": "#d62728", "warning": "#ff7f0e", "pass": "#2ca02c"}
    fig = go.Figure(go.Bar(x=[f.margin * 100 for f in judged],
                           y=[f"{f.rule} ({f.subject})" for f in judged], orientation="h",
                           marker_color=[colours[f.severity] for f in judged]))
    fig.update_layout(title=f"Design-rule margins, rack {rc.rack_id} [% of limit]",
                      **{**LAYOUT, "height": 120 + 22 * len(judged),
                         "margin": {"l": 320, "r": 20, "t": 40, "b": 40}})
    return fig


def step_breakdown(evals: list) -> go.Figure:
    """Stacked time per training step of each best layout, by component [s]."""
    fig = go.Figure()
    labels = [f"{e.system}<br>{e.workload}" for e in evals]
    parts = list(evals[0].best.breakdown_s) if evals else []
    for part in parts:
        fig.add_trace(go.Bar(name=part, x=labels, y=[e.best.breakdown_s[part] for e in evals]))
    fig.update_layout(barmode="stack", title="Time per training step, best layout [s]",
                      **LAYOUT)
    return fig


def station_utilization(result) -> go.Figure:
    """Busy, blocked, starved and down shares of each station's server time."""
    names = [s.name for s in result.stations]
    fig = go.Figure()
    for field, colour in (("busy", "#4c78a8"), ("blocked", "#f58518"), ("starved", "#bab0ac"),
                          ("down", "#e45756")):
        fig.add_trace(go.Bar(name=field, x=names, y=[getattr(s, field) * 100
                                                      for s in result.stations],
                             marker_color=colour))
    fig.update_layout(barmode="stack", title=f"Station time [%], bottleneck {result.bottleneck}",
                      **LAYOUT)
    return fig


def cluster_power(results: dict) -> go.Figure:
    """IT power of each cluster variant split into racks, switches and optics [MW]."""
    names = list(results)
    parts = {
        "racks": [r.racks_it_power_w for r in results.values()],
        "switches": [sum(f.switch_power_w for f in r.fabrics) + r.scaleup.power_w
                     for r in results.values()],
        "optics and cables": [sum(f.optics_power_w for f in r.fabrics)
                              for r in results.values()],
    }
    fig = go.Figure([go.Bar(name=k, x=names, y=[w / 1e6 for w in v]) for k, v in parts.items()])
    fig.update_layout(barmode="stack", title="Cluster IT power by part [MW]", **LAYOUT)
    return fig


def compare_scatter(comparison) -> go.Figure:
    """Cost of the work against when each candidate finishes it, the deadline marked."""
    fig = go.Figure()
    for r in comparison.results:
        fig.add_trace(go.Scatter(
            x=[r.finish.isoformat() if r.finish else None], y=[r.cost_of_work_usd / 1e6],
            mode="markers+text", text=[r.id], textposition="top center", name=r.id,
            marker={"size": 14, "symbol": "circle" if r.meets_deadline else "x"}))
    fig.add_vline(x=comparison.deadline.isoformat(), line_dash="dash")
    fig.update_layout(title=f"Cost of the work [M USD] vs finish date; deadline "
                      f"{format_quarter(comparison.deadline)}", showlegend=False, **LAYOUT)
    return fig


def serving_curves(comparison) -> go.Figure | None:
    """Throughput-interactivity front of each candidate on each serving workload: output
    tokens/s per GPU against tokens/s per user (as the public InferenceMAX charts); None when
    no candidate's serving rate came from the model."""
    fig = go.Figure()
    for r in comparison.results:
        for workload, point in r.perf.items():
            if point.curve:
                users, gpus = zip(*point.curve, strict=True)
                fig.add_trace(go.Scatter(x=list(users), y=list(gpus), mode="lines+markers",
                                         name=f"{r.id} {workload}"))
    if not fig.data:
        return None
    fig.update_layout(title="Serving: output tokens/s per GPU vs tokens/s per user (p99 "
                      "latencies, one scale-up domain)", xaxis_title="tokens/s per user",
                      yaxis_title="tokens/s per GPU", **LAYOUT)
    return fig


def ramp(result) -> go.Figure:
    """Facility and IT power online by quarter [GW], with the target and binding limits."""
    qs = [format_quarter(q.quarter) for q in result.quarters]
    fig = go.Figure([
        go.Bar(name="racks energized", x=qs, y=[q.racks_energized for q in result.quarters],
               yaxis="y2", opacity=0.35, hovertext=[q.binding for q in result.quarters]),
        go.Scatter(name="facility GW", x=qs,
                   y=[q.facility_power_online_w / 1e9 for q in result.quarters]),
        go.Scatter(name="IT GW", x=qs, y=[q.it_power_online_w / 1e9 for q in result.quarters]),
    ])
    if result.target_w:
        fig.add_hline(y=result.target_w / 1e9, line_dash="dash",
                      annotation_text=f"target {result.target_w / 1e9:.1f} GW")
    fig.update_layout(title="Power online by quarter [GW] (bars: racks energized)",
                      yaxis2={"overlaying": "y", "side": "right", "showgrid": False},
                      **LAYOUT)
    return fig


def sourcing_spend(result) -> go.Figure:
    """Landed spend per quarter by country of origin [M USD], with the domestic share."""
    quarters = sorted({line.quarter for line in result.plan})
    origins = sorted({line.country_of_origin for line in result.plan})
    spend = {(o, q): 0.0 for o in origins for q in quarters}
    for line in result.plan:
        spend[(line.country_of_origin, line.quarter)] += line.cost_usd
    xs = [format_quarter(q) for q in quarters]
    fig = go.Figure([go.Bar(name=o, x=xs, y=[spend[(o, q)] / 1e6 for q in quarters])
                     for o in origins])
    shares = [result.share_by_quarter.get(q) for q in quarters]
    fig.add_trace(go.Scatter(name="domestic share", x=xs, yaxis="y2", mode="lines+markers",
                             y=[None if s is None else s * 100 for s in shares]))
    fig.update_layout(barmode="stack", title="Landed spend by origin [M USD] and domestic "
                      "share [%]", yaxis2={"overlaying": "y", "side": "right", "range": [0, 100],
                                           "showgrid": False}, **LAYOUT)
    return fig
