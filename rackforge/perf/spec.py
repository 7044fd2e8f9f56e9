"""Scenario sections of the performance stage: user workloads and what to evaluate.

.. code-block:: yaml

    workloads:                 # optional: models beyond perf/data/workloads.yaml
      - {id: my-moe, name: My MoE, layers: 48, hidden: 4096, ..., source: {...}}
    evaluate:
      systems: [hgx-h100-8, gb200-nvl72]
      workloads: [llama3-70b, my-moe]
      gpus: 1024
      tokens: 15e12            # optional: time and energy to train this many tokens
      goodput:                 # optional: checkpoint storage and spares (defaults: failures.yaml)
        storage_write_bytes_per_s: 2 TB/s
        spare_domains: 16
      framework: bridge        # optional: perf/data/frameworks.yaml (default: generic), and
      moe_dispatcher: hybridep # the MoE settings its run sets (default: the framework's)
      ep_overlap: true
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rackforge.catalog import Catalog
from rackforge.catalog.models import Dtype, Frozen, System
from rackforge.errors import InputError
from rackforge.perf.frameworks import check_moe_settings, framework
from rackforge.perf.goodput import CheckpointSpec, Recovery
from rackforge.perf.workload import Workload, get_workload
from rackforge.units import BytesPerS, Seconds


class GoodputSpec(Frozen):
    """How a training job checkpoints and recovers; what is left out takes the default of
    ``perf/data/failures.yaml`` (Llama 3's storage rate, a 10-minute restart, 1 % spares)."""

    storage_write_bytes_per_s: BytesPerS | None = Field(default=None, gt=0, le=1e16)
    storage_read_bytes_per_s: BytesPerS | None = Field(default=None, gt=0, le=1e16)
    asynchronous_checkpoint: bool = False
    restart_s: Seconds | None = Field(default=None, ge=0, le=1e6)
    repair_s: Seconds | None = Field(default=None, ge=0, le=1e7)
    spare_domains: int | None = Field(default=None, ge=0, le=1_000_000)

    def checkpoint(self) -> CheckpointSpec:
        """The checkpoint settings (parameters filled in per workload) [B/s]."""
        return CheckpointSpec(params=1.0, write_bytes_per_s=self.storage_write_bytes_per_s,
                              read_bytes_per_s=self.storage_read_bytes_per_s,
                              asynchronous=self.asynchronous_checkpoint)

    def recovery(self) -> Recovery:
        return Recovery(self.restart_s, self.repair_s, self.spare_domains)


class EvaluateSpec(Frozen):
    """Which systems and workloads ``rackforge evaluate --scenario`` compares, at what scale."""

    systems: list[str] = Field(min_length=1)
    workloads: list[str] = Field(min_length=1)
    gpus: int = Field(gt=0)
    tokens: float | None = Field(default=None, gt=0, le=1e20, description="[tokens]")
    dtype: Dtype | Literal["mxfp8"] = Field(default="bf16", description="training precision; "
                                            "mxfp8 on Blackwell-class parts")
    top: int = Field(default=3, ge=1)
    goodput: GoodputSpec = Field(default_factory=GoodputSpec)
    framework: str | None = Field(default=None, description="training framework "
                                  "(perf/data/frameworks.yaml); default: its documented default")
    moe_dispatcher: str | None = Field(default=None, description="alltoall, deepep or hybridep")
    ep_overlap: bool | None = None
    grouped_experts: bool | None = None
    cuda_graphs: str | None = Field(default=None, description="none, attn or full_iteration")
    fabric_from_cluster: bool = Field(
        default=False, description="systems whose accelerator and scale-up domain match the "
        "scenario's cluster racks take its per-tier scale-out bandwidth and latency")


def user_workloads(workloads: list[Workload]) -> dict[str, Workload]:
    return {w.id: w for w in workloads}


def resolve(evaluate: EvaluateSpec | None, workloads: list[Workload], catalog: Catalog,
            file: str | None = None) -> None:
    """Check that every system and workload id of `evaluate` exists (InputError with a hint)."""
    if evaluate is None:
        return
    framework(evaluate.framework, "evaluate.framework", file)
    check_moe_settings(evaluate.moe_dispatcher, evaluate.cuda_graphs, file, "evaluate.")
    for i, sid in enumerate(evaluate.systems):
        catalog.get(sid, System, where=f"evaluate.systems[{i}]", file=file)
    extra = user_workloads(workloads)
    for i, wid in enumerate(evaluate.workloads):
        try:
            get_workload(wid, extra, f"evaluate.workloads[{i}]")
        except InputError as exc:  # locate the error in the scenario file
            raise exc.at(file) from None
