"""Goodput: the wall time of a training run once interruptions and checkpoints are paid for.

A synchronous training job stops whenever any part it uses fails. Interruption rates per unit
of each component kind come from observed fleets (``data/failures.yaml``, by default the
Llama 3 405B run [1]), so a cluster inherits its parts' rates: :func:`interruptions_per_hour`.
Each interruption costs the restart, the checkpoint restore, a wait for repair when no spare
is free, and the work since the last checkpoint. The checkpoint interval is Daly's optimum [3]
unless given. The useful fraction of wall time is Daly's complete model for Poisson
interruptions [3] while the job runs,

    fraction = tau / (M e^(R/M) (e^((tau + delta)/M) - 1)),

times M / (M + wait) for the repair waits and (1 - planned stops' downtime). Its first-order
expansion is Daly's waste [3] (reported term by term in ``Goodput.waste_first_order``):

    waste = delta / tau + (tau + delta) / (2 M) + R / M

with ``tau`` the compute time between checkpoints, ``delta`` the blocking checkpoint time,
``M`` the job's mean time between interruptions and ``R`` the recovery time. Planned
interruptions (maintenance) cost a restart and a restore each, but no lost work.

References
----------
[1] Dubey et al., "The Llama 3 Herd of Models", Meta AI, 2024, Sec. 3.3.4 and Table 5.
[2] J. W. Young, "A first order approximation to the optimum checkpoint interval",
    Communications of the ACM 17(9), 1974.
[3] J. T. Daly, "A higher order estimate of the optimum checkpoint interval for restart
    dumps", Future Generation Computer Systems 22(3), 2006, 303-312.
[4] Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter
    Models", SC20, 2020, Sec. 3.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from rackforge.catalog.models import Frozen, Source, SourcedValue
from rackforge.errors import InputError
from rackforge.inputs import read_yaml, validate
from rackforge.jsonable import jsonable

DATA_FILE = Path(__file__).parent / "data" / "failures.yaml"
HOURS_PER_DAY = 24.0
S_PER_HOUR = 3600.0

Kind = Literal["accelerator", "host", "switch", "link", "nic", "psu", "job"]
# GPUs a failure of each kind takes out of its scale-up domain; None: it takes no GPU (the
# job restarts, nothing needs replacing: fabric reroutes, software relaunches).
GPUS_LOST: dict[str, str | int | None] = {
    "accelerator": 1, "nic": 1, "host": "host", "psu": "host",
    "switch": None, "link": None, "job": None,
}


# --------------------------------------------------------------------------------- the data
Figure = SourcedValue      # a constant with its source (or assumption and reason)


class Cause(Frozen):
    """One root cause of unexpected interruptions and the component kind that fails."""

    label: str
    count: int = Field(ge=0)
    kind: Kind
    category: str | None = None


class FailureData(Frozen):
    """One observed fleet: interruptions per cause over `hours` on `units` of each kind."""

    name: str
    source: Source
    hours: Figure                                   # observation window [h]
    unexpected_interruptions: int = Field(ge=0)     # the causes' counts add up to this
    planned_interruptions: Figure | None = None     # per job over `hours`
    effective_training_fraction: Figure | None = None
    units: dict[Kind, Figure]                       # denominators, units of each kind
    causes: dict[str, Cause]

    @model_validator(mode="after")
    def _consistent(self) -> FailureData:
        total = sum(c.count for c in self.causes.values())
        if total != self.unexpected_interruptions:
            raise ValueError(f"the causes add up to {total} interruptions, not "
                             f"unexpected_interruptions = {self.unexpected_interruptions}")
        missing = sorted({c.kind for c in self.causes.values()} - set(self.units))
        if missing:
            raise ValueError(f"no units (denominator) given for kind(s) {', '.join(missing)}")
        return self

    def rate_per_unit_hour(self, cause: str) -> float:
        """Interruptions per unit of the cause's component kind per hour [1/h]."""
        c = self.causes[cause]
        return c.count / (self.units[c.kind].value * self.hours.value)

    def planned_per_hour(self) -> float:
        """Planned interruptions of one job per hour [1/h] (0 when the data set has none)."""
        planned = self.planned_interruptions
        return planned.value / self.hours.value if planned else 0.0


