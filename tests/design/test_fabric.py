"""Fabric sizing against hand calculations and two published NVIDIA SuperPOD designs.

Fat-tree capacity: Al-Fares, Loukissas, Vahdat, "A scalable, commodity data center network
architecture", SIGCOMM 2008, Sec. 2.2: k-port switches, non-blocking, k^2/2 hosts in two tiers
and k^3/4 in three, with 5k^2/4 switches in the three-tier tree.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rackforge.design.fabric import (
    FabricShape,
    max_endpoints,
    size_fabric,
    smallest_divisor_at_least,
    split_ports,
)


@pytest.mark.parametrize("k", [4, 8, 16, 32, 64, 128])
def test_nonblocking_capacity_is_k2_over_2_and_k3_over_4(k):
    assert max_endpoints(k, 2) == k * k // 2
    assert max_endpoints(k, 3) == k ** 3 // 4


@pytest.mark.parametrize("k", [8, 16, 64])
def test_full_two_tier_fat_tree_hand_counts(k):
    s = size_fabric(FabricShape(k * k // 2, k, 2, (1.0,), "fat-tree"))
    leaf, spine = s.tiers
    assert (leaf.switches, spine.switches) == (k, k // 2)     # k leaves of k/2 down, k/2 up
    assert (leaf.down_ports, leaf.up_ports) == (k // 2, k // 2)
    assert s.links == (k * k // 2, k * k // 2)
    assert leaf.ports_spare == 0 and spine.ports_spare == 0
    assert s.feasible and s.hops == 3
    over = size_fabric(FabricShape(k * k // 2 + 1, k, 2, (1.0,), "fat-tree"))
    assert not over.feasible                                   # one endpoint too many


@pytest.mark.parametrize("k", [8, 16, 48])
def test_full_three_tier_fat_tree_has_5k2_over_4_switches(k):
    s = size_fabric(FabricShape(k ** 3 // 4, k, 3, (1.0, 1.0), "fat-tree"))
    assert [t.switches for t in s.tiers] == [k * k // 2, k * k // 2, k * k // 4]
    assert s.switches == 5 * k * k // 4
    assert s.pods == k and s.feasible and s.hops == 5
    assert all(t.ports_spare == 0 for t in s.tiers)
    assert not size_fabric(FabricShape(k ** 3 // 4 + 1, k, 3, (1.0, 1.0), "fat-tree")).feasible


def test_oversubscribed_leaf_hand_counts():
    # radix 64 at 3:1: 48 down, 16 up; 3,000 endpoints -> 63 leaves, 1,008 uplinks.
    assert split_ports(64, 3.0) == (48, 16)
    s = size_fabric(FabricShape(3000, 64, 2, (3.0,), "leaf-spine"))
    leaf, spine = s.tiers
    assert leaf.switches == 63 and leaf.links_up == 63 * 16
    assert spine.switches == 16        # needs 15.75 -> 16, a divisor of 16 uplinks
    assert leaf.oversubscription == 3.0
    assert s.max_endpoints == 64 * 48


# NVIDIA DGX SuperPOD B200 RA (RA-11334-001, 2024), "DGX SuperPOD Architecture", table of larger
# SuperPOD component counts: SUs of 32 DGX B200 (8 GPUs, 8 x NDR 400G rails), QM9700 switches
# (64 x 400G). Columns: SUs, leaf, spine, core, node-leaf, leaf-spine, spine-core cables.
# https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-b200/latest/dgx-superpod-architecture.html
DGX_B200 = [
    (2, 16, 8, None, 512, 512, None),
    (4, 32, 16, None, 1024, 1024, None),
    (8, 64, 32, None, 2048, 2048, None),
    (16, 128, 128, 64, 4096, 4096, 4096),
    (32, 256, 256, 128, 8192, 8192, 8192),
    (64, 512, 512, 256, 16384, 16384, 16384),
]


@pytest.mark.parametrize("sus,leaf,spine,core,c1,c2,c3", DGX_B200)
def test_dgx_b200_superpod_counts_match_exactly(sus, leaf, spine, core, c1, c2, c3):
    tiers = 2 if core is None else 3
    s = size_fabric(FabricShape(sus * 32 * 8, 64, tiers, (1.0,) * (tiers - 1),
                                "rail-optimized", rails=8))
    assert [t.switches for t in s.tiers] == [x for x in (leaf, spine, core) if x is not None]
    assert s.links == tuple(x for x in (c1, c2, c3) if x is not None)
    assert s.scalable_units == sus and s.su_nodes == 32 and s.feasible


# NVIDIA DGX SuperPOD B300 (XDR) RA, Table 3 "Example Compute Fabric Components": SUs of 72
# DGX B300 (8 rails), 144-port XDR switches. Columns: SUs, leaf, spine, node-leaf, leaf-spine.
# (The 18-SU row's GPU column reads 9,216 but its cable counts are 1,296 x 8 = 10,368.)
# https://docs.nvidia.com/dgx-superpod/reference-architecture/scalable-infrastructure-b300-xdr/latest/dgx-superpod-architecture.html
DGX_B300_XDR = [(1, 8, 4, 576, 576), (2, 16, 8, 1152, 1152), (4, 32, 18, 2304, 2304),
                (8, 64, 36, 4608, 4608), (18, 144, 72, 10368, 10368)]


@pytest.mark.parametrize("sus,leaf,spine,c1,c2", DGX_B300_XDR)
def test_dgx_b300_xdr_counts_match_exactly(sus, leaf, spine, c1, c2):
    s = size_fabric(FabricShape(sus * 72 * 8, 144, 2, (1.0,), "rail-optimized", rails=8))
    assert [t.switches for t in s.tiers] == [leaf, spine]     # 18 and 36: divisors of 72
    assert s.links == (c1, c2)


def test_partial_su_is_built_whole():
    # 127 nodes (the DGX H100 SuperPOD's 4 SUs less one node): still 4 SUs of 8 rail leaves.
    s = size_fabric(FabricShape(127 * 8, 64, 2, (1.0,), "rail-optimized", rails=8))
    assert [t.switches for t in s.tiers] == [32, 16]
    assert s.links == (1016, 1024)


def test_smallest_divisor():
    assert smallest_divisor_at_least(72, 16) == 18
    assert smallest_divisor_at_least(32, 8) == 8
    assert smallest_divisor_at_least(36, 10) == 12
    assert smallest_divisor_at_least(8, 9) == 9


@given(endpoints=st.integers(1, 200_000), k=st.sampled_from([16, 32, 64, 128, 144]),
       tiers=st.sampled_from([2, 3]), o=st.sampled_from([1.0, 1.5, 2.0, 3.0]))
def test_links_and_ports_balance(endpoints, k, tiers, o):
    s = size_fabric(FabricShape(endpoints, k, tiers, (o,) * (tiers - 1), "fat-tree"))
    if not s.feasible:
        assert endpoints > s.max_endpoints
        return
    assert endpoints <= s.max_endpoints
    for tier in s.tiers:
        assert 0 <= tier.ports_used <= tier.ports_total
    # every uplink of a tier lands on a port of the tier above
    ups = [t.links_up for t in s.tiers[:-1]]
    assert s.tiers[-1].ports_used == ups[-1]
    assert s.tiers[0].ports_used == endpoints + ups[0]
