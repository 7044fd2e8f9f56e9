"""Fabric sizing against hand calculations and published reference designs.

Fat-tree capacity: Al-Fares, Loukissas, Vahdat, "A scalable, commodity data center network
architecture", SIGCOMM 2008, Sec. 2.2: k-port switches, non-blocking, k^2/2 hosts in two tiers
and k^3/4 in three, with 5k^2/4 switches in the three-tier tree.

Published component tables (expected values copied from the documents, never from the code):
NVIDIA DGX SuperPOD B200 (InfiniBand, 64-port switches), B300 XDR (InfiniBand, 144-port
Quantum-X800), B300 Spectrum-4 Ethernet (twin-planar, 51.2T switches at 128 x 400G), and the
Asterfusion CX864E-N rail-optimized guide (4-GPU nodes on 51.2T switches at 128 x 400G, the
reference pod's shape). Every row matches exactly; no tolerance is needed.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rackforge.catalog import load_catalog
from rackforge.design.fabric import (
    FabricShape,
    max_endpoints,
    size_fabric,
    split_ports,
    spread,
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
                                "rail-optimized", rails=8, su_nodes=32))
    assert [t.switches for t in s.tiers] == [x for x in (leaf, spine, core) if x is not None]
    assert s.links == tuple(x for x in (c1, c2, c3) if x is not None)
    assert s.scalable_units == sus and s.leaf_nodes == 32 and s.feasible
    # the RA's SU is one leaf group, so packing and SUs agree; without SUs the counts hold too
    unpacked = size_fabric(FabricShape(sus * 32 * 8, 64, tiers, (1.0,) * (tiers - 1),
                                       "rail-optimized", rails=8))
    assert [t.switches for t in unpacked.tiers] == [t.switches for t in s.tiers]


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


def catalog_radix(part_id: str, port_gbps: float) -> int:
    """Logical ports of a shipped catalog switch run at `port_gbps` [Gbit/s]."""
    switch = load_catalog().get(part_id)
    fastest = max(p.gbps for p in switch.ports)
    return sum(p.count for p in switch.ports if p.gbps == fastest) * round(fastest / port_gbps)


# NVIDIA DGX SuperPOD with DGX B300 systems, Spectrum-4 Ethernet and DC busbar power RA,
# "Network Fabrics" (a twin-planar Spectrum-X compute fabric: every GPU has 2 x 400GbE, one into
# each plane; each group of 64 nodes is rail-aligned) and Table 3 "Larger DGX SuperPOD component
# counts". Columns: SUs (64 DGX B300 of 8 GPUs), leaf, spine, node-leaf and leaf-spine cables,
# both planes together. Spectrum-4 SN5600 (catalog switch-51t-64x800g) at 400GbE: radix 128.
# A cable is an 800G twin-port link, two 400G links.
# https://docs.nvidia.com/dgx-superpod/reference-architecture/scalable-infrastructure-b300/latest/dgx-superpod-architecture.html
# https://docs.nvidia.com/dgx-superpod/reference-architecture/scalable-infrastructure-b300/latest/network-fabrics.html
DGX_B300_SPECTRUM = [(1, 16, 8, 512, 512), (2, 32, 16, 1024, 1024), (4, 64, 32, 2048, 2048),
                     (8, 128, 64, 4096, 4096), (16, 256, 128, 8192, 8192)]
PLANES = 2


@pytest.mark.parametrize("sus,leaf,spine,c1,c2", DGX_B300_SPECTRUM)
def test_dgx_b300_spectrum_x_counts_match_exactly(sus, leaf, spine, c1, c2):
    radix = catalog_radix("switch-51t-64x800g", 400)
    assert radix == 128
    plane = size_fabric(FabricShape(sus * 64 * 8, radix, 2, (1.0,), "rail-optimized", rails=8,
                                    su_nodes=64))
    assert plane.feasible and plane.leaf_nodes == 64           # a 64-node SU per rail leaf
    assert [PLANES * t.switches for t in plane.tiers] == [leaf, spine]
    assert [PLANES * n * 400 // 800 for n in plane.links] == [c1, c2]


# Asterfusion, "CX864E-N Best Practices for Medium-to-Large Scale AI Compute Backend Fabric"
# (rail-optimized two-tier Clos), typical configuration: 64 compute nodes of 4 GPUs (256 GPUs),
# one 400G NIC per GPU, "NIC N to Leaf N", on 6 CX864E-N (64 x 800G, 51.2 Tb/s): 4 leaf and 2
# spine. https://docs.asternos.com/aidc/cx864e-n-best-practices-for-medium-to-large-scale-ai-compute-backend-fabric
# The same node shape and switch as the reference pod's GB200 trays on the catalog SN5600.
def test_asterfusion_four_gpu_nodes_match_exactly():
    radix = catalog_radix("switch-51t-64x800g", 400)
    s = size_fabric(FabricShape(64 * 4, radix, 2, (1.0,), "rail-optimized", rails=4))
    assert [t.switches for t in s.tiers] == [4, 2] and s.switches == 6
    assert [(t.down_ports, t.up_ports) for t in s.tiers] == [(64, 64), (128, 0)]
    # SUs smaller than a leaf (here 16 nodes, 4 racks of 4) do not add leaves: rails pack
    # across the SUs (one leaf per SU and rail would need 16 leaves and 8 spines).
    packed = size_fabric(FabricShape(64 * 4, radix, 2, (1.0,), "rail-optimized", rails=4,
                                     su_nodes=16))
    assert [t.switches for t in packed.tiers] == [4, 2] and packed.scalable_units == 4


def test_rails_pack_across_scalable_units():
    # The reference pod: 288 GB200 trays (4 rails of 400G) in SUs of 36 trays on radix 128 at
    # 1:1 (64 down). Rail leaves take up to 64 trays: ceil(288 / 64) = 5 per rail, 20 leaves of
    # ceil(288 / 5) = 58 trays. Spines >= ceil(20 x 58 / 128) = 10; 10 spines take 60 uplinks
    # per leaf (a multiple of 10 in [58, 128 - 58]) and 20 x 60 = 1,200 <= 10 x 128 ports.
    s = size_fabric(FabricShape(1152, 128, 2, (1.0,), "rail-optimized", rails=4, su_nodes=36))
    leaf, spine = s.tiers
    assert (leaf.switches, spine.switches, s.switches) == (20, 10, 30)
    assert (leaf.down_ports, leaf.up_ports, spine.down_ports) == (58, 60, 120)
    assert s.links == (1152, 1200) and leaf.oversubscription <= 1
    assert (s.leaf_nodes, s.su_nodes, s.scalable_units) == (58, 36, 8)
    assert leaf.switches % 4 == 0                                # every leaf carries one rail
    # 128 leaves = 32 per rail x 64 trays = 2,048 trays, in whole SUs of 36: 56 SUs.
    assert s.max_endpoints == 2048 // 36 * 36 * 4


def test_partial_su_is_built_whole():
    # 127 nodes (the DGX H100 SuperPOD's 4 SUs less one node) with SUs of 32: the fabric is
    # built for 4 whole SUs, as the RAs ask ("design to support the full SU, including leaf
    # switches and leaf-spine cables"): 32 rail leaves, all their uplinks, 16 spines.
    s = size_fabric(FabricShape(127 * 8, 64, 2, (1.0,), "rail-optimized", rails=8, su_nodes=32))
    assert [t.switches for t in s.tiers] == [32, 16]
    assert s.links == (1016, 1024)


def test_without_sus_the_nodes_spread_over_the_leaves():
    # 100 nodes of 8 rails at radix 64: 4 leaves per rail of 25 nodes, 25 uplinks needed; spines
    # >= ceil(32 x 25 / 64) = 13, and 13 takes 26 uplinks (32 x 26 = 832 = 13 x 64).
    s = size_fabric(FabricShape(100 * 8, 64, 2, (1.0,), "rail-optimized", rails=8))
    assert [t.switches for t in s.tiers] == [32, 13]
    assert s.links == (800, 832) and s.tiers[1].ports_spare == 0
    whole = size_fabric(FabricShape(100 * 8, 64, 2, (1.0,), "rail-optimized", rails=8,
                                    su_nodes=32))
    assert [t.switches for t in whole.tiers] == [32, 16]         # 4 whole SUs of 32


def test_spread_is_the_smallest_even_tier():
    assert spread(32, 72, 72, 144) == (18, 72)       # 16 would do by ports, but 16 ∤ 72
    assert spread(20, 58, 70, 128) == (10, 60)       # 9 needs 63 uplinks: 1,260 > 1,152
    assert spread(4, 64, 64, 128) == (2, 64)
    assert spread(129, 1, 1, 128) is None            # more lower switches than ports


@given(endpoints=st.integers(1, 200_000), k=st.sampled_from([16, 32, 64, 128, 144]),
       tiers=st.sampled_from([2, 3]), o=st.sampled_from([1.0, 1.5, 2.0, 3.0]),
       rails=st.sampled_from([0, 1, 4, 8]), su=st.one_of(st.none(), st.integers(1, 200)))
def test_links_and_ports_balance(endpoints, k, tiers, o, rails, su):
    topology = "rail-optimized" if rails else "fat-tree"
    shape = FabricShape(endpoints, k, tiers, (o,) * (tiers - 1), topology, max(rails, 1), su)
    s = size_fabric(shape)
    assert s.feasible == (endpoints <= s.max_endpoints)
    if not s.feasible:
        return
    for tier in s.tiers:
        assert 0 <= tier.ports_used <= tier.ports_total
    # every uplink of a tier lands on a port of the tier above
    ups = [t.links_up for t in s.tiers[:-1]]
    assert s.tiers[-1].ports_used == ups[-1]
    assert s.tiers[0].ports_used == endpoints + ups[0]
    # the declared oversubscription holds at every tier, and rail leaves come in whole rails
    assert all(t.oversubscription <= o for t in s.tiers[:-1])
    assert s.tiers[0].down_ports <= split_ports(k, o)[0]
    if rails:
        assert s.tiers[0].switches % rails == 0
        assert s.leaf_nodes * s.tiers[0].switches // rails >= -(-endpoints // rails)
