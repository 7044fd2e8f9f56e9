"""Electrical formulas of the rack power path.

References
----------
.. [1] NFPA 70, National Electrical Code, 2023: Art. 210.19(A) and 215.2 (continuous loads at
       125%, i.e. a breaker loaded to at most 80%).
.. [2] NetBox, ``dcim/models/power.py``, PowerFeed.available_power: V x A x max utilization,
       times sqrt(3) for three-phase feeds.
.. [3] Open Compute Project, Open Rack V3 Base Specification and ORv3 HPR material: N+1 shelves.
"""

from __future__ import annotations

from rackforge.units import SQRT3

SPARES = {"N": 0, "N+1": 1, "N+2": 2}


def feed_capacity_w(voltage_v: float, current_a: float, phases: int, derating: float = 0.8
                    ) -> float:
    """Continuous power of one feed [W]; AC line-to-line `voltage_v` [V], breaker `current_a` [A].

    Three-phase: V x A x sqrt(3) x derating; single-phase or DC: V x A x derating ([1], [2]).
    """
    factor = SQRT3 if phases == 3 else 1.0
    return voltage_v * current_a * factor * derating


def busbar_current_a(power_w: float, voltage_v: float) -> float:
    """DC busbar current [A] carrying `power_w` [W] at `voltage_v` [V]: I = P / V."""
    return power_w / voltage_v


def spare_units(redundancy: str, installed: int) -> int:
    """Units held in reserve under `redundancy` ("N", "N+1", "N+2", "N+N") of `installed`."""
    if redundancy == "N+N":
        return installed - installed // 2
    return SPARES[redundancy]


def usable_shelf_capacity_w(shelves: list[tuple[int, float]], redundancy: str,
                            psu_redundancy: str) -> float:
    """Capacity left when the spare shelves and spare PSUs are lost [W] ([3]).

    `shelves` lists (PSU count, PSU power [W]) per shelf. The largest shelves are assumed to be
    the ones lost, so mixed shelves are judged conservatively.
    """
    per_shelf = sorted((n - spare_units(psu_redundancy, n)) * p_w for n, p_w in shelves)
    lost = spare_units(redundancy, len(per_shelf))
    return float(sum(per_shelf[: len(per_shelf) - lost])) if lost < len(per_shelf) else 0.0


def holdup_s(energy_j: float, load_w: float) -> float:
    """Battery ride-through at `load_w` [W] from usable `energy_j` [J] (constant-power discharge,
    no Peukert correction: optimistic for loads well above the rated power)."""
    return energy_j / load_w if load_w > 0 else float("inf")
