"""Power, heat, mass and cable budgets of a resolved rack: the numbers the checks judge.

Each budget is computed once from a :class:`RackLayout` and is reused by the checks, the
report (power-flow diagram, elevation) and later stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rackforge.catalog.models import BatteryShelf, Cdu, PowerShelf
from rackforge.design import electrical, thermal
from rackforge.design.rack import CableRun, RackLayout
from rackforge.design.spec import Feed

LITRE_M3 = 1e-3


@dataclass(frozen=True)
class PowerBudget:
    it_power_w: float            # sum of slotted parts' max power
    installed_capacity_w: float  # all shelves, all PSUs
    usable_capacity_w: float     # with the spare shelves and PSUs lost
    efficiency: float            # load-weighted shelf efficiency at full load
    input_power_w: float         # IT load / efficiency
    busbar_current_a: float
    feed_capacity_w: float       # usable feed capacity after redundancy
    bbu_power_w: float
    bbu_energy_j: float
    conversion_loss_w: float     # input power - IT load, heat in the shelves
    holdup_s: float              # battery ride-through at full IT load (inf without batteries)


@dataclass(frozen=True)
class PduBudget:
    """Rack PDUs of one feed carrying the whole rack (the N+N case after losing a feed)."""

    pdu_id: str
    feeds: int                   # 2 for A and B feeds (N+N), else 1
    pdus_per_feed: int
    load_w: float                # real power one feed carries
    feed_capacity_w: float       # pdus_per_feed x V x A (x sqrt 3) x derating
    phase_loads_w: tuple[tuple[float, ...], ...]  # per PDU, per phase, one feed carrying all
    max_phase_current_a: float
    phase_limit_a: float         # breaker x derating
    cords_per_pdu: int           # most cords any PDU of a feed takes
    imbalance: float             # largest deviation of a phase from the mean, over the mean
    branch_current_a: float      # worst branch (outlet group): its cords at the largest cord load
    branch_limit_a: float | None  # outlet breaker x derating; None when the PDU gives none


@dataclass(frozen=True)
class ThermalBudget:
    liquid_heat_w: float
    air_heat_w: float            # tray air share plus power-conversion losses
    supply_temp_c: float | None  # secondary supply (None without a liquid loop)
    density_kg_per_m3: float | None
    cp_j_per_kg_k: float | None
    required_flow_lpm: float     # at the design delta-T (0 without a liquid loop)
    delivered_flow_lpm: float    # available flow, capped by the CDU's maximum
    return_temp_c: float | None  # supply + rise at the delivered flow
    required_airflow_m3_per_h: float


@dataclass(frozen=True)
class CableBudget:
    """One cable group: its links (what the ports terminate and the reach limits) and the
    physical cables that make them (``links x cables_per_link`` of the cable part)."""

    group: str
    links: int                   # tray-to-tray links of the mesh
    cables: int                  # physical cables: links x cables_per_link
    longest_run_m: float         # one link's run: height offset + 2 x horizontal + slack
    total_length_m: float        # every physical cable end to end
    mass_kg: float | None        # total_length_m x mass_kg_per_m (None: the part gives none)


@dataclass(frozen=True)
class MassBudget:
    frame_kg: float
    parts_kg: float
    busbar_kg: float
    coolant_kg: float
    cables_kg: float
    pdus_kg: float
    payload_kg: float            # what the frame carries: everything but the frame itself
    total_kg: float


@dataclass(frozen=True)
class RackBudget:
    layout: RackLayout

    @cached_property
    def power(self) -> PowerBudget:
        return _power(self.layout)

    @cached_property
    def pdu(self) -> PduBudget | None:
        return _pdu(self.layout) if self.layout.pdu is not None else None

    @cached_property
    def thermal(self) -> ThermalBudget:
        return _thermal(self.layout, self.power)

    @cached_property
    def cables(self) -> tuple[CableBudget, ...]:
        unit_m = self.layout.rack.unit_height_m
        return tuple(_cable_budget(run, unit_m) for run in self.layout.cable_runs)

    @cached_property
    def mass(self) -> MassBudget:
        layout = self.layout
        rho = 0.0
        if layout.coolant is not None:
            rho, _ = thermal.coolant_properties(layout.coolant, self.thermal.supply_temp_c)
        pdus = layout.design.power.pdus
        carried = {
            "parts_kg": sum(p.part.mass_kg for p in layout.placed),
            "busbar_kg": layout.busbar.mass_kg if layout.busbar else 0.0,
            "coolant_kg": layout.design.cooling.coolant_volume_l * LITRE_M3 * rho,
            "cables_kg": sum(c.mass_kg or 0.0 for c in self.cables),
            "pdus_kg": layout.pdu.mass_kg * pdus.per_feed * pdus.feeds if layout.pdu else 0.0,
        }
        payload = sum(carried.values())
        return MassBudget(frame_kg=layout.rack.mass_kg, **carried, payload_kg=payload,
                          total_kg=layout.rack.mass_kg + payload)

    @cached_property
    def units_used(self) -> int:
        return sum(p.part.rack_units for p in self.layout.placed)


def _power(layout: RackLayout) -> PowerBudget:
    spec = layout.design.power
    it_w = sum(p.part.max_power_w for p in layout.trays)
    shelves = [p.part for p in layout.of_type(PowerShelf)]
    bbus = [p.part for p in layout.of_type(BatteryShelf)]
    installed = sum(s.capacity_w for s in shelves)
    usable = electrical.usable_shelf_capacity_w(
        [(s.psu_count, s.psu_power_w) for s in shelves], spec.redundancy, spec.psu_redundancy)
    efficiency = (sum(s.efficiency * s.capacity_w for s in shelves) / installed
                  if installed else 1.0)
    bbu_energy_j = sum(b.power_w * b.holdup_s for b in bbus)
    return PowerBudget(
        it_power_w=it_w,
        installed_capacity_w=installed,
        usable_capacity_w=usable,
        efficiency=efficiency,
        input_power_w=it_w / efficiency,
        busbar_current_a=electrical.busbar_current_a(it_w, layout.busbar.voltage_v)
        if layout.busbar else 0.0,
        feed_capacity_w=_shelf_feed_capacity_w(spec.feed),
        bbu_power_w=sum(b.power_w for b in bbus),
        bbu_energy_j=bbu_energy_j,
        conversion_loss_w=it_w / efficiency - it_w,
        holdup_s=electrical.holdup_s(bbu_energy_j, it_w),
    )


def _shelf_feed_capacity_w(feed: Feed | None) -> float:
    """Usable capacity of the feed into the shelves [W] (0 without one): with N+N, half the
    circuits carry the rack (electrical.feed_capacity_w)."""
    if feed is None:
        return 0.0
    circuits = feed.circuits // 2 if feed.redundancy == "N+N" else feed.circuits
    phases = feed.phases if feed.type == "ac" else 1
    return circuits * electrical.feed_capacity_w(feed.voltage_v, feed.breaker_a, phases,
                                                 feed.derating)


def _pdu(layout: RackLayout) -> PduBudget:
    """One feed's PDUs carrying every tray (N+N: the other feed lost), see
    :func:`electrical.deal_cords_w`, :func:`electrical.phase_current_a`."""
    spec, pdu = layout.design.power.pdus, layout.pdu
    loads = electrical.deal_cords_w([p.part.max_power_w for p in layout.trays],
                                    spec.cords_per_tray, spec.per_feed, pdu.phases)
    per_phase = [w for phases in loads for w in phases]
    cords = [0] * spec.per_feed  # cords on each PDU, dealt as in deal_cords_w
    for k in range(len(layout.trays) * spec.cords_per_tray):
        cords[(k // pdu.phases) % spec.per_feed] += 1
    return PduBudget(
        pdu_id=pdu.id, feeds=spec.feeds, pdus_per_feed=spec.per_feed,
        load_w=sum(per_phase),
        feed_capacity_w=spec.per_feed * spec.power_factor * electrical.feed_capacity_w(
            pdu.voltage_v, pdu.breaker_a, pdu.phases, spec.derating),
        phase_loads_w=tuple(tuple(p) for p in loads),
        max_phase_current_a=electrical.phase_current_a(
            max(per_phase), pdu.voltage_v, pdu.phases, spec.power_factor),
        phase_limit_a=pdu.breaker_a * spec.derating,
        cords_per_pdu=max(cords),
        imbalance=max((electrical.phase_imbalance(p) for p in loads), default=0.0),
        branch_current_a=_branch_current_a(layout, max(cords)),
        branch_limit_a=(pdu.outlet_breaker_a * spec.derating
                        if pdu.outlet_breaker_a is not None else None),
    )


def _branch_current_a(layout: RackLayout, cords_on_pdu: int) -> float:
    """Current through the worst branch breaker of a PDU [A]: the cords one breaker feeds (the
    outlets of its group, or the cords the PDU takes if fewer), each at the largest cord load,
    at the outlet voltage (line-to-neutral on a wye PDU), see :func:`electrical.phase_current_a`."""
    spec, pdu = layout.design.power.pdus, layout.pdu
    cord_w = max(p.part.max_power_w for p in layout.trays) / spec.cords_per_tray
    cords = min(pdu.outlets_per_breaker, cords_on_pdu)
    return electrical.phase_current_a(cords * cord_w, pdu.voltage_v, pdu.phases,
                                      spec.power_factor)


def _thermal(layout: RackLayout, power: PowerBudget) -> ThermalBudget:
    spec = layout.design.cooling
    liquid_w = sum(p.part.max_power_w * p.part.liquid_cooled_fraction for p in layout.trays)
    air_w = power.it_power_w - liquid_w + power.conversion_loss_w
    airflow = thermal.required_airflow_m3_per_h(air_w, spec.air_delta_t_k)
    if not spec.liquid:
        return ThermalBudget(liquid_w, air_w, None, None, None, 0.0, 0.0, None, airflow)
    approach = layout.cdu.approach_k if layout.cdu else 0.0
    supply_c = spec.supply_temp_c if spec.supply_temp_c is not None else (
        spec.facility_supply_max_c + approach)
    rho, cp = thermal.coolant_properties(layout.coolant, supply_c + spec.delta_t_k / 2)
    delivered = spec.available_flow_lpm
    if layout.cdu is not None:
        delivered = min(delivered, layout.cdu.max_flow_lpm * _cdu_share(layout))
    return ThermalBudget(
        liquid_heat_w=liquid_w,
        air_heat_w=air_w,
        supply_temp_c=supply_c,
        density_kg_per_m3=rho,
        cp_j_per_kg_k=cp,
        required_flow_lpm=thermal.required_flow_lpm(liquid_w, spec.delta_t_k, rho, cp),
        delivered_flow_lpm=delivered,
        return_temp_c=supply_c + thermal.temperature_rise_k(liquid_w, delivered, rho, cp),
        required_airflow_m3_per_h=airflow,
    )


def _cdu_share(layout: RackLayout) -> float:
    cdu = layout.cdu
    return 1.0 if isinstance(cdu, Cdu) and cdu.placement == "in-rack" else (
        layout.design.cooling.cdu_share)


def cdu_capacity_w(layout: RackLayout) -> float:
    """Heat capacity of the CDU available to this rack [W] (0 without a CDU)."""
    return layout.cdu.capacity_w * _cdu_share(layout) if layout.cdu else 0.0


def _cable_budget(run: CableRun, unit_height_m: float) -> CableBudget:
    """Links, physical cables, longest run [m], cable length [m] and mass [kg] of one group:
    each of a tray pair's ``cables_per_pair`` links is ``cables_per_link`` cables of the
    pair's run length."""
    group, cable = run.group, run.cable
    lengths = [abs(a.center_height_m(unit_height_m) - b.center_height_m(unit_height_m))
               + 2 * group.horizontal_m + group.slack_m
               for a in run.from_parts for b in run.to_parts]
    cable_m = sum(lengths) * group.cables_per_pair * cable.cables_per_link
    return CableBudget(group.name, run.links, run.cables, max(lengths), cable_m,
                       cable_mass_kg(cable_m, cable.mass_kg_per_m))


def cable_mass_kg(cable_m: float, mass_kg_per_m: float | None) -> float | None:
    """Mass of `cable_m` metres of physical cable [kg]; None when the part gives no mass per
    metre (kg/m of one cable)."""
    return cable_m * mass_kg_per_m if mass_kg_per_m is not None else None
