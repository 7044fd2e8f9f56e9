"""Closed-form sizing of folded-Clos (fat-tree) scale-out fabrics: switches, ports and links.

Pure arithmetic on integers: no per-switch or per-cable objects, so a 100,000-accelerator
fabric sizes in microseconds. Port counts are logical ports at the fabric's port speed
(a 64 x 800G switch run at 400G has radix 128).

Model
-----
Tier 1 (leaf) switches have ``down`` ports to endpoints (NIC ports) and ``up`` ports to tier 2.
Oversubscription ``o`` at a tier is down / up, so a radix-k switch gets ``up = ceil(k / (o+1))``
and ``down = k - up`` [1]. A non-blocking (o = 1) two-tier fat tree of radix-k switches then
serves k * k/2 = k^2/2 endpoints and a three-tier one k * k/2 * k/2 = k^3/4 [2], Sec. 2.2.

- ``rail-optimized``: NIC r of every node goes to a leaf of rail r, and every leaf carries a
  single rail [3]. Rails are packed across racks and scalable units: a leaf of rail r takes
  the rail-r NICs of as many nodes as its downlinks allow (64 at radix 128 and 1:1), so each
  rail gets ``ceil(nodes / down)`` leaves and the nodes are spread evenly over them; leaf i of
  every rail serves the same nodes (a leaf group). With ``su_nodes`` the fabric is built for
  whole scalable units (SUs), as the reference architectures ask of a partial last SU [3]:
  the nodes round up to whole SUs before they are packed. NVIDIA's SUs are exactly one leaf
  group (32 nodes at radix 64, 72 at radix 144), so packing reproduces their tables [3]-[6]; an
  SU smaller than a leaf (36 trays at radix 128) no longer leaves leaf ports idle.
- ``fat-tree`` / ``leaf-spine``: ``ceil(E / down)`` leaves, the endpoints spread evenly.
- Uplinks (:func:`spread`): a switch wires at least ``ceil(d / o)`` uplinks for its ``d``
  downlinks, spreads them evenly over the switches above it (its uplinks are a multiple of
  their count) and the tier above needs a port per link; the tier above is the smallest count
  that allows this. This reproduces the published spine counts, e.g. 18 spines, not 16, for
  32 leaves of 72 uplinks at radix 144 [4], and gives 10 spines (not 9, which no even spread
  of 58 to 70 uplinks fits) for 20 leaves of 58 nodes at radix 128.
- Two tiers: the spines above all leaves. Feasible while leaves <= k.
- Three tiers: pods of at most ``down2`` leaves (the spine's downlinks), the leaves spread
  evenly over the pods; each pod's spines by :func:`spread`; spine j of every pod forms plane
  j, whose core switches come again from :func:`spread`. Feasible while pods <= k.

References
----------
[1] C. Clos, "A study of non-blocking switching networks", Bell System Technical Journal 32(2),
    1953 (folded Clos; oversubscription as the ratio of down- to uplink capacity).
[2] M. Al-Fares, A. Loukissas, A. Vahdat, "A scalable, commodity data center network
    architecture", SIGCOMM 2008.
[3] NVIDIA DGX SuperPOD: Next Generation Scalable Infrastructure for AI Leadership, Reference
    Architecture Featuring NVIDIA DGX B200 (RA-11334-001), 2024: "DGX SuperPOD Architecture",
    table of larger SuperPOD component counts (32-node SUs, QM9700 64 x NDR 400G).
[4] NVIDIA DGX SuperPOD Reference Architecture Featuring DGX B300 (XDR), 2025: "Example Compute
    Fabric Components" table (72-node SUs, 144-port XDR switches).
[5] NVIDIA SuperPOD with DGX B300 Systems, Spectrum-4 Ethernet and DC Busbar Power Reference
    Architecture, 2025: "Network Fabrics" (twin-planar Spectrum-X fabric, 2 x 400GbE per GPU)
    and Table 3 "Larger DGX SuperPOD component counts" (64-node SUs, both planes counted).
[6] Asterfusion, "CX864E-N Best Practices for Medium-to-Large Scale AI Compute Backend
    Fabric", 2025: 64 nodes of 4 GPUs (4 rails of 400G) on 4 leaf and 2 spine CX864E-N
    (64 x 800G run as 128 x 400G).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Topology = Literal["rail-optimized", "fat-tree", "leaf-spine"]
TIER_NAMES = ("leaf", "spine", "core")
LINK_NAMES = ("node_leaf", "leaf_spine", "spine_core")


@dataclass(frozen=True)
class FabricShape:
    """What a fabric must connect and with what: the input of :func:`size_fabric`."""

    endpoints: int                      # NIC ports to connect (accelerators x NICs each)
    radix: int                          # logical ports per switch at the fabric's port speed
    tiers: int                          # 2 or 3
    oversubscription: tuple[float, ...]  # down/up at the leaf (and spine) tier; len tiers-1
    topology: Topology = "rail-optimized"
    rails: int = 1                      # NICs per node (rail-optimized only)
    su_nodes: int | None = None         # nodes per SU (built whole); default: none, no rounding


@dataclass(frozen=True)
class TierSizing:
    """One tier of switches: counts of switches, ports and the links above them."""

    name: str
    switches: int
    down_ports: int       # downlinks wired on the fullest switch
    up_ports: int         # uplinks wired per switch (0 at the top tier)
    ports_used: int       # over the whole tier, down and up
    ports_total: int      # switches x radix
    links_up: int         # links from this tier to the next (0 at the top)
    oversubscription: float  # achieved down/up of a switch (inf when no uplinks)

    @property
    def ports_spare(self) -> int:
        return self.ports_total - self.ports_used


@dataclass(frozen=True)
class FabricSizing:
    """A sized fabric: its tiers bottom up and the scale it could reach."""

    shape: FabricShape
    tiers: tuple[TierSizing, ...]
    endpoints_used: int
    node_links: int         # endpoint-to-leaf links
    pods: int               # three-tier pods (1 for two tiers)
    su_nodes: int           # nodes per SU (rail-optimized; default leaf_nodes) or endpoints
                            # per leaf
    scalable_units: int
    max_endpoints: int      # largest fabric of this radix, tiers and oversubscription
    feasible: bool          # False when the top tier runs out of ports
    leaf_nodes: int         # nodes on the fullest rail leaf (rail-optimized) or endpoints on
                            # the fullest leaf
    pod_leaves: int         # leaves in the fullest pod (all leaves for two tiers)

    @property
    def switches(self) -> int:
        return sum(t.switches for t in self.tiers)

    @property
    def links(self) -> tuple[int, ...]:
        """Links per level: node-leaf, leaf-spine[, spine-core]."""
        return (self.node_links, *(t.links_up for t in self.tiers[:-1]))

    @property
    def hops(self) -> int:
        """Switches on the longest shortest path between two endpoints."""
        return 2 * len(self.tiers) - 1


def split_ports(radix: int, oversubscription: float) -> tuple[int, int]:
    """(down, up) ports of a radix-`radix` switch at down/up ratio `oversubscription` [1]."""
    up = math.ceil(radix / (oversubscription + 1))
    return radix - up, up


def spread(lower: int, up_min: int, up_max: int, ports: int) -> tuple[int, int] | None:
    """(switches, uplinks per lower switch) of the smallest tier above `lower` switches.

    Each lower switch needs at least `up_min` and has at most `up_max` uplinks and spreads them
    evenly over the upper switches (its uplinks are a multiple of their count), and the upper
    tier has a port (`ports` per switch) for every link. ``None`` when no count works, which
    happens exactly when ``lower > ports``.
    """
    for switches in range(max(1, math.ceil(lower * up_min / ports)), up_max + 1):
        up = math.ceil(up_min / switches) * switches
        if up <= up_max and lower * up <= switches * ports:
            return switches, up
    return None


@dataclass(frozen=True)
class _Leaves:
    count: int      # leaf switches
    down: int       # downlinks of the fullest leaf: nodes (rail-optimized) or endpoints
    su_nodes: int   # nodes per SU (rail-optimized) or endpoints per leaf
    sus: int        # scalable units (rail-optimized) or leaves


def _leaves(shape: FabricShape, down_max: int) -> _Leaves:
    """Leaves of the shape's topology, each with at most `down_max` downlinks, the endpoints
    spread evenly over them. Rail-optimized: every rail gets ``ceil(slots / down_max)`` leaves,
    where the slots are the nodes rounded up to whole SUs when ``su_nodes`` is given."""
    if shape.topology != "rail-optimized":
        leaves = max(1, math.ceil(shape.endpoints / down_max))
        per_leaf = max(1, math.ceil(shape.endpoints / leaves))
        return _Leaves(leaves, per_leaf, per_leaf, leaves)
    nodes = max(1, math.ceil(shape.endpoints / shape.rails))
    su = shape.su_nodes
    slots = math.ceil(nodes / su) * su if su else nodes
    per_rail = math.ceil(slots / down_max)
    per_leaf = math.ceil(slots / per_rail)
    su_nodes = su or per_leaf
    return _Leaves(per_rail * shape.rails, per_leaf, su_nodes, math.ceil(nodes / su_nodes))


def _top_tier(name: str, lower: TierSizing, switches: int, radix: int) -> TierSizing:
    links = lower.links_up
    return TierSizing(name, switches, math.ceil(links / switches), 0, links, switches * radix,
                      0, math.inf)


def _tier(name: str, switches: int, down: int, up: int, ports_below: int, radix: int
          ) -> TierSizing:
    """A tier of `switches` with `down` downlinks (fullest switch) and `up` uplinks each;
    `ports_below` are the ports its downlinks use over the whole tier."""
    links = switches * up
    return TierSizing(name, switches, down, up, ports_below + links, switches * radix, links,
                      down / up if up else math.inf)


def size_fabric(shape: FabricShape) -> FabricSizing:
    """Switches, ports and links of the fabric `shape` describes (see the module docstring)."""
    k, ratios = shape.radix, shape.oversubscription
    down_max, _ = split_ports(k, ratios[0])
    leaves = _leaves(shape, down_max)
    up_min = math.ceil(leaves.down / ratios[0])
    if shape.tiers == 2:
        found = spread(leaves.count, up_min, k - leaves.down, k)
        spines, up = found or (math.ceil(leaves.count * up_min / k), up_min)
        leaf = _tier("leaf", leaves.count, leaves.down, up, shape.endpoints, k)
        tiers, pods, pod_leaves = (leaf, _top_tier("spine", leaf, spines, k)), 1, leaves.count
        feasible, max_leaves = found is not None, k
    else:
        tiers, pods, pod_leaves, feasible = _three_tiers(shape, leaves, up_min)
        max_leaves = k * split_ports(k, ratios[1])[0]
    return FabricSizing(shape, tiers, shape.endpoints, shape.endpoints, pods, leaves.su_nodes,
                        leaves.sus, _max_endpoints(shape, max_leaves, down_max), feasible,
                        leaves.down, pod_leaves)


def _max_endpoints(shape: FabricShape, max_leaves: int, down_max: int) -> int:
    """Most endpoints `max_leaves` leaves of `down_max` downlinks serve (whole SUs only)."""
    if shape.topology != "rail-optimized":
        return max_leaves * down_max
    nodes = (max_leaves // shape.rails) * down_max
    if shape.su_nodes:
        nodes = nodes // shape.su_nodes * shape.su_nodes
    return nodes * shape.rails


def _three_tiers(shape: FabricShape, leaves: _Leaves, up_min: int
                 ) -> tuple[tuple[TierSizing, ...], int, int, bool]:
    """(tiers, pods, leaves per pod, feasible): pods of at most ``down2`` leaves, the leaves
    spread evenly over the pods; then spines per pod and core per plane by :func:`spread`."""
    k, ratio2 = shape.radix, shape.oversubscription[1]
    down2_max, _ = split_ports(k, ratio2)
    pods = math.ceil(leaves.count / down2_max)
    pod_leaves = math.ceil(leaves.count / pods)
    in_pod = spread(pod_leaves, up_min, k - leaves.down, down2_max)
    per_pod, up1 = in_pod or (math.ceil(pod_leaves * up_min / down2_max), up_min)
    leaf = _tier("leaf", leaves.count, leaves.down, up1, shape.endpoints, k)
    down2 = math.ceil(pod_leaves * up1 / per_pod)
    up2_min = math.ceil(down2 / ratio2)
    in_plane = spread(pods, up2_min, k - down2, k)
    per_plane, up2 = in_plane or (math.ceil(pods * up2_min / k), up2_min)
    spine = _tier("spine", pods * per_pod, down2, up2, leaf.links_up, k)
    core = _top_tier("core", spine, per_pod * per_plane, k)
    return (leaf, spine, core), pods, pod_leaves, in_pod is not None and in_plane is not None


def max_endpoints(radix: int, tiers: int, oversubscription: tuple[float, ...] = (1.0, 1.0)
                  ) -> int:
    """Largest number of endpoints a plain fat tree of radix-`radix` switches reaches.

    Non-blocking: ``k^2/2`` in two tiers, ``k^3/4`` in three [2]; with oversubscription the
    leaves' (and spines') extra downlinks multiply it.
    """
    down1, _ = split_ports(radix, oversubscription[0])
    if tiers == 2:
        return radix * down1
    down2, _ = split_ports(radix, oversubscription[1])
    return radix * down2 * down1
