"""The performance model's parameter set (``data/perf_params.yaml``) and the machine it runs on.

One set of parameters serves every estimate: per-accelerator efficiency figures come from public
microbenchmarks (each cited in the YAML's ``sources``), the rest are physical counts or stated
assumptions. :class:`Machine` bundles what an estimate needs to know about the hardware.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field

from rackforge.catalog.models import Accelerator, Frozen, Source, System
from rackforge.errors import InputError
from rackforge.inputs import read_yaml, validate

DATA_FILE = Path(__file__).parent / "data" / "perf_params.yaml"
Frac = Field(gt=0, le=1)


class DeviceEfficiency(Frozen):
    """Achievable fractions of an accelerator's peaks (see the YAML for sources)."""

    gemm_efficiency: dict[str, float] = Field(description="MAMF / peak by 'bf16' or 'fp8'")
    attention_efficiency: float = Frac
    fa2_attention_efficiency: float | None = Field(default=None, gt=0, le=1)
    hbm_efficiency: float = Frac
    scaleup_efficiency: float = Frac
    sm_count: int = Field(gt=0)
    tile_m: int = Field(gt=0)
    tile_n: int = Field(gt=0)
    fp8_transpose: bool = False
    grouped_gemm_kernel: bool = False   # serving's MoE kernels (training: grouped_experts)
    note: str | None = None
    assumption: bool = False


class PerfParams(Frozen):
    """Every tunable of the model; the shipped values are documented in the YAML."""

    devices: dict[str, DeviceEfficiency]
    default_device: DeviceEfficiency
    gemm_tile_overhead_s: float = Field(ge=0)
    gemm_min_tile_m: float = Field(gt=0)
    gemm_sustained_fraction: float = Frac
    scaleout_efficiency: float = Frac
    scaleup_latency_s: float = Field(ge=0)
    scaleout_latency_s: float = Field(ge=0)
    elementwise_hidden_passes: float = Field(ge=0)
    softmax_bytes_per_element: float = Field(ge=0)
    cross_entropy_bytes_per_logit: float = Field(ge=0)
    fp8_cast_bytes_per_element: float = Field(ge=0)
    fp8_current_scaling_bytes_per_element: float = Field(ge=0)
    fp8_transpose_bytes_per_element: float = Field(ge=0)
    mxfp8_cast_bytes_per_element: float = Field(ge=0)
    backward_memory_factor: float = Field(gt=0)
    flash_backward_factor: float = Field(gt=0)
    optimizer_bytes_per_param: float = Field(ge=0)
    weight_bytes: dict[str, float]
    grad_bytes_per_param: float = Field(gt=0)
    grad_reduce_bytes: dict[str, float]
    optimizer_state_bytes_per_param: float = Field(ge=0)
    activation_bytes: float = Field(gt=0)
    reserved_bytes: float = Field(ge=0)
    tp_overlap_efficiency: float = Field(ge=0, le=1)
    pp_overlap_efficiency: float = Field(ge=0, le=1)
    comm_sm_share: float = Field(ge=0, le=1)
    kernel_overhead_s: float = Field(ge=0)
    kernels_per_layer_forward: float = Field(ge=0)
    kernels_per_layer_backward: float = Field(ge=0)
    decode_step_overhead_s: float = Field(ge=0)
    moe_host_op_s: float = Field(ge=0)
    moe_host_ops_forward: float = Field(ge=0)
    moe_host_ops_backward: float = Field(ge=0)
    moe_expert_ops_forward: float = Field(ge=0)
    moe_expert_ops_backward: float = Field(ge=0)
    moe_cuda_graph_attention: bool
    moe_sync_drain_s: float = Field(ge=0)
    moe_permute_copy_passes: float = Field(ge=0)
    moe_a2a_buffer_passes: float = Field(ge=0)
    moe_expert_bias_bytes: float = Field(ge=0)
    moe_glu_clamp_bytes: float = Field(ge=0)
    moe_load_imbalance: float = Field(ge=1)
    ep_node_dedup: bool
    sources: dict[str, Source]

    def device(self, accelerator_id: str) -> DeviceEfficiency:
        return self.devices.get(accelerator_id, self.default_device)


@lru_cache(maxsize=2)
def load_params(path: Path = DATA_FILE) -> PerfParams:
    """The shipped parameter set."""
    return validate(PerfParams, read_yaml(path), str(path))


# Block-scaled training formats and the tensor cores they run on.
MX_BLOCK_SCALED = {"mxfp8": "fp8"}


@dataclass(frozen=True)
class Machine:
    """The hardware of one estimate, in base units (per GPU unless named otherwise)."""

    accelerator: Accelerator
    scaleup_domain: int                 # GPUs sharing NVLink-class links
    scaleout_bytes_per_s: float         # NIC bandwidth per GPU, one direction [B/s]
    power_per_gpu_w: float              # system IT power per GPU at full load [W]
    device: DeviceEfficiency
    # Scale-out tiers of a sized cluster, innermost first: (span [GPUs], NIC bandwidth per GPU
    # after the oversubscription below the tier [B/s], switch + propagation latency [s]).
    # Empty: one flat, non-blocking fabric at the system's NIC rate.
    scaleout_tiers: tuple[tuple[int, float, float], ...] = ()

    def peak_flops(self, dtype: str) -> float:
        """Dense peak FLOP/s of the tensor cores for `dtype` [FLOP/s]; a precision the
        accelerator lacks (fp8 on an A100) is an InputError, never a fallback. MXFP8 (FP8 with
        one power-of-two scale per 32 values) runs on the FP8 tensor cores of parts that scale
        blocks in hardware (Blackwell on): those with an mxfp8 GEMM efficiency [TEMX]."""
        peaks = self.accelerator.peak_flops
        if dtype in MX_BLOCK_SCALED:
            if dtype not in self.device.gemm_efficiency:
                raise InputError(f"{self.accelerator.id} has no {dtype} (MX block-scaled) "
                                 "GEMMs", None, "dtype", dtype, "a Blackwell-class part, or "
                                 "fp8 / bf16")
            dtype = MX_BLOCK_SCALED[dtype]
        if dtype not in peaks:
            raise InputError(f"{self.accelerator.id} has no {dtype} tensor cores", None,
                             "dtype", dtype, f"a precision it has: {', '.join(sorted(peaks))}")
        return peaks[dtype]  # type: ignore[index]

    def gemm_efficiency(self, dtype: str) -> float:
        """Achievable share of the dense peak for GEMMs in `dtype` (perf_params.yaml, MAMF):
        fp16 runs on the bf16 datapath at the same rate, so it takes bf16's figure; a dtype
        without a figure is an InputError."""
        key = "bf16" if dtype == "fp16" else dtype
        eff = self.device.gemm_efficiency
        if key not in eff:
            raise InputError(f"no measured GEMM efficiency for {dtype} on "
                             f"{self.accelerator.id}", None, "dtype", dtype,
                             f"one of {', '.join(sorted(eff))}")
        return eff[key]


def machine_from_system(system: System, accelerator: Accelerator,
                        params: PerfParams | None = None) -> Machine:
    """A :class:`Machine` for a catalog :class:`System`."""
    params = params or load_params()
    return Machine(accelerator, system.scaleup_domain, system.scaleout_gbps_per_gpu * 1e9 / 8,
                   system.power_per_gpu_w, params.device(accelerator.id))
