"""Training frameworks: what each does by default (``data/frameworks.yaml``, one source per
entry) and the :class:`Execution` of a run on one of them.

A validation row and an ``evaluate`` request both name a framework (blank / None: the
documented default) and may set some of its settings explicitly; :func:`execution` turns the
two into the same :class:`Execution`, so a layout evaluated on a framework is timed as the
published rows of that framework are.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from rackforge.catalog.models import Frozen, Source
from rackforge.errors import InputError
from rackforge.inputs import read_yaml, validate
from rackforge.perf.layout import CUDA_GRAPHS, MOE_DISPATCHERS, Execution

FRAMEWORKS_FILE = Path(__file__).parent / "data" / "frameworks.yaml"


class FrameworkDefaults(Frozen):
    """What one training framework does when a run does not say (``data/frameworks.yaml``)."""

    flash_attention: bool
    dp_overlap: bool
    tp_comm_overlap: bool
    pp_overlap: bool
    zero: Literal[0, 1, 3]
    recompute: Literal["none", "selective", "full"]
    microbatch: Literal[1, "tuned"]
    virtual_stages: Literal[1, "tuned"]
    ffn: Literal["gelu", "swiglu"]
    fp8_scaling: Literal["delayed", "current"] = "delayed"
    attention_kernel: Literal["fused", "sdpa"] = "fused"
    eager_expert_ops: bool = False
    grouped_experts: bool = False
    selective_recompute: Literal["attention", "per_op"] = "attention"
    grad_bytes: float | None = Field(default=None, gt=0)
    source: Source


class FrameworkFile(Frozen):
    frameworks: dict[str, FrameworkDefaults]
    default: str


@lru_cache(maxsize=1)
def frameworks() -> tuple[dict[str, dict[str, Any]], str]:
    """Framework defaults by name (``data/frameworks.yaml``, validated) and the name of the
    one a run that names none takes."""
    data = validate(FrameworkFile, read_yaml(FRAMEWORKS_FILE), str(FRAMEWORKS_FILE))
    if data.default not in data.frameworks:
        raise InputError("default framework not defined", str(FRAMEWORKS_FILE), "default",
                         data.default, f"one of {', '.join(data.frameworks)}")
    return {k: v.model_dump() for k, v in data.frameworks.items()}, data.default


def framework(name: str | None, where: str = "framework", file: str | None = None
              ) -> dict[str, Any]:
    """The defaults of framework `name` (None or "": the documented default); an unknown
    name is an InputError located at `file` and `where`."""
    table, default = frameworks()
    if name and name not in table:
        raise InputError("unknown framework", file, where, name,
                         " or ".join(table) + " (or none: the default)")
    return table[name or default]


def check_moe_settings(moe_dispatcher: str | None, cuda_graphs: str | None,
                       file: str | None = None, prefix: str = "") -> None:
    """InputError, located at `file` and `prefix` + the key, for a dispatcher or CUDA-graph
    scope the training model does not know (None: the framework's, always allowed)."""
    for key, value, allowed in (("moe_dispatcher", moe_dispatcher, MOE_DISPATCHERS),
                                ("cuda_graphs", cuda_graphs, CUDA_GRAPHS)):
        if value is not None and value not in allowed:
            raise InputError(f"unknown {key.replace('_', ' ')}", file, prefix + key, value,
                             " or ".join(allowed))


def execution(fw: dict[str, Any], dtype: str, seq_len: int, global_batch: int,
              attention_kernel: str | None = None, eager_expert_ops: bool | None = None,
              grouped_experts: bool | None = None, ep_overlap: bool | None = None,
              recompute_modules: tuple[str, ...] | None = None,
              moe_dispatcher: str | None = None, cuda_graphs: str | None = None) -> Execution:
    """The run settings of framework `fw` (see :func:`framework`): the explicit settings where
    given (None: the framework's; false where it has none)."""
    def flag(value: bool | None, key: str) -> bool:
        return fw.get(key, False) if value is None else value

    return Execution(dtype=dtype, seq_len=seq_len, global_batch=global_batch,
                     flash_attention=fw["flash_attention"], tp_comm_overlap=fw["tp_comm_overlap"],
                     dp_overlap=fw["dp_overlap"], pp_overlap=fw["pp_overlap"],
                     grad_bytes=fw.get("grad_bytes"),
                     fp8_scaling=fw.get("fp8_scaling", "delayed"),
                     attention_kernel=attention_kernel or fw.get("attention_kernel", "fused"),
                     selective_recompute=fw.get("selective_recompute", "attention"),
                     eager_expert_ops=flag(eager_expert_ops, "eager_expert_ops"),
                     grouped_experts=flag(grouped_experts, "grouped_experts"),
                     ep_overlap=flag(ep_overlap, "ep_overlap"),
                     recompute_modules=recompute_modules or None,
                     moe_dispatcher=moe_dispatcher or None, cuda_graphs=cuda_graphs or None)
