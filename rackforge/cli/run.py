"""``rackforge run FILE``: every stage the scenario has sections for, one report."""

from __future__ import annotations

import json
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
    if not any(pipeline.enabled(scen).values()):
        raise InputError("the scenario has no section any stage runs on", str(file), None,
                         None, "at least one of racks, evaluate, cluster, sourcing, line, "
                         "compare or plan")
    cache = None if no_cache else ResultCache(cache_dir)
    with stage_progress(quiet=False) as (on_stage, progress):
        result = pipeline.run(scen, None, cache, on_stage, progress)
    out.mkdir(parents=True, exist_ok=True)
    doc = result.to_json()
    (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_html(result), encoding="utf-8")
    console.print(_summary(result))
    if explain:
        for line in result.explain():
            err_console.print(line, highlight=False, markup=False)
    console.print(f"wrote {out / 'report.html'} and {out / 'results.json'}")
    if open_report:
        webbrowser.open((out / "report.html").resolve().as_uri())
    failed = any(o.status == "failed" or not o.passed for o in result.outcomes.values())
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _summary(result: pipeline.RunResult) -> Table:
    table = Table(title=f"rackforge run: {result.scenario.name}", title_justify="left")
    for col in ("stage", "status", "seconds", "result"):
        table.add_column(col, overflow="fold", justify="right" if col == "seconds" else "left")
    for name, o in result.outcomes.items():
        status = "cached" if o.cached else o.status
        table.add_row(name, f"[{STATUS[status]}]{status}[/]", f"{o.seconds:.2f}",
                      escape(o.summary))
    return table
