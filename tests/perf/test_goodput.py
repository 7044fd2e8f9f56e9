"""Goodput against hand calculations, Daly's (2006) published optima and the Llama 3 run.

Every expected value is worked by hand in the comment next to it; none is computed by calling
the code under test another way. References: Young (1974), CACM 17(9); Daly (2006), FGCS 22(3)
303-312; Dubey et al. (2024), "The Llama 3 Herd of Models", Sec. 3.3.4 and Table 5.
"""

from __future__ import annotations

import json
import math

import pytest

from rackforge.errors import InputError
from rackforge.inputs import validate
from rackforge.perf.goodput import (
    CheckpointSpec,
    FailureData,
    Recovery,
    cluster_counts,
    daly_first_order_interval_s,
    daly_fraction,
    daly_interval_s,
    goodput,
    interruptions_per_hour,
    load_failure_file,
    load_failures,
    waste_fraction,
    young_interval_s,
)

LLAMA3_GPUS = 16_384
DAY_S = 86_400.0
SRC = {"title": "hand case", "publisher": "rackforge tests", "year": 2026}


def _one_cause_data(count: int = 1) -> FailureData:
    """`count` accelerator interruptions on 1 GPU over 10 h: 0.1 per GPU-hour when count = 1."""
    return FailureData.model_validate({
        "name": "hand", "source": SRC, "hours": {"value": 10, "source": SRC},
        "unexpected_interruptions": count, "units": {"accelerator": {"value": 1, "source": SRC}},
        "causes": {"gpu": {"label": "GPU", "count": count, "kind": "accelerator"}},
    })


# Ten GPUs in one 10-GPU host x 0.1 per GPU-hour = 1 interruption per hour: M = 3,600 s.
# Checkpoint 1e9 params x 10 B = 1e10 B; write at 1e9 B/s: delta = 10 s; read at 1e10 B/s:
# restore 1 s; the host link (1e12 B/s) never binds. tau = 590 s, so tau + delta = 600 s.
HAND_CLUSTER = cluster_counts(10, gpus_per_host=10)
HAND_CKPT = CheckpointSpec(params=1e9, bytes_per_param=10, write_bytes_per_s=1e9,
                           read_bytes_per_s=1e10, host_bytes_per_s=1e12, interval_s=590)
# Daly's complete model with R = restart 99 + restore 1 = 100 s:
#   e^(100/3600) = e^(0.027778) = 1.028167;  e^(600/3600) - 1 = e^(0.166667) - 1 = 0.181360
#   3600 x 1.028167 x 0.181360 = 671.29;  590 / 671.29 = 0.87891
HAND_FRACTION = 0.87891


def test_young_interval():
    # sqrt(2 x 300 s x 86,400 s) = sqrt(51,840,000) = 7,200 s
    assert young_interval_s(300.0, 86_400.0) == pytest.approx(7_200.0)


def test_daly_first_order_interval_adds_the_restart():
    # sqrt(2 x 300 x (86,100 + 300)) = sqrt(2 x 300 x 86,400) = 7,200 s
    assert daly_first_order_interval_s(300.0, 86_100.0, 300.0) == pytest.approx(7_200.0)


@pytest.mark.parametrize(("mtbf_min", "expected_min", "tol_min"), [
    # Daly (2006), captions of Figs. 3-5: delta = 5 min; the model predicts tau_opt = 117, 57
    # and 9.1 min for M = 24 h, 6 h and 15 min. By hand for M = 1,440 min: sqrt(2 x 5 x 1440)
    # = 120; x = 5/2880 = 0.001736; 120 x (1 + 0.041667/3 + 0.001736/9) - 5 = 116.69 min.
    (1_440.0, 117.0, 0.5),
    (360.0, 57.0, 0.5),
    (15.0, 9.1, 0.05),
])
def test_daly_higher_order_interval_matches_daly_2006(mtbf_min, expected_min, tol_min):
    got = daly_interval_s(5.0 * 60.0, mtbf_min * 60.0) / 60.0
    assert got == pytest.approx(expected_min, abs=tol_min)


