"""Rack elevation as SVG: the front view DCIM tools draw, one row per rack unit, bottom up."""

from __future__ import annotations

from html import escape

from rackforge.catalog.models import BatteryShelf, Cdu, PowerShelf, Tray
from rackforge.design.rack import Placed, RackLayout
from rackforge.units import format_si

UNIT_PX = 16
WIDTH_PX = 360
LEFT_PX = 34
COLOURS = {"compute": "#4c78a8", "scaleup-switch": "#72b7b2", "network-switch": "#54a24b",
           "management": "#9d9da1", "storage": "#b279a2", "power_shelf": "#f58518",
           "bbu": "#e45756", "cdu": "#2e86c1"}


def elevation_svg(layout: RackLayout) -> str:
    """SVG of `layout`: each placed part as a box with its id and max power, unit numbers left."""
    units = max(layout.rack.usable_units, max((p.top_u for p in layout.placed), default=0))
    height = units * UNIT_PX + 2
    rows = [_unit_label(u, height) for u in range(1, units + 1)]
    boxes = [_box(p, height) for p in layout.placed]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="elevation" width="{WIDTH_PX}" '
            f'height="{height + 24}" viewBox="0 0 {WIDTH_PX} {height + 24}" '
            f'role="img" aria-label="Rack elevation of {escape(layout.id)}">'
            f'<rect x="{LEFT_PX}" y="1" width="{WIDTH_PX - LEFT_PX - 1}" height="{height - 2}" '
            'fill="#f4f4f4" stroke="#333"/>'
            + "".join(rows) + "".join(boxes)
            + f'<text x="{LEFT_PX}" y="{height + 16}" font-size="11">{escape(layout.rack.id)}, '
            f'{layout.rack.usable_units} U, {layout.accelerators} accelerators</text></svg>')


def _y(unit: int, height: int) -> int:
    """Top edge of rack unit `unit` (1 = bottom) [px]."""
    return height - 1 - unit * UNIT_PX


def _unit_label(unit: int, height: int) -> str:
    y = _y(unit, height)
    return (f'<text x="{LEFT_PX - 4}" y="{y + UNIT_PX - 4}" font-size="9" text-anchor="end" '
            f'fill="#666">{unit}</text>')


def _box(placed: Placed, height: int) -> str:
    part = placed.part
    y = _y(placed.top_u, height)
    h = part.rack_units * UNIT_PX
    label = f"{part.id} · {_power_label(placed)}"
    return (f'<g class="slot" data-part="{escape(part.id)}" data-u="{placed.bottom_u}">'
            f'<title>{escape(part.name)} (U{placed.bottom_u}-U{placed.top_u})</title>'
            f'<rect x="{LEFT_PX + 2}" y="{y + 1}" width="{WIDTH_PX - LEFT_PX - 5}" '
            f'height="{h - 2}" rx="2" fill="{_colour(placed)}" stroke="#222" stroke-width="0.5"/>'
            f'<text x="{LEFT_PX + 8}" y="{y + h / 2 + 4}" font-size="10" fill="#fff">'
            f'{escape(label)}</text></g>')


def _colour(placed: Placed) -> str:
    part = placed.part
    key = part.role if isinstance(part, Tray) else part.kind
    return COLOURS.get(key, "#999")


def _power_label(placed: Placed) -> str:
    part = placed.part
    if isinstance(part, Tray):
        return format_si(part.max_power_w, "W")
    if isinstance(part, PowerShelf):
        return f"{format_si(part.capacity_w, 'W')} shelf"
    if isinstance(part, BatteryShelf):
        return f"{format_si(part.power_w, 'W')} for {part.holdup_s:g} s"
    if isinstance(part, Cdu):
        return f"{format_si(part.capacity_w, 'W')} CDU"
    return ""
