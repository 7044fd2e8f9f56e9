"""Plain JSON values from rackforge's result objects (dataclasses, pydantic models, NumPy)."""

from __future__ import annotations

import dataclasses
import math
from datetime import date
from typing import Any

import numpy as np


def jsonable(obj: Any) -> Any:
    """`obj` as JSON-compatible dicts, lists, strings, numbers and None; NaN and inf become None.
    """
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
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
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not f.name.startswith("_")}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, set | frozenset):   # in a stable order: set order varies by process
        return sorted((jsonable(v) for v in obj), key=repr)
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    raise TypeError(f"cannot turn a {type(obj).__name__} into JSON")
