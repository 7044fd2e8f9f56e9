"""The ``line:`` section of a scenario: stations, routing, calendar, release policy.

All times are hours (suffix ``_h``) and may be written with units (``"90 min"``, ``"2 d"``).
A rack order is released, its trays (``rack.trays``, e.g. 18 compute + 9 switch) flow as kits
through the tray stations of their kind (L10), meet at the one ``assembly`` station (L11) and the
rack then follows ``next`` from station to station until ``ship``.

Semantic checks (unknown station, no route to ``ship``, unit mismatches, a CONWIP cap below a
batch size) are made here so that a bad line is an :class:`~rackforge.errors.InputError` at load
time, with the station named in the message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from rackforge.catalog.models import Frozen, Source
from rackforge.units import Fraction, Hours

SHIP = "ship"
RACK = "rack"
HOURS_PER_WEEK = 168.0
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]

# Bounds on the inputs, each a physical or practical limit (a value past it is a typo or a unit
# slip, e.g. minutes written as hours, and would make a run ship nothing or never end):
# - one station step [h]: a year. The longest step of a rack (burn-in, a soak) takes days; a
#   step longer than a year is never observed within a run and the line would ship nothing.
MAX_STEP_H = 8760.0
# - time between failures [h]: at least an hour (a station failing more often is not working,
#   and each failure is two events), at most a million hours (114 years: leave mtbf_h out).
MIN_MTBF_H, MAX_MTBF_H = 1.0, 1.0e6
# - racks per batch chamber: 64. A burn-in chamber loads each rack at its full power, about
#   120 kW for an NVL72-class rack, so 64 racks is some 8 MW, more than a factory test room is
#   fed; a larger "chamber" would only hide the batch's capacity limit.
MAX_BATCH_RACKS = 64
# - release rate [racks/h]: 1,000. The largest announced rack plants aim near 2,000 racks a
#   week (12 an hour); a faster release only floods the line with events.
MAX_RELEASE_PER_H = 1000.0
# - run length: 520 weeks (ten years, past the 2026-2029 ramp; steady-state figures settle in
#   weeks), 1,000,000 racks a replication (50 years of a 385-racks-a-week line) and 100
#   replications (the 95 % interval narrows as 1/sqrt(R): 100 give a tenth of one run's spread).
MAX_WEEKS, MAX_RACKS, MAX_REPLICATIONS = 520.0, 1_000_000, 100
StepHours = Annotated[Hours, Field(ge=0, le=MAX_STEP_H)]


def _scalar_is_fixed(value: Any) -> Any:
    """``time_h: "2 h"`` is shorthand for ``{dist: fixed, mean_h: "2 h"}``."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"dist": "fixed", "mean_h": value}
    return value


