"""Media of fabric links: which cable or optic each level uses, how many, their length and power.

A catalog :class:`~rackforge.catalog.models.Cable` is one link: a cable, or two transceivers
and fibre, with ``power_w`` for both ends. A link part plugs into a switch port, so candidates
carry exactly the switch's physical port rate (``lanes x lane_gbps``) in a QSFP/OSFP-style
plug of at least 4 lanes; logical ports of a breakout share one part (two 400G links ride one
800G twin-port cable), so parts = ceil(links x port_gbps / part_gbps).

``auto`` chooses, among the candidates that reach the level's longest run, the one drawing
the least power (ties: passive copper, active copper, linear-drive optics, DSP optics, then
id): DACs inside a rack, active copper within a few metres, LPO or DSP optics beyond. When
nothing reaches, the longest-reach part is taken and the reach check fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rackforge.catalog import Catalog
from rackforge.catalog.models import Cable
from rackforge.design.hall import Run
from rackforge.errors import InputError

MEDIUM_ORDER = {"passive-copper": 0, "active-copper": 1, "optic-lpo": 2, "optic-cpo": 3,
                "optic-dsp": 4}
OPTICAL = ("optic-dsp", "optic-lpo", "optic-cpo")
MIN_PLUG_LANES = 4


@dataclass(frozen=True)
class LinkGroup:
    """One level of links of a fabric (e.g. leaf-spine) with its medium."""

    name: str
    links: int            # logical links at the fabric's port speed
    cable: Cable
    cables: int           # link parts (cables or transceiver pairs with fibre)
    run: Run
    chosen: bool          # True when picked automatically
    split_far_end: bool = False  # far end is one module per logical link (NIC side)

    @property
    def transceivers(self) -> int:
        """Pluggable optical modules, none for copper: one per part at the switch end, and at
        the far end one per part, or one per logical link where a breakout part fans out to
        several NICs (an 800G twin-port module feeding two 400G NICs: 3 modules, 2 links)."""
        if self.cable.medium not in OPTICAL:
            return 0
        return self.cables + (self.links if self.split_far_end else self.cables)

    @property
    def power_w(self) -> float:
        """Both ends of every link part [W]."""
        return self.cables * self.cable.power_w

    @property
    def total_length_m(self) -> float:
        return self.cables * self.run.mean_m

    @property
    def reaches(self) -> bool:
        return self.run.max_m <= self.cable.reach_m

    @property
    def medium(self) -> str:
        return self.cable.medium


def candidates(catalog: Catalog, physical_gbps: float) -> list[Cable]:
    """Link parts that plug into a port of `physical_gbps` [Gbit/s]."""
    return [c for c in catalog.of_kind("cable")
            if isinstance(c, Cable) and abs(c.gbps - physical_gbps) < 1e-6
            and c.lanes >= MIN_PLUG_LANES]


def pick(parts: list[Cable], max_m: float) -> Cable:
    """The lowest-power part reaching `max_m`, else the longest-reach part."""
    reaching = [c for c in parts if c.reach_m >= max_m]
    if reaching:
        return min(reaching, key=lambda c: (c.power_w, MEDIUM_ORDER[c.medium], c.id))
    return max(parts, key=lambda c: (c.reach_m, -c.power_w, c.id))


@dataclass(frozen=True)
class LinkRequest:
    """What a level of links needs: the input of :func:`link_group`."""

    name: str
    links: int
    run: Run
    port_gbps: float       # logical
    physical_gbps: float   # the switch's port
    given: Cable | None    # None = auto
    allow_lpo: bool = True
    to_endpoints: bool = False  # node-leaf: the far ends are NIC ports


def link_group(request: LinkRequest, catalog: Catalog, where: str, file: str | None
               ) -> LinkGroup:
    """The link group of `request`, choosing its medium when not given."""
    cable = request.given
    if cable is None:
        parts = [c for c in candidates(catalog, request.physical_gbps)
                 if request.allow_lpo or c.medium != "optic-lpo"]
        if not parts:
            raise InputError(f"no cable or optic in the catalog plugs into a "
                             f"{request.physical_gbps:g}G port", file, where, "auto",
                             "a cable part id for this link level (or add one under parts)")
        cable = pick(parts, request.run.max_m)
    per_part = max(1, math.floor(cable.gbps / request.port_gbps + 1e-9))
    cables = math.ceil(request.links / per_part)
    return LinkGroup(request.name, request.links, cable, cables, request.run,
                     request.given is None, request.to_endpoints and per_part > 1)
