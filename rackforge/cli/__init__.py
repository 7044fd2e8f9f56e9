"""The ``rackforge`` command line: a thin Typer layer over the library.

Each command lives in the module of its domain (``cli/check.py``, ``cli/perf.py``, ...) and
registers itself on :data:`app` or one of its sub-apps when imported; every module of this
package is imported here, so adding a command means adding a module. User mistakes
(:class:`InputError`) print one line and exit 2; failing design rules exit 1.
"""

import importlib
import pkgutil

from rackforge.cli.app import app, catalog_app, console, validate_app

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["app", "catalog_app", "console", "validate_app"]
