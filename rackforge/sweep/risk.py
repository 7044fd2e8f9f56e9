"""Monte Carlo risk of the deployment ramp: draw the uncertain inputs, perturb the scenario one
sample at a time, and summarize the ramps the pipeline's ``plan`` target returns for them.

The uncertain inputs and their distributions are the ``risk:`` section
(:class:`rackforge.risk_spec.RiskSpec`): supplier lead-time slips [weeks] and failures
[quarters without deliveries], the line's first-pass-yield and MTBF factors [-], and slips of
each site's power schedule [quarters]. The runner (not here) applies :func:`perturb` for each
sample, runs the pipeline and hands the GW online per quarter to :func:`summarize`.

Common random numbers [4]: every named input draws from its own stream, seeded by (seed, CRC-32
of the input's name), by inverse transform of uniforms [5]. Sample i thus gets the same value of
an input in every alternative of the scenario, whatever other inputs exist, and the first n
samples stay the same when more are drawn; :func:`compare_alternatives` then compares
alternatives sample by sample (paired differences), which cancels the noise the alternatives
share.

Statistics: quantiles by NumPy's default ("linear", Hyndman and Fan's definition 7 [1]); the
probability of reaching the target with Wilson's score interval [2]; the drivers of the final
power by Spearman's rank correlation [3], ties given their average rank.

References
----------
[1] R. J. Hyndman, Y. Fan, "Sample quantiles in statistical packages", The American
    Statistician 50(4):361-365, 1996.
[2] E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
    Journal of the American Statistical Association 22:209-212, 1927.
[3] C. Spearman, "The proof and measurement of association between two things", The American
    Journal of Psychology 15(1):72-101, 1904.
[4] A. M. Law, Simulation Modeling and Analysis, 5th ed., McGraw-Hill, 2015: section 11.2,
    common random numbers; section 10.2.1, the paired confidence interval.
[5] S. Kotz, J. R. van Dorp, Beyond Beta: Other Continuous Families of Distributions with
    Bounded Support and Applications, World Scientific, 2004, chapter 1 (triangular
    distribution: CDF and its inverse).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import plotly.graph_objects as go

from rackforge.calendar import add_quarters, format_quarter
from rackforge.deploy.spec import PlanSpec, quarters_of
from rackforge.errors import InputError
from rackforge.factory.spec import LineSpec, StationSpec
from rackforge.inputs import closest
from rackforge.risk_spec import Discrete, RiskSpec, SupplierFailure, SupplierRisk, Triangular
from rackforge.scenario import Scenario
from rackforge.sourcing.spec import SourcingSpec, SupplierOutage
from rackforge.sourcing.suppliers import horizon

Z_95 = 1.959963984540054   # standard normal quantile at 0.975: two-sided 95 % intervals
TARGET_TOL = 1e-6          # relative: a ramp at target_w x (1 - TOL) reaches it, as in the LP
QUANTILES = (0.1, 0.5, 0.9)
LABELS = ("p10", "p50", "p90")
LAYOUT = {"template": "plotly_white", "margin": {"l": 40, "r": 20, "t": 40, "b": 40},
          "height": 380}     # as the report's charts (rackforge.report.charts.LAYOUT)

__all__ = ["Draws", "Driver", "Interval", "RiskResult", "RiskSpec", "compare_alternatives",
           "draw", "fan_chart", "perturb", "rank_average", "spearman", "summarize",
           "wilson_interval"]


# --- Drawing the inputs -------------------------------------------------------------------------

@dataclass(frozen=True)
class Draws:
    """The sampled inputs: name -> values of the N samples, shape (N,), in the unit the name
    says (``slip_weeks[...]`` [weeks], ``fails[...]`` [0 or 1], ``fail_start_quarter[...]``
    [quarters from the sourcing horizon's first], ``yield_factor`` and ``mtbf_factor`` [-],
    ``site_slip_quarters[...]`` [quarters]); and each sample's seed of the line simulation."""

    values: dict[str, np.ndarray]
    line_seed: np.ndarray          # (N,) seeds of line.run.seed [-]

    @property
    def n(self) -> int:
        return len(self.line_seed)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def value(self, name: str, i: int, absent: float = 0.0) -> float:
        """Sample i's value of input `name`, or `absent` when it is not drawn."""
        values = self.values.get(name)
        return absent if values is None else float(values[i])


def uniforms(seed: int, name: str, n: int) -> np.ndarray:
    """n uniforms on [0, 1) from the stream of input `name`: seeded by (seed, CRC-32 of the
    name), so independent of every other input and of n (the first n of n + k are the same)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))]).random(n)


def triangular(dist: Triangular, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of the triangular distribution at uniforms `u` [5], in `dist`'s unit."""
    a, c, b = dist.low, dist.mode, dist.high
    if b <= a:
        return np.full(u.shape, a)
    split = (c - a) / (b - a)                       # F(mode)
    left = a + np.sqrt(u * (b - a) * (c - a))
    right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
    return np.where(u < split, left, right)


def discrete(dist: Discrete, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of a discrete distribution at uniforms `u`: the first value whose
    cumulative probability exceeds u."""
    cumulative = np.cumsum(dist.probabilities)
    k = np.searchsorted(cumulative, u, side="right")
    return np.asarray(dist.values, float)[np.minimum(k, len(dist.values) - 1)]


def suppliers_of(scenario: Scenario) -> list[str]:
    """Names of the scenario's suppliers, sorted."""
    sourcing = scenario.spec.sourcing
    return sorted({o.supplier for o in sourcing.suppliers}) if sourcing is not None else []


def sourcing_quarters(scenario: Scenario) -> tuple[date, ...]:
    """The sourcing horizon: quarters suppliers deliver in (() without a sourcing section)."""
    spec = scenario.spec
    if spec.sourcing is None:
        return ()
    return horizon(spec.sourcing, quarters_of(spec.plan) if spec.plan is not None else ())


def _supplier_risk(spec: RiskSpec, supplier: str) -> tuple[Triangular | None,
                                                             SupplierFailure | None]:
    own = spec.suppliers.get(supplier, SupplierRisk())
    return (own.lead_time_slip_weeks or spec.lead_time_slip_weeks,
            own.failure or spec.supplier_failure)


def _check_names(spec: RiskSpec, scenario: Scenario) -> None:
    """Suppliers and sites the section names must be the scenario's."""
    sites = [s.name for s in scenario.spec.plan.sites] if scenario.spec.plan else []
    for key, names, known in (("suppliers", spec.suppliers, suppliers_of(scenario)),
                              ("sites", spec.sites, sites)):
        for name in names:
            if name not in known:
                raise InputError(f"unknown {key[:-1]}", scenario.file, f"risk.{key}.{name}",
                                 name, f"one of the scenario's {key}", closest(name, known))


def _supplier_draws(spec: RiskSpec, scenario: Scenario, n: int, seed: int
                    ) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    n_quarters = len(sourcing_quarters(scenario))
    for supplier in suppliers_of(scenario):
        slip, failure = _supplier_risk(spec, supplier)
        if slip is not None:
            name = f"slip_weeks[{supplier}]"
            out[name] = triangular(slip, uniforms(seed, name, n))
        if failure is not None and n_quarters:
            name = f"fails[{supplier}]"
            out[name] = (uniforms(seed, name, n) < failure.probability).astype(float)
            name = f"fail_start_quarter[{supplier}]"
            out[name] = np.floor(uniforms(seed, name, n) * n_quarters)
    return out


def _line_and_site_draws(spec: RiskSpec, scenario: Scenario, n: int, seed: int
                         ) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    line, plan = scenario.spec.line, scenario.spec.plan
    if line is not None and spec.line_yield_factor is not None and \
            any(s.first_pass_yield < 1 for s in line.stations):
        out["yield_factor"] = triangular(spec.line_yield_factor, uniforms(seed, "yield_factor", n))
    if line is not None and spec.line_mtbf_factor is not None and \
            any(s.mtbf_h is not None for s in line.stations):
        out["mtbf_factor"] = triangular(spec.line_mtbf_factor, uniforms(seed, "mtbf_factor", n))
    for site in plan.sites if plan is not None else []:
        dist = spec.sites.get(site.name, spec.site_power_slip_quarters)
        if dist is not None:
            name = f"site_slip_quarters[{site.name}]"
            out[name] = discrete(dist, uniforms(seed, name, n))
    return out


def draw(spec: RiskSpec, scenario: Scenario, n: int, seed: int) -> Draws:
    """Draw n samples of every uncertain input the scenario has (its suppliers, its line's
    testing stations and MTBFs, its plan's sites), each from its own stream (common random
    numbers). Raises :class:`InputError` for a supplier or site the section names that the
    scenario lacks."""
    if n < 1:
        raise ValueError("draw at least one sample")
    _check_names(spec, scenario)
    values = _supplier_draws(spec, scenario, n, seed) | \
        _line_and_site_draws(spec, scenario, n, seed)
    line_seed = np.floor(uniforms(seed, "line_seed", n) * 2**31).astype(np.int64)
    return Draws(values, line_seed)


# --- One sample's scenario ----------------------------------------------------------------------

def _outages(spec: RiskSpec, draws: Draws, i: int, suppliers: list[str],
             quarters: tuple[date, ...]) -> list[SupplierOutage]:
    """The sample's supplier failures as outages, clipped to the sourcing horizon."""
    out = []
    for supplier in suppliers:
        _, failure = _supplier_risk(spec, supplier)
        if failure is None or draws.value(f"fails[{supplier}]", i) < 0.5:
            continue
        first = int(draws.value(f"fail_start_quarter[{supplier}]", i))
        lost = quarters[first:first + failure.duration_quarters]
        if lost:
            out.append(SupplierOutage(supplier=supplier, quarters=list(lost)))
    return out


def _perturb_sourcing(sourcing: SourcingSpec, draws: Draws, i: int, spec: RiskSpec,
                      quarters: tuple[date, ...]) -> SourcingSpec:
    offers = [o.model_copy(update={"lead_time_weeks": max(
        0.0, o.lead_time_weeks + draws.value(f"slip_weeks[{o.supplier}]", i))})
        for o in sourcing.suppliers]
    suppliers = sorted({o.supplier for o in sourcing.suppliers})
    outages = sourcing.outages + _outages(spec, draws, i, suppliers, quarters)
    return sourcing.model_copy(update={"suppliers": offers, "outages": outages})


def _station(station: StationSpec, yield_factor: float, mtbf_factor: float) -> StationSpec:
    """A testing station's yield times the factor (at most 1; a station with yield 1 does not
    test and stays at 1), its MTBF times the other factor [h]."""
    update: dict[str, Any] = {}
    if station.first_pass_yield < 1:
        update["first_pass_yield"] = min(1.0, station.first_pass_yield * yield_factor)
    if station.mtbf_h is not None:
        update["mtbf_h"] = station.mtbf_h * mtbf_factor
    return station.model_copy(update=update)


def _perturb_line(line: LineSpec, draws: Draws, i: int, spec: RiskSpec) -> LineSpec:
    yield_factor = draws.value("yield_factor", i, 1.0)
    mtbf_factor = draws.value("mtbf_factor", i, 1.0)
    stations = [_station(s, yield_factor, mtbf_factor) for s in line.stations]
    run = line.run.model_copy(update={"replications": spec.line_replications,
                                      "weeks": spec.line_weeks, "racks": None,
                                      "seed": int(draws.line_seed[i])})
    return line.model_copy(update={"stations": stations, "run": run})


def _perturb_plan(plan: PlanSpec, draws: Draws, i: int) -> PlanSpec:
    sites = []
    for site in plan.sites:
        slip = int(draws.value(f"site_slip_quarters[{site.name}]", i))
        power_w = {add_quarters(q, slip): p for q, p in site.power_w.items()}
        sites.append(site.model_copy(update={"power_w": power_w}))
    return plan.model_copy(update={"sites": sites})


def perturb(scenario: Scenario, draws: Draws, i: int, spec: RiskSpec) -> Scenario:
    """The scenario with sample i's inputs: each supplier's lead times slipped (never below 0)
    and its failure added to ``sourcing.outages``; the line's yields and MTBFs scaled and its
    run cut to ``line_replications`` x ``line_weeks`` under the sample's seed; each site's
    power schedule shifted later by its slip [quarters]. A new :class:`Scenario`; the given one
    is unchanged."""
    sections = scenario.spec
    update: dict[str, Any] = {}
    if sections.sourcing is not None:
        update["sourcing"] = _perturb_sourcing(sections.sourcing, draws, i, spec,
                                               sourcing_quarters(scenario))
    if sections.line is not None:
        update["line"] = _perturb_line(sections.line, draws, i, spec)
    if sections.plan is not None:
        update["plan"] = _perturb_plan(sections.plan, draws, i)
    return replace(scenario, spec=sections.model_copy(update=update))


# --- Statistics ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    """An estimate and its 95 % confidence interval, in the unit of the estimate."""

    value: float
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {"value": _finite(self.value), "low": _finite(self.low),
                "high": _finite(self.high)}


@dataclass(frozen=True)
class Driver:
    """An input and its rank correlation with the final power [-] (None: the input or the power
    did not vary)."""

    input: str
    rank_correlation: float | None


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Interval:
    """Proportion successes / n and its Wilson score interval [2]:
    (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n) [-]."""
    if n <= 0:
        raise ValueError("a proportion needs at least one trial")
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # the interval holds p and lies in [0, 1]; the bounds only guard against rounding
    return Interval(p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def rank_average(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of `x`, ties given the average of the ranks they span."""
    x = np.asarray(x, float)
    order = np.argsort(x, kind="stable")
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rank correlation [3]: Pearson's correlation of the average ranks [-];
    None when either does not vary."""
    rx, ry = rank_average(x), rank_average(y)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    scale = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy) / scale if scale > 0 else None


def drivers(draws: Draws, final_w: np.ndarray) -> tuple[Driver, ...]:
    """Each drawn input's rank correlation with the final power, largest magnitude first
    (inputs that did not vary last)."""
    found = [Driver(name, spearman(values, final_w)) for name, values in draws.values.items()]
    return tuple(sorted(found, key=lambda d: (d.rank_correlation is None,
                                              -abs(d.rank_correlation or 0.0), d.input)))


# --- Summary ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskResult:
    """The ramp's spread over the samples: P10/P50/P90 by quarter of the power online on the
    target's basis [W] and of the racks online [racks], the probability of reaching the target
    by the last quarter [-], and what drives the final power."""

    quarters: tuple[date, ...]
    samples: int
    power_w: np.ndarray          # (3, T): P10, P50, P90 by quarter [W]
    racks: np.ndarray            # (3, T): P10, P50, P90 by quarter [racks]
    target_w: float | None
    p_target: Interval | None    # None without a target
    drivers: tuple[Driver, ...]

    def to_dict(self) -> dict[str, Any]:
        rows = [{"quarter": format_quarter(q),
                 **{f"{label}_gw": _finite(self.power_w[k, t] / 1e9)
                    for k, label in enumerate(LABELS)},
                 **{f"{label}_racks": _finite(self.racks[k, t])
                    for k, label in enumerate(LABELS)}}
                for t, q in enumerate(self.quarters)]
        return {"samples": self.samples, "quarters": rows,
                "target_gw": _finite(self.target_w / 1e9) if self.target_w else None,
                "p_target": self.p_target.to_dict() if self.p_target else None,
                "drivers": [{"input": d.input, "rank_correlation": _finite(d.rank_correlation)}
                            for d in self.drivers]}


def reached(final_w: np.ndarray, target_w: float) -> np.ndarray:
    """Whether each sample's final power reaches the target (within the LP's tolerance)."""
    return np.asarray(final_w, float) >= target_w * (1 - TARGET_TOL)


def summarize(quarters: Sequence[date], power_w: np.ndarray, racks: np.ndarray,
              target_w: float | None, draws: Draws) -> RiskResult:
    """Summarize N sampled ramps: `power_w` (N, T) the power online on the target's basis
    (facility or IT, as the ramp reports it) [W] and `racks` (N, T) the racks online [racks],
    by sample and quarter; `target_w` [W]; `draws` the inputs of the N samples."""
    power_w, racks = np.asarray(power_w, float), np.asarray(racks, float)
    n, t = power_w.shape
    if racks.shape != (n, t) or t != len(quarters) or n != draws.n or n < 1 or t < 1:
        raise ValueError(f"expected power_w and racks of shape ({draws.n}, {len(quarters)}), "
                         f"got {power_w.shape} and {racks.shape}")
    p_target = None if target_w is None else \
        wilson_interval(int(reached(power_w[:, -1], target_w).sum()), n)
    return RiskResult(tuple(quarters), n, np.quantile(power_w, QUANTILES, axis=0),
                      np.quantile(racks, QUANTILES, axis=0), target_w, p_target,
                      drivers(draws, power_w[:, -1]))


def paired_difference(differences: np.ndarray, z: float = Z_95) -> Interval:
    """Mean of paired differences and its 95 % interval, mean ± z x sample standard deviation
    / sqrt(n) [4] (normal quantile: fine for the hundreds of samples a risk run draws)."""
    d = np.asarray(differences, float)
    mean = float(d.mean())
    if len(d) < 2:
        return Interval(mean, None, None)
    half = z * float(d.std(ddof=1)) / math.sqrt(len(d))
    return Interval(mean, mean - half, mean + half)


def compare_alternatives(base_final_w: np.ndarray, alt_final_w: np.ndarray,
                         target_w: float | None) -> dict[str, Any]:
    """An alternative against the base, sample by sample under common random numbers: the mean
    difference of final power [GW] and of reaching the target [-] (alternative minus base),
    each with its 95 % interval from the paired standard error [4]."""
    base, alt = np.asarray(base_final_w, float), np.asarray(alt_final_w, float)
    if base.shape != alt.shape or base.ndim != 1 or len(base) == 0:
        raise ValueError("give the final power of the same samples for both cases")
    out: dict[str, Any] = {"samples": len(base),
                           "final_gw_difference": paired_difference((alt - base) / 1e9).to_dict(),
                           "p_target_difference": None}
    if target_w is not None:
        hits = reached(alt, target_w).astype(float) - reached(base, target_w).astype(float)
        out["p_target_difference"] = paired_difference(hits).to_dict()
    return out


def fan_chart(result: RiskResult) -> go.Figure:
    """P10-P90 band and P50 line of the power online by quarter [GW], and the target."""
    x = [format_quarter(q) for q in result.quarters]
    gw = result.power_w / 1e9
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=gw[2], mode="lines", line={"width": 0},
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=gw[0], mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(76,120,168,0.25)", name="P10-P90"))
    fig.add_trace(go.Scatter(x=x, y=gw[1], mode="lines+markers", name="P50",
                             line={"color": "#4c78a8"}))
    if result.target_w is not None:
        fig.add_hline(y=result.target_w / 1e9, line_dash="dash", line_color="#e45756",
                      annotation_text=f"target {result.target_w / 1e9:.2f} GW")
    fig.update_layout(title=f"Power online, {result.samples} samples [GW]", **LAYOUT)
    return fig