class Distribution(Frozen):
    """A process time distribution [h].

    ``fixed``: ``mean_h``; ``exponential``: ``mean_h``; ``lognormal``: ``mean_h`` and ``cv``
    (coefficient of variation); ``triangular``: ``min_h``, ``mode_h``, ``max_h``;
    ``empirical``: ``values_h`` drawn with replacement, optionally with ``weights``.
    """

    dist: Literal["fixed", "triangular", "lognormal", "exponential", "empirical"] = "fixed"
    mean_h: StepHours | None = None
    # a coefficient of variation above 10 is not one process (its mean is set by rare draws)
    cv: float | None = Field(default=None, gt=0, le=10)
    min_h: StepHours | None = None
    mode_h: StepHours | None = None
    max_h: StepHours | None = None
    values_h: list[StepHours] | None = Field(default=None, min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        need = {"fixed": ("mean_h",), "exponential": ("mean_h",), "lognormal": ("mean_h", "cv"),
                "triangular": ("min_h", "mode_h", "max_h"), "empirical": ("values_h",)}
        missing = [k for k in need[self.dist] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.dist} time needs {', '.join(missing)}")
        if self.dist in ("exponential", "lognormal") and not self.mean_h:
            raise ValueError(f"a {self.dist} time needs mean_h > 0")
        if self.dist == "triangular" and not self.min_h <= self.mode_h <= self.max_h:
            raise ValueError("a triangular time needs min_h <= mode_h <= max_h")
        if self.weights is not None and (len(self.weights) != len(self.values_h or [])
                                         or sum(self.weights) <= 0):
            raise ValueError("weights must match values_h one to one and not all be 0")
        return self

    @property
    def expected_h(self) -> float:
        """Mean of the distribution [h]."""
        if self.dist == "triangular":
            return (self.min_h + self.mode_h + self.max_h) / 3.0
        if self.dist == "empirical":
            w = self.weights or [1.0] * len(self.values_h)
            return sum(v * x for v, x in zip(self.values_h, w, strict=True)) / sum(w)
        return float(self.mean_h)


Time = Annotated[Distribution, BeforeValidator(_scalar_is_fixed)]


class StationSpec(Frozen):
    """One station. ``servers`` are parallel servers, batch chambers or assembly cells.

    ``unit`` is ``rack`` or a tray kind of ``rack.trays``. A tray station handles the kit of
    trays one rack needs as one job: ``time_h`` is per tray and ``kit`` says whether a kit's
    trays are tested together (``parallel``, time of the slowest tray) or one after another
    (``serial``, sum). Tray failures are repaired (``rework_h``) and retested in place, or
    scrapped and replaced by a new tray that is tested. A failed rack goes to ``rework_to``
    (default: this station again) or is scrapped.
    """

    name: Name
    kind: Literal["process", "batch", "assembly"] = "process"
    unit: Name = RACK
    servers: int = Field(default=1, ge=1)
    time_h: Time
    kit: Literal["parallel", "serial"] = "parallel"
    batch_size: int | None = Field(default=None, ge=1, le=MAX_BATCH_RACKS,
                                   description="racks per chamber")
    batch_timeout_h: StepHours | None = Field(default=None,
                                              description="start a partial batch after this wait")
    first_pass_yield: Fraction = Field(default=1.0, gt=0, le=1)
    on_fail: Literal["rework", "scrap"] = "rework"
    rework_to: Name | None = None
    rework_h: StepHours = Field(default=0.0, description="tray repair before retest")
    mtbf_h: Hours | None = Field(default=None, ge=MIN_MTBF_H, le=MAX_MTBF_H)
    # a repair longer than a step's bound (a year) is a replacement, not a repair
    mttr_h: Hours | None = Field(default=None, gt=0, le=MAX_STEP_H)
    attended: bool = Field(default=True, description="works only on shift (see calendar)")
    buffer: int | None = Field(default=None, ge=0, description="units allowed to wait")
    next: Name
    example: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> StationSpec:
        if (self.mtbf_h is None) != (self.mttr_h is None):
            raise ValueError(f"station '{self.name}': give both mtbf_h and mttr_h, or neither")
        if self.kind == "batch" and self.batch_size is None:
            raise ValueError(f"station '{self.name}': a batch station needs batch_size")
        if self.kind != "batch" and self.batch_size is not None:
            raise ValueError(f"station '{self.name}': batch_size is only for kind: batch")
        if self.kind != "process" and self.unit != RACK:
            raise ValueError(f"station '{self.name}': a {self.kind} station handles racks")
        return self


class RackSpec(Frozen):
    """What one rack needs: trays of each kind, e.g. ``{compute: 18, switch: 9}``."""

    trays: dict[Name, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)


class ReleaseSpec(Frozen):
    """How rack orders enter: ``push`` at a rate, or ``conwip`` keeping ``wip_cap`` racks in."""

    policy: Literal["push", "conwip"]
    rate_per_h: float | None = Field(default=None, gt=0, le=MAX_RELEASE_PER_H,
                                     description="[racks/h]")
    rate_per_week: float | None = Field(default=None, gt=0,
                                        le=MAX_RELEASE_PER_H * HOURS_PER_WEEK,
                                        description="[racks/week]")
    interarrival: Literal["fixed", "exponential"] = "fixed"
    # a factory floor holds hundreds of racks; the bound keeps a typo from releasing 1e30 jobs
    wip_cap: int | None = Field(default=None, ge=1, le=100_000, description="[racks]")

    @model_validator(mode="after")
    def _policy(self) -> ReleaseSpec:
        if self.policy == "push" and (self.rate_per_h is None) == (self.rate_per_week is None):
            raise ValueError("release policy push needs one of rate_per_h or rate_per_week")
        if self.policy == "conwip" and self.wip_cap is None:
            raise ValueError("release policy conwip needs wip_cap")
        return self

    @property
    def arrival_rate_per_h(self) -> float | None:
        if self.policy != "push":
            return None
        return self.rate_per_h or self.rate_per_week / HOURS_PER_WEEK


class CalendarSpec(Frozen):
    """Shift calendar: attended stations work ``hours_per_day`` from 00:00 on the first
    ``days_per_week`` days of each week. Unattended stations run around the clock."""

    hours_per_day: Hours = Field(default=24.0, gt=0, le=24)
    days_per_week: int = Field(default=7, ge=1, le=7)

    @property
    def always_on(self) -> bool:
        return self.hours_per_day >= 24 and self.days_per_week == 7


class RunSpec(Frozen):
    """Default run settings for ``rackforge build`` (the command line overrides them)."""

    warmup_h: Hours = Field(default=HOURS_PER_WEEK, ge=0, le=MAX_WEEKS * HOURS_PER_WEEK)
    weeks: float | None = Field(default=None, gt=0, le=MAX_WEEKS)
    racks: int | None = Field(default=None, ge=1, le=MAX_RACKS)
    replications: int = Field(default=5, ge=2, le=MAX_REPLICATIONS)
    seed: int = Field(default=1, ge=0)


class LineVariant(Frozen):
    """The same line building another rack generation: its trays per rack, and station times
    and servers that differ (``time_scale`` multiplies every time of a station, its repair and
    rework times included). A generation of the plan names its variant."""

    name: Name
    rack: RackSpec | None = Field(default=None, description="trays per rack, if they differ")
    time_scale: dict[str, float] = Field(default_factory=dict,
                                         description="station -> factor on its times")
    servers: dict[str, Annotated[int, Field(ge=1, le=10_000)]] = Field(default_factory=dict)
    example: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _scales(self) -> LineVariant:
        bad = {k: v for k, v in self.time_scale.items() if not 0.01 <= v <= 100}
        if bad:
            raise ValueError(f"variant '{self.name}': time_scale factors must lie in 0.01-100, "
                             f"got {bad}")
        return self


class LineSpec(Frozen):
    """An assembly and test line (see the module docstring)."""

    name: Name
    description: str | None = None
    rack: RackSpec = Field(default_factory=RackSpec)
    release: ReleaseSpec
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    stations: list[StationSpec] = Field(min_length=1)
    run: RunSpec = Field(default_factory=RunSpec)
    sources: list[Source] = Field(default_factory=list)
    example: bool = False
    note: str | None = None
    variants: list[LineVariant] = Field(default_factory=list, max_length=16,
                                        description="the line for other rack generations")

    @model_validator(mode="after")
    def _routing(self) -> LineSpec:
        check_routing(self)
        names = {s.name for s in self.stations}
        seen: set[str] = set()
        for variant in self.variants:
            unknown = sorted((set(variant.time_scale) | set(variant.servers)) - names)
            if unknown or variant.name in seen:
                raise ValueError(f"variant '{variant.name}': " + (
                    f"no station named {', '.join(unknown)}" if unknown else "duplicate name"))
            seen.add(variant.name)
        return self

    def station(self, name: str) -> StationSpec:
        return next(s for s in self.stations if s.name == name)

    def entry(self, unit: str) -> StationSpec:
        """Where released `unit`s enter: the assembly for racks with trays, else the first
        station of that unit in list order."""
        if unit == RACK and self.rack.trays:
            return next(s for s in self.stations if s.kind == "assembly")
        return next(s for s in self.stations if s.unit == unit)


def check_routing(line: LineSpec) -> None:
    """Raise ValueError naming the station if the routing of `line` is not a valid line."""
    names = [s.name for s in line.stations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes or SHIP in names:
        raise ValueError(f"station names must be unique and not '{SHIP}': {dupes or SHIP}")
    units = {RACK, *line.rack.trays}
    by_name = {s.name: s for s in line.stations}
    assemblies = [s.name for s in line.stations if s.kind == "assembly"]
    if len(assemblies) != (1 if line.rack.trays else 0):
        raise ValueError(f"a line with trays {sorted(line.rack.trays)} needs exactly one "
                         f"assembly station (found {assemblies or 'none'}); without trays none")
    for i, s in enumerate(line.stations):
        where = f"stations[{i}] '{s.name}'"
        if s.unit not in units:
            raise ValueError(f"{where}: unit '{s.unit}' is not 'rack' or a tray kind of "
                             f"rack.trays {sorted(line.rack.trays)}")
        _check_target(where, "next", s.next, by_name, allow_ship=True)
        _check_target(where, "rework_to", s.rework_to, by_name, allow_ship=False)
        _check_units(where, s, by_name)
    for kind in line.rack.trays:
        if not any(s.unit == kind for s in line.stations):
            raise ValueError(f"tray kind '{kind}' has no station (add one with unit: {kind})")
    for s in line.stations:
        _check_reaches_ship(s, by_name)
    _check_reached(line, by_name)
    _check_batches(line)
    _check_moves(line, by_name)


def _check_target(where: str, key: str, target: str | None, by_name: dict,
                  allow_ship: bool) -> None:
    if target is None or target in by_name or (allow_ship and target == SHIP):
        return
    choices = sorted(by_name) + ([SHIP] if allow_ship else [])
    raise ValueError(f"{where}: {key} '{target}' is not a station (expected one of "
                     f"{', '.join(choices)})")


def _check_units(where: str, s: StationSpec, by_name: dict[str, StationSpec]) -> None:
    nxt = by_name.get(s.next)
    if s.unit == RACK:
        if nxt is not None and (nxt.unit != RACK or nxt.kind == "assembly"):
            raise ValueError(f"{where}: a rack station cannot route to '{nxt.name}' "
                             f"({nxt.kind} of unit {nxt.unit})")
        rework = by_name.get(s.rework_to or s.name)
        reworks = s.first_pass_yield < 1 and s.on_fail == "rework"
        if reworks and (rework.unit != RACK or rework.kind == "assembly"):
            raise ValueError(f"{where}: failed racks need rework_to naming a rack station "
                             f"other than an assembly")
        return
    if s.rework_to is not None:
        raise ValueError(f"{where}: trays are reworked in place; remove rework_to")
    if nxt is None or not (nxt.unit == s.unit or nxt.kind == "assembly"):
        raise ValueError(f"{where}: a {s.unit} tray station must route to another {s.unit} "
                         f"station or to the assembly station, not '{s.next}'")


def _check_reaches_ship(s: StationSpec, by_name: dict[str, StationSpec]) -> None:
    seen = [s.name]
    cur = s
    while cur.next != SHIP:
        if cur.next in seen:
            loop = " -> ".join([*seen[seen.index(cur.next):], cur.next])
            raise ValueError(f"station '{s.name}' has no route to '{SHIP}' (loop {loop})")
        seen.append(cur.next)
        cur = by_name[cur.next]


def _check_reached(line: LineSpec, by_name: dict[str, StationSpec]) -> None:
    reached: set[str] = set()
    for unit in {RACK, *line.rack.trays}:
        cur: str | None = line.entry(unit).name
        while cur is not None and cur != SHIP and cur not in reached:
            reached.add(cur)
            cur = by_name[cur].next
    for s in line.stations:
        if s.rework_to:
            reached.add(s.rework_to)
    unreached = [s.name for s in line.stations if s.name not in reached]
    if unreached:
        raise ValueError(f"stations {unreached} are never reached from the release "
                         f"(route to them with next or rework_to)")


def _check_batches(line: LineSpec) -> None:
    cap = line.release.wip_cap
    for s in line.stations:
        if s.kind == "batch" and cap is not None and s.batch_timeout_h is None \
                and cap < s.batch_size:
            raise ValueError(f"station '{s.name}': batch_size {s.batch_size} exceeds the "
                             f"CONWIP cap {cap} and has no batch_timeout_h, so it never starts")


def _check_moves(line: LineSpec, by_name: dict[str, StationSpec]) -> None:
    """A CONWIP line whose every route (rack and tray kits) takes 0 h would release and ship
    racks forever at t = 0 h: the simulation clock would never advance."""
    if line.release.policy != "conwip":
        return
    for unit in {RACK, *line.rack.trays}:
        cur: str | None = line.entry(unit).name
        while cur is not None and cur != SHIP:
            station = by_name[cur]
            if station.time_h.expected_h > 0:
                return
            cur = station.next
    raise ValueError("every station time on the routes is 0 h, so a CONWIP line would ship "
                     "racks forever at t = 0; give a station a time above 0 h")
