"""The content hash that stage results and scenario sections are keyed on."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict

from rackforge.cli.app import print_json
from rackforge.jsonable import content_hash


class Part(BaseModel):
    name: str
    power_w: float


class FrozenPart(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    power_w: float


@dataclass
class Result:
    parts: list[Part]
    margins: dict[str, float]
    counts: np.ndarray
    _scratch: list = field(default_factory=list)   # private: not part of the content


def _by_hand(document: object) -> str:
    """SHA-256 of canonical JSON written directly by the standard library."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_plain_content_hashes_as_its_canonical_json():
    document = {"b": [1, 2.5, None, True], "a": {"z": "x", "y": 0.1}}
    assert content_hash(document) == _by_hand(document)


def test_models_and_dataclasses_hash_as_their_fields():
    result = Result([Part(name="pdu", power_w=1500.0)], {"supply": 2.0}, np.array([1, 2]))
    fields = {"parts": [{"name": "pdu", "power_w": 1500.0}], "margins": {"supply": 2.0},
              "counts": [1, 2]}
    assert content_hash(result) == _by_hand(fields)


def test_equal_content_equal_hash_and_any_change_shows():
    def make(power_w: float, scratch: list) -> Result:
        return Result([Part(name="pdu", power_w=power_w)], {"supply": math.inf},
                      np.array([1, 2]), scratch)

    assert content_hash(make(1500.0, [])) == content_hash(make(1500.0, ["ignored"]))
    assert content_hash(make(1500.0, [])) != content_hash(make(1501.0, []))


def test_content_json_cannot_sort_is_hashed_as_jsonable_writes_it():
    mixed_keys = {1: "a", "b": 2}     # json.dumps cannot sort int and str keys together
    assert content_hash(mixed_keys) == _by_hand({"1": "a", "b": 2})


def test_a_frozen_model_hashes_by_content_not_by_identity():
    """Frozen models (catalog parts) are hashed once and stand in by that hash."""
    first, twin, other = (FrozenPart(name="pdu", power_w=w) for w in (1500.0, 1500.0, 1600.0))
    inner = _by_hand({"name": "pdu", "power_w": 1500.0})
    assert content_hash([first]) == _by_hand([{"content_hash": inner}])
    assert content_hash([first]) == content_hash([twin]) != content_hash([other])


def test_cli_json_never_writes_a_bare_nan(capsys):
    # the last guard of every --json: a non-finite number from any result is null
    print_json({"gap": float("nan"), "bound": float("inf"), "items": [np.float64("-inf"), 1.5]})
    assert json.loads(capsys.readouterr().out) == {"gap": None, "bound": None,
                                                   "items": [None, 1.5]}