def test_daly_interval_is_the_mtbf_when_the_dump_takes_two_mtbfs():
    # Daly (2006): tau_opt = M for delta >= 2M
    assert daly_interval_s(200.0, 100.0) == 100.0


def test_waste_formula_simple_case():
    # tau 3,600 s, delta 60 s, M 36,000 s, R 600 s:
    # 60/3600 + 3660/72000 + 600/36000 = 0.016667 + 0.050833 + 0.016667 = 0.084167
    assert waste_fraction(3_600.0, 60.0, 36_000.0, 600.0) == pytest.approx(0.084167, abs=1e-6)


def test_daly_complete_model_hand_cases():
    # delta = 0, R = 0, tau = M ln 2: e^(ln 2) - 1 = 1, so the fraction is tau / M = ln 2
    m = 1_000.0
    assert daly_fraction(m * math.log(2), 0.0, m, 0.0) == pytest.approx(math.log(2))
    # R = M ln 2 doubles the wall time: ln 2 / 2
    assert daly_fraction(m * math.log(2), 0.0, m, m * math.log(2)) == pytest.approx(
        math.log(2) / 2)


def test_llama3_rates_reproduce_the_per_day_figure():
    data = load_failures()
    # faulty GPU: 148 / (16,384 GPUs x 1,296 h) = 148 / 21,233,664 = 6.9701e-6 per GPU-hour
    assert data.rate_per_unit_hour("faulty-gpu") == pytest.approx(6.9701e-6, rel=1e-4)
    per_hour = interruptions_per_hour(cluster_counts(LLAMA3_GPUS), data)
    # the whole job: 419 interruptions / 54 days = 7.7593 per day
    assert sum(per_hour.values()) * 24 == pytest.approx(7.7593, rel=1e-4)
    # GPU causes only: (148+72+19+17+6+6) = 268 / 54 = 4.9630 per day
    gpu = sum(v for k, v in per_hour.items() if data.causes[k].kind == "accelerator")
    assert gpu * 24 == pytest.approx(4.9630, rel=1e-4)


def test_more_gpus_more_interruptions():
    # Doubling GPUs doubles every cause but the per-job ones (software 54 + NCCL 7 +
    # dependency 2 = 63): (2 x 356 + 63) / 54 = 775 / 54 = 14.352 per day
    data = load_failures()
    small = sum(interruptions_per_hour(cluster_counts(LLAMA3_GPUS), data).values()) * 24
    big = sum(interruptions_per_hour(cluster_counts(2 * LLAMA3_GPUS), data).values()) * 24
    assert big == pytest.approx(14.352, rel=1e-4)
    assert big > small


def test_goodput_hand_case():
    g = goodput(10 * DAY_S, HAND_CLUSTER, HAND_CKPT, _one_cause_data(),
                Recovery(restart_s=99.0, repair_s=0.0))
    assert g.mtbf_s == pytest.approx(3_600.0)
    assert g.interruptions_per_day == pytest.approx(24.0)
    assert g.checkpoint_bytes == pytest.approx(1e10)
    assert g.checkpoint_write_s == pytest.approx(10.0)
    assert g.restore_s == pytest.approx(1.0)
    assert g.fraction == pytest.approx(HAND_FRACTION, abs=2e-5)
    # lost per interruption: R + (tau + delta)/2 = 100 + 300 = 400 s
    assert g.lost_s_per_interruption == pytest.approx(400.0)
    # first-order waste: 10/590 + 600/7200 + 100/3600 = 0.016949 + 0.083333 + 0.027778
    assert sum(g.waste_first_order.values()) == pytest.approx(0.128060, abs=1e-6)
    assert g.time_to_train_s == pytest.approx(10 * DAY_S / HAND_FRACTION, rel=3e-5)


