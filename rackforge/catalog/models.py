"""Part models of the catalog: one pydantic model per kind of part.

Every numeric field names its unit (see :mod:`rackforge.units`); every part carries a
:class:`Source`. Fields that come from a document other than the part's main source name it in
``field_sources``. Invented figures carry ``example: true``; inferred or secondary-source figures
carry ``approximate: true``. A scenario's own part (its ``parts:`` section) whose id is already in
the shipped catalog replaces that part only when it says ``replaces: true``.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rackforge.units import (
    Bytes,
    BytesPerS,
    Current,
    DeltaT,
    Density,
    Flops,
    Flow,
    Fraction,
    Gbps,
    Length,
    Mass,
    Power,
    Seconds,
    SpecificHeat,
    Temperature,
    Voltage,
)

Dtype = Literal["fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "fp6", "fp4", "int8"]
PositiveFloat = Annotated[float, Field(gt=0)]


class Frozen(BaseModel):
    """Immutable model that rejects unknown keys, non-finite numbers (.inf, .nan) and a boolean
    where a number is expected (pydantic would read ``count: true`` as 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse true/false (also inside a list or mapping) in a field that wants numbers."""
        if not isinstance(value, bool | list | dict | tuple):
            return value   # most values: nothing that could hold a boolean, nothing to look up
        field = cls.model_fields.get(info.field_name or "")
        if field is None or any(isinstance(m, BeforeValidator) for m in field.metadata):
            return value   # a quantity (units.py) refuses booleans with its own message
        if _bool_where_number(value, field.annotation):
            raise PydanticCustomError("bool_for_number", "true/false is not a number")
        return value


_UNIONS = (Union, types.UnionType)


def _wants_number(tp: Any) -> bool:
    """Whether type `tp` takes a number but not a boolean (int, float, a Literal of ints,
    or a union of such with other types but not bool); a quantity type, which parses its
    input itself, does not count."""
    origin = get_origin(tp)
    if origin is Annotated:
        quantity = any(isinstance(m, BeforeValidator) for m in tp.__metadata__)
        return not quantity and _wants_number(get_args(tp)[0])
    if origin in _UNIONS:
        args = get_args(tp)
        return bool not in args and Any not in args and any(_wants_number(a) for a in args)
    if origin is Literal:
        return all(type(a) is int for a in get_args(tp))
    return tp in (int, float)


def _bool_where_number(value: Any, tp: Any) -> bool:
    """Whether `value` holds a boolean where type `tp` wants a number."""
    if isinstance(value, bool):
        return _wants_number(tp)
    if not isinstance(value, list | dict | tuple):
        return False
    items = list(value.values()) if isinstance(value, dict) else list(value)
    return any(_bool_where_number(v, a) for a in _element_types(tp) for v in items)


def _element_types(tp: Any) -> list[Any]:
    """The element types of a container type (the value type of a dict), through unions."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _element_types(get_args(tp)[0])
    if origin in _UNIONS:
        return [e for a in get_args(tp) for e in _element_types(a)]
    if origin is dict:
        return [get_args(tp)[1]] if get_args(tp) else []
    if origin in (list, tuple, set, frozenset):
        return [a for a in get_args(tp) if a is not Ellipsis]
    return []


class Source(Frozen):
    """Where a figure comes from: a datasheet, specification or paper."""

    title: str = Field(min_length=3)
    publisher: str = Field(min_length=2)
    year: int = Field(ge=1990, le=2030)
    url: str | None = None
    note: str | None = None

    def cite(self) -> str:
        return f"{self.title}, {self.publisher}, {self.year}"


class SourcedValue(Frozen):
    """One positive model constant with its provenance: a source, or ``assumption: true`` and
    the reason."""

    value: float = Field(gt=0)
    source: Source | None = None
    assumption: bool = False
    reason: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> SourcedValue:
        if self.source is None and not (self.assumption and self.reason):
            raise ValueError("give a source, or assumption: true with a reason")
        return self


class PartBase(Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.+-]*$")
    name: str
    source: Source
    field_sources: dict[str, Source] = Field(default_factory=dict)
    example: bool = False
    approximate: bool = False
    notes: str | None = None
    replaces: bool = Field(default=False, description=(
        "a scenario part whose id is already in the shipped catalog must say replaces: true "
        "to take its place (otherwise the repeated id is an error)"))

    def source_of(self, field: str) -> Source:
        return self.field_sources.get(field, self.source)


class Accelerator(PartBase):
    """One accelerator package (one GPU of a superchip where the part is a superchip)."""

    kind: Literal["accelerator"] = "accelerator"
    vendor: str
    peak_flops: dict[Dtype, Flops] = Field(description="dense peak FLOP/s per dtype")
    hbm_bytes: Bytes = Field(gt=0)
    hbm_bandwidth_bytes_per_s: BytesPerS = Field(gt=0)
    tdp_w: Power = Field(gt=0)
    scaleup_bandwidth_bytes_per_s: BytesPerS = Field(ge=0, description="per GPU, per direction")
    scaleup_link: str
    scaleout_gbps: Gbps = Field(ge=0, description="NIC bandwidth per GPU, one direction")

    @model_validator(mode="after")
    def _has_bf16(self) -> Accelerator:
        if "bf16" not in self.peak_flops and "fp16" not in self.peak_flops:
            raise ValueError("peak_flops needs at least bf16 or fp16")
        if any(v <= 0 for v in self.peak_flops.values()):
            raise ValueError("peak_flops values must be positive")
        return self


class Port(Frozen):
    name: str
    count: int = Field(ge=1)
    gbps: Gbps = Field(gt=0, description="per port, one direction")


class Tray(PartBase):
    """A rack-mounted tray, server or switch box."""

    kind: Literal["tray"] = "tray"
    role: Literal["compute", "scaleup-switch", "network-switch", "management", "storage"]
    rack_units: int = Field(ge=1, le=12)
    mass_kg: Mass = Field(gt=0)
    max_power_w: Power = Field(gt=0)
    liquid_cooled_fraction: Fraction = Field(ge=0, le=1)
    accelerator: str | None = None
    accelerators: int = Field(default=0, ge=0)
    cpus: int = Field(default=0, ge=0)
    ports: list[Port] = Field(default_factory=list)
    max_coolant_supply_c: Temperature | None = Field(
        default=None, description="highest secondary supply temperature the cold plates accept")
    max_inlet_air_c: Temperature = 35.0


class PowerShelf(PartBase):
    """Rectifier shelf feeding a DC busbar."""

    kind: Literal["power_shelf"] = "power_shelf"
    rack_units: int = Field(ge=1)
    mass_kg: Mass = Field(gt=0)
    psu_count: int = Field(ge=1)
    psu_power_w: Power = Field(gt=0)
    output_voltage_v: Voltage = Field(gt=0)
    efficiency: Fraction = Field(gt=0, le=1, description="at full load")
    peak_efficiency: Fraction | None = Field(default=None, gt=0, le=1)
    input_voltage_v: Voltage = Field(gt=0, description="nominal AC line-to-line or DC input")
    input_phases: Literal[1, 3, 0] = 3

    @property
    def capacity_w(self) -> float:
        return self.psu_count * self.psu_power_w


class BatteryShelf(PartBase):
    """Battery backup unit shelf on the DC busbar."""

    kind: Literal["bbu"] = "bbu"
    rack_units: int = Field(ge=1)
    mass_kg: Mass = Field(gt=0)
    power_w: Power = Field(gt=0)
    holdup_s: Seconds = Field(gt=0, description="ride-through at power_w")


class Busbar(PartBase):
    kind: Literal["busbar"] = "busbar"
    voltage_v: Voltage = Field(gt=0)
    current_rating_a: Current = Field(gt=0)
    mass_kg: Mass = Field(ge=0)


class PowerRack(PartBase):
    """Sidecar power rack converting facility power to a high-voltage DC bus."""

    kind: Literal["power_rack"] = "power_rack"
    output_voltage_v: Voltage = Field(gt=0)
    power_w: Power = Field(gt=0)
    efficiency: Fraction = Field(gt=0, le=1)
    mass_kg: Mass = Field(gt=0)


class CoolantPoint(Frozen):
    temp_c: Temperature
    density_kg_per_m3: Density = Field(gt=0)
    specific_heat_j_per_kg_k: SpecificHeat = Field(gt=0)


class Coolant(PartBase):
    """A heat-transfer fluid; properties are interpolated linearly in temperature."""

    kind: Literal["coolant"] = "coolant"
    freezing_point_c: Temperature
    properties: list[CoolantPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> Coolant:
        temps = [p.temp_c for p in self.properties]
        if temps != sorted(set(temps)):
            raise ValueError("properties must be sorted by temp_c without repeats")
        return self


class Cdu(PartBase):
    """Coolant distribution unit: liquid-to-liquid heat exchanger with pumps."""

    kind: Literal["cdu"] = "cdu"
    placement: Literal["in-rack", "in-row"]
    capacity_w: Power = Field(gt=0, description="heat removed at the rated approach")
    max_flow_lpm: Flow = Field(gt=0, description="secondary-side flow")
    approach_k: DeltaT = Field(gt=0, description="secondary supply minus facility supply")
    pumps: int = Field(ge=1)
    pump_redundancy: Literal["N", "N+1"] = "N+1"
    rack_units: int = Field(default=0, ge=0)
    mass_kg: Mass = Field(gt=0)


class RearDoor(PartBase):
    kind: Literal["rear_door"] = "rear_door"
    active: bool
    capacity_w: Power = Field(gt=0)
    mass_kg: Mass = Field(gt=0)


class Pdu(PartBase):
    """Rack power distribution unit: one input (single- or three-phase) to outlets."""

    kind: Literal["pdu"] = "pdu"
    phases: Literal[1, 3]
    voltage_v: Voltage = Field(gt=0, description="input, line-to-line for three-phase (wye)")
    breaker_a: Current = Field(gt=0, description="input breaker or plug rating per phase")
    outlets: int = Field(ge=1)
    outlet_breaker_a: Current | None = Field(default=None, gt=0,
                                             description="branch breaker per outlet group")
    outlets_per_breaker: int = Field(default=1, ge=1,
                                     description="outlets sharing one branch breaker")
    rack_units: int = Field(default=0, ge=0, description="0 for a zero-U (vertical) PDU")
    mass_kg: Mass = Field(gt=0)


class LoopLimits(PartBase):
    """Limits of a cold-plate secondary loop (technology cooling system)."""

    kind: Literal["loop_limits"] = "loop_limits"
    max_supply_c: Temperature
    min_supply_c: Temperature
    max_return_c: Temperature
    max_delta_t_k: DeltaT = Field(gt=0)
    min_flow_lpm_per_kw: float = Field(gt=0)
    max_flow_lpm_per_kw: float = Field(gt=0)


class Cable(PartBase):
    """One link: a cable, or transceivers with fibre; reach at its lane rate.

    A link may be several physical cables: ``cables_per_link`` of them (an NVLink 5 spine link
    is 2 lanes x TX/RX = 4 twinax cables; a twin-port optic link is 2 fibre cables), and
    ``mass_kg_per_m`` is the mass of one of them per metre.
    """

    kind: Literal["cable"] = "cable"
    medium: Literal["passive-copper", "active-copper", "optic-dsp", "optic-lpo", "optic-cpo"]
    lane_gbps: Gbps = Field(gt=0)
    lanes: int = Field(ge=1)
    reach_m: Length = Field(gt=0)
    power_w: Power = Field(ge=0, description="per link, both ends")
    cables_per_link: int = Field(default=1, ge=1, le=64,
                                 description="physical cables (twinax, fibre) making one link")
    mass_kg_per_m: float | None = Field(default=None, gt=0,
                                        description="one physical cable, per metre [kg/m]")

    @property
    def gbps(self) -> float:
        return self.lane_gbps * self.lanes


class Rack(PartBase):
    """A rack frame."""

    kind: Literal["rack"] = "rack"
    standard: Literal["eia-310", "orv3", "orv3-hpr"]
    unit_height_m: Length = Field(gt=0, description="44.45 mm EIA RU or 48 mm OpenU")
    usable_units: int = Field(ge=1)
    payload_kg: Mass = Field(gt=0)
    mass_kg: Mass = Field(gt=0)
    width_m: Length = Field(gt=0)
    depth_m: Length = Field(gt=0)
    height_m: Length = Field(gt=0)

    @property
    def footprint_m2(self) -> float:
        return self.width_m * self.depth_m


class System(PartBase):
    """A reference system: what the performance model needs to know about a machine."""

    kind: Literal["system"] = "system"
    accelerator: str
    scaleup_domain: int = Field(ge=1, description="GPUs sharing NVLink-class links")
    gpus_per_host: int | None = Field(
        default=None, ge=1, description="GPUs on one server or compute tray: what a host "
        "failure takes out (None: min(8, scaleup_domain))")
    scaleout_gbps_per_gpu: Gbps = Field(gt=0)
    power_per_gpu_w: Power = Field(gt=0, description="system IT power per GPU incl. CPU, "
                                   "switches, fans, at full load")
    cooling: Literal["air", "liquid", "hybrid"]

    @property
    def host_gpus(self) -> int:
        """GPUs a host-level failure takes out [count]."""
        return self.gpus_per_host or min(8, self.scaleup_domain)


Part = Annotated[
    Accelerator | Tray | PowerShelf | BatteryShelf | Busbar | PowerRack | Coolant | Cdu
    | RearDoor | LoopLimits | Cable | Rack | System | Pdu,
    Field(discriminator="kind"),
]

MODELS: dict[str, type[PartBase]] = {
    m.model_fields["kind"].default: m
    for m in (Accelerator, Tray, PowerShelf, BatteryShelf, Busbar, PowerRack, Coolant, Cdu,
              RearDoor, LoopLimits, Cable, Rack, System, Pdu)
}
KINDS: tuple[str, ...] = tuple(MODELS)
