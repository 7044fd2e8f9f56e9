"""Electrical formulas of the rack power path.

References
----------
.. [1] NFPA 70, National Electrical Code, 2023: Art. 210.19(A) and 215.2 (continuous loads at
       125%, i.e. a breaker loaded to at most 80%).
.. [2] NetBox, ``dcim/models/power.py``, PowerFeed.available_power: V x A x max utilization,
       times sqrt(3) for three-phase feeds.
.. [3] Open Compute Project, Open Rack V3 Base Specification and ORv3 HPR material: N+1 shelves.
.. [4] Glover, Sarma and Overbye, Power System Analysis and Design, 6th ed., Cengage 2017,
       ch. 2.5-2.6: balanced wye, V_LN = V_LL / sqrt(3); apparent power per phase S = V_LN I.
.. [5] NEMA MG 1-2016, Motors and Generators, 14.36: unbalance = largest deviation from the
       average / average (stated there for voltage; applied here to phase loads).
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


def phase_voltage_v(voltage_v: float, phases: int) -> float:
    """Voltage across one outlet [V]: V_LL / sqrt(3) on a three-phase wye input, else V ([4])."""
    return voltage_v / SQRT3 if phases == 3 else voltage_v


def phase_current_a(power_w: float, voltage_v: float, phases: int, power_factor: float
                    ) -> float:
    """Line current [A] of `power_w` [W] on one phase of a PDU with input `voltage_v` [V]
    (line-to-line for three-phase): I = P / (pf x V_LN) ([4])."""
    return power_w / (power_factor * phase_voltage_v(voltage_v, phases))


def deal_cords_w(tray_loads_w: list[float], cords_per_tray: int, pdus: int, phases: int
                 ) -> list[list[float]]:
    """Load on each phase of each PDU of one feed [W], per PDU a list of phases.

    Each tray's load is split evenly over its `cords_per_tray` cords; the cords, in slot order,
    are dealt round-robin to the phases of one PDU, then the next (the phase rotation installers
    follow; an assumption, not a measured plug map).
    """
    loads = [[0.0] * phases for _ in range(pdus)]
    k = 0
    for load_w in tray_loads_w:
        for _ in range(cords_per_tray):
            loads[(k // phases) % pdus][k % phases] += load_w / cords_per_tray
            k += 1
    return loads


def phase_imbalance(loads_w: list[float]) -> float:
    """Largest deviation of a phase load from the mean, over the mean ([5]); 0 when unloaded."""
    mean = sum(loads_w) / len(loads_w)
    return max(abs(x - mean) for x in loads_w) / mean if mean > 0 else 0.0
