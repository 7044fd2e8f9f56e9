"""The sourcing problem as tables: parts x quarters demand and a supplier-offer table.

Everything the optimization model needs, as NumPy arrays in base units: money [USD], quantities
[units], lead times [weeks], rates [-]. Built from validated inputs by :func:`make_problem`, or at
random by :func:`random_problem` for benchmarks and tests.

One problem may buy for several rack designs (:attr:`SourcingProblem.designs`). Its rows of
demand are then *items*, a (design, part) pair each (:attr:`SourcingProblem.part_design`), and a
supplier's offer of a part the designs share is one row per item, the rows of one offer forming a
*pool* (:attr:`Offers.pool`) that shares the offer's capacity, minimum order and supplier share;
the domestic floor holds for each design's purchases on their own. With one design an item is a
part and a pool an offer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rackforge.calendar import WEEKS_PER_QUARTER, add_quarters, format_quarter, quarter_index
from rackforge.sourcing.content import domestic_weight, landed_unit_usd, year_threshold
from rackforge.sourcing.spec import ContentRule, SupplierOffer


@dataclass(frozen=True)
class Offers:
    """Supplier offers, one row per (supplier, part); `capacity` is per offer and quarter."""

    supplier: np.ndarray  # [str]
    part: np.ndarray  # index into SourcingProblem.parts
    origin: np.ndarray  # ISO country code [str]
    unit_price_usd: np.ndarray
    freight_usd_per_unit: np.ndarray
    tariff_rate: np.ndarray  # [-]
    us_content_fraction: np.ndarray  # [-], NaN where not given
    capacity: np.ndarray  # (offers, quarters) [units/quarter]
    lead_time_weeks: np.ndarray
    min_order_units: np.ndarray
    risk: np.ndarray  # [-]
    pool: np.ndarray | None = None  # offers sharing capacity (same supplier and part); None:
                                    # each offer its own

    def __len__(self) -> int:
        return len(self.supplier)

    @property
    def pools(self) -> np.ndarray:
        """Pool of each offer row (the offer it shares capacity with), 0..n_pools-1."""
        return np.arange(len(self.supplier)) if self.pool is None else self.pool

    @property
    def landed_usd(self) -> np.ndarray:
        """Price + freight + duty per unit [USD] (FAR 25.003 cost of a bought component)."""
        return landed_unit_usd(self.unit_price_usd, self.freight_usd_per_unit, self.tariff_rate)

    def subset(self, keep: np.ndarray) -> Offers:
        return Offers(**{k: (v if v is None else v[keep]) for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class Settings:
    """Rule, floors and cost rates of a sourcing problem."""

    rule: ContentRule = "far25"
    floor_by_year: Mapping[int, float] = field(default_factory=dict)  # [-]; missing = 0
    holding_rate_per_quarter: float = 0.02  # [fraction of landed cost]
    risk_penalty: float = 0.0  # [fraction of landed cost per unit risk]


@dataclass(frozen=True)
class SourcingProblem:
    """Demand (parts x quarters) [units], offers and settings; orders placed from `start`."""

    parts: tuple[str, ...]
    quarters: tuple[date, ...]
    start: date
    demand: np.ndarray  # (parts, quarters) [units]
    offers: Offers
    settings: Settings
    max_share: np.ndarray  # (parts,) largest share of one supplier [-]; 1 = no cap
    unsourced: tuple[str, ...] = ()
    designs: tuple[str, ...] = ()            # rack designs bought for; () one, unnamed
    part_design: np.ndarray | None = None    # (parts,) index into designs; None: all the first
    design_unsourced: tuple[tuple[str, ...], ...] = ()   # per design, parts no one offers

    @property
    def item_design(self) -> np.ndarray:
        """(parts,) the design each item (row of demand) is bought for."""
        if self.part_design is None:
            return np.zeros(len(self.parts), np.int64)
        return self.part_design

    @property
    def several(self) -> bool:
        """Whether the problem buys for more than one design (items name their design)."""
        return len(self.designs) > 1

    def item_label(self, i: int) -> str:
        """Item `i` in words: its part, after its design when there are several."""
        if self.several:
            return f"{self.designs[self.item_design[i]]} {self.parts[i]}"
        return self.parts[i]

    @property
    def domestic_weight(self) -> np.ndarray:
        """Share of each offer's cost counted domestic under the rule [-]."""
        o = self.offers
        return domestic_weight(self.settings.rule, o.origin, o.us_content_fraction)

    @property
    def allowed(self) -> np.ndarray:
        """(offers, quarters): the order can be placed by need date - lead time, after start.

        Time from the start quarter to a need quarter counts 13 weeks per quarter
        (:data:`rackforge.calendar.WEEKS_PER_QUARTER`), so a 13-week lead time reaches the next
        quarter whatever the quarter's length in days.
        """
        weeks = WEEKS_PER_QUARTER * np.array([quarter_index(q, self.start)
                                              for q in self.quarters], float)
        return weeks[None, :] >= self.offers.lead_time_weeks[:, None] - 1e-9

    @property
    def years(self) -> np.ndarray:
        return np.array([q.year for q in self.quarters])

    def floor_of_year(self, year: int) -> float:
        return float(self.settings.floor_by_year.get(year, 0.0))

    def quarter_labels(self) -> list[str]:
        return [format_quarter(q) for q in self.quarters]


