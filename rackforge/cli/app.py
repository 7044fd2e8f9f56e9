"""The Typer app, its sub-apps, shared options and error handling."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from rackforge.errors import RackforgeError
from rackforge.units import format_value

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2

# Piped output (files, CI logs) gets a fixed width wide enough for the findings tables; a
# terminal keeps its own width.
console = Console(width=None if sys.stdout.isatty() else 110)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 400)


class _Group(TyperGroup):
    """Turns rackforge's intentional errors into one line and exit code 2."""

    def invoke(self, ctx):  # noqa: ANN001
        try:
            return super().invoke(ctx)
        except RackforgeError as exc:
            _error_line(str(exc))
            raise typer.Exit(EXIT_INPUT) from None
        except typer.BadParameter as exc:  # an option or argument out of range: one line too
            cmd = (exc.ctx or ctx).command_path
            _error_line(f"{exc.format_message().rstrip('.')}. Use '{cmd} --help' for the "
                        "options.")
            raise typer.Exit(EXIT_INPUT) from None


def _error_line(text: str) -> None:
    err_console.print(f"[bold red]Error:[/] {escape(text)}", markup=True, highlight=False,
                      soft_wrap=True)


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  help="Co-design, evaluate, source, build and deploy AI data-center racks.")
catalog_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Browse the parts catalog.")
validate_app = typer.Typer(cls=_Group, no_args_is_help=True,
                           help="Compare rackforge's models with published measurements.")
app.add_typer(catalog_app, name="catalog")
app.add_typer(validate_app, name="validate")

# Options shared by commands, defined once.
ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def simple_table(title: str, columns: list[str], right_from: int = 1) -> Table:
    """A borderless table; columns from `right_from` on are numbers, right-aligned."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i >= right_from else "left")
    return table


def money(usd: float) -> str:
    """Dollars for people: $1.23B, $775.8M, $1,234."""
    return format_value(usd, "USD")


def print_json(data: Any) -> None:
    """Write `data` as JSON to stdout (no Rich markup, so it stays parseable)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
