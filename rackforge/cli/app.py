"""The Typer app, its sub-apps, shared options and error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from typer.core import TyperGroup

from rackforge import __version__, pipeline
from rackforge.cache import DEFAULT_FOLDER, ResultCache
from rackforge.errors import InputError, RackforgeError
from rackforge.jsonable import jsonable
from rackforge.scenario import Scenario
from rackforge.units import format_value

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2

# Piped output (files, CI logs) gets a fixed width wide enough for the findings tables; a
# terminal keeps its own width.
console = Console(width=None if sys.stdout.isatty() else 100)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 400)


class _Group(TyperGroup):
    """Turns rackforge's intentional errors into one line and exit code 2."""

    def invoke(self, ctx):  # noqa: ANN001
        try:
            return super().invoke(ctx)
        except RackforgeError as exc:
            for line in str(exc).splitlines() or [exc.__class__.__name__]:
                _error_line(line)   # several mistakes of one file (InputErrors): a line each
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


def _print_version(value: bool) -> None:
    if value:
        console.print(f"rackforge {__version__}", highlight=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print rackforge's version and exit.")] = False) -> None:
    """Co-design, evaluate, source, build and deploy AI data-center racks."""

# Options shared by commands, defined once.
ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
NoCacheFlag = Annotated[bool, typer.Option(
    "--no-cache", help="Run every stage; neither read nor write the result cache.")]
CacheDirOption = Annotated[Path, typer.Option(
    "--cache-dir", envvar="RACKFORGE_CACHE", help="Folder of cached stage results.")]
ExplainFlag = Annotated[bool, typer.Option(
    "--explain", help="List the stages that ran (or came from the cache) and what each read.")]


@dataclass(frozen=True)
class StageOptions:
    """How a command runs the stage graph: cache folder (None: no cache) and --explain."""

    cache_dir: Path | None = DEFAULT_FOLDER
    explain: bool = False

    @classmethod
    def of(cls, no_cache: bool, cache_dir: Path, explain: bool) -> StageOptions:
        return cls(None if no_cache else cache_dir, explain)


def run_stages(scenario: Scenario, targets: list[str], options: StageOptions,
               quiet: bool = False) -> pipeline.RunResult:
    """Run what `targets` need (upstream stages included), with progress on stderr; a target
    that cannot run, or whose chain failed, raises its error (one line, exit 2)."""
    for name in targets:
        missing = pipeline.missing_sections(scenario, name)
        if missing:
            raise InputError(f"the scenario has no {missing[0]}: section", scenario.file,
                             missing[0], expected=f"a {missing[0]}: section for {name}")
    cache = ResultCache(options.cache_dir) if options.cache_dir is not None else None
    with stage_progress(quiet) as (on_stage, progress):
        result = pipeline.run(scenario, targets, cache, on_stage, progress)
    if options.explain:
        for line in result.explain():
            err_console.print(line, highlight=False, markup=False)
    error = result.first_error(result.outcomes)
    if error is not None:
        raise error
    for name, outcome in result.outcomes.items():
        if outcome.status == "failed":   # a bug, not a user mistake: keep the traceback
            err_console.print(f"stage {name} failed:\n{outcome.error}", markup=False)
            raise typer.Exit(EXIT_FAILED)
    return result


@contextmanager
def stage_progress(quiet: bool) -> Iterator[tuple[Callable, Callable]]:
    """A transient progress line on stderr: the stage running, and its own progress."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), console=err_console, transient=True,
                  disable=quiet) as bar:
        task = bar.add_task("starting", total=None)

        def on_stage(stage: pipeline.Stage) -> None:
            bar.update(task, description=f"{stage.title}...", completed=0, total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield on_stage, progress


def simple_table(title: str, columns: list[str], right_from: int = 1) -> Table:
    """A borderless table; columns from `right_from` on are numbers, right-aligned. Numbers
    never wrap; text and headers wrap rather than being cut when the table is too wide."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    for i, col in enumerate(columns):
        number = i >= right_from
        table.add_column(col, justify="right" if number else "left", overflow="fold",
                         no_wrap=number)
    return table


def money(usd: float) -> str:
    """Dollars for people: $1.23B, $775.8M, $1,234."""
    return format_value(usd, "USD")


def print_json(data: Any) -> None:
    """Write `data` as JSON to stdout (no Rich markup, so it stays parseable)."""
    # jsonable: a non-finite number is null, never the bare NaN / Infinity that JSON lacks
    sys.stdout.write(json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n")
