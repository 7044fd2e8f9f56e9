"""Reading YAML input files and turning validation failures into :class:`InputError`.

Shared by the catalog loader and the scenario loader, the only two places that read files.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from rackforge.errors import InputError, input_error
from rackforge.units import unit_of

MAX_BYTES = 10 * 1024 * 1024   # an input file over 10 MB is refused before it is parsed

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key given twice in one mapping (YAML says keys are unique;
    PyYAML silently keeps the last). Keys brought in by a ``<<`` merge may be overridden."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> Any:
        """Check the mapping's own keys for repeats, then construct it as the safe loader does."""
        if isinstance(node, yaml.MappingNode):
            _check_unique_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def _check_unique_keys(loader: Any, node: yaml.MappingNode) -> None:
    """Raise a ConstructorError at the second occurrence of a key of mapping `node`."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)


# libyaml's safe loader where PyYAML was built with it (ten times faster), else the Python one;
# either way refusing duplicate keys
SAFE_LOADER = _UniqueKeyLoader


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing, unreadable or oversized file or a syntax error becomes an
    :class:`InputError`."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise _too_big(str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", str(path), expected="an existing YAML file") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as exc:
        raise InputError(f"cannot read file ({exc.__class__.__name__})", str(path),
                         expected="a readable UTF-8 YAML file") from None
    return parse_yaml(text, str(path))


def _too_big(file: str | None) -> InputError:
    return InputError("file over 10 MB", file, expected="a scenario or catalog file under 10 MB")


def read_csv_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, as dicts (short rows padded with ""); a missing,
    unreadable, non-UTF-8 or malformed file is an :class:`InputError`."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle, restval=""))
    except (FileNotFoundError, IsADirectoryError):
        raise InputError("file not found", str(path), expected="an existing CSV file") from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.__class__.__name__})", str(path),
                         expected="a readable CSV file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start})", str(path), expected="a UTF-8 CSV file") from None
    except csv.Error as exc:
        raise InputError(f"not a CSV file ({exc})", str(path),
                         expected="a comma-separated table") from None


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse YAML text (named `file` in errors); a syntax error, a duplicate key, nesting too
    deep or text over 10 MB becomes an InputError."""
    if len(text) > MAX_BYTES:
        raise _too_big(file)
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file) from None
    except RecursionError:
        raise _too_deep(file) from None
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:  # e.g. a bad timestamp
        raise InputError(f"YAML value error: {exc}", file, expected="valid YAML") from None


def _too_deep(file: str | None, where: str | None = None) -> InputError:
    return InputError("nested too deep", file, where,
                      expected="lists and mappings nested at most a few hundred levels")


def _yaml_error(exc: yaml.YAMLError, file: str | None) -> InputError:
    """An InputError at the line and column of a PyYAML error."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "nesting depth" in problem:
        return _too_deep(file, where)
    if problem.startswith("duplicate key"):
        return InputError(problem, file, where, expected="each key once per mapping")
    return InputError(f"YAML syntax error: {problem}", file, where, expected="valid YAML")


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


# pydantic's names for validators and union members in an error location ("function-after[...]",
# "list[int]", "json-or-python[...]", the sweep's "parameter[values]"); a user's key such as
# "racks[0].cooling.supply_temp_c" (a sweep parameter) names an index and is kept
_INTERNAL = re.compile(r"[a-z][a-z-]*\[.*\]")


def key_path(loc: Iterable[Any]) -> str:
    """Render a pydantic error location as ``racks[0].slots[3].part``."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif _INTERNAL.fullmatch(str(item)) and not re.search(r"\[\d+\]", str(item)):
            continue  # pydantic's validator and union-member names, not keys of the user's file
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
    "bool_for_number": "a number",
    "literal_error": None,
    "greater_than": None,
    "greater_than_equal": None,
    "less_than_equal": None,
}


def validation_to_input_error(exc: ValidationError, file: str | None,
                              prefix: str | None = None) -> InputError:
    """Turn every error of a pydantic ValidationError into one InputError: the error itself
    when there is one, else an :class:`InputErrors` with one line each."""
    return input_error(validation_to_input_errors(exc, file, prefix))


def validation_to_input_errors(exc: ValidationError, file: str | None,
                               prefix: str | None = None) -> list[InputError]:
    """One InputError per distinct mistake of a pydantic ValidationError (the errors of the
    members of one union count as one mistake), in the order pydantic found them."""
    errors = [_to_input_error(err, file, prefix)
              for err in _distinct_errors(exc.errors(include_url=False))]
    unique: dict[str, InputError] = {}
    for err in errors:
        unique.setdefault(err.one_line(), err)
    return list(unique.values())


def _to_input_error(err: Any, file: str | None, prefix: str | None) -> InputError:
    """One pydantic error as an InputError with key path, value and expectation."""
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


def _union_base(loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The location of the union an error's location passes through (the part before the
    member's tag: ``float``, ``dict[str,float]``, ``function-after[...]``), or None when it
    passes through none."""
    for i, item in enumerate(loc):
        if isinstance(item, str) and (item in _UNION_TAGS or "[" in item and item != "[key]"):
            return loc[:i]
    return None


def _distinct_errors(errors: list[Any]) -> list[Any]:
    """The errors, with those of the members of one union replaced by the one that says what
    is wrong (see :func:`_first_error`)."""
    groups: dict[Any, list[Any]] = {}
    for i, err in enumerate(errors):
        base = _union_base(tuple(err["loc"]))
        groups.setdefault(i if base is None else base, []).append(err)
    return [_first_error(group) for group in groups.values()]


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
