"""``rackforge run FILE``: every stage the scenario has sections for, one report."""

from __future__ import annotations

import json
import os
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rackforge import pipeline
from rackforge import scenario as scenario_mod
from rackforge.cache import DEFAULT_FOLDER, ResultCache
from rackforge.cli.app import (
    EXIT_FAILED,
    EXIT_OK,
    CacheDirOption,
    ExplainFlag,
    NoCacheFlag,
    ScenarioFile,
    app,
    console,
    err_console,
    stage_progress,
)
from rackforge.errors import InputError
from rackforge.report.html import render_html

STATUS = {"ok": "green", "cached": "green", "failed": "bold red", "skipped": "dim"}


@app.command()
def run(file: ScenarioFile,
        out: Annotated[Path, typer.Option("-o", "--out", help="Folder for report.html and "
                                          "results.json.")] = Path("out"),
        open_report: Annotated[bool, typer.Option("--open", help="Open the report in a "
                                                  "browser.")] = False,
        no_cache: NoCacheFlag = False, cache_dir: CacheDirOption = DEFAULT_FOLDER,
        explain: ExplainFlag = False) -> None:
    """Run every stage FILE has sections for (checks, cluster, evaluate, build, demand,
    supply, plan, source, compare) and write DIR/report.html and DIR/results.json. Stages
    whose inputs and code are unchanged come from the cache. Exit 1 when a stage fails or a
    design rule fails."""
    scen = scenario_mod.load(file)
    _check_out(out)
    if not any(pipeline.enabled(scen).values()):
        raise InputError("the scenario has no section any stage runs on", str(file), None,
                         None, "at least one of racks, evaluate, cluster, sourcing, line, "
                         "compare or plan")
    cache = None if no_cache else ResultCache(cache_dir)
    with stage_progress(quiet=False) as (on_stage, progress):
        result = pipeline.run(scen, None, cache, on_stage, progress)
    _write(out, json.dumps(result.to_json(), indent=1) + "\n", render_html(result))
    console.print(_summary(result))
    if explain:
        for line in result.explain():
            err_console.print(line, highlight=False, markup=False)
    console.print(f"wrote {out / 'report.html'} and {out / 'results.json'}")
    if open_report:
        webbrowser.open((out / "report.html").resolve().as_uri())
    failed = any(o.status == "failed" or not o.passed for o in result.outcomes.values())
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


_OUT_EXPECTED = "a folder that exists or can be created"


def _check_out(out: Path) -> None:
    """Refuse an output folder that is a file, or lies under a file or a folder that cannot
    be written, before any stage runs (so nothing is written)."""
    if out.exists() and not out.is_dir():
        raise InputError("the output folder is an existing file", None, "-o/--out", str(out),
                         _OUT_EXPECTED)
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError("the output folder cannot be created or written", None, "-o/--out",
                         str(out), _OUT_EXPECTED)


def _write(out: Path, results_json: str, report_html: str) -> None:
    """Write results.json and report.html into `out`; an OS error is one line, exit 2."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(results_json, encoding="utf-8")
        (out / "report.html").write_text(report_html, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the report ({exc.strerror or exc})", None, "-o/--out",
                         str(out), _OUT_EXPECTED) from None


def _summary(result: pipeline.RunResult) -> Table:
    table = Table(title=f"rackforge run: {result.scenario.name}", title_justify="left")
    for col in ("stage", "status", "seconds", "result"):
        table.add_column(col, overflow="fold", justify="right" if col == "seconds" else "left")
    for name, o in result.outcomes.items():
        status = "cached" if o.cached else o.status
        table.add_row(name, f"[{STATUS[status]}]{status}[/]", f"{o.seconds:.2f}",
                      escape(o.summary))
    return table
