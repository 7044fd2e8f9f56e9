"""Scenario sections of the perf stage: user workloads and the evaluate section."""

from __future__ import annotations

import pytest

from rackforge import scenario
from rackforge.errors import InputError

WL = {"id": "my-13b", "name": "My 13B", "layers": 40, "hidden": 5120, "ffn_hidden": 13824,
      "heads": 40, "kv_heads": 40, "vocab": 32000, "example": True,
      "source": {"title": "invented example", "publisher": "rackforge", "year": 2026}}


def test_user_workload_resolves():
    scen = scenario.from_dict({"name": "x", "workloads": [WL], "evaluate": {
        "systems": ["hgx-h100-8"], "workloads": ["my-13b", "llama3-8b"], "gpus": 64}})
    assert scen.spec.evaluate.gpus == 64
    assert scen.spec.workloads[0].id == "my-13b"


@pytest.mark.parametrize(("section", "match"), [
    ({"systems": ["hgx-h100"], "workloads": ["llama3-8b"], "gpus": 8}, "evaluate.systems"),
    ({"systems": ["hgx-h100-8"], "workloads": ["my-14b"], "gpus": 8}, "Did you mean my-13b"),
    ({"systems": ["hgx-h100-8"], "workloads": ["llama3-8b"], "gpus": 0}, "evaluate.gpus"),
    ({"systems": ["hgx-h100-8"], "workloads": ["llama3-8b"], "gpus": 8, "framework": "nemo"},
     "evaluate.framework"),
    ({"systems": ["hgx-h100-8"], "workloads": ["llama3-8b"], "gpus": 8,
      "moe_dispatcher": "nccl"}, "evaluate.moe_dispatcher"),
    ({"systems": ["hgx-h100-8"], "workloads": ["llama3-8b"], "gpus": 8, "ep_overlap": "often"},
     "evaluate.ep_overlap"),
])
def test_bad_ids_and_values_are_input_errors(section, match):
    with pytest.raises(InputError, match=match):
        scenario.from_dict({"name": "x", "workloads": [WL], "evaluate": section}, file="s.yaml")