def demand_table(counts: Mapping[str, float], racks: Mapping[date, float],
                 quarters: Sequence[date]) -> tuple[tuple[str, ...], np.ndarray]:
    """Units needed per part and quarter: ceil(cumulative racks x count per rack), differenced.

    Fractional counts (a share of a row CDU, litres of coolant) round up on the cumulative
    quantity, so the total is ceil(total racks x count) [units].
    """
    parts = tuple(sorted(counts))
    built = np.array([float(racks.get(q, 0.0)) for q in quarters])
    per_rack = np.array([counts[p] for p in parts], float)
    cumulative = np.ceil(np.cumsum(built)[None, :] * per_rack[:, None] - 1e-9)
    demand = np.diff(cumulative, axis=1, prepend=0.0)
    return parts, demand.astype(np.int64)


def offers_table(offers: Sequence[SupplierOffer], parts: Sequence[str],
                 quarters: Sequence[date], tariffs: Mapping[str, float]) -> Offers:
    """Offers of `parts` (items: a part may appear once per design) as arrays, one row per
    offer and item of its part, the rows of one offer a pool; capacity repeated over
    `quarters`.

    Duty rate: the offer's own ``tariff_rate`` if given, else ``tariffs[origin]``, else 0 [-].
    """
    items: dict[str, list[int]] = {}
    for i, p in enumerate(parts):
        items.setdefault(p, []).append(i)
    used = [o for o in offers if o.part in items]
    pairs = [(k, i) for k, o in enumerate(used) for i in items[o.part]]
    rows = [used[k] for k, _ in pairs]
    nan = float("nan")

    def col(get, dtype=float):  # noqa: ANN001, ANN202
        return np.array([get(o) for o in rows], dtype)

    capacity = col(lambda o: o.capacity_per_quarter, np.int64)
    return Offers(
        supplier=col(lambda o: o.supplier, object), part=np.array([i for _, i in pairs], np.int64),
        origin=col(lambda o: o.country_of_origin, object),
        unit_price_usd=col(lambda o: o.unit_price_usd),
        freight_usd_per_unit=col(lambda o: o.freight_usd_per_unit),
        tariff_rate=col(lambda o: tariffs.get(o.country_of_origin, 0.0) if o.tariff_rate is None
                        else o.tariff_rate),
        us_content_fraction=col(lambda o: nan if o.us_content_fraction is None
                                else o.us_content_fraction),
        capacity=np.repeat(capacity[:, None], len(quarters), axis=1),
        lead_time_weeks=col(lambda o: o.lead_time_weeks),
        min_order_units=col(lambda o: o.min_order_units, np.int64),
        risk=col(lambda o: o.risk),
        pool=np.array([k for k, _ in pairs], np.int64) if len(pairs) != len(used) else None)


def default_floors(rule: ContentRule, quarters: Sequence[date]) -> dict[int, float]:
    """The rule's threshold for every delivery year of the horizon [-]."""
    return {y: year_threshold(rule, y).share for y in sorted({q.year for q in quarters})}


@dataclass(frozen=True)
class DesignDemand:
    """A rack design bought for: its BOM counts per rack and racks built per quarter."""

    design: str
    counts: Mapping[str, float]  # BOM count per rack [units]
    racks: Mapping[date, float]  # build schedule [racks per quarter]


@dataclass(frozen=True)
class ProblemInputs:
    """What :func:`make_problem` turns into tables: `counts` and `racks` are those of the first
    (or only) design, `more` those of further designs bought for in the same plan."""

    offers: Sequence[SupplierOffer]
    counts: Mapping[str, float]  # BOM count per rack [units]
    racks: Mapping[date, float]  # build schedule [racks per quarter]
    quarters: Sequence[date]
    tariffs: Mapping[str, float] = field(default_factory=dict)
    max_share: Mapping[str, float] = field(default_factory=dict)
    design: str = ""  # id of the first design
    more: tuple[DesignDemand, ...] = ()

    @property
    def demands(self) -> tuple[DesignDemand, ...]:
        """Every design bought for, the first first."""
        return (DesignDemand(self.design, self.counts, self.racks), *self.more)


