"""Reading YAML input files and turning validation failures into :class:`InputError`.

Shared by the catalog loader and the scenario loader, the only two places that read files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from rackforge.errors import InputError
from rackforge.units import unit_of

# libyaml's safe loader where PyYAML was built with it (ten times faster), else the Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error becomes an :class:`InputError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", str(path), expected="an existing YAML file") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as exc:
        raise InputError(f"cannot read file ({exc.__class__.__name__})", str(path),
                         expected="a readable UTF-8 YAML file") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse YAML text (named `file` in errors); a syntax error becomes an InputError."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"YAML syntax error: {problem}", file, where,
                         expected="valid YAML") from None


_STEP = re.compile(r"[^.\[\]]+|\[\d+\]")   # the steps of a key path: names and [index]


def set_key_path(data: Any, path: str, value: Any) -> None:
    """Set the value at key path `path` (``racks[0].cooling.supply_temp_c``) in parsed YAML
    `data`, in place. A name not there is added (the schema then rejects an unknown key); an
    index or a parent that is not there raises KeyError, IndexError or TypeError."""
    *parents, last = [int(s[1:-1]) if s.startswith("[") else s for s in _STEP.findall(path)]
    node = data
    for step in parents:
        node = node[step]
    node[last] = value


def key_path(loc: Iterable[Any]) -> str:
    """Render a pydantic error location as ``racks[0].slots[3].part``."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif "[" in str(item) or "-" in str(item) and str(item).startswith("function"):
            continue  # pydantic's internal validator names, not keys of the user's file
        else:
            out += f".{item}" if out else str(item)
    return out


_EXPECTED = {
    "missing": "this key to be present",
    "extra_forbidden": "no such key here (check the spelling)",
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_parsing": "true or false",
    "literal_error": None,
    "greater_than": None,
    "greater_than_equal": None,
    "less_than_equal": None,
}


def validation_to_input_error(exc: ValidationError, file: str | None,
                              prefix: str | None = None) -> InputError:
    """Turn the first error of a pydantic ValidationError into an InputError."""
    err = _first_error(exc.errors(include_url=False))
    path = key_path(err["loc"])
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    msg = err["msg"].removeprefix("Value error, ")
    expected = _EXPECTED.get(err["type"], None)
    if err["type"] in ("literal_error",):
        expected, msg = msg.removeprefix("Input should be "), "value not allowed"
    elif err["type"] in ("greater_than", "greater_than_equal", "less_than_equal", "less_than"):
        expected, msg = "a value that " + msg.removeprefix("Input should be ").replace(
            "greater", "is greater").replace("less", "is less"), "value out of range"
    value = None if err["type"] == "missing" else err.get("input")
    if isinstance(value, dict | list):
        value = None
    if err["type"] == "missing":
        msg = "missing key"
    unit = unit_of(str(err["loc"][-1])) if err["loc"] else ""
    if isinstance(value, float) and unit:
        value = _Shown(f"{value:g} {unit}")  # the converted value, in the unit the key names
    return InputError(msg, file, path or None, value, expected)


_UNION_TAGS = ("float", "int", "str", "bool")


def _first_error(errors: list[Any]) -> Any:
    """The first error, unless it comes from one member of a union (``float | dict``): then
    the error that went deepest into the user's value under the same key, which says what is
    wrong with it; and without the member's name in its location."""
    err = errors[0]
    if not (err["loc"] and err["loc"][-1] in _UNION_TAGS):
        return err
    base = err["loc"][:-1]
    deeper = [e for e in errors[1:]
              if e["loc"][:len(base)] == base and len(e["loc"]) > len(err["loc"])]
    return deeper[0] if deeper else {**err, "loc": base}


class _Shown(str):
    """A value already formatted for the message (its repr has no quotes)."""

    def __repr__(self) -> str:
        return str(self)


def validate(model: type[BaseModel] | TypeAdapter, data: Any, file: str | None = None,
             prefix: str | None = None) -> Any:
    """Validate `data` as `model` (a model class or a TypeAdapter), raising InputError."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_input_error(exc, file, prefix) from None


def closest(name: str, choices: Iterable[str], n: int = 3) -> str | None:
    """A hint naming the closest matches of `name` among `choices`, or None."""
    matches = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.4)
    return f"Did you mean {', '.join(matches)}?" if matches else None
