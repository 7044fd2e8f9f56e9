"""Load the shipped catalog (``catalog/data/*.yaml``) and look parts up by id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar

from rackforge.catalog.models import KINDS, MODELS, Accelerator, PartBase
from rackforge.errors import InputError
from rackforge.inputs import closest, read_yaml, validate

DATA_DIR = Path(__file__).parent / "data"
P = TypeVar("P", bound=PartBase)


@dataclass(frozen=True)
class Catalog:
    """Parts by id. Immutable; :meth:`with_parts` returns an extended copy."""

    parts: Mapping[str, PartBase]

    def get(self, part_id: str, kind: type[P] | None = None, *, where: str | None = None,
            file: str | None = None) -> P:
        """Return the part `part_id`, checking it is of model class `kind`.

        Raises :class:`InputError` naming `where` (a key path) and the closest ids.
        """
        part = self.parts.get(part_id)
        if part is not None and (kind is None or isinstance(part, kind)):
            return part  # type: ignore[return-value]
        choices = [p.id for p in self.parts.values() if kind is None or isinstance(p, kind)]
        label = kind.model_fields["kind"].default if kind else "part"
        if part is None:
            raise InputError(f"unknown {label} id", file, where, part_id,
                             f"a {label} id from the catalog", closest(part_id, choices))
        raise InputError(f"part is a {part.kind}, not a {label}", file, where, part_id,
                         f"a {label} id", closest(part_id, choices))

    def of_kind(self, kind: str) -> list[PartBase]:
        return [p for p in self.parts.values() if p.kind == kind]

    def __iter__(self) -> Iterator[PartBase]:
        return iter(self.parts.values())

    def __len__(self) -> int:
        return len(self.parts)

    def __contains__(self, part_id: object) -> bool:
        return part_id in self.parts

    @cached_property
    def content_key(self) -> str:
        """SHA-256 of every part as canonical JSON, computed once per catalog (the result cache
        keys stages that read the catalog on it)."""
        text = json.dumps([self.parts[pid].model_dump(mode="json") for pid in sorted(self.parts)],
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_parts(self, parts: Iterable[PartBase], file: str | None = None) -> Catalog:
        """A copy with `parts` added (a part with an existing id replaces it), references checked.
        """
        parts = list(parts)
        if not parts:
            return self
        merged = dict(self.parts)
        merged.update({p.id: p for p in parts})
        catalog = Catalog(merged)
        catalog.check_references(parts, file)
        return catalog

    def check_references(self, parts: Iterable[PartBase], file: str | None = None) -> None:
        """Every accelerator a tray or system names must be an accelerator of this catalog."""
        for part in parts:
            ref = getattr(part, "accelerator", None)
            if ref is not None:
                self.get(ref, Accelerator, where=f"{part.id}.accelerator", file=file)


def parse_parts(data: Any, file: str | None, prefix: str = "parts") -> list[PartBase]:
    """Validate a YAML list of part mappings (each with its ``kind``)."""
    if not isinstance(data, list):
        raise InputError("expected a list of parts", file, prefix, None, "a YAML list")
    parts = [_parse_part(entry, file, f"{prefix}[{i}]") for i, entry in enumerate(data)]
    _check_unique_ids(parts, file, prefix)
    return parts


def _parse_part(entry: Any, file: str | None, where: str) -> PartBase:
    """Validate one part mapping as the model of its ``kind``."""
    if not isinstance(entry, dict):
        raise InputError("expected a mapping", file, where, entry, "a part with id and kind")
    if entry.get("kind") not in KINDS:
        raise InputError("unknown part kind", file, f"{where}.kind", entry.get("kind"),
                         f"one of {', '.join(KINDS)}")
    return validate(MODELS[entry["kind"]], entry, file, where)


def _check_unique_ids(parts: list[PartBase], file: str | None, prefix: str) -> None:
    """A part id may appear once in a list of parts."""
    first: dict[str, int] = {}
    for i, part in enumerate(parts):
        if part.id in first:
            raise InputError("duplicate part id", file, f"{prefix}[{i}].id", part.id,
                             f"ids unique within {prefix} (first at {prefix}[{first[part.id]}])")
        first[part.id] = i


def check_replacements(catalog: Catalog, parts: list[PartBase], file: str | None,
                       prefix: str = "parts") -> None:
    """A scenario part (`parts`, in the order of the `prefix` list) may reuse an id of
    `catalog` only when it says ``replaces: true``."""
    for i, part in enumerate(parts):
        if part.id in catalog and not part.replaces:
            raise InputError("part id already in the catalog", file, f"{prefix}[{i}].id",
                             part.id, "a new id, or replaces: true to replace the catalog's "
                             f"{catalog.parts[part.id].kind} {part.id!r}")


def load_file(path: Path) -> list[PartBase]:
    """Parts of one catalog file: a mapping with ``kind`` and ``parts``."""
    data = read_yaml(path)
    if not isinstance(data, dict) or set(data) != {"kind", "parts"}:
        raise InputError("catalog file must be a mapping with keys kind and parts", str(path))
    entries = [{"kind": data["kind"], **e} if isinstance(e, dict) else e for e in data["parts"]]
    return parse_parts(entries, str(path))


@lru_cache(maxsize=4)
def load_catalog(data_dir: Path = DATA_DIR) -> Catalog:
    """Load every ``*.yaml`` in `data_dir`; ids must be unique across files."""
    parts: dict[str, PartBase] = {}
    for path in sorted(data_dir.glob("*.yaml")):
        for part in load_file(path):
            if part.id in parts:
                raise InputError("duplicate part id", str(path), part.id, part.id,
                                 "ids unique across the catalog")
            parts[part.id] = part
    catalog = Catalog(parts)
    catalog.check_references(catalog, str(data_dir))
    return catalog
