"""Heat-transfer formulas of the rack cooling path.

References
----------
.. [1] Incropera et al., Fundamentals of Heat and Mass Transfer, 7th ed., Wiley 2011, Eq. 1.12e:
       q = m_dot * cp * dT (steady flow energy balance, no phase change).
.. [2] ASHRAE TC 9.9, Water-Cooled Servers: Common Designs, Components and Processes, 2019:
       liquid classes W17-W45 (facility supply upper limit in degC).
.. [3] ASHRAE Handbook Fundamentals 2021, ch. 1: dry air at 25 degC, density 1.184 kg/m3,
       cp 1006 J/(kg K).
.. [4] ASHRAE TC 9.9, Thermal Guidelines for Data Processing Environments, 5th ed., 2021:
       air classes A1-A4, allowable inlet ranges (``data/ashrae_air_classes.yaml``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from rackforge.catalog.models import Coolant
from rackforge.inputs import read_yaml

AIR_CLASSES_FILE = Path(__file__).parent / "data" / "ashrae_air_classes.yaml"
CONTAINMENT_FILE = Path(__file__).parent / "data" / "containment.yaml"

AIR_DENSITY_KG_PER_M3 = 1.184  # [3]
AIR_CP_J_PER_KG_K = 1006.0  # [3]
LPM_PER_M3_PER_S = 60_000.0


def coolant_properties(coolant: Coolant, temp_c: float) -> tuple[float, float]:
    """Density [kg/m3] and specific heat [J/(kg K)] at `temp_c` [degC], interpolated linearly
    in the coolant's table and held constant beyond its ends."""
    temps = [p.temp_c for p in coolant.properties]
    rho = np.interp(temp_c, temps, [p.density_kg_per_m3 for p in coolant.properties])
    cp = np.interp(temp_c, temps, [p.specific_heat_j_per_kg_k for p in coolant.properties])
    return float(rho), float(cp)


def required_flow_lpm(heat_w: float, delta_t_k: float, density_kg_per_m3: float,
                      cp_j_per_kg_k: float) -> float:
    """Volumetric flow that carries `heat_w` [W] at a rise of `delta_t_k` [K]  [L/min].

    Q = P / (rho * cp * dT) ([1], Eq. 1.12e), converted from m3/s to L/min.
    """
    return heat_w / (density_kg_per_m3 * cp_j_per_kg_k * delta_t_k) * LPM_PER_M3_PER_S


def temperature_rise_k(heat_w: float, flow_lpm: float, density_kg_per_m3: float,
                       cp_j_per_kg_k: float) -> float:
    """Coolant temperature rise [K] when `heat_w` [W] goes into `flow_lpm` [L/min] ([1])."""
    if flow_lpm <= 0:
        return float("inf")
    return heat_w / (density_kg_per_m3 * cp_j_per_kg_k * flow_lpm / LPM_PER_M3_PER_S)


def required_airflow_m3_per_h(heat_w: float, delta_t_k: float) -> float:
    """Air volume flow removing `heat_w` [W] at a rise of `delta_t_k` [K]  [m3/h] ([1], [3])."""
    return heat_w / (AIR_DENSITY_KG_PER_M3 * AIR_CP_J_PER_KG_K * delta_t_k) * 3600.0


@lru_cache(maxsize=1)
def containment_limits_w(path: Path = CONTAINMENT_FILE) -> dict[str, float]:
    """Air heat a rack may reject to the room, by containment [W per rack]: planning rules of
    thumb with their sources in the data file."""
    data = read_yaml(path)["containment"]
    return {name: float(v["max_room_air_w_per_rack"]) for name, v in data.items()}


def air_classes(path: Path = AIR_CLASSES_FILE) -> dict[str, tuple[float, float]]:
    """Allowable inlet range (min, max) [degC] of each ASHRAE air class A1-A4 ([4])."""
    data = read_yaml(path)["classes"]
    return {name: (float(v["min_inlet_c"]), float(v["max_inlet_c"])) for name, v in data.items()}