def test_repair_wait_without_and_with_spares():
    data = _one_cause_data()
    # No spare: every interruption waits the full repair of 3,600 s; the job runs M / (M + W)
    # = 3600 / 7200 of the time: 0.87891 / 2 = 0.43945; lost 100 + 3600 + 300 = 4,000 s
    none = goodput(10 * DAY_S, HAND_CLUSTER, HAND_CKPT, data,
                   Recovery(restart_s=99.0, repair_s=3_600.0, spare_domains=0))
    assert none.repair_wait_s == pytest.approx(3_600.0)
    assert none.fraction == pytest.approx(HAND_FRACTION / 2, abs=2e-5)
    assert none.lost_s_per_interruption == pytest.approx(4_000.0)
    # One pool spare; units in repair ~ Poisson(1/h x 1 h = 1): free with P(N < 1) = e^-1 =
    # 0.367879, so the wait is 3600 x 0.632121 = 2,275.64 s
    pool = goodput(10 * DAY_S, HAND_CLUSTER, HAND_CKPT, data,
                   Recovery(restart_s=99.0, repair_s=3_600.0, spare_domains=1))
    assert pool.repair_wait_s == pytest.approx(2_275.64, abs=0.01)
    # Two idle GPUs in the (only) domain: P(N < 2) = e^-1 (1 + 1) = 0.735759, wait
    # 3600 x 0.264241 = 951.27 s
    inside = goodput(10 * DAY_S, HAND_CLUSTER, HAND_CKPT, data,
                     Recovery(restart_s=99.0, repair_s=3_600.0, spare_domains=0,
                              spare_gpus_per_domain=2))
    assert inside.repair_wait_s == pytest.approx(951.27, abs=0.01)


def test_more_spares_never_reduce_goodput():
    cluster = cluster_counts(73_728, gpus_per_host=4, scaleup_domain=72)
    ckpt = CheckpointSpec(params=405e9)
    pools, per_domains = (0, 1, 2, 4, 8, 16, 32), (0, 1, 2, 4, 8)
    grid = [[goodput(30 * DAY_S, cluster, ckpt, recovery=Recovery(
        spare_domains=pool, spare_gpus_per_domain=inside)).fraction for pool in pools]
        for inside in per_domains]
    for row in grid:                       # more pool spares, same spares inside each domain
        assert row == sorted(row)
    for column in zip(*grid, strict=True):  # more spares inside each domain, same pool
        assert list(column) == sorted(column)


def test_llama3_405b_on_16k_h100_is_above_90_percent():
    # Meta reports > 90% effective training time (Dubey et al. 2024, Sec. 3.3.4). The job used
    # 16K of a 24K-GPU cluster (Sec. 3.3.1), so spare hosts were at hand: 1,024 hosts.
    # Checkpoint 405e9 x 14 B = 5.67e12 B; at Tectonic's 2 TB/s sustained: 2.835 s.
    g = goodput(54 * DAY_S, cluster_counts(LLAMA3_GPUS), CheckpointSpec(params=405e9),
                recovery=Recovery(spare_domains=1_024))
    assert g.checkpoint_bytes == pytest.approx(5.67e12)
    assert g.checkpoint_write_s == pytest.approx(2.835)
    assert g.interruptions_per_day == pytest.approx(419 / 54)
    assert g.planned_per_day == pytest.approx(47 / 54)
    assert 0.90 < g.fraction < 1.0
    assert g.time_to_train_s > 54 * DAY_S
    # With the defaults: 1 % of the 2,048 hosts, 21, held as hot spares. Units in repair:
    # 321 host-replacing interruptions / 1,296 h x 4 h = 0.99 on average, so 21 spares are
    # almost never all taken and the fraction is the same to 1e-9.
    default = goodput(54 * DAY_S, cluster_counts(LLAMA3_GPUS), CheckpointSpec(params=405e9))
    assert default.fraction == pytest.approx(g.fraction, abs=1e-9)


