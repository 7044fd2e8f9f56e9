"""Scenario schema of the ``compare:`` section: candidate systems, workload portfolio, deadline.

Candidates name a catalog ``System`` id and, optionally, a rack design of the scenario (for the
rack's IT power, accelerator count and domestic content). Quarters are written ``2027Q1``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rackforge.calendar import Quarter
from rackforge.catalog.models import Dtype, Frozen
from rackforge.economics import default
from rackforge.errors import InputError
from rackforge.perf.inference import Engine
from rackforge.perf.precision import PEAK_KEY, known_precision
from rackforge.perf.serving_params import tokens_per_step
from rackforge.units import Fraction, Power, Seconds

Cooling = Literal["air", "liquid", "hybrid"]


class CandidateSpec(Frozen):
    """One system the lab could buy: when it can arrive and what a rack of it costs."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
    system: str = Field(description="catalog system id")
    rack: str | None = Field(default=None, description="rack design id in this scenario")
    available: Quarter = Field(description="first quarter racks can be delivered")
    price_usd: float | None = Field(default=None, gt=0, le=1e9,
                                    description="hardware price per rack "
                                    "[USD]; default: the sourcing plan's BOM cost of `rack`")
    accelerators: int | None = Field(default=None, ge=1, le=10_000,
                                     description="per rack; default from "
                                     "the rack design, else the system's scale-up domain")
    it_power_w: Power | None = Field(default=None, gt=0, le=10e6,
                                     description="per rack at full load; "
                                     "default from the rack design, else per-GPU system power")
    domestic_share: Fraction | None = Field(default=None, ge=0, le=1,
                                            description="domestic content, cost share")
    performance: dict[str, float] = Field(
        default_factory=dict, description="tokens/s per GPU by workload id, overriding the "
        "performance model (for systems it does not know)")
    example: bool = False
    note: str | None = None


class ServingShape(Frozen):
    """Request shape of a serving workload (defaults are example figures)."""

    input_tokens: float = Field(default=2048, gt=0, le=1e7, description="mean prompt length")
    output_tokens: float = Field(default=512, gt=0, le=1e7, description="mean generated length")
    tpot_target_s: Seconds | None = Field(default=None, gt=0,
                                          description="p99 latency target per output token")
    tokens_per_s_per_user: float | None = Field(
        default=None, gt=0, le=1e5, description="interactivity to price serving at: the same "
        "target as tpot_target_s = 1 / this (give one of the two)")
    ttft_target_s: Seconds | None = Field(default=None, gt=0, le=3600,
                                          description="p99 time-to-first-token target")
    engine: Engine = Engine()
    precision: str | None = Field(default=None, description="checkpoint precision served: "
                                  + ", ".join(PEAK_KEY) + " (default: the workload's dtype, "
                                  "else fp8)")

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str | None) -> str | None:
        try:
            return None if value is None else known_precision(value)
        except InputError as error:
            raise ValueError(f"{error.message}; {error.expected}") from None

    @model_validator(mode="after")
    def _one_target(self) -> ServingShape:
        if self.tpot_target_s is not None and self.tokens_per_s_per_user is not None:
            raise ValueError("give tpot_target_s or tokens_per_s_per_user, not both")
        return self

    @property
    def tpot_s(self) -> float | None:
        """The TPOT target [s], from either input."""
        if self.tokens_per_s_per_user is not None:
            return 1.0 / self.tokens_per_s_per_user
        return self.tpot_target_s


class WorkloadItem(Frozen):
    """Work the fleet must finish by the deadline: tokens to train or serve on one model."""

    id: str
    model: str = Field(description="workload id of the performance model, e.g. llama3-70b")
    mode: Literal["training", "serving"] = "training"
    tokens: float = Field(gt=0, le=1e20, description="tokens to train, or output tokens to serve")
    gpus: int = Field(default=1152, ge=1, description="GPUs one training job runs on (the "
                      "performance model's parallelism search); serving uses one scale-up domain")
    dtype: Dtype | None = Field(default=None, description="default bf16 training, fp8 serving")
    serving: ServingShape = ServingShape()

    @model_validator(mode="after")
    def _measured_drafts(self) -> WorkloadItem:
        # speculative decoding needs the model's measured acceptance (serving_params.yaml)
        try:
            tokens_per_step(self.model, self.serving.engine.draft_tokens)
        except InputError as error:
            raise ValueError(f"serving.engine.draft_tokens: {error.message}; expected "
                             f"{error.expected}") from None
        return self


class FleetSpec(Frozen):
    """How much of a candidate the lab buys: what a capex budget or the hall's power allows."""

    budget_usd: float | None = Field(default=None, gt=0, le=1e13,
                                      description="racks + facility capex")
    it_power_w: Power | None = Field(default=None, gt=0, le=1e12,
                                     description="IT power of the halls")

    @model_validator(mode="after")
    def _one_limit(self) -> FleetSpec:
        if self.budget_usd is None and self.it_power_w is None:
            raise ValueError("fleet needs budget_usd, it_power_w or both")
        return self


class HallSpec(Frozen):
    """What the planned halls accept per rack."""

    max_rack_power_w: Power = Field(gt=0, le=10e6)
    cooling: list[Cooling] = Field(default=["liquid", "hybrid", "air"], min_length=1)


class SensitivitySpec(Frozen):
    """Cases for the sensitivity of the ranking."""

    energy_price_factors: list[float] = Field(default=[0.5, 2.0])
    utilization_factors: list[float] = Field(default=[0.75, 1.2])
    slip_quarters: list[int] = Field(default=[1, 2], description="delivery slip of candidates "
                                     "not yet available at the decision")
    deadline_shift_quarters: list[int] = Field(default=[2], description="deadline moved by")

    @model_validator(mode="after")
    def _positive(self) -> SensitivitySpec:
        if any(f <= 0 for f in self.energy_price_factors + self.utilization_factors):
            raise ValueError("sensitivity factors must be positive")
        if any(s < 0 for s in self.slip_quarters):
            raise ValueError("slip_quarters must not be negative")
        return self


class CompareSpec(Frozen):
    """The ``compare:`` section: which system to buy, and when, for a portfolio of work."""

    decision: Quarter = Field(description="quarter of the buy decision (now)")
    deadline: Quarter = Field(description="the work must be finished by the end of this quarter")
    commissioning_quarters: int = Field(default=1, ge=0,
                                        description="delivery to useful work, in quarters")
    fleet: FleetSpec
    halls: HallSpec | None = None
    domestic_content_threshold: float = Field(
        default("compare", "domestic_content_threshold"), ge=0, le=1)
    workloads: list[WorkloadItem] = Field(min_length=1)
    candidates: list[CandidateSpec] = Field(min_length=1)
    sensitivity: SensitivitySpec = SensitivitySpec()

    @model_validator(mode="after")
    def _check(self) -> CompareSpec:
        for name, items in (("candidates", self.candidates), ("workloads", self.workloads)):
            ids = [c.id for c in items]
            for i, cid in enumerate(ids):
                if cid in ids[:i]:
                    raise ValueError(f"duplicate id {cid!r} at {name}[{i}]")
        if self.deadline < self.decision:
            raise ValueError("deadline is before the decision quarter")
        return self
