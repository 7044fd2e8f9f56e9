"""Domestic content share of a set of components, by the FAR 25 component test or the IRA method.

Two rules, named after their sources:

``far25``
    Buy American component test [1]_: the cost of domestic components over the cost of all
    components of the end product. The cost of a bought component is its purchase price plus
    freight to the assembly site plus duty [1]_; assembly and test labour are excluded; each
    component is domestic (US-manufactured) or not *as a whole*. The threshold rises with the
    delivery year [2]_: 60 % through 2023, 65 % for 2024-2028, 75 % from 2029. A *fallback
    threshold* of 60 % [2]_ [5]_ applies through calendar year 2029 when no offer of a domestic
    end product meets the threshold of its year (or its cost is unreasonable): a product that
    meets 60 % is then treated as domestic. :func:`content_test` says per delivery year whether a
    share meets the threshold, only the fallback, or neither.
``ira``
    Domestic-content method of the IRA credits [3]_ [4]_: only the US-origin content counts, so a
    component contributes its ``us_content_fraction`` of its cost (no whole-component rounding).
    Same cost basis as above. Threshold for manufactured products: 40 % before 2025, 45 % in
    2025, 50 % in 2026, 55 % after 2026 (by the year construction begins; rackforge uses the
    delivery year as its proxy).

Commercial IT is exempt from the Buy American statute (FAR 25.103(e)) [1]_: for racks bought as
commercial IT the share is a programme target, not a legal test; results say so.

References
----------
.. [1] FAR 25.003 (definitions: cost of components, domestic end product) and FAR 52.225-1
   (Buy American - Supplies), Federal Acquisition Regulation.
.. [2] FAR Case 2021-008, "Amendments to the FAR That Implement Executive Order 14005",
   final rule, 87 FR 12780 (7 March 2022).
.. [3] Inflation Reduction Act of 2022, Pub. L. 117-169, sec. 13101-13102: 26 U.S.C. 45(b)(9)
   and 48(a)(12) domestic content bonus.
.. [4] IRS Notice 2023-38, "Domestic Content Bonus Credit Guidance" (May 2023).
.. [5] FAR 25.101(a)(2)(ii) and FAR 52.225-1 (fallback threshold), as amended by [2]_.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from rackforge.sourcing.spec import ContentRule

DOMESTIC_COUNTRY = "US"

FAR25_SOURCE = ("FAR 25.003 / 52.225-1 component test; thresholds 87 FR 12780 (FAR Case 2021-008)")
IRA_SOURCE = ("IRA 26 U.S.C. 45(b)(9) / 48(a)(12) domestic content; method IRS Notice 2023-38")


@dataclass(frozen=True)
class Threshold:
    """A domestic-content threshold in force from `since` (inclusive) [-]."""

    since: date
    share: float
    source: str


# Rule numbers as data, each with its source. A threshold applies from `since` until the next one.
THRESHOLDS: dict[str, tuple[Threshold, ...]] = {
    "far25": (
        Threshold(date(1900, 1, 1), 0.55, "FAR 25.003 before 87 FR 12780"),
        Threshold(date(2022, 10, 25), 0.60, "87 FR 12780: 60% from 25 Oct 2022 through 2023"),
        Threshold(date(2024, 1, 1), 0.65, "87 FR 12780: 65% for deliveries 2024-2028"),
        Threshold(date(2029, 1, 1), 0.75, "87 FR 12780: 75% for deliveries from 2029"),
    ),
    "ira": (
        Threshold(date(1900, 1, 1), 0.40, "26 U.S.C. 45(b)(9)(B)(iii): 40% before 2025"),
        Threshold(date(2025, 1, 1), 0.45, "26 U.S.C. 45(b)(9)(B)(iii): 45% in 2025"),
        Threshold(date(2026, 1, 1), 0.50, "26 U.S.C. 45(b)(9)(B)(iii): 50% in 2026"),
        Threshold(date(2027, 1, 1), 0.55, "26 U.S.C. 45(b)(9)(B)(iii): 55% after 2026"),
    ),
}

# The fallback threshold, as data with its source: a share that misses the year's threshold but
# meets this one is treated as domestic while no domestic offer meets the threshold (or its cost
# is unreasonable). It applies from the first year the threshold exceeds it through `until`.
@dataclass(frozen=True)
class Fallback:
    """A fallback threshold [-] available for deliveries from `since` through `until`."""

    since: date
    until: date
    share: float
    source: str


FALLBACKS: dict[str, tuple[Fallback, ...]] = {
    "far25": (
        Fallback(date(2024, 1, 1), date(2029, 12, 31), 0.60,
                 "87 FR 12780; FAR 25.101(a)(2)(ii) / 52.225-1: 60% fallback threshold through "
                 "calendar year 2029 when no domestic offer meets the threshold or its cost is "
                 "unreasonable"),
    ),
    "ira": (),
}

ContentTest = Literal["threshold", "fallback", "neither"]
SHARE_TOL = 1e-6   # a share this close below a threshold meets it (solver tolerances) [-]

RULE_TEXT = {
    "far25": "FAR 25 component test: domestic components' cost (price + freight + duty) over all "
             "components' cost; each component domestic or not as a whole (" + FAR25_SOURCE + ")",
    "ira": "IRA method: US-origin content of each component's cost over all components' cost ("
           + IRA_SOURCE + ")",
}

RULE_NOTES = {
    "far25": "FAR 25.103(e): information technology that is a commercial product is exempt from "
             "the Buy American statute; for COTS racks this share is a programme floor, not a "
             "legal test",
    "ira": "IRA thresholds apply by the year construction begins; rackforge uses the delivery "
           "year as its proxy (IRS Notice 2023-38)",
}


def threshold(rule: ContentRule, day: date) -> Threshold:
    """The threshold of `rule` in force on `day` [-] (see :data:`THRESHOLDS`)."""
    in_force = [t for t in THRESHOLDS[rule] if t.since <= day]
    return in_force[-1]


def year_threshold(rule: ContentRule, year: int) -> Threshold:
    """The highest threshold of `rule` in force during `year` (its last day) [-]."""
    return threshold(rule, date(year, 12, 31))


def year_fallback(rule: ContentRule, year: int) -> Fallback | None:
    """The fallback threshold of `rule` available for deliveries in `year`, if any."""
    day = date(year, 12, 31)
    return next((f for f in FALLBACKS[rule] if f.since <= day <= f.until), None)


def content_test(rule: ContentRule, year: int, share: float | None) -> ContentTest | None:
    """Whether a domestic `share` [-] of `year`'s deliveries meets the rule's threshold of that
    year, only its fallback threshold (FAR 25: 60 % through 2029 [5]_), or neither; None when
    nothing was delivered (no share)."""
    if share is None:
        return None
    if share >= year_threshold(rule, year).share - SHARE_TOL:
        return "threshold"
    fallback = year_fallback(rule, year)
    if fallback is not None and share >= fallback.share - SHARE_TOL:
        return "fallback"
    return "neither"


@dataclass(frozen=True)
class ComponentCost:
    """A bought component of an end product, as the content rules cost it."""

    part: str
    quantity: float
    unit_price_usd: float
    country_of_origin: str
    freight_usd_per_unit: float = 0.0
    tariff_rate: float = 0.0
    us_content_fraction: float | None = None

    @property
    def landed_unit_usd(self) -> float:
        """Price + freight + duty on the price, per unit [USD] (FAR 25.003 cost of components)."""
        return landed_unit_usd(self.unit_price_usd, self.freight_usd_per_unit, self.tariff_rate)


def landed_unit_usd(price_usd, freight_usd, tariff_rate):  # noqa: ANN001, ANN201
    """Cost of a bought component: price + freight + duty (tariff x price) [USD]; arrays too."""
    return price_usd * (1.0 + tariff_rate) + freight_usd


def domestic_weight(rule: ContentRule, origin, us_content_fraction=None):  # noqa: ANN001, ANN201
    """The share of a component's cost that counts as domestic under `rule` [-].

    ``far25``: 1 if the component is of US origin, else 0 (a component counts as a whole) [1]_.
    ``ira``: its US-origin content fraction; defaults to 1 for US origin, 0 otherwise [4]_.
    Works on scalars or NumPy arrays (``us_content_fraction`` NaN means not given).
    """
    us = np.asarray(origin) == DOMESTIC_COUNTRY
    if rule == "far25":
        weight = us.astype(float)
    else:
        given = np.asarray(np.nan if us_content_fraction is None else us_content_fraction, float)
        weight = np.where(np.isnan(given), us.astype(float), given)
    return float(weight) if np.ndim(weight) == 0 else weight


@dataclass(frozen=True)
class ContentShare:
    """A domestic-content share [-] and the rule that produced it."""

    rule: ContentRule
    share: float
    domestic_usd: float
    total_usd: float
    method: str

    def passes(self, threshold_share: float) -> bool:
        return self.share >= threshold_share


def domestic_share(components: Iterable[ComponentCost],
                   rule: ContentRule = "far25") -> ContentShare:
    """Domestic content share of `components` under `rule` [-].

    share = sum(domestic weight x quantity x landed unit cost) / sum(quantity x landed unit cost)
    [1]_ [4]_. Labour of final assembly and test is not a component and is not included.
    """
    items = list(components)
    cost = np.array([c.quantity * c.landed_unit_usd for c in items], float)
    weights = np.array([domestic_weight(rule, c.country_of_origin, c.us_content_fraction)
                        for c in items], float)
    total = float(cost.sum())
    domestic = float((weights * cost).sum())
    share = domestic / total if total > 0 else 0.0
    return ContentShare(rule, share, domestic, total, RULE_TEXT[rule])
