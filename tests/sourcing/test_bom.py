"""BOM roll-up of a rack design: counts by hand from the mini rack of tests/conftest.py."""

from __future__ import annotations

import copy

import pytest

from rackforge.design.spec import RackDesign
from rackforge.errors import InputError
from rackforge.sourcing.bom import cluster_bom, per_rack, rack_bom
from tests.conftest import mini_rack


def _design(**cooling) -> RackDesign:
    data = copy.deepcopy(mini_rack())
    data["cooling"].update(cooling)
    return RackDesign.model_validate(data)


def test_rack_bom_counts(mini_catalog):
    bom = rack_bom(_design(coolant_volume_l=20), mini_catalog)
    # 3 shelves, 2 BBUs, the in-rack CDU once (slot and cooling.cdu are the same unit),
    # 10 + 2 trays, frame, busbar, 20 L of coolant, 10 x 2 x 4 = 80 spine cables.
    assert bom.counts() == {"shelf-33": 3, "bbu-33": 2, "cdu-250": 1, "t-compute": 10,
                            "t-switch": 2, "rack-48u": 1, "bus-50v": 1, "pg25": 20,
                            "cu-200g": 80}
    assert next(line for line in bom.lines if line.part == "pg25").unit == "L"


def test_row_cdu_counts_its_share(mini_catalog):
    parts = dict(mini_catalog.parts)
    row = parts["cdu-250"].model_copy(update={"id": "cdu-row", "placement": "in-row"})
    catalog = mini_catalog.with_parts([row])
    bom = rack_bom(_design(cdu="cdu-row", cdu_share=0.25), catalog)
    assert bom.counts()["cdu-row"] == 0.25
    assert bom.counts()["cdu-250"] == 1  # still in a slot


def test_extra_lines_and_pricing(mini_catalog):
    bom = rack_bom(_design(), mini_catalog, [("cu-200g", 6.5, "fabric")])
    assert bom.counts()["cu-200g"] == 86.5
    priced = bom.priced({"cu-200g": 10.0, "t-compute": 1000.0})
    assert priced.total_usd == pytest.approx(865.0 + 10_000.0)
    assert "shelf-33" in priced.unpriced


def test_cluster_bom_and_per_rack(mini_catalog):
    bom = rack_bom(_design(), mini_catalog)
    fabric = [("cu-200g", 48, "leaf links")]
    cluster = cluster_bom(bom, 16, fabric)
    assert cluster.counts()["cu-200g"] == 16 * 80 + 48
    assert cluster.counts()["t-compute"] == 160
    assert per_rack(fabric, 16) == [("cu-200g", 3.0, "leaf links (1/16 of the cluster)")]


def test_unknown_part_names_its_key_path(mini_catalog):
    data = copy.deepcopy(mini_rack())
    data["slots"][3]["part"] = "t-compute-x"
    with pytest.raises(InputError) as err:
        rack_bom(RackDesign.model_validate(data), mini_catalog, where="racks[0]")
    assert err.value.path == "racks[0].slots[3].part"
    assert "t-compute" in err.value.one_line()  # closest id suggested
