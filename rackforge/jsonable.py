"""Plain JSON values from rackforge's result objects (dataclasses, pydantic models, NumPy)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections import OrderedDict
from datetime import date
from typing import Any

import numpy as np

from rackforge.cache import content_key


def jsonable(obj: Any) -> Any:
    """`obj` as JSON-compatible dicts, lists, strings, numbers and None; NaN and inf become None.
    """
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    # containers before the attribute probes below: most of a result is made of them
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, date):
        return obj.isoformat()
    content_key = getattr(obj, "content_key", None)
    if isinstance(content_key, str):   # a large immutable input (the catalog): its hash stands in
        return {"content_key": content_key}
    if hasattr(obj, "model_dump"):
        return jsonable(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {name: jsonable(value) for name, value in _fields(obj).items()}
    if isinstance(obj, set | frozenset):   # in a stable order: set order varies by process
        return sorted((jsonable(v) for v in obj), key=repr)
    raise TypeError(f"cannot turn a {type(obj).__name__} into JSON")


_FROZEN_HASHES: OrderedDict[int, tuple[Any, str]] = OrderedDict()
_FROZEN_HASHES_KEPT = 8192


def _fields(instance: Any) -> dict[str, Any]:
    """A dataclass instance's public fields, by name."""
    return {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance)
            if not f.name.startswith("_")}


def _frozen_hash(model: Any) -> str:
    """:func:`content_hash` of a frozen model or dataclass, remembered by identity for the
    last few thousand: catalog parts recur in result after result (the entry holds the
    object, so its id is not reused while remembered)."""
    known = _FROZEN_HASHES.get(id(model))
    if known is not None and known[0] is model:
        _FROZEN_HASHES.move_to_end(id(model))
        return known[1]
    digest = content_hash(model.model_dump(mode="json") if hasattr(model, "model_dump")
                          else _fields(model))
    _FROZEN_HASHES[id(model)] = (model, digest)
    if len(_FROZEN_HASHES) > _FROZEN_HASHES_KEPT:
        _FROZEN_HASHES.popitem(last=False)
    return digest


def _one_level(obj: Any) -> Any:
    """`obj` one level down towards JSON, for :func:`json.dumps`'s ``default`` hook: a model or
    dataclass becomes the dict of its fields (the encoder walks them), a frozen one the hash of
    its fields, anything else goes through :func:`jsonable`."""
    content_key = getattr(obj, "content_key", None)
    if isinstance(content_key, str):
        return {"content_key": content_key}
    if hasattr(obj, "model_dump"):
        if obj.model_config.get("frozen"):
            return {"content_hash": _frozen_hash(obj)}
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if obj.__dataclass_params__.frozen:
            return {"content_hash": _frozen_hash(obj)}
        return _fields(obj)
    return jsonable(obj)


def content_hash(obj: Any) -> str:
    """SHA-256 of `obj` as canonical JSON (sorted keys, no whitespace), the same for the same
    content in any process.

    JSON's C encoder walks the dicts, lists and numbers itself and calls back only for models
    and dataclasses, so a large result is hashed without first being copied into a tree of
    plain values, which took most of a sweep point's time. A NaN or infinity is written as
    JavaScript's name for it: the text is only hashed, never read. Where the encoder refuses
    the content (dict keys of mixed types), it is hashed as :func:`jsonable` writes it.
    """
    try:
        text = json.dumps(obj, default=_one_level, sort_keys=True, separators=(",", ":"))
    except TypeError:
        return content_key(jsonable(obj))
    return hashlib.sha256(text.encode()).hexdigest()
