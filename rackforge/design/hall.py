"""Hall geometry: cable run lengths between racks and network racks, and floor area.

Racks stand in rows of ``racks_per_row`` at ``rack_pitch_m`` along a row and ``row_pitch_m``
between rows (aisles included). Cables run in an overhead tray: up from the port to the tray,
along it in Manhattan fashion (along the row, then across rows), and down again, plus slack:

    run = horizontal + 2 * (tray_height - port_height) + slack

A group of switches serving a block of ``n`` racks sits in a network rack at the block's centre,
so the farthest rack is ``c/2`` rack pitches along and ``(m-1)/2`` row pitches across, with
``c = min(n, racks_per_row)`` columns and ``m = ceil(n / racks_per_row)`` rows; the mean run
is taken as half the farthest horizontal distance (uniform racks around the centre).
Structured-cabling practice (TIA-942-B, Annex on cabling lengths) routes this way; the model
is a planning estimate, not a cable schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rackforge.design.cluster_spec import HallSpec


@dataclass(frozen=True)
class Run:
    """Lengths of one level of links [m]."""

    mean_m: float
    max_m: float


def block_distance_m(hall: HallSpec, racks: int) -> float:
    """Farthest horizontal distance from the centre of a block of `racks` racks [m]."""
    racks = max(1, racks)
    cols = min(racks, hall.racks_per_row)
    rows = math.ceil(racks / hall.racks_per_row)
    return cols / 2 * hall.rack_pitch_m + (rows - 1) / 2 * hall.row_pitch_m


def block_run(hall: HallSpec, racks: int) -> Run:
    """Runs from racks of a block of `racks` racks to a network rack at its centre [m]."""
    far = block_distance_m(hall, racks)
    fixed = 2 * max(0.0, hall.tray_height_m - hall.port_height_m) + hall.slack_m
    return Run(far / 2 + fixed, far + fixed)


def in_rack_run(rack_height_m: float) -> Run:
    """Runs inside one rack, switch to tray: half the rack height on average, all of it at most,
    plus 0.5 m of routing at the ends [m]."""
    return Run(rack_height_m / 2 + 0.5, rack_height_m + 0.5)


def network_racks(switch_units: int, hall: HallSpec) -> int:
    """Network racks needed to hold `switch_units` rack units of switches."""
    return math.ceil(switch_units / hall.network_rack_units) if switch_units else 0


def floor_area_m2(racks: int, hall: HallSpec) -> float:
    """Floor area of `racks` racks at the hall's pitches, aisles included [m2]."""
    return racks * hall.rack_pitch_m * hall.row_pitch_m
