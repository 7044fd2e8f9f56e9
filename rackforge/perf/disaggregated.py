"""Disaggregated serving: prefill and decode in separate pools, the KV cache of each request sent
from the prefill to the decode pool over the link the two share.

Each pool is the best layout of :func:`rackforge.perf.serving.search_serving` that meets its own
limit (TTFT for prefill, with the KV-cache transfer; TPOT for decode), and the GPUs are split
into whole replicas of each so that the busier pool serves the most requests (the balanced
ratio, prefill GPUs per decode GPU = their GPU-seconds per request, is the limit on many GPUs).

A prefill engine is a queue [9, Sec. 4.1]: prompts arrive at random (Poisson) and wait while it
works on earlier ones, so it can be loaded only as far as its p99 TTFT allows. Each engine is
the M/G/1 queue of :func:`rackforge.perf.latency.ttft_quantile` (gamma prompt lengths with the
benchmark's coefficient of variation), serving a prompt in ``t_p / b`` (a step of `b` prompts),
and a prompt's own time is the whole step ``t_p``; the highest load that meets the TTFT limit
sets the pool's GPU time per request.

References
----------
[9] Zhong et al., DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large
    Language Model Serving, OSDI 2024, Sec. 3 (separate pools, the KV cache sent from the
    prefill to the decode instance, pool sizes from each phase's per-request GPU time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rackforge.perf.benchmarks import Limits
from rackforge.perf.context import Context
from rackforge.perf.inference import Serving
from rackforge.perf.latency import ttft_quantile
from rackforge.perf.serving import input_cv, search_serving
from rackforge.perf.serving_params import load_serving_params

# Loads at which the p99 over the mean service is tabulated: 0 to 0.9999, denser towards 1.
_LOADS = 1.0 - np.geomspace(1.0, 1e-4, 400)
_LOADS.setflags(write=False)


@dataclass(frozen=True)
class Disaggregated:
    """Prefill and decode in separate pools [9]: the best layout of each that meets its limit
    (TTFT for prefill, KV-cache transfer included; TPOT for decode), and the split of the GPUs
    into whole replicas of each that serves the most requests."""

    tokens_per_s_per_gpu: float         # output tokens/s per GPU of both pools together
    prefill_gpus: int                   # GPUs of the prefill pool
    decode_gpus: int                    # GPUs of the decode pool
    balanced_ratio: float               # prefill GPUs per decode GPU that keeps both busy
    prefill: dict[str, int]             # layout and prompts per step
    decode: dict[str, int]              # layout and sequences in flight
    ttft_s: float                       # p99 at the pools' rate (no TTFT limit: from admission),
    #                                     KV-cache transfer included [s]
    tpot_s: float                       # decode step, no prompt work in it [s]
    kv_transfer_s: float                # one request's KV cache, prefill -> decode [s]
    link: str                           # the link it crosses: scale-up or scale-out
    link_bytes_per_s: float             # per GPU, one direction [B/s]


def disaggregated(ctx: Context, srv: Serving, n_gpus: int, limits: Limits | None = None,
                  dtype: str | None = None, searched: dict[str, np.ndarray] | None = None,
                  prefill_gpus: int | None = None) -> Disaggregated | None:
    """Best disaggregated operating point of `srv` on `n_gpus` GPUs, or None when no prefill or
    no decode layout meets the limits or no split of the GPUs holds both. Per request, the
    prefill pool spends ``t_p g / b`` GPU seconds (a step of `b` prompts on `g` GPUs) and the
    decode pool ``O t_d g / B`` [9], the prefill pool's over the highest load ``rho`` its p99
    TTFT allows (`_prefill_load`). With P prefill and D = n_gpus - P decode GPUs, each pool
    whole replicas of its layout, the busier pool sets the request rate,
    ``min(P rho / (t_p g / b), D / (O t_d g / B))``, and output tokens/s per GPU is ``O`` times
    that rate over n_gpus: P is `prefill_gpus` where given (a deployment's pools), else the
    split that serves most (the balanced ratio, ``t_p g / (b rho)`` over ``O t_d g / B``, is
    the limit it nears on many GPUs). The KV cache of ``I`` prompt tokens crosses the scale-up link
    when both pools fit one scale-up domain, else each GPU's NIC."""
    limits = limits or Limits()
    dtype = dtype or ctx.execution.dtype
    out = searched if searched is not None else search_serving(ctx, srv, n_gpus, dtype)
    machine, prompt_cv = ctx.machine, input_cv(srv, load_serving_params())
    o_len = float(srv.output_tokens)
    g, batch = out["g"].astype(float), out["batch"].astype(float)
    inside = n_gpus <= machine.scaleup_domain
    link = (machine.accelerator.scaleup_bandwidth_bytes_per_s
            * machine.device.scaleup_efficiency) if inside else machine.scaleout_bytes_per_s
    transfer = out["kv_prompt_bytes"] / (link * g)
    own = out["prefill_step_s"] + transfer          # a prompt's own time to its first token
    accepted = out["tokens_per_step"]     # speculative decoding (rackforge.perf.serving [24])
    tpot = out["decode_step_s"] / accepted
    ok_p = out["prefill_fits"].copy()
    ok_d = out["fits"] & (tpot <= (limits.tpot_s or np.inf))
    if prefill_gpus is not None:
        if not 0 < prefill_gpus < n_gpus:
            raise ValueError(f"prefill_gpus {prefill_gpus} is not between 1 and {n_gpus - 1}")
        # each pool is made of whole replicas of its layout
        ok_p &= prefill_gpus % out["g"] == 0
        ok_d &= (n_gpus - prefill_gpus) % out["g"] == 0
    per_prompt = out["prefill_step_s"] / batch               # an engine's time per prompt
    load = np.ones_like(per_prompt)
    if limits.ttft_s is not None:
        # 0 where no load meets the limit, a prompt's own time alone included
        load[ok_p] = _prefill_load(per_prompt[ok_p], own[ok_p], prompt_cv, limits.ttft_s)
        ok_p &= load > 0.0
    if not (ok_p.any() and ok_d.any()):
        return None
    pre_s = per_prompt * g / np.where(load > 0.0, load, 1.0)  # GPU-seconds per request
    dec_s = o_len * tpot * g / batch
    p = int(np.argmin(np.where(ok_p, pre_s, np.inf)))
    d = int(np.argmin(np.where(ok_d, dec_s, np.inf)))
    g_p, g_d = int(out["g"][p]), int(out["g"][d])
    if prefill_gpus is None:
        splits = np.arange(g_p, n_gpus - g_d + 1, g_p)
        splits = splits[(n_gpus - splits) % g_d == 0]
        if not splits.size:
            return None
    else:
        splits = np.array([prefill_gpus])
    rate = np.minimum(splits / pre_s[p], (n_gpus - splits) / dec_s[d])     # requests/s
    best = int(np.argmax(rate))
    # p99 TTFT at the rate the pools serve, each prefill engine taking its share of the
    # arrivals; with no TTFT limit the prefill pool may run full, and TTFT counts from
    # admission, as offline (rackforge.perf.serving.serve)
    arrivals = rate[best] * g_p / splits[best] if limits.ttft_s is not None else 0.0
    ttft = float(_ttft(arrivals, per_prompt[p], own[p], prompt_cv))

    def layout(i: int) -> dict[str, int]:
        return {"gpus": int(out["g"][i]), "tp": int(out["tp"][i]), "pp": int(out["pp"][i]),
                "ep": int(out["ep"][i]), "batch": int(out["batch"][i])}

    return Disaggregated(
        float(o_len * rate[best] / n_gpus), int(splits[best]), int(n_gpus - splits[best]),
        float(pre_s[p] / dec_s[d]), layout(p), layout(d),
        ttft, float(tpot[d]), float(transfer[p]),
        "scale-up" if inside else "scale-out", float(link))


def _ttft(arrivals_per_s: np.ndarray, per_prompt_s: np.ndarray, own_s: np.ndarray,
          prompt_cv: float) -> np.ndarray:
    """p99 TTFT [s] of a prefill engine under Poisson `arrivals_per_s`: the M/G/1 wait plus
    service of prompts served in `per_prompt_s` (gamma, `prompt_cv`), with the prompt's own
    time the whole step and the KV-cache transfer, `own_s`, in place of its mean service."""
    return ttft_quantile(arrivals_per_s, per_prompt_s, prompt_cv) + own_s - per_prompt_s


def _prefill_load(per_prompt_s: np.ndarray, own_s: np.ndarray, prompt_cv: float,
                  ttft_limit_s: float) -> np.ndarray:
    """The highest load ``rho`` (arrivals x `per_prompt_s`, below 1) at which a prefill engine's
    p99 TTFT (`_ttft`) meets `ttft_limit_s`; 0 where none does. The M/G/1 queue's p99 of wait
    plus service is the mean service ``S`` times a function ``F(rho)`` of the load alone (for
    a given service distribution, every time in it scales with ``S``), rising with the load,
    so the limit ``S F(rho) + own - S <= L`` is read off a table of ``F``."""
    loads, p99 = _p99_over_service(prompt_cv)
    allowed = (ttft_limit_s - own_s + per_prompt_s) / per_prompt_s
    return np.where(allowed < p99[0], 0.0, np.interp(allowed, p99, loads))


@lru_cache(maxsize=16)
def _p99_over_service(prompt_cv: float) -> tuple[np.ndarray, np.ndarray]:
    """`_LOADS` and the p99 of wait plus service over the mean service at each, for gamma
    service with coefficient of variation `prompt_cv` (:func:`ttft_quantile` at ``S = 1``)."""
    p99 = np.maximum.accumulate(ttft_quantile(_LOADS, np.ones_like(_LOADS), prompt_cv))
    p99.setflags(write=False)       # cached and shared; non-decreasing for the lookup
    return _LOADS, p99
