"""Cluster sizing on the mini catalog, every number worked by hand.

Mini rack (conftest): 10 compute trays of 4 GPUs (6 kW each) and 2 switch trays (1 kW): 40 GPUs
and 62 kW per rack. Here its compute trays are ``t-gpu`` (same figures, with an accelerator of
100 GB/s scale-up), the fabric switch ``sw-8`` has 8 x 100G ports (200 W), and the hall's
overhead tray adds 2 x (3.0 - 1.2) + 2.0 = 5.6 m to every run between racks.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rackforge.catalog import Catalog
from rackforge.catalog.loader import parse_parts
from rackforge.checks.fabric import check_cluster
from rackforge.design.cluster import fabric_bom, tier_bandwidths
from rackforge.scenario import from_dict, load
from tests.conftest import MINI_PARTS, mini_rack, size_scenario

SRC = {"title": "rackforge test fixture", "publisher": "rackforge", "year": 2026}
GPU = {"kind": "accelerator", "id": "acc-1", "name": "GPU", "vendor": "x", "source": SRC,
       "peak_flops": {"bf16": 1e15}, "hbm_bytes": 1e11, "hbm_bandwidth_bytes_per_s": 1e12,
       "tdp_w": 1000, "scaleup_bandwidth_bytes_per_s": 1e11, "scaleup_link": "x",
       "scaleout_gbps": 100}
PARTS = [
    GPU,
    {"kind": "tray", "id": "t-gpu", "name": "gpu tray", "role": "compute", "rack_units": 1,
     "mass_kg": 40, "max_power_w": 6000, "liquid_cooled_fraction": 0.9, "accelerator": "acc-1",
     "accelerators": 4, "max_coolant_supply_c": 45, "source": SRC},
    {"kind": "tray", "id": "sw-8", "name": "8-port switch", "role": "network-switch",
     "rack_units": 1, "mass_kg": 10, "max_power_w": 200, "liquid_cooled_fraction": 0,
     "ports": [{"name": "100G", "count": 8, "gbps": 100}], "source": SRC},
    {"kind": "cable", "id": "cu-100", "name": "DAC 100G", "medium": "passive-copper",
     "lane_gbps": 25, "lanes": 4, "reach_m": 3, "power_w": 0.1, "source": SRC},
    {"kind": "cable", "id": "opt-100", "name": "optic 100G", "medium": "optic-dsp",
     "lane_gbps": 25, "lanes": 4, "reach_m": 100, "power_w": 4.0, "source": SRC},
]
HALL = {"racks_per_row": 2, "rack_pitch_m": 0.6, "row_pitch_m": 3.0, "tray_height_m": 3.0,
        "port_height_m": 1.2, "slack_m": 2.0, "pue": 1.5, "network_rack_units": 40}


def gpu_rack() -> dict:
    rack = copy.deepcopy(mini_rack())
    rack["slots"][3]["part"] = "t-gpu"
    rack["cabling"][0]["from_part"] = "t-gpu"
    return rack


def scenario(**fabric) -> dict:
    base = {"topology": "fat-tree", "tiers": 3, "switch": "sw-8", "oversubscription": 1,
            "leaf_placement": "rack", "switch_latency_s": "100 ns"}
    return {"name": "c", "parts": copy.deepcopy(PARTS), "racks": [gpu_rack()],
            "cluster": {"rack": "r1", "racks": 2, "hall": dict(HALL),
                        "fabric": {**base, **fabric}}}


def sized(mini_catalog, data, variant=None):
    return size_scenario(from_dict(data, mini_catalog), variant)


def test_three_tier_cluster_hand_numbers(mini_catalog):
    r = sized(mini_catalog, scenario())
    assert (r.racks, r.accelerators, r.nodes) == (2, 80, 20)
    s = r.fabric.sizing
    # k = 8, 1:1: 4 down / 4 up. 80 endpoints -> 20 leaves; pods of 4 leaves -> 5 pods of
    # 4 spines = 20 spines; core per plane: ceil(5 x 4 / 8) = 3 -> divisor of 4 -> 4; x 4 planes.
    assert [t.switches for t in s.tiers] == [20, 20, 16]
    assert s.links == (80, 80, 80)
    assert [t.ports_spare for t in s.tiers] == [0, 0, 16 * 8 - 80]
    nl, ls, sc = r.fabric.links
    assert (nl.cable.id, ls.cable.id, sc.cable.id) == ("cu-100", "opt-100", "opt-100")
    assert nl.run.max_m == pytest.approx(2.3 + 0.5)            # in-rack: rack height + 0.5 m
    assert ls.run.max_m == pytest.approx(0.3 + 5.6)            # pod of 1 rack: half a pitch
    assert sc.run.max_m == pytest.approx(0.6 + 5.6)            # 2 racks in a row
    assert (nl.transceivers, ls.transceivers, sc.transceivers) == (0, 160, 160)
    assert r.fabric.switch_power_w == 56 * 200
    assert r.fabric.optics_power_w == pytest.approx(80 * 0.1 + 160 * 4.0)
    assert r.rack_it_power_w == 62_000
    assert r.it_power_w == pytest.approx(124_000 + 11_200 + 648)
    assert r.facility_power_w == pytest.approx(1.5 * 135_848)
    assert r.network_racks == 2                                  # 56 U of switches / 40 U
    assert r.floor_area_m2 == pytest.approx(4 * 0.6 * 3.0)
    assert r.fabric.bisection_bytes_per_s == pytest.approx(40 * 100e9 / 8)
    assert r.fabric.latency_s == pytest.approx(5 * 100e-9 + 2 * (2.8 + 5.9 + 6.2) * 5e-9)


def test_target_accelerators_round_up_to_racks(mini_catalog):
    data = scenario()
    data["cluster"]["racks"], data["cluster"]["accelerators"] = None, 81
    assert sized(mini_catalog, data).racks == 3


def test_tier_bandwidths_divide_by_oversubscription(mini_catalog):
    # 2 racks, 3 tiers at [3, 1]: leaves 6 down / 2 up -> 14 leaves; pods of 4 leaves -> 4 pods
    # of 2 spines; core per plane ceil(4 x 4 / 8) = 2 -> 4 core. Leaf (6 GPUs) and pod
    # (24 GPUs) tiers span less than the 40-GPU rack and drop out; the core carries a third.
    r = sized(mini_catalog, scenario(oversubscription=[3, 1]))
    assert [t.switches for t in r.fabric.sizing.tiers] == [14, 8, 4]
    tiers = tier_bandwidths(r)
    assert [t.name for t in tiers] == ["scale-up", "core"]
    assert tiers[0].span_gpus == 40 and tiers[0].bandwidth_bytes_per_s_per_gpu == 1e11
    assert tiers[1].span_gpus == 80
    assert tiers[1].bandwidth_bytes_per_s_per_gpu == pytest.approx(100e9 / 8 / 3)
    assert tiers[1].latency_s == pytest.approx(5 * 100e-9 + 2 * (1.65 + 5.75 + 5.9) * 5e-9)
    nonblocking = tier_bandwidths(sized(mini_catalog, scenario()))
    assert nonblocking[-1].bandwidth_bytes_per_s_per_gpu == pytest.approx(100e9 / 8)


DGX_PARTS = [
    {"kind": "tray", "id": "dgx-like", "name": "8-GPU node (1U stand-in)", "role": "compute",
     "rack_units": 1, "mass_kg": 40, "max_power_w": 14300, "liquid_cooled_fraction": 0.9,
     "accelerator": "acc-1", "accelerators": 8, "max_coolant_supply_c": 45, "source": SRC},
    {"kind": "tray", "id": "qm-64", "name": "64 x NDR 400G switch", "role": "network-switch",
     "rack_units": 1, "mass_kg": 14, "max_power_w": 1700, "liquid_cooled_fraction": 0,
     "ports": [{"name": "NDR", "count": 64, "gbps": 400}], "source": SRC},
    {"kind": "cable", "id": "opt-400", "name": "NDR optic", "medium": "optic-dsp",
     "lane_gbps": 100, "lanes": 4, "reach_m": 50, "power_w": 17, "source": SRC},
]


def test_dgx_b200_superpod_4su_at_cluster_level(mini_catalog):
    # DGX SuperPOD B200 RA (RA-11334-001), component-count table, 4 SUs: 128 nodes, 1,024 GPUs,
    # 32 leaf and 16 spine QM9700, 1,024 node-leaf and 1,024 leaf-spine cables. Racks of 4
    # nodes (as in the RA's SU rack layout), 8 rails, NVLink domain of 8 GPUs per node.
    data = scenario(topology="rail-optimized", tiers=2, switch="qm-64", nics_per_accelerator=1,
                    leaf_placement="row")
    data["parts"] += copy.deepcopy(DGX_PARTS)
    rack = data["racks"][0]
    rack["slots"] = [s for s in rack["slots"] if s["part"] not in ("t-gpu", "t-switch")]
    rack["slots"].append({"position": 10, "part": "dgx-like", "count": 4})
    rack["cabling"] = []
    data["cluster"].update(racks=32, scaleup={"domain_gpus": 8})
    r = sized(mini_catalog, data)
    assert (r.accelerators, r.nodes) == (1024, 128)
    s = r.fabric.sizing
    assert [t.switches for t in s.tiers] == [32, 16] and s.links == (1024, 1024)
    tiers = tier_bandwidths(r)
    assert [(t.name, t.span_gpus) for t in tiers] == [("scale-up", 8), ("leaf", 256),
                                                      ("spine", 1024)]
    assert tiers[1].bandwidth_bytes_per_s_per_gpu == pytest.approx(400e9 / 8)
    assert r.fabric.transceivers == 2 * 2048                  # every link optical, 2 ends


def test_fabric_bom_lines(mini_catalog):
    r = sized(mini_catalog, scenario())
    bom = fabric_bom(r)
    assert bom[0] == ("sw-8", 56, "scale-out switches (leaf 20, spine 20, core 16)")
    assert [(p, n) for p, n, _ in bom[1:]] == [("cu-100", 80), ("opt-100", 80), ("opt-100", 80)]
    assert "160 transceivers" in bom[2][2]


def test_breakout_shares_link_parts(mini_catalog):
    # 8 x 100G run as 16 x 50G: radix 16, two logical links per 100G part.
    r = sized(mini_catalog, scenario(tiers=2, port_gbps="50 Gbit/s"))
    assert r.fabric.sizing.shape.radix == 16
    nl = r.fabric.links[0]
    assert (nl.links, nl.cables) == (80, 40)


def test_frontend_and_ethernet_scaleup(mini_catalog):
    data = scenario(tiers=2)
    data["cluster"]["racks"] = 1
    data["cluster"]["frontend"] = {"switch": "sw-8", "ports_per_node": 1, "extra_endpoints": 2,
                                   "oversubscription": 3, "leaf_placement": "rack"}
    data["cluster"]["scaleup"] = {"kind": "ethernet", "switch": "sw-8",
                                  "ports_per_accelerator": 2}
    r = sized(mini_catalog, data)
    # front-end: 10 trays + 2 = 12 ports, 6 per leaf -> 2 leaves of 2 uplinks -> 1 spine
    assert [t.switches for t in r.frontend.sizing.tiers] == [2, 1]
    su = r.scaleup
    # 40-GPU domain on 8-port switches: 2 planes x ceil(40 / 8) = 10 switches, 32 ports short
    assert (su.switches, su.ports_short) == (10, 32)
    assert su.bandwidth_bytes_per_s_per_gpu == pytest.approx(2 * 100e9 / 8)
    assert su.power_w == pytest.approx(10 * 200 + 80 * 0.1)
    assert r.fabric_power_w == pytest.approx(r.fabric.power_w + r.frontend.power_w + su.power_w)


def test_variant_changes_size_and_tiers(mini_catalog):
    data = scenario(tiers=2)
    data["cluster"]["racks"] = 1
    data["cluster"]["variants"] = [{"name": "big", "racks": 2, "tiers": 3}]
    r = sized(mini_catalog, data, "big")
    assert r.name == "big" and r.accelerators == 80 and len(r.fabric.sizing.tiers) == 3


def test_tier_lookup_picks_innermost_covering_tier():
    from rackforge.design.cluster import Tier, tier_lookup
    tiers = [Tier("scale-up", 72, 9e11, 2.5e-7), Tier("leaf", 144, 5e10, 6e-7),
             Tier("spine", 1152, 5e10 / 3, 2e-6)]
    bw, lat = tier_lookup(tiers, np.array([1, 72, 73, 144, 145, 1152, 5000]))
    assert bw.tolist() == [9e11, 9e11, 5e10, 5e10, 5e10 / 3, 5e10 / 3, 5e10 / 3]
    assert lat.tolist() == [2.5e-7, 2.5e-7, 6e-7, 6e-7, 2e-6, 2e-6, 2e-6]


REFERENCE = Path(__file__).parents[2] / "scenarios" / "reference.yaml"


def test_reference_cluster_and_100k_variant():
    # 16 NVL72 racks = 288 trays, 4 rails; rail leaves of radix 128 (64 x 800G as 400G) at 1:1
    # take 64 trays each, packed across the SUs of 36 trays: ceil(288 / 64) = 5 leaves per rail
    # = 20 leaves of ceil(288 / 5) = 58 trays. Uplinks spread evenly: spines >= ceil(20 x 58 /
    # 128) = 10, and 10 spines take 60 uplinks per leaf (58 <= 60 <= 128 - 58; 1,200 <= 1,280).
    # (Before packing: one SU of 36 trays per rail leaf, 32 leaves + 9 spines = 41.)
    scen = load(REFERENCE)
    r = size_scenario(scen)
    s = r.fabric.sizing
    assert (r.accelerators, r.racks, r.nodes) == (1152, 16, 288)
    assert [t.switches for t in s.tiers] == [20, 10] and s.links == (1152, 1200)
    assert [(t.down_ports, t.up_ports) for t in s.tiers] == [(58, 60), (120, 0)]
    assert [t.ports_spare for t in s.tiers] == [20 * 128 - 1152 - 1200, 10 * 128 - 1200]
    # 128 leaves of 64 trays = 32 leaves per rail = 2,048 trays, in whole SUs of 36: 56 SUs.
    assert r.max_accelerators == 2048 // 36 * 36 * 4
    assert [(t.name, t.span_gpus) for t in r.tiers] == [("scale-up", 72), ("leaf", 58 * 4),
                                                          ("spine", 1152)]
    assert r.tiers[2].bandwidth_bytes_per_s_per_gpu == r.tiers[1].bandwidth_bytes_per_s_per_gpu
    # 400G NIC links ride 800G twin-port optics: 1,152 links on 576 parts; 576 switch-side
    # modules + 1,152 NIC-side modules; leaf-spine parts have a twin-port module at each end.
    nl, ls = r.fabric.links
    assert (nl.cables, nl.transceivers) == (576, 576 + 1152)
    assert (ls.cables, ls.transceivers) == (600, 1200)
    assert not [f for f in check_cluster(r) if f.severity == "error"]
    # 100,000 GPUs -> 1,389 racks, 25,002 trays, SUs of 64 -> 391 SUs = 1,564 leaves of 64
    # down / 64 up; pods of at most 64 leaves -> 25 pods of ceil(1,564 / 25) = 63 leaves, 64
    # spines each (a divisor of 64 with 63 x 64 <= 64 x 64) = 1,600, 63 down per spine; core per
    # plane >= ceil(25 x 63 / 128) = 13, and 13 takes 65 uplinks per spine (63 <= 65 <= 65;
    # 25 x 65 <= 13 x 128): 13 x 64 planes = 832. (Before: 64 uplinks, 16 per plane, 1,024.)
    big = size_scenario(scen, "100k")
    assert (big.accelerators, big.racks) == (100_008, 1389)
    tiers = big.fabric.sizing.tiers
    assert [t.switches for t in tiers] == [1564, 1600, 832]
    assert [(t.down_ports, t.up_ports) for t in tiers] == [(64, 64), (63, 65), (125, 0)]
    assert big.fabric.sizing.links == (100_008, 1564 * 64, 1600 * 65)
    assert big.max_accelerators == 128 * 64 * 64
    assert [(t.name, t.span_gpus) for t in big.tiers] == [
        ("scale-up", 72), ("leaf", 256), ("spine", 63 // 4 * 256), ("core", 100_008)]
    assert not [f for f in check_cluster(big) if f.severity == "error"]


def test_lpo_can_be_ruled_out(mini_catalog):
    scen = load(REFERENCE)
    auto = size_scenario(scen).fabric.links[0]
    data = yaml.safe_load(REFERENCE.read_text())
    data["cluster"]["fabric"]["allow_lpo"] = False
    no_lpo = size_scenario(from_dict(data, file=str(REFERENCE))).fabric.links[0]
    assert auto.medium == "optic-lpo" and no_lpo.medium != "optic-lpo"
    assert no_lpo.reaches and no_lpo.cable.power_w >= auto.cable.power_w


def test_variant_without_size_keeps_base_size(mini_catalog):
    data = scenario()
    data["cluster"]["variants"] = [{"name": "blocking", "oversubscription": [3, 1]}]
    r = sized(mini_catalog, data, "blocking")
    assert r.racks == 2 and r.fabric.sizing.tiers[0].oversubscription == 3.0


def test_one_port_switch_is_rejected(mini_catalog):
    from rackforge.errors import InputError
    data = scenario()
    data["parts"][2]["ports"] = [{"name": "1", "count": 1, "gbps": 100}]
    with pytest.raises(InputError, match="too few ports"):
        from_dict(data, mini_catalog)


@settings(max_examples=60, deadline=None)
@given(racks=st.integers(1, 3000), tiers=st.sampled_from([2, 3]),
       topology=st.sampled_from(["rail-optimized", "fat-tree", "leaf-spine"]),
       o=st.sampled_from([1, 1.5, 2, 3]), su=st.one_of(st.none(), st.integers(1, 8)),
       speed=st.sampled_from(["100 Gbit/s", "50 Gbit/s", "25 Gbit/s"]))
def test_any_valid_cluster_sizes_or_says_why(racks, tiers, topology, o, su, speed):
    from rackforge.errors import InputError
    catalog = Catalog({p.id: p for p in parse_parts([{**p, "source": SRC} for p in MINI_PARTS],
                                                    "mini")})
    if topology == "leaf-spine":
        tiers = 2
    data = scenario(tiers=tiers, topology=topology, oversubscription=o, su_nodes=su,
                    port_gbps=speed)
    data["cluster"]["racks"] = racks
    try:
        r = sized(catalog, data)
    except InputError as exc:                      # only bad combinations, with a key path
        assert "cluster.fabric" in str(exc)
        return
    s = r.fabric.sizing
    assert r.accelerators == 40 * racks and s.endpoints_used == 40 * racks
    assert s.feasible == (s.endpoints_used <= s.max_endpoints)
    assert all(t.ports_used <= t.ports_total for t in s.tiers) or not s.feasible
    assert r.it_power_w > r.racks_it_power_w > 0
    spans = [t.span_gpus for t in r.tiers]
    assert spans == sorted(set(spans)) and spans[-1] <= r.accelerators