def test_asynchronous_checkpoint_blocks_less():
    cluster, rec = cluster_counts(LLAMA3_GPUS), Recovery(spare_domains=64)
    sync = goodput(DAY_S, cluster, CheckpointSpec(params=405e9), recovery=rec)
    asyn = goodput(DAY_S, cluster, CheckpointSpec(params=405e9, asynchronous=True), recovery=rec)
    # blocking part: 5.67e12 B / 16,384 GPUs / 25e9 B/s = 0.013843 s per GPU shard
    assert asyn.checkpoint_write_s == pytest.approx(0.013843, rel=1e-4)
    assert asyn.checkpoint_interval_s >= asyn.checkpoint_write_s + asyn.checkpoint_lag_s
    assert asyn.fraction > sync.fraction


def test_to_dict_is_plain_json():
    g = goodput(DAY_S, cluster_counts(LLAMA3_GPUS), CheckpointSpec(params=405e9))
    text = json.dumps(g.to_dict(), allow_nan=False)
    assert '"by_cause"' in text and '"faulty-gpu"' in text
    # no interruption at all: M is None, not infinity
    quiet = goodput(DAY_S, HAND_CLUSTER, HAND_CKPT, _one_cause_data(count=0))
    assert quiet.to_dict()["mtbf_s"] is None
    # tau 590 s, delta 10 s, no failure and no planned stop: 590 / 600
    assert quiet.fraction == pytest.approx(590 / 600)


def test_shipped_data_is_sourced_and_adds_up():
    data = load_failure_file()
    llama = data.datasets[data.default_dataset]
    assert sum(c.count for c in llama.causes.values()) == 419
    assert llama.hours.value == 54 * 24
    for figure in (*llama.units.values(), llama.hours, *data.defaults.__dict__.values()):
        assert figure.source is not None or (figure.assumption and figure.reason)


@pytest.mark.parametrize("change", [
    {"hours": {"value": 10}},                              # no source, no assumption
    {"unexpected_interruptions": 2},                       # causes add up to 1
    {"units": {"host": {"value": 1, "source": SRC}}},      # no denominator for accelerator
])
def test_bad_failure_data_is_an_input_error(change):
    raw = {"name": "hand", "source": SRC, "hours": {"value": 10, "source": SRC},
           "unexpected_interruptions": 1, "units": {"accelerator": {"value": 1, "source": SRC}},
           "causes": {"gpu": {"label": "GPU", "count": 1, "kind": "accelerator"}}}
    with pytest.raises(InputError):
        validate(FailureData, raw | change)


@pytest.mark.parametrize(("make", "words"), [
    (lambda: cluster_counts(0), "n_gpus"),
    (lambda: cluster_counts(64, gpus_per_host=4, scaleup_domain=70), "scale-up domain"),
    (lambda: goodput(0.0, HAND_CLUSTER, HAND_CKPT), "ideal_train_s"),
    (lambda: goodput(DAY_S, HAND_CLUSTER, CheckpointSpec(params=0)), "params"),
    (lambda: goodput(DAY_S, HAND_CLUSTER, CheckpointSpec(params=1e9, write_bytes_per_s=-1.0)),
     "write_bytes_per_s"),
    (lambda: goodput(DAY_S, HAND_CLUSTER, CheckpointSpec(params=1e9, read_bytes_per_s=0.0)),
     "read_bytes_per_s"),
    (lambda: goodput(DAY_S, HAND_CLUSTER, HAND_CKPT, recovery=Recovery(restart_s=-1.0)),
     "restart_s"),
    (lambda: goodput(DAY_S, HAND_CLUSTER, HAND_CKPT, recovery=Recovery(spare_domains=-1)),
     "spare_domains"),
    (lambda: load_failures("no-such-fleet"), "unknown failure data set"),
])
def test_bad_inputs_raise_input_error(make, words):
    with pytest.raises(InputError, match=words):
        make()


def test_interrupted_faster_than_a_checkpoint_is_written():
    # 1e12 params x 14 B = 1.4e13 B at 1e9 B/s: 14,000 s per write; Llama 3's 16k-GPU job is
    # interrupted every 86,400 / 7.7593 = 11,135 s
    with pytest.raises(InputError, match="cannot make progress"):
        goodput(DAY_S, cluster_counts(LLAMA3_GPUS),
                CheckpointSpec(params=1e12, write_bytes_per_s=1e9))
