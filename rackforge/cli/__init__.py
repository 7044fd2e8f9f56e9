"""The ``rackforge`` command line: a thin Typer layer over the library.

Each command lives in the module of its domain (``cli/check.py``, ``cli/perf.py``, ...) and
registers itself on :data:`app` or one of its sub-apps. User mistakes (:class:`InputError`)
print one line and exit 2; failing design rules exit 1.
"""

# Importing the command modules registers their commands.
from rackforge.cli import build as _build  # noqa: E402,F401
from rackforge.cli import catalog as _catalog  # noqa: E402,F401
from rackforge.cli import check as _check  # noqa: E402,F401
from rackforge.cli import cluster as _cluster  # noqa: E402,F401
from rackforge.cli import perf as _perf  # noqa: E402,F401
from rackforge.cli import plan as _plan  # noqa: E402,F401
from rackforge.cli import run as _run  # noqa: E402,F401
from rackforge.cli.app import app, catalog_app, console, validate_app

__all__ = ["app", "catalog_app", "console", "validate_app"]