class Defaults(Frozen):
    """Recovery and storage figures used where the inputs leave them out."""

    restart_s: Figure
    repair_s: Figure
    storage_write_bytes_per_s: Figure
    storage_read_bytes_per_s: Figure
    host_storage_bytes_per_s: Figure
    snapshot_bytes_per_s_per_gpu: Figure
    spare_domain_fraction: Figure
    bytes_per_param: Figure


class FailureFile(Frozen):
    """The whole of ``data/failures.yaml``."""

    default_dataset: str
    datasets: dict[str, FailureData]
    defaults: Defaults
    references: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_exists(self) -> FailureFile:
        if self.default_dataset not in self.datasets:
            raise ValueError(f"default_dataset {self.default_dataset!r} is not in datasets")
        return self


@lru_cache(maxsize=4)
def load_failure_file(path: Path = DATA_FILE) -> FailureFile:
    """The shipped failure data, validated."""
    return validate(FailureFile, read_yaml(path), str(path))


def load_failures(dataset: str | None = None, path: Path = DATA_FILE) -> FailureData:
    """One data set of `path` (its default data set when `dataset` is None)."""
    data = load_failure_file(path)
    name = dataset or data.default_dataset
    if name not in data.datasets:
        raise InputError("unknown failure data set", str(path), "datasets", name,
                         f"one of {', '.join(sorted(data.datasets))}")
    return data.datasets[name]


# ---------------------------------------------------------------------------- the inputs
@dataclass(frozen=True)
class ClusterCounts:
    """The parts one training job uses, by component kind (see :func:`cluster_counts`)."""

    gpus: int
    hosts: int                 # servers / compute trays
    switches: int
    links: int                 # scale-out links
    nics: int
    psus: int                  # power supplies (per host set for the Llama 3 data)
    gpus_per_host: int
    scaleup_domain: int        # GPUs replaced together when one fails (NVL72: 72)
    jobs: int = 1

    def units(self, kind: str) -> int:
        """Number of parts of component `kind` [count]."""
        return {"accelerator": self.gpus, "host": self.hosts, "switch": self.switches,
                "link": self.links, "nic": self.nics, "psu": self.psus, "job": self.jobs}[kind]

    @property
    def domains(self) -> int:
        """Scale-up domains of the job [count]."""
        return math.ceil(self.gpus / self.scaleup_domain)


def cluster_counts(n_gpus: int, gpus_per_host: int = 8, scaleup_domain: int | None = None,
                   switches: int = 0, links: int | None = None,
                   psus_per_host: int = 1) -> ClusterCounts:
    """The parts of a job on `n_gpus` GPUs [count].

    `scaleup_domain` defaults to one host (an HGX server); `links` and NICs default to one
    scale-out link and one NIC per GPU; PSUs to `psus_per_host` per host.
    """
    domain = gpus_per_host if scaleup_domain is None else scaleup_domain
    for name, value in (("n_gpus", n_gpus), ("gpus_per_host", gpus_per_host),
                        ("scaleup_domain", domain), ("psus_per_host", psus_per_host)):
        _positive_int(name, value)
    if domain < gpus_per_host or domain % gpus_per_host:
        raise InputError("a scale-up domain must be a whole number of hosts", path="goodput",
                         value=domain, expected=f"a multiple of gpus_per_host = {gpus_per_host}")
    _count("switches", switches)
    if links is not None:
        _count("links", links)
    hosts = math.ceil(n_gpus / gpus_per_host)
    return ClusterCounts(gpus=n_gpus, hosts=hosts, switches=switches,
                         links=n_gpus if links is None else links, nics=n_gpus,
                         psus=hosts * psus_per_host, gpus_per_host=gpus_per_host,
                         scaleup_domain=domain)


