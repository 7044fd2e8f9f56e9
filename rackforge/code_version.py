"""The version of a module's code: a hash of its source, of every rackforge module it imports
(transitively) and of every data file the package ships.

The result cache keys a stage's result on this hash, so editing a formula, a default in a
``data/*.yaml`` file or a helper the stage imports invalidates that stage's cached results and
nothing else. Imports are found with a regular expression over the source (``import`` and
``from ... import`` statements anywhere in a file, function-level included): a few
milliseconds for the whole package, where parsing it with :mod:`ast` takes a tenth of a second.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

PACKAGE = "rackforge"
ROOT = Path(__file__).parent
DATA_SUFFIXES = (".yaml", ".csv", ".j2")

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(rackforge[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
    r"|import[ \t]+(rackforge[\w.]*))", re.MULTILINE)


def module_file(module: str) -> Path | None:
    """Source file of a ``rackforge.*`` module (a package's ``__init__.py``), or None."""
    parts = module.split(".")[1:]
    path = ROOT.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(module: str, source: str) -> set[str]:
    """The rackforge modules `source` (the text of `module`) imports directly."""
    found: set[str] = set()
    for base, names, plain in _IMPORT.findall(source):
        if plain:
            found.add(plain)
            continue
        for name in names.strip("()").replace("\n", " ").split(","):
            name = name.split("#")[0].strip().split(" as ")[0].strip()
            sub = f"{base}.{name}"
            found.add(sub if name and module_file(sub) else base)
    found.discard(module)
    return {m for m in found if module_file(m) is not None}


@cache
def closure(module: str) -> tuple[str, ...]:
    """`module` and every rackforge module it imports, transitively, sorted; a module's
    packages count too (Python runs ``rackforge/sourcing/__init__.py`` before
    ``rackforge.sourcing.bom``)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path is not None:   # a module made at run time (a test's stand-in) has no file
            todo += imported_modules(name, path.read_text(encoding="utf-8"))
        todo += [name.rsplit(".", 1)[0]] if "." in name else []
    return tuple(sorted(seen))


@cache
def data_files() -> tuple[Path, ...]:
    """Every table and template the package ships (``*/data/*``, ``*/templates/*``)."""
    return tuple(sorted(p for folder in ("data", "templates") for p in ROOT.rglob(f"{folder}/*")
                        if p.suffix in DATA_SUFFIXES))


@cache
def code_version(module: str) -> str:
    """SHA-256 over the source of :func:`closure` (`module`) and every shipped data file.

    All data files count, not only those of the closure's packages: a module may read another
    package's table (``economics.py`` reads ``deploy/data/economics.yaml``)."""
    digest = hashlib.sha256()
    files = {module_file(name) for name in closure(module)} - {None} | set(data_files())
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
