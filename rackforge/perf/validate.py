"""Compare the training and inference models with published measurements (CSV files).

Each training row names its system, model and execution (see ``tests/data/README.md``). Blank
execution fields take the default of the row's framework (``data/frameworks.yaml``); a blank
microbatch (and a blank recompute mode, where the default does not fit) is chosen as the fastest
setting that fits memory, as the published runs were tuned. Rows the model cannot represent are
returned as skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from rackforge.catalog import load_catalog
from rackforge.catalog.models import Accelerator, Source, System
from rackforge.errors import InputError
from rackforge.inputs import read_csv_rows, validation_to_input_errors
from rackforge.perf.benchmarks import Limits, benchmark_for
from rackforge.perf.context import Context
from rackforge.perf.disaggregated import disaggregated
from rackforge.perf.frameworks import execution, framework, frameworks
from rackforge.perf.inference import Engine, Serving
from rackforge.perf.layout import (
    CUDA_GRAPHS,
    MOE_DISPATCHERS,
    RECOMPUTE,
    RECOMPUTE_MODULES,
    Execution,
    experts_split,
    from_columns,
)
from rackforge.perf.params import Machine, load_params, machine_from_system
from rackforge.perf.precision import PEAK_KEY
from rackforge.perf.serving import search_serving, serve
from rackforge.perf.training import estimate_arrays
from rackforge.perf.workload import Moe, Workload, get_workload, load_workloads

MICROBATCHES = (1, 2, 4, 8, 16)
VIRTUAL_STAGES = (1, 2, 3, 4, 5, 6, 8)


@dataclass(frozen=True)
class RowResult:
    """One validated row: prediction, truth and signed relative error (pred/meas - 1)."""

    case: str
    predicted: float
    measured: float
    error: float
    layout: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """Validation of one file: compared rows, skipped rows with reasons, summary errors."""

    rows: list[RowResult]
    skipped: list[tuple[str, str]]
    quantity: str

    @property
    def mape(self) -> float:
        return float(np.mean([abs(r.error) for r in self.rows])) if self.rows else float("nan")

    @property
    def max_abs_error(self) -> float:
        return float(max(abs(r.error) for r in self.rows)) if self.rows else float("nan")


def read_csv(path: str | Path, required: tuple[str, ...] = ("case",),
             kind: str = "measurement") -> list[dict[str, str]]:
    """Rows of a CSV file as mappings (short rows padded with blanks); a missing, unreadable,
    non-UTF-8 or malformed file, or one without the `required` columns, is an InputError."""
    path = Path(path)
    rows = read_csv_rows(path)
    if not rows or "case" not in rows[0]:
        raise InputError("not a measurement CSV", str(path), expected="a header with 'case'")
    missing = [c for c in required if c not in rows[0]]
    if missing:
        article = "an" if kind[0] in "aeiou" else "a"
        raise InputError(f"not {article} {kind} CSV: column {', '.join(missing)} missing",
                         str(path), expected=f"a header with {', '.join(required)}")
    for i, row in enumerate(rows):
        if None in row:
            raise InputError("more cells than the header has columns", str(path),
                             f"line {i + 2}", row.get("case"), "one cell per header column")
    return rows


def _framework(row: dict[str, str]) -> dict[str, Any]:
    """The defaults of the row's ``framework`` column (blank: the documented default); the
    column is checked by :func:`check_cells`."""
    return framework(_cell(row, "framework"))


def _cell(row: dict[str, str], key: str) -> str:
    """The row's `key` cell without surrounding blanks ("" where blank or absent)."""
    return (row.get(key) or "").strip()


def _int(row: dict[str, str], key: str, default: int | None = None) -> int | None:
    text = _cell(row, key)
    return int(float(text)) if text else default


def _accelerator(row: dict[str, str]) -> Accelerator:
    return load_catalog().get(row["accelerator"].strip(), Accelerator, where="accelerator")