@dataclass(frozen=True)
class CheckpointSpec:
    """How the training state is saved. None takes the default of ``failures.yaml``.

    params: model parameters [count]. bytes_per_param: checkpoint bytes per parameter
    [bytes] (14 = bf16 weights + fp32 master + two fp32 Adam moments, [4] Sec. 3.1).
    write_bytes_per_s / read_bytes_per_s: aggregate storage bandwidth [B/s].
    host_bytes_per_s: the most one host writes or reads [B/s]. asynchronous: only the copy
    of each GPU's shard to host memory blocks training (at snapshot_bytes_per_s_per_gpu
    [B/s]); the write to storage runs behind it. interval_s: compute time between
    checkpoints [s]; None: Daly's optimum [3].
    """

    params: float
    bytes_per_param: float | None = None
    write_bytes_per_s: float | None = None
    read_bytes_per_s: float | None = None
    host_bytes_per_s: float | None = None
    asynchronous: bool = False
    snapshot_bytes_per_s_per_gpu: float | None = None
    interval_s: float | None = None


@dataclass(frozen=True)
class Recovery:
    """What happens after an interruption. None takes the default of ``failures.yaml``.

    restart_s: relaunch of the job [s]. repair_s: swap of a failed host / scale-up domain when
    no spare is free [s]. spare_domains: hot spare scale-up domains (hosts for an HGX cluster)
    in the cluster pool [count]. spare_gpus_per_domain: idle GPUs inside each scale-up domain
    that can take a failed GPU's (or tray's) place [count].
    """

    restart_s: float | None = None
    repair_s: float | None = None
    spare_domains: int | None = None    # None: spare_domain_fraction of the job's, at least 1
    spare_gpus_per_domain: int = 0


