"""What one performance estimate is about, shared by the training, memory and inference models.

:class:`Context` sits below :mod:`~rackforge.perf.training`, :mod:`~rackforge.perf.memory` and
:mod:`~rackforge.perf.inference` so that each of them can take it without importing another.
"""

from __future__ import annotations

from dataclasses import dataclass

from rackforge.perf.layout import Execution
from rackforge.perf.params import Machine, PerfParams
from rackforge.perf.workload import Counts, Workload, counts


@dataclass(frozen=True)
class Context:
    """What one estimate is about: model, hardware, execution settings and parameters."""

    workload: Workload
    machine: Machine
    execution: Execution
    params: PerfParams

    @property
    def counts(self) -> Counts:
        """Parameter and FLOP counts of the workload."""
        return counts(self.workload)


def hbm_bandwidth(ctx: Context) -> float:
    """Achievable HBM bandwidth of one GPU [B/s]: the peak times the device's efficiency."""
    return ctx.machine.accelerator.hbm_bandwidth_bytes_per_s * ctx.machine.device.hbm_efficiency
