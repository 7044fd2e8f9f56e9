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

- ``rail-optimized``: nodes form scalable units (SUs) of ``su_nodes`` nodes; NIC r of every
  node of an SU goes to leaf r of that SU ("rail" r), so an SU has one leaf per NIC of a node
  [3]. A partial last SU still gets all its leaves and uplinks (the RA builds whole SUs).
- ``fat-tree`` / ``leaf-spine``: endpoints fill leaves in order, ``ceil(E / down)`` leaves.
- Two tiers: every leaf spreads its ``up`` links evenly over all spines, so the spine count is
  the smallest divisor of ``up`` that gives enough spine ports (this reproduces the published
  spine counts of [3] and [4], e.g. 18 spines, not 16, for 32 leaves of 72 uplinks at radix
  144). Feasible while leaves <= k.
- Three tiers: pods of ``down2`` leaves (the spine's downlinks) and ``up`` spines each (one link
  from every leaf to every spine of its pod); spine j of every pod forms plane j, whose core
  switches are again the smallest divisor of ``up2`` giving enough ports. Feasible while
  pods <= k.

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
    su_nodes: int | None = None         # nodes per scalable unit; default: a leaf's downlinks


@dataclass(frozen=True)
class TierSizing:
    """One tier of switches: counts of switches, ports and the links above them."""

    name: str
    switches: int
    down_ports: int       # downlinks wired per switch (nominal)
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
    su_nodes: int           # nodes per SU (rail-optimized) or endpoints per leaf
    scalable_units: int
    max_endpoints: int      # largest fabric of this radix, tiers and oversubscription
    feasible: bool          # False when the top tier runs out of ports

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


def smallest_divisor_at_least(n: int, minimum: int) -> int:
    """The smallest divisor of `n` that is >= `minimum` (`minimum` itself when > n)."""
    if minimum > n or n <= 0:
        return minimum
    return next(d for d in range(max(minimum, 1), n + 1) if n % d == 0)


def _leaves(shape: FabricShape, down: int) -> tuple[int, int, int, int]:
    """(leaves, downlinks wired per leaf, nodes per SU, SUs) for the shape's topology."""
    if shape.topology == "rail-optimized":
        su_nodes = shape.su_nodes or down
        nodes = math.ceil(shape.endpoints / shape.rails)
        sus = math.ceil(nodes / su_nodes)
        return sus * shape.rails, su_nodes, su_nodes, sus
    leaves = math.ceil(shape.endpoints / down)
    return leaves, down, down, leaves


def _uplinks(radix: int, down: int, oversubscription: float) -> int:
    """Uplinks wired on a switch with `down` downlinks: enough for the ratio, if ports allow."""
    return max(0, min(radix - down, math.ceil(down / oversubscription)))


def size_fabric(shape: FabricShape) -> FabricSizing:
    """Switches, ports and links of the fabric `shape` describes (see the module docstring)."""
    k = shape.radix
    nominal_down, _ = split_ports(k, shape.oversubscription[0])
    leaves, down1, su_nodes, sus = _leaves(shape, nominal_down)
    up1 = _uplinks(k, down1, shape.oversubscription[0])
    leaf_links = leaves * up1
    leaf = TierSizing("leaf", leaves, down1, up1, shape.endpoints + leaf_links, leaves * k,
                      leaf_links, down1 / up1 if up1 else math.inf)
    if shape.tiers == 2:
        needed = math.ceil(leaf_links / k)
        spines = smallest_divisor_at_least(up1, needed)
        top = TierSizing("spine", spines, k, 0, leaf_links, spines * k, 0, math.inf)
        tiers, pods = (leaf, top), 1
        feasible = needed <= up1 and down1 <= k
        max_leaves = k
    else:
        tiers, pods, feasible = _three_tiers(shape, leaf)
        max_leaves = k * split_ports(k, shape.oversubscription[1])[0]
    per_leaf = su_nodes * shape.rails if shape.topology == "rail-optimized" else down1
    max_units = max_leaves // shape.rails if shape.topology == "rail-optimized" else max_leaves
    max_endpoints = max_units * (per_leaf if shape.topology == "rail-optimized" else down1)
    return FabricSizing(shape, tiers, shape.endpoints, shape.endpoints, pods, su_nodes, sus,
                        max_endpoints, feasible)


def _three_tiers(shape: FabricShape, leaf: TierSizing
                 ) -> tuple[tuple[TierSizing, ...], int, bool]:
    k, up1 = shape.radix, leaf.up_ports
    down2, _ = split_ports(k, shape.oversubscription[1])
    up2 = _uplinks(k, down2, shape.oversubscription[1])
    pods = math.ceil(leaf.switches / down2)
    spines = pods * up1
    spine_links = spines * up2
    spine = TierSizing("spine", spines, down2, up2, leaf.links_up + spine_links, spines * k,
                       spine_links, down2 / up2 if up2 else math.inf)
    needed = math.ceil(pods * up2 / k)
    core = up1 * smallest_divisor_at_least(up2, needed)
    top = TierSizing("core", core, k, 0, spine_links, core * k, 0, math.inf)
    return (leaf, spine, top), pods, needed <= up2 and leaf.down_ports <= k


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
