"""Cooling rules: CDU capacity, coolant flow, temperatures, facility water class, air path.

Formulas live in :mod:`rackforge.design.thermal`; the numbers in
:class:`rackforge.design.budget.ThermalBudget`.
"""

from __future__ import annotations

from rackforge.checks.findings import Finding, failure, info, upper
from rackforge.design import thermal
from rackforge.design.budget import RackBudget, cdu_capacity_w
from rackforge.design.spec import SiteSpec


def check(budget: RackBudget, site: SiteSpec | None = None) -> list[Finding]:
    """Liquid rules where the rack has liquid heat, air rules always, the inlet class if set."""
    t, spec = budget.thermal, budget.layout.design.cooling
    out = _air(budget) + _inlet_class(budget)
    if t.liquid_heat_w <= 0:
        return out
    if not spec.liquid:
        return out + [failure("COOLING-LIQUID-LOOP", "liquid loop",
                              "liquid-cooled parts but no liquid loop; set cooling.coolant, "
                              "loop, facility_class, delta_t_k and available_flow_lpm",
                              t.liquid_heat_w, 0.0, "W")]
    return _liquid(budget) + _temperatures(budget) + out


def _inlet_class(budget: RackBudget) -> list[Finding]:
    """The class's warmest allowable inlet (ASHRAE TC 9.9, thermal.air_classes) vs the warmest
    inlet every air-cooled tray accepts."""
    layout = budget.layout
    name = layout.design.cooling.inlet_class
    trays = [p.part for p in layout.trays if p.part.liquid_cooled_fraction < 1]
    if name is None or not trays:
        return []
    low_c, high_c = thermal.air_classes()[name]
    inlet_c = layout.design.cooling.inlet_temp_c
    inlet_c = high_c if inlet_c is None else inlet_c
    limit, tray = min([(t.max_inlet_air_c, t.id) for t in trays] + [(high_c, f"class {name}")])
    return [upper("COOLING-INLET-CLASS", f"{name} inlet, {tray}", inlet_c, limit, "degC",
                  f"inlet air ({inlet_c:g} degC; ASHRAE {name} allows {low_c:g}-{high_c:g}) is "
                  f"warmer than {tray} accepts; lower cooling.inlet_temp_c or hold the room to "
                  "a cooler class", warn=0.0)]


def _liquid(budget: RackBudget) -> list[Finding]:
    layout, t = budget.layout, budget.thermal
    spec = layout.design.cooling
    out = []
    if layout.cdu is None:
        if t.liquid_heat_w > 0:
            out.append(failure("COOLING-CDU-CAPACITY", "liquid loop",
                               "liquid-cooled parts but no CDU; set cooling.cdu",
                               t.liquid_heat_w, 0.0, "W"))
    else:
        out.append(upper("COOLING-CDU-CAPACITY", layout.cdu.id, t.liquid_heat_w,
                         cdu_capacity_w(layout), "W",
                         "liquid heat exceeds the CDU capacity given to this rack"))
    capped = t.delivered_flow_lpm < spec.available_flow_lpm
    out.append(upper("COOLING-FLOW", "secondary loop", t.required_flow_lpm,
                     t.delivered_flow_lpm, "L/min",
                     f"flow needed for {spec.delta_t_k:g} K exceeds the flow "
                     + ("the CDU can deliver" if capped else "available")
                     + "; raise the flow or the design delta-T"))
    out.append(upper("COOLING-DELTA-T", "secondary loop", spec.delta_t_k,
                     layout.loop.max_delta_t_k, "K",
                     f"design delta-T exceeds the {layout.loop.id} loop limit"))
    return out


def _temperatures(budget: RackBudget) -> list[Finding]:
    layout, t = budget.layout, budget.thermal
    spec, loop = layout.design.cooling, layout.loop
    approach = layout.cdu.approach_k if layout.cdu else 0.0
    out = [
        upper("COOLING-SUPPLY-TEMP", loop.id, t.supply_temp_c, loop.max_supply_c,
              "degC", "secondary supply is above the loop's limit"),
        upper("COOLING-RETURN-TEMP", loop.id, t.return_temp_c, loop.max_return_c,
              "degC", "return temperature at the delivered flow exceeds the loop's limit"),
    ]
    if spec.supply_temp_c is not None:  # else the supply is derived from the class itself
        out.append(upper(
            "COOLING-FACILITY-CLASS", spec.facility_class, spec.facility_supply_max_c + approach,
            t.supply_temp_c, "degC",
            f"{spec.facility_class} water (up to {spec.facility_supply_max_c:g} degC) plus the "
            f"CDU approach of {approach:g} K cannot hold the secondary supply; use a colder "
            "class or raise the supply temperature"))
    limits = [(p.part.max_coolant_supply_c, p.part.id) for p in layout.trays
              if p.part.max_coolant_supply_c is not None and p.part.liquid_cooled_fraction > 0]
    if limits:
        limit, part_id = min(limits)
        out.append(upper("COOLING-PART-SUPPLY-TEMP", part_id, t.supply_temp_c,
                         limit, "degC", "secondary supply is warmer than these cold plates "
                         "accept; lower the supply or use a colder facility class"))
    return out


def _air(budget: RackBudget) -> list[Finding]:
    layout, t = budget.layout, budget.thermal
    spec = layout.design.cooling
    door = layout.rear_door.capacity_w if layout.rear_door else 0.0
    out = [upper("COOLING-AIR-CAPACITY", "air path", t.air_heat_w,
                 spec.air_capacity_w + door, "W",
                 "heat left to air exceeds the air path (and rear door) capacity")]
    if spec.available_airflow_m3_per_h is not None:
        out.append(upper("COOLING-AIRFLOW", "air path", t.required_airflow_m3_per_h,
                         spec.available_airflow_m3_per_h, "m3/h",
                         f"airflow needed at a {spec.air_delta_t_k:g} K rise exceeds what is "
                         "available"))
    else:
        out.append(info("COOLING-AIRFLOW", "air path", t.required_airflow_m3_per_h,
                        "m3/h", f"airflow needed at a {spec.air_delta_t_k:g} K air rise"))
    if spec.containment is not None:
        room_w = max(t.air_heat_w - door, 0.0)  # a rear door's heat never reaches the room
        out.append(upper("COOLING-CONTAINMENT", f"{spec.containment} containment", room_w,
                         thermal.containment_limits_w()[spec.containment], "W",
                         "more heat to the room than rows of this containment usually take "
                         "per rack (a planning rule of thumb); contain the aisles, add a rear "
                         "door or move heat to liquid", warn=0.0, advisory=True))
    return out