def row_machine(row: dict[str, str]) -> Machine:
    """The hardware a measurement row describes."""
    acc = _accelerator(row)
    gbps = float(row.get("scaleout_gbps_per_gpu") or acc.scaleout_gbps)
    domain = _int(row, "scaleup_domain", 8) or 8
    return Machine(acc, domain, gbps * 1e9 / 8, acc.tdp_w, load_params().device(acc.id))


def _catalog_twin(row: dict[str, str]) -> Workload | None:
    """The catalog model with the row's layers, hidden size, heads and experts, if any: it
    supplies what the columns cannot say (MLA, head size, FFN type, dropout, sliding-window
    layers, expert biases, a clamped GLU, routing groups)."""
    key = (_int(row, "layers"), _int(row, "hidden"), _int(row, "heads"), _int(row, "experts"))
    for w in load_workloads().values():
        if (w.layers, w.hidden, w.heads, w.moe.experts if w.moe else None) == key:
            return w
    return None


def row_workload(row: dict[str, str]) -> Workload:
    """The model a measurement row describes (architecture columns).

    Columns give the shapes; the FFN type follows the row's framework (GPT-style rows use a
    GELU FFN and dropout, see the data README) unless the shapes match a catalog model, whose
    attention (MLA, head size), FFN type and dropout are then used.
    """
    fw, twin = _framework(row), _catalog_twin(row)
    moe = None
    if _int(row, "experts"):
        # the catalog twin's routing groups (the columns cannot say them)
        groups = {} if twin is None or twin.moe is None else \
            {"expert_groups": twin.moe.expert_groups,
             "groups_per_token": twin.moe.groups_per_token}
        moe = Moe(experts=_int(row, "experts"), top_k=_int(row, "top_k"),
                  moe_ffn_hidden=_int(row, "moe_ffn_hidden"),
                  shared_experts=_int(row, "shared_experts", 0),
                  dense_layers=_int(row, "dense_layers", 0), **groups)
    hidden, heads = _int(row, "hidden"), _int(row, "heads")
    ffn = "swiglu" if moe is not None else fw["ffn"]
    arch = {"head_dim": hidden // heads, "ffn": ffn, "dropout": ffn == "gelu", "mla": None}
    if twin is not None:
        arch = {"head_dim": twin.head_dim or hidden // heads, "ffn": twin.ffn,
                "dropout": twin.dropout, "mla": twin.mla,
                "attention_window": twin.attention_window, "expert_bias": twin.expert_bias,
                "glu_clamped": twin.glu_clamped}
    return Workload(
        id=row["case"].lower(), name=row["case"], source=Source(
            title=row.get("source") or "measurement row", publisher="see source", year=2024),
        layers=_int(row, "layers"), hidden=hidden, ffn_hidden=_int(row, "ffn_hidden"),
        heads=heads, kv_heads=_int(row, "kv_heads", heads), vocab=_int(row, "vocab"),
        seq_len=_int(row, "seq_len", 2048), moe=moe, **arch)


def _execution(row: dict[str, str], fw: dict[str, Any], dtype: str) -> Execution:
    """The row's run settings: its columns where filled, else its framework's defaults."""
    def flag(key: str) -> bool | None:
        return _cell(row, key) == "true" if _cell(row, key) else None

    return execution(fw, dtype, _int(row, "seq_len"), _int(row, "global_batch"),
                     attention_kernel=_cell(row, "attention_kernel") or None,
                     eager_expert_ops=flag("eager_expert_ops"),
                     grouped_experts=flag("grouped_experts"), ep_overlap=flag("ep_overlap"),
                     recompute_modules=tuple(_cell(row, "recompute_modules").split()) or None,
                     moe_dispatcher=_cell(row, "moe_dispatcher") or None,
                     cuda_graphs=_cell(row, "cuda_graphs") or None)


def _candidates(row: dict[str, str], fw: dict[str, Any]) -> dict[str, np.ndarray]:
    """The row's layout, with blank microbatch / recompute expanded into alternatives."""
    tuned = [1] if fw["microbatch"] != "tuned" else list(MICROBATCHES)
    mbs = [_int(row, "microbatch")] if _int(row, "microbatch") else tuned
    rc_text = _cell(row, "recompute")
    rcs = [RECOMPUTE.index(rc_text)] if rc_text else [0, 1, 2]
    zero = _int(row, "zero_stage", fw["zero"])
    vps = [_int(row, "vp")] if _int(row, "vp") else \
        [v for v in VIRTUAL_STAGES if fw["virtual_stages"] == "tuned" or v == 1]
    grid = np.array([(mb, rc, vp) for mb in mbs for rc in rcs for vp in vps], dtype=np.int64)
    n = len(grid)
    fixed = {k: _int(row, k, 1) for k in ("tp", "pp", "dp", "cp", "ep")}
    cols = {k: np.full(n, v) for k, v in fixed.items()}
    cols.update(mb=grid[:, 0], recompute=grid[:, 1], vp=grid[:, 2], zero=np.full(n, zero),
                sp=np.full(n, int((row.get("sequence_parallel") or "no").strip() == "yes")))
    return cols


def predict_training_row(row: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Predicted step time [s] of one measurement row and the layout it used."""
    fw = _framework(row)
    dtype = (row.get("dtype") or "bf16").strip()
    ctx = Context(row_workload(row), row_machine(row), _execution(row, fw, dtype), load_params())
    lay = from_columns(_candidates(row, fw))
    experts = ctx.workload.moe.experts if ctx.workload.moe else 1
    if not experts_split(lay.tp, lay.cp, lay.dp, lay.ep, experts)[0]:      # the search's rule
        group = int(lay.tp[0] * lay.cp[0] * lay.dp[0])
        raise InputError("ep must divide tp x cp x dp and the number of experts", None,
                         row["case"], int(lay.ep[0]), f"a divisor of {group} and of {experts}")
    m = ctx.execution.global_batch // (lay.dp * lay.mb)
    ok = (ctx.execution.global_batch % (lay.dp * lay.mb)) == 0
    ok &= (lay.vp == 1) | ((m % lay.pp == 0) & (lay.pp * lay.vp <= ctx.workload.layers))
    lay = lay.take(ok)
    if len(lay) == 0:
        raise InputError("global_batch not divisible by dp x microbatch", None, row["case"])
    out = estimate_arrays(ctx, lay)
    default_rc = RECOMPUTE.index(fw["recompute"])
    prefer = out["fits"] & ((lay.recompute == default_rc) | ~np.any(
        out["fits"] & (lay.recompute == default_rc)))
    if prefer.any():   # fastest fitting layout, default recompute mode first
        best = int(np.argmin(np.where(prefer, out["step_s"], np.inf)))
    else:              # nothing fits our memory estimate: take the leanest layout
        best = int(np.argmin(out["memory_bytes"]))
    info = lay.row(best) | {"fits": bool(out["fits"][best]),
                            "memory_gb": round(float(out["memory_bytes"][best]) / 1e9, 1)}
    return float(out["step_s"][best]), info


# Numeric columns of the measurement CSVs: whole numbers >= 1 (>= 0 where zero means none) and
# positive measurements. Blank cells are allowed here (see _check_row); bad cells are input errors.
COUNTS = ("n_gpus", "scaleup_domain", "layers", "hidden", "ffn_hidden", "heads", "kv_heads",
          "seq_len", "vocab", "experts", "top_k", "moe_ffn_hidden", "tp", "pp", "dp", "cp", "ep",
          "vp", "global_batch", "microbatch", "input_tokens", "output_tokens", "max_batch_size",
          "max_num_tokens", "prefill_gpus", "decode_gpus")
ZERO_OK = ("shared_experts", "dense_layers", "draft_tokens")
AMOUNTS = ("scaleout_gbps_per_gpu", "measured_step_s", "measured_tokens_per_s", "ttft_limit_s",
           "tpot_limit_s", "effective_bits")
CHOICES = {"recompute": RECOMPUTE, "sequence_parallel": ("yes", "no"),
           "zero_stage": ("0", "1", "3"), "moe_dispatcher": MOE_DISPATCHERS,
           "cuda_graphs": CUDA_GRAPHS, "attention_kernel": ("fused", "sdpa"),
           "ep_overlap": ("true", "false"), "eager_expert_ops": ("true", "false"),
           "grouped_experts": ("true", "false"),
           "chunked_prefill": ("true", "false"),
           "gemm_allreduce_fusion": ("true", "false"),
           "capacity_scheduler": ("guaranteed_no_evict", "max_utilization")}


# GPUs and parallel sizes: at most the CLI's 10,000,000 GPUs; every other count 10^9.
_COUNT_MAX = dict.fromkeys(("n_gpus", "scaleup_domain", "tp", "pp", "dp", "cp", "ep", "vp"),
                           10_000_000)


def check_cells(row: dict[str, str], file: str, line_no: int) -> None:
    """Raise InputError, located at the file, line and column, for a malformed cell of `row`."""
    for key, text in row.items():
        text = (text or "").strip() if isinstance(text, str) else ""
        if not text or key not in (*COUNTS, *ZERO_OK, *AMOUNTS, *CHOICES, "framework",
                                   "cuda_graph_batch_sizes", "recompute_modules"):
            continue
        where = f"line {line_no}, column {key}"
        if key == "recompute_modules":
            unknown = [name for name in text.split() if name not in RECOMPUTE_MODULES]
            if unknown:
                raise InputError(f"unknown recompute module {unknown[0]!r}", file, where, text,
                                 " or ".join(RECOMPUTE_MODULES) + ", separated by spaces")
            continue
        if key == "cuda_graph_batch_sizes":
            if not all(size.isdigit() and int(size) >= 1 for size in text.split()):
                raise InputError("bad batch sizes", file, where, text,
                                 "whole numbers >= 1 separated by spaces")
            continue
        if key == "framework":
            if text not in frameworks()[0]:
                raise InputError("unknown framework", file, where, text,
                                 " or ".join(frameworks()[0]) + " (or blank: the default)")
            continue
        if key in CHOICES:
            if text not in CHOICES[key]:
                raise InputError("value not allowed", file, where, text,
                                 " or ".join(CHOICES[key]) + " (or blank)")
            continue
        try:
            value: float | None = float(text)
        except ValueError:
            value = None
        if key in AMOUNTS:
            if value is None or not 0 < value < float("inf"):
                raise InputError("bad measurement", file, where, text, "a number greater than 0")
        elif value is None or not value.is_integer() or \
                not (0 if key in ZERO_OK else 1) <= value <= _COUNT_MAX.get(key, 10**9):
            raise InputError("bad count", file, where, text,
                             f"a whole number >= {0 if key in ZERO_OK else 1}, at most "
                             f"{_COUNT_MAX.get(key, 10**9):,}")
    pools, n_gpus = [_int(row, key) for key in ("prefill_gpus", "decode_gpus")], _int(row, "n_gpus")
    # (a blank n_gpus skips the row: there is nothing to split)
    if any(pools) and (None in pools or n_gpus is not None and sum(pools) != n_gpus):
        raise InputError("prefill_gpus and decode_gpus do not split n_gpus", file,
                         f"line {line_no}", " + ".join(str(gpus or "(blank)") for gpus in pools)
                         + f" of {n_gpus}",
                         "both blank (colocated) or two pools that add up to n_gpus")
    lengths = [_cell(row, key) for key in ("input_tokens", "output_tokens")]
    if any(lengths) and not all(lengths):
        raise InputError("input_tokens and output_tokens go together", file,
                         f"line {line_no}", " / ".join(text or "(blank)" for text in lengths),
                         "both filled (fixed request lengths) or both blank (the benchmark's)")


def _check_row(row: dict[str, str]) -> str | None:
    """Why a row cannot be modelled, or None."""
    if _cell(row, "accelerator") not in load_catalog():
        return f"accelerator {row.get('accelerator')!r} not in the catalog"
    for key in ("layers", "hidden", "heads", "seq_len", "global_batch", "measured_step_s"):
        if not _cell(row, key):
            return f"column {key} is blank"
    if (row.get("dtype") or "bf16").strip() not in ("bf16", "fp16", "fp8", "mxfp8"):
        return f"dtype {row.get('dtype')!r} is not modelled"
    return None


# Columns a file of each kind must have (a blank cell skips its row, a missing column is an
# error): what the predictors read without a default, and the measurement.
TRAINING_COLUMNS = ("case", "accelerator", "layers", "hidden", "heads", "seq_len",
                    "global_batch", "measured_step_s")
INFERENCE_COLUMNS = ("case", "accelerator", "n_gpus", "model", "scenario", "precision",
                     "measured_tokens_per_s")
INFERENCE_SCENARIOS = ("offline", "server", "interactive")


def validate_training(path: str | Path) -> Report:
    """Predict ``measured_step_s`` for every row of a training-throughput CSV."""
    rows = read_csv(path, TRAINING_COLUMNS, "training-throughput")
    return _validate(path, rows, _check_row, predict_training_row, "step_s")


def _validate(path: str | Path, rows: list[dict[str, str]],
              skip_reason: Callable[[dict[str, str]], str | None],
              predict: Callable[[dict[str, str]], tuple[float, dict[str, Any]]],
              metric: str) -> Report:
    """Each row of `path` predicted against its ``measured_<metric>``; rows the model cannot
    take are skipped with the reason (never dropped silently). A file with no usable row is
    an InputError naming the first reason (there would be no error to average)."""
    results, skipped = [], []
    for i, row in enumerate(rows):
        check_cells(row, str(path), i + 2)
        reason = skip_reason(row)
        if reason:
            skipped.append((row["case"], reason))
            continue
        try:
            pred, info = predict(row)
        except InputError as exc:
            skipped.append((row["case"], str(exc)))
            continue
        except ValidationError as exc:     # cells each valid alone, together not a model
            first = validation_to_input_errors(exc, str(path))[0]
            raise replace(first, path=f"line {i + 2}, {first.path}") from None
        if not 0 < pred < float("inf"):
            skipped.append((row["case"], f"no layout the model can run (predicted {pred})"))
            continue
        meas = float(row[f"measured_{metric}"])
        results.append(RowResult(row["case"], pred, meas, pred / meas - 1.0, info))
    if not results:
        case, why = skipped[0]
        raise InputError(f"no row could be compared ({len(skipped)} skipped; first, {case}: "
                         f"{why})", str(path), expected="at least one row the model can take")
    return Report(results, skipped, metric)


def serving_for(model: str) -> Serving:
    """Mean request lengths of the benchmark that uses `model` (``data/serving.yaml``)."""
    return benchmark_for(model).serving()


def _row_serving(row: dict[str, str]) -> Serving:
    """The row's requests: fixed lengths where it gives ``input_tokens`` and ``output_tokens``
    (synthetic benchmarks such as trtllm-bench's, every request alike: no spread), else the
    lengths and spreads of the MLPerf benchmark of its model."""
    i_len, o_len = _int(row, "input_tokens"), _int(row, "output_tokens")
    if i_len is None or o_len is None:      # check_cells has made sure both or neither
        srv = serving_for(row["model"].strip())
    else:
        srv = Serving(float(i_len), float(o_len), input_cv=0.0, output_cv=0.0)
    return replace(srv, wider_share=_wider_share(row))


def _wider_share(row: dict[str, str]) -> float:
    """Share of a mixed checkpoint's weights kept in the format next wider than the row's, from
    its ``effective_bits`` (ModelOpt's mean bits per weight: NVFP4 4, FP8 8, none 16): an FP8 /
    16-bit mix, 8 (1 - x) + 16 x, or an FP4 / FP8 mix, 4 (1 - x) + 8 x. A search offered all
    three formats (NVIDIA's B200 Mixtral) is read as FP4 / FP8: a layer kept in 16 bits costs
    twice its size in further FP4 layers, so the search keeps one only where its FP8 error
    outweighs that (tests/data/README.md)."""
    text = _cell(row, "effective_bits")
    if not text:
        return 0.0
    bits, narrow = float(text), {"fp8": 8.0, "fp4": 4.0}.get(row["precision"].strip())
    if narrow is None or not narrow <= bits <= 2.0 * narrow:
        raise InputError("effective_bits describes a mix of the row's format and the next wider "
                         "one", None, row["case"], text, "8 to 16 with precision fp8, 4 to 8 "
                         "with precision fp4")
    return (bits - narrow) / narrow


def _row_replica(row: dict[str, str]) -> tuple[int, int, int] | None:
    """The replica the row's run used, where its ``tp`` column says: ``(GPUs, attention TP,
    pipeline stages)`` with ``tp x pp x dp`` GPUs (``pp``: pipeline stages, ``dp``: attention
    data-parallel ranks, blank for 1; a MoE model's experts spread over the whole replica).
    None: the model picks the layout."""
    tp, pp, dp = _int(row, "tp"), _int(row, "pp"), _int(row, "dp")
    if tp is None and (dp is not None or pp is not None):
        raise InputError("dp or pp without tp", None, row["case"], expected="tp with them "
                         "(the replica is tp x pp x dp GPUs)")
    return None if tp is None else (tp * (pp or 1) * (dp or 1), tp, pp or 1)


def _row_pools(row: dict[str, str]) -> int | None:
    """The prefill GPUs of a disaggregated run, where its ``prefill_gpus`` and ``decode_gpus``
    columns give its pools (together all ``n_gpus``, as check_cells has made sure); None:
    prefill and decode share every GPU (blank, the engines' default)."""
    return _int(row, "prefill_gpus")


def _row_engine(row: dict[str, str]) -> Engine:
    """The engine settings the row's run used, where its columns say (``max_batch_size``,
    ``max_num_tokens`` per engine, ``chunked_prefill`` true / false, the padded CUDA-graph
    ``cuda_graph_batch_sizes`` separated by spaces, ``gemm_allreduce_fusion`` true / false,
    ``capacity_scheduler`` guaranteed_no_evict / max_utilization, speculative decoding's
    ``draft_tokens`` per step); blank: the defaults."""
    sizes = _cell(row, "cuda_graph_batch_sizes").split()
    return Engine(max_batch_size=_int(row, "max_batch_size"),
                  max_num_tokens=_int(row, "max_num_tokens"),
                  chunked_prefill=_cell(row, "chunked_prefill") != "false",
                  cuda_graph_batch_sizes=tuple(int(size) for size in sizes) or None,
                  gemm_allreduce_fusion=_cell(row, "gemm_allreduce_fusion") == "true",
                  reserve_full_request=_cell(row, "capacity_scheduler") == "guaranteed_no_evict",
                  draft_tokens=_int(row, "draft_tokens") or 0)


def _row_limits(row: dict[str, str], scenario: str) -> Limits:
    """The row's p99 TTFT / TPOT limits [s]: its own columns, else the benchmark's."""
    if scenario == "offline":
        return Limits()
    ttft, tpot = (_cell(row, k) for k in ("ttft_limit_s", "tpot_limit_s"))
    if ttft and tpot:
        return Limits(float(ttft), float(tpot))
    return benchmark_for(row["model"].strip()).limits(scenario)


def _row_system_machine(row: dict[str, str]) -> Machine:
    """The row's hardware: the catalog system built on its accelerator (scale-up domain and
    NIC rate), the first one listed where several are."""
    acc = _accelerator(row)
    for sys_ in load_catalog():
        if isinstance(sys_, System) and sys_.accelerator == acc.id:
            return machine_from_system(sys_, acc)
    return row_machine(row)


def predict_inference_row(row: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Predicted throughput of the whole system [output tokens/s] in the row's scenario, and
    the layout chosen (offline: best that fits; server / interactive: best meeting the limits).
    """
    model, scenario = row["model"].strip(), row["scenario"].strip()
    dtype = row["precision"].strip()      # a serving precision (checked by check_cells)
    n_gpus = _int(row, "n_gpus")
    ctx = Context(get_workload(model, where="model"), _row_system_machine(row),
                  Execution(dtype=dtype), load_params())
    srv, replica = _row_serving(row), _row_replica(row)
    engine = _row_engine(row)
    searched = search_serving(ctx, srv, n_gpus, dtype, engine)
    if replica is not None:
        run = (searched["g"] == replica[0]) & (searched["tp"] == replica[1]) \
            & (searched["pp"] == replica[2])
        if not run.any():
            raise InputError(f"the serving model has no replica of {replica[0]} GPUs with "
                             f"attention TP {replica[1]} in {replica[2]} pipeline stage(s) on "
                             f"{n_gpus} GPUs", None, row["case"])
        searched = searched | {key: searched[key] & run
                               for key in ("fits", "served_fits", "prefill_fits")}
    limits, prefill_gpus = _row_limits(row, scenario), _row_pools(row)
    if prefill_gpus is not None:
        pools = disaggregated(ctx, srv, n_gpus, limits, dtype, searched, prefill_gpus)
        if pools is None:
            raise InputError(f"no disaggregated layout meets the limits on {prefill_gpus} "
                             f"prefill and {n_gpus - prefill_gpus} decode GPUs", None, row["case"])
        return pools.tokens_per_s_per_gpu * n_gpus, {
            "prefill": pools.prefill, "decode": pools.decode,
            "tpot_ms": round(pools.tpot_s * 1e3, 1), "ttft_ms": round(pools.ttft_s * 1e3, 1)}
    res = serve(ctx, srv, n_gpus, limits, dtype, searched, engine)
    if res.best is None:
        raise InputError(res.shortfall() or "no layout", None, row["case"])
    best = res.best
    info = best.layout | {"batch": best.batch, "tpot_ms": round(best.tpot_s * 1e3, 1),
                          "ttft_ms": round(best.ttft_s * 1e3, 1)}
    return best.tokens_per_s_per_gpu * n_gpus, info


def validate_inference(path: str | Path) -> Report:
    """Predict ``measured_tokens_per_s`` for every row (offline, server and interactive) of an
    MLPerf inference CSV (columns: ``INFERENCE_COLUMNS``; see ``tests/data/README.md``)."""
    rows = read_csv(path, INFERENCE_COLUMNS, "inference-throughput")
    return _validate(path, rows, _inference_skip, predict_inference_row, "tokens_per_s")


def _inference_skip(row: dict[str, str]) -> str | None:
    """Why an inference row cannot be modelled, or None."""
    for key in INFERENCE_COLUMNS:
        if not _cell(row, key):
            return f"column {key} is blank"
    if row["accelerator"].strip() not in load_catalog():
        return f"accelerator {row['accelerator']!r} not in the catalog"
    if row["scenario"].strip() not in INFERENCE_SCENARIOS:
        return f"scenario {row['scenario']!r} is not one of {', '.join(INFERENCE_SCENARIOS)}"
    if row["precision"].strip() not in PEAK_KEY:
        return f"precision {row['precision']!r} is not modelled ({', '.join(PEAK_KEY)})"
    return None
