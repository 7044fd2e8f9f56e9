"""Supplier CSV and sourcing-section errors: file, line/column or key path, value, expectation."""

from __future__ import annotations

import copy

import pytest

from rackforge.design.spec import RackDesign
from rackforge.errors import InputError
from rackforge.sourcing.spec import SourcingSpec
from rackforge.sourcing.suppliers import (
    load_suppliers,
    pick_design,
    read_suppliers_csv,
    resolve_sourcing,
)
from tests.conftest import mini_rack

HEADER = "supplier,part,unit_price_usd,country_of_origin,capacity_per_quarter,lead_time_weeks"


def _csv(tmp_path, *rows, comment="# example: true (invented)"):
    path = tmp_path / "suppliers.csv"
    path.write_text("\n".join([comment, HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_reads_rows_with_defaults_and_example_flag(tmp_path):
    offers = read_suppliers_csv(_csv(tmp_path, "acme,t-compute,1000,us,10,12",
                                     "tw-co,t-compute,900,TW,20,8"))
    assert [(o.supplier, o.country_of_origin, o.capacity_per_quarter) for o in offers] == [
        ("acme", "US", 10), ("tw-co", "TW", 20)]
    assert all(o.example and o.min_order_units == 0 and o.freight_usd_per_unit == 0
               for o in offers)


def test_bad_cell_names_line_and_column(tmp_path):
    path = _csv(tmp_path, "acme,t-compute,1000,US,10,12", "acme2,t-compute,-5,US,10,12")
    with pytest.raises(InputError) as err:
        read_suppliers_csv(path)
    assert err.value.path == "line 4, column unit_price_usd"
    assert err.value.value == "-5" and "greater than 0" in err.value.expected


def test_unknown_column_suggests_the_closest(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER.replace("lead_time_weeks", "lead_time_week") + "\n", "utf-8")
    with pytest.raises(InputError) as err:
        read_suppliers_csv(path)
    assert err.value.value == "lead_time_week" and "lead_time_weeks" in err.value.hint


def test_country_must_be_an_iso_code(tmp_path):
    with pytest.raises(InputError) as err:
        read_suppliers_csv(_csv(tmp_path, "acme,t-compute,1000,USA,10,12"))
    assert err.value.path == "line 3, column country_of_origin"


def _spec(**kw) -> SourcingSpec:
    data = {"build_schedule": {"2027Q1": 5}, "suppliers": [
        {"supplier": "acme", "part": "t-compute", "unit_price_usd": 1000,
         "country_of_origin": "US", "capacity_per_quarter": 100, "lead_time_weeks": 4}]}
    data.update(kw)
    return SourcingSpec.model_validate(data)


def test_resolve_checks_part_ids(mini_catalog, tmp_path):
    spec = _spec()
    bad = spec.model_copy(update={"suppliers": [spec.suppliers[0].model_copy(
        update={"part": "t-compute2"})]})
    with pytest.raises(InputError) as err:
        load_suppliers(bad, tmp_path, mini_catalog, "s.yaml")
    assert (err.value.file, err.value.path) == ("s.yaml", "sourcing.suppliers[0].part")


def test_resolve_builds_the_bom_and_checks_what_if_suppliers(mini_catalog, tmp_path):
    design = RackDesign.model_validate(copy.deepcopy(mini_rack()))
    resolved = resolve_sourcing(_spec(), mini_catalog, design)
    assert resolved.design.id == "r1" and resolved.bom.counts()["t-compute"] == 10
    spec = _spec(what_if={"x": {"supplier_lost": [{"supplier": "acmee"}]}})
    with pytest.raises(InputError) as err:
        load_suppliers(spec, tmp_path, mini_catalog)
    assert err.value.path == "sourcing.what_if.x.supplier_lost[0].supplier"
    assert "acme" in err.value.hint


def test_unknown_design(mini_catalog, tmp_path):
    design = RackDesign.model_validate(copy.deepcopy(mini_rack()))
    with pytest.raises(InputError) as err:
        pick_design(_spec(design="r2"), [design])
    assert err.value.path == "sourcing.design" and "r1" in err.value.expected
    assert pick_design(_spec(), [design], preferred="r1") is design


def test_section_needs_suppliers():
    with pytest.raises(ValueError, match="suppliers"):
        SourcingSpec.model_validate({"build_schedule": {"2027Q1": 5}})