def make_problem(inputs: ProblemInputs, settings: Settings, start: date | None = None
                 ) -> SourcingProblem:
    """Tables of the sourcing problem; parts no supplier offers are listed in ``unsourced``.
    With several designs (``inputs.more``) each design's parts are items of their own, in
    design order, and offers of a shared part one pool (module docstring)."""
    offered = {o.part for o in inputs.offers}
    quarters = tuple(inputs.quarters)
    parts: list[str] = []
    tables, item_design, missing = [], [], []
    for d, wanted in enumerate(inputs.demands):
        counts = {p: c for p, c in wanted.counts.items() if p in offered and c > 0}
        missing.append(tuple(sorted(p for p, c in wanted.counts.items()
                                    if p not in offered and c > 0)))
        names, demand = demand_table(counts, wanted.racks, quarters)
        parts += names
        tables.append(demand)
        item_design += [d] * len(names)
    demand = np.concatenate(tables) if tables else np.zeros((0, len(quarters)), np.int64)
    offers = offers_table(inputs.offers, parts, quarters, inputs.tariffs)
    share = np.array([inputs.max_share.get(p, 1.0) for p in parts], float)
    unsourced = tuple(sorted({p for m in missing for p in m}))
    several = len(inputs.demands) > 1
    return SourcingProblem(
        tuple(parts), quarters, start or quarters[0], demand.astype(np.int64), offers,
        settings, share, unsourced,
        designs=tuple(d.design for d in inputs.demands) if several else (),
        part_design=np.array(item_design, np.int64) if several else None,
        design_unsourced=tuple(missing) if several else ())


def random_problem(n_parts: int, n_suppliers: int, n_quarters: int, seed: int = 0,
                   offers_per_part: tuple[int, int] = (3, 6)) -> SourcingProblem:
    """A synthetic instance (invented data, ``example: true``) for benchmarks and tests.

    Each part is offered by 3-6 of the suppliers; half of the suppliers are domestic, dearer by
    5-30 % with 70 % of the capacity; lead times 0-26 weeks; a third of the offers have a
    minimum order. Total capacity covers about 1.7x the peak demand; the floor is 50 %.
    """
    rng = np.random.default_rng(seed)
    lo, hi = offers_per_part
    k = rng.integers(lo, min(hi, n_suppliers) + 1, n_parts)
    part = np.repeat(np.arange(n_parts), k)
    supplier = np.concatenate([rng.choice(n_suppliers, n, replace=False) for n in k])
    domestic = supplier % 2 == 0
    base = np.exp(rng.uniform(np.log(5.0), np.log(50_000.0), n_parts))
    price = base[part] * rng.uniform(0.9, 1.1, len(part)) * np.where(
        domestic, rng.uniform(1.05, 1.3, len(part)), 1.0)
    quarters = tuple(add_quarters(date(2027, 1, 1), i) for i in range(n_quarters))
    racks = rng.integers(50, 200, n_quarters)
    per_rack = rng.integers(1, 20, n_parts)
    demand = per_rack[:, None] * racks[None, :]
    cap = np.ceil(1.8 * demand.max(axis=1)[part] / k[part] * rng.uniform(0.8, 1.4, len(part)))
    cap = np.where(domestic, np.ceil(cap * 0.7), cap).astype(np.int64)
    minimum = np.where(rng.random(len(part)) < 1 / 3, (cap * 0.2).astype(np.int64), 0)
    offers = Offers(
        supplier=np.array([f"s{i:02d}" for i in supplier], object), part=part,
        origin=np.where(domestic, "US", rng.choice(["MX", "TW", "CN", "VN"], len(part))),
        unit_price_usd=price, freight_usd_per_unit=price * 0.02,
        tariff_rate=np.where(domestic, 0.0, rng.choice([0.0, 0.1, 0.25], len(part))),
        us_content_fraction=np.full(len(part), np.nan),
        capacity=np.repeat(cap[:, None], n_quarters, axis=1),
        lead_time_weeks=rng.choice([0.0, 4.0, 8.0, 12.0, 26.0], len(part)),
        min_order_units=minimum, risk=rng.uniform(0, 0.3, len(part)))
    # The first quarter is a pre-build quarter without demand, so long lead times can be met.
    demand[:, 0] = 0
    settings = Settings("far25", {q.year: 0.5 for q in quarters}, 0.02, 0.0)
    start = add_quarters(quarters[0], -2)
    names = tuple(f"p{i:04d}" for i in range(n_parts))
    return SourcingProblem(names, quarters, start, demand.astype(np.int64), offers, settings,
                           np.ones(n_parts))
