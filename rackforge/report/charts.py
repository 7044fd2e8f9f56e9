"""Plotly figures of the report. Pure functions from results to figures."""

from __future__ import annotations

import plotly.graph_objects as go

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