@dataclass(frozen=True)
class Goodput:
    """Useful time over wall time of one training run, and what it is made of (units in names;
    `by_cause` is interruptions per day by cause; `waste_first_order` the lost fractions by
    term of Daly's first-order model [3], which 1 - `fraction` approaches when they are small).
    """

    fraction: float
    ideal_train_s: float
    time_to_train_s: float
    interruptions_per_day: float          # unexpected
    planned_per_day: float
    mtbf_s: float | None                  # None: no unexpected interruption expected
    checkpoint_bytes: float
    checkpoint_interval_s: float
    checkpoint_write_s: float             # blocking part (delta)
    checkpoint_lag_s: float               # asynchronous write behind training
    restore_s: float
    restart_s: float
    repair_wait_s: float                  # expected, per unexpected interruption
    lost_s_per_interruption: float
    by_cause: dict[str, float] = field(default_factory=dict)
    waste_first_order: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (no NaN or infinity)."""
        return jsonable(self)


# ------------------------------------------------------------------------- the formulas
def young_interval_s(write_s: float, mtbf_s: float) -> float:
    """Young's optimum compute time between checkpoints, sqrt(2 delta M) [s] ([2], Eq. 1).

    write_s: checkpoint time delta [s]. mtbf_s: mean time between interruptions M [s].
    """
    return math.sqrt(2.0 * write_s * mtbf_s)


def daly_first_order_interval_s(write_s: float, mtbf_s: float, restart_s: float = 0.0) -> float:
    """Daly's first-order optimum, sqrt(2 delta (M + R)) [s] ([3], Sec. 3); Young's when R = 0."""
    return math.sqrt(2.0 * write_s * (mtbf_s + restart_s))


def daly_interval_s(write_s: float, mtbf_s: float) -> float:
    """Daly's higher-order optimum compute time between checkpoints [s] ([3], Eq. 37).

    sqrt(2 delta M) [1 + (delta/2M)^(1/2) / 3 + (delta/2M) / 9] - delta for delta < 2M,
    else M. write_s: delta [s]; mtbf_s: M [s].
    """
    if write_s >= 2.0 * mtbf_s:
        return mtbf_s
    x = write_s / (2.0 * mtbf_s)
    return math.sqrt(2.0 * write_s * mtbf_s) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - write_s


def waste_fraction(interval_s: float, write_s: float, mtbf_s: float, recovery_s: float) -> float:
    """Daly's first-order fraction of wall time lost ([3], Sec. 3) [-]:
    delta/tau (checkpoints) + (tau + delta)/(2M) (rework) + R/M (recovery)."""
    return (write_s / interval_s + (interval_s + write_s) / (2.0 * mtbf_s)
            + recovery_s / mtbf_s)


def daly_fraction(interval_s: float, write_s: float, mtbf_s: float, restart_s: float) -> float:
    """Useful over wall time for Poisson interruptions, Daly's complete model [3] [-]:
    tau / (M e^(R/M) (e^((tau + delta)/M) - 1)), from T_wall = M e^(R/M) (e^((tau + delta)/M)
    - 1) T_s / tau. Its first-order expansion is 1 - :func:`waste_fraction`.

    interval_s: tau [s]; write_s: delta [s]; mtbf_s: M [s]; restart_s: R [s].
    """
    return interval_s / (mtbf_s * math.exp(restart_s / mtbf_s)
                         * math.expm1((interval_s + write_s) / mtbf_s))


def interruptions_per_hour(cluster: ClusterCounts,
                           failures: FailureData | None = None) -> dict[str, float]:
    """Unexpected interruptions of the job per hour by cause [1/h]: each cause's rate per unit
    of its component kind times the units of that kind the job uses."""
    data = failures or load_failures()
    return {name: data.rate_per_unit_hour(name) * cluster.units(cause.kind)
            for name, cause in data.causes.items()}


def poisson_below(mean: float, k: int) -> float:
    """P(N < k) for N ~ Poisson(mean) [-]: the chance that fewer than k units are in repair."""
    if k <= 0:
        return 0.0
    if mean <= 0.0:
        return 1.0
    if k > mean + 40.0 * math.sqrt(mean) + 40.0:
        return 1.0
    log_mean = math.log(mean)
    terms = (math.exp(-mean + i * log_mean - math.lgamma(i + 1)) for i in range(k))
    return min(1.0, math.fsum(terms))


# ---------------------------------------------------------------------------- the model
def goodput(ideal_train_s: float, cluster: ClusterCounts, checkpoint: CheckpointSpec,
            failures: FailureData | None = None, recovery: Recovery | None = None) -> Goodput:
    """Goodput of a run that needs `ideal_train_s` [s] of failure-free training.

    Raises InputError for non-positive sizes, bandwidths or times, and for a job that cannot
    make progress (interrupted more often than it can write a checkpoint).
    """
    _positive("ideal_train_s", ideal_train_s)
    for name in ("gpus", "hosts", "gpus_per_host", "scaleup_domain"):
        _positive_int(f"cluster.{name}", getattr(cluster, name))
    data = failures or load_failures()
    rec = _resolved_recovery(recovery, cluster)
    ckpt = _checkpoint_times(checkpoint, cluster)
    by_cause_h = interruptions_per_hour(cluster, data)
    rate_per_s = math.fsum(by_cause_h.values()) / S_PER_HOUR
    planned_per_s = data.planned_per_hour() / S_PER_HOUR
    wait_s = _repair_wait_s(cluster, data, rec, by_cause_h)
    delta, lag_s, restore_s = ckpt["write_s"], ckpt["lag_s"], ckpt["restore_s"]
    restart_s = rec.restart_s + restore_s + lag_s       # R of [3]: relaunch, restore, lag
    mtbf_s = 1.0 / rate_per_s if rate_per_s > 0.0 else None
    if mtbf_s is not None:
        _check_progress(delta, mtbf_s)
    tau = checkpoint.interval_s
    if tau is None:   # an asynchronous write must end before the next one starts
        tau = daly_interval_s(delta, mtbf_s) if mtbf_s is not None else ideal_train_s
        tau = max(tau, delta + lag_s)
    fraction = (_running_fraction(tau, delta, mtbf_s, restart_s, wait_s)
                * (1.0 - planned_per_s * (rec.restart_s + restore_s)))
    if fraction <= 0.0:
        raise InputError("the job cannot make progress: planned interruptions take all of its "
                         "time", path="goodput", value=planned_per_s * 86400.0,
                         expected="fewer planned interruptions per day")
    m = mtbf_s or math.inf
    waste = {"checkpoint": delta / tau, "rework": (tau + delta) / (2.0 * m),
             "recovery": restart_s / m, "repair_wait": wait_s / m,
             "planned": planned_per_s * (rec.restart_s + restore_s)}
    return Goodput(
        fraction=fraction, ideal_train_s=ideal_train_s, time_to_train_s=ideal_train_s / fraction,
        interruptions_per_day=rate_per_s * S_PER_HOUR * HOURS_PER_DAY,
        planned_per_day=planned_per_s * S_PER_HOUR * HOURS_PER_DAY, mtbf_s=mtbf_s,
        checkpoint_bytes=ckpt["bytes"], checkpoint_interval_s=tau, checkpoint_write_s=delta,
        checkpoint_lag_s=lag_s, restore_s=restore_s, restart_s=rec.restart_s,
        repair_wait_s=wait_s, lost_s_per_interruption=restart_s + wait_s + (tau + delta) / 2.0,
        by_cause={k: v * HOURS_PER_DAY for k, v in by_cause_h.items()}, waste_first_order=waste)


def _running_fraction(tau: float, delta: float, mtbf_s: float | None, restart_s: float,
                      wait_s: float) -> float:
    """Useful over wall time without planned stops [-]: Daly's complete model [3] while the job
    runs, times M / (M + wait) for the repair waits (downtime during which it cannot fail)."""
    if mtbf_s is None:
        return tau / (tau + delta)
    try:
        running = daly_fraction(tau, delta, mtbf_s, restart_s)
    except OverflowError:
        running = 0.0
    if running <= 0.0:
        raise InputError("the job cannot make progress: rework and recovery take all of its "
                         "time", path="goodput", value=mtbf_s,
                         expected=f"a mean time between interruptions well above the restart "
                                  f"({restart_s:,.0f} s) and the checkpoint interval "
                                  f"({tau:,.0f} s)",
                         hint="Use faster checkpoint storage, a shorter restart or fewer GPUs.")
    return running * mtbf_s / (mtbf_s + wait_s)


def _check_progress(write_s: float, mtbf_s: float) -> None:
    if mtbf_s <= write_s:
        raise InputError(
            f"the job cannot make progress: it is interrupted every {mtbf_s:,.0f} s on average, "
            f"sooner than it writes a checkpoint ({write_s:,.0f} s)", path="goodput",
            value=mtbf_s, expected=f"a mean time between interruptions above {write_s:,.0f} s",
            hint="Use faster checkpoint storage, asynchronous checkpoints or fewer GPUs.")


def _defaults() -> Defaults:
    return load_failure_file().defaults


def _resolved_recovery(recovery: Recovery | None, cluster: ClusterCounts) -> Recovery:
    rec = recovery or Recovery()
    d = _defaults()
    restart_s = d.restart_s.value if rec.restart_s is None else rec.restart_s
    repair_s = d.repair_s.value if rec.repair_s is None else rec.repair_s
    spares = rec.spare_domains
    if spares is None:
        spares = max(1, math.ceil(d.spare_domain_fraction.value * cluster.domains))
    _non_negative("restart_s", restart_s)
    _non_negative("repair_s", repair_s)
    _count("spare_domains", spares)
    _count("spare_gpus_per_domain", rec.spare_gpus_per_domain)
    return Recovery(restart_s, repair_s, spares, rec.spare_gpus_per_domain)


def _checkpoint_times(spec: CheckpointSpec, cluster: ClusterCounts) -> dict[str, float]:
    """Checkpoint size [bytes], blocking write delta, asynchronous lag and restore [s].

    The state is spread evenly over the job's GPUs and hosts (sharded checkpoint, each rank
    saving its own shard); a write takes the longer of aggregate storage and one host's link.
    """
    d = _defaults()
    pick = {
        "params": spec.params,
        "bytes_per_param": _or(spec.bytes_per_param, d.bytes_per_param),
        "write_bytes_per_s": _or(spec.write_bytes_per_s, d.storage_write_bytes_per_s),
        "read_bytes_per_s": _or(spec.read_bytes_per_s, d.storage_read_bytes_per_s),
        "host_bytes_per_s": _or(spec.host_bytes_per_s, d.host_storage_bytes_per_s),
        "snapshot_bytes_per_s_per_gpu": _or(spec.snapshot_bytes_per_s_per_gpu,
                                            d.snapshot_bytes_per_s_per_gpu),
    }
    for name, value in pick.items():
        _positive(f"checkpoint.{name}", value)
    if spec.interval_s is not None:
        _positive("checkpoint.interval_s", spec.interval_s)
    size = pick["params"] * pick["bytes_per_param"]
    per_host = size / cluster.hosts
    write_s = max(size / pick["write_bytes_per_s"], per_host / pick["host_bytes_per_s"])
    restore_s = max(size / pick["read_bytes_per_s"], per_host / pick["host_bytes_per_s"])
    if spec.asynchronous:
        snapshot_s = size / cluster.gpus / pick["snapshot_bytes_per_s_per_gpu"]
        delta, lag = snapshot_s, max(0.0, write_s - snapshot_s)
    else:
        delta, lag = write_s, 0.0
    return {"bytes": size, "write_s": delta, "lag_s": lag, "restore_s": restore_s}


def _or(value: float | None, default: Figure) -> float:
    return default.value if value is None else value


def _repair_wait_s(cluster: ClusterCounts, data: FailureData, rec: Recovery,
                   by_cause_h: dict[str, float]) -> float:
    """Expected wait for repair per unexpected interruption [s].

    A failure that takes GPUs (GPUS_LOST) must be replaced. It is covered, and costs a restart
    only, when its domain still has enough idle GPUs, or when a spare domain is free in the
    pool. Units in repair are Poisson with mean (rate x repair_s) (an M/G/inf queue), so a pool
    of S spares is free with probability P(N < S); otherwise the job waits `repair_s`.
    """
    total_h = math.fsum(by_cause_h.values())
    if total_h <= 0.0 or not rec.repair_s:
        return 0.0
    replace_h = {k: v for k, v in by_cause_h.items() if _gpus_lost(data, k, cluster)}
    repair_h = rec.repair_s / S_PER_HOUR
    pool_free = poisson_below(math.fsum(replace_h.values()) * repair_h, rec.spare_domains)
    per_domain_mean = math.fsum(replace_h.values()) * repair_h / cluster.domains
    waiting_h = 0.0
    for cause, rate_h in replace_h.items():
        lost = _gpus_lost(data, cause, cluster)
        covers = rec.spare_gpus_per_domain // lost if lost < cluster.scaleup_domain else 0
        domain_free = poisson_below(per_domain_mean, covers)
        waiting_h += rate_h * (1.0 - domain_free) * (1.0 - pool_free)
    return rec.repair_s * waiting_h / total_h


def _gpus_lost(data: FailureData, cause: str, cluster: ClusterCounts) -> int:
    lost = GPUS_LOST[data.causes[cause].kind]
    return cluster.gpus_per_host if lost == "host" else int(lost or 0)


def _positive(name: str, value: object) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or value <= 0):
        raise InputError(f"{name} must be a positive number", path=f"goodput.{name}",
                         value=value, expected="a finite number > 0")


def _non_negative(name: str, value: object) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or value < 0):
        raise InputError(f"{name} must not be negative", path=f"goodput.{name}", value=value,
                         expected="a finite number >= 0")


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{name} must be a positive whole number", path=f"goodput.{name}",
                         value=value, expected="an integer > 0")


def _count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{name} must be a count", path=f"goodput.{name}", value=value,
                         expected="an integer >= 0")


def job_goodput(ideal_train_s: float, n_gpus: int, params: float, gpus_per_host: int,
                scaleup_domain: int, checkpoint: CheckpointSpec | None = None,
                recovery: Recovery | None = None) -> Goodput:
    """Goodput of a training job of `params` parameters on `n_gpus` GPUs of a system whose
    hosts (servers, compute trays) hold `gpus_per_host` GPUs in scale-up domains of
    `scaleup_domain` GPUs; `checkpoint` may set storage bandwidths (its `params` is replaced).
    A job smaller than a domain uses part of one: the domain shrinks to the hosts it uses."""
    host = min(gpus_per_host, n_gpus)
    domain = max(host, min(scaleup_domain, n_gpus) // host * host)
    spec = replace(checkpoint, params=params) if checkpoint else CheckpointSpec(params=params)
    return goodput(ideal_train_s, cluster_counts(n_gpus, host, domain), spec, recovery=recovery)
