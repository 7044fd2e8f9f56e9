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
from rackforge.cli.app import EXIT_FAILED, EXIT_OK, ScenarioFile, app, console
from rackforge.errors import InputError
from rackforge.report.html import render_html

STATUS = {"ok": "green", "failed": "bold red", "skipped": "dim"}


@app.command()
def run(file: ScenarioFile,
        out: Annotated[Path, typer.Option("-o", "--out", help="Folder for report.html and "
                                          "results.json.")] = Path("out"),
        open_report: Annotated[bool, typer.Option("--open", help="Open the report in a "
                                                  "browser.")] = False) -> None:
    """Run checks, evaluate, compare, cluster, source, build and plan on FILE and write
    DIR/report.html and DIR/results.json. Exit 1 when a stage fails or a design rule fails."""
    scen = scenario_mod.load(file)
    if not any(stage.enabled(scen) for stage in pipeline.STAGES):
        raise InputError("the scenario has no section any stage runs on", str(file), None,
                         None, "at least one of racks, evaluate, cluster, sourcing, line, "
                         "compare or plan")
    with console.status("starting") as status:
        result = pipeline.run_all(scen, on_stage=lambda s: status.update(f"{s.title}..."))
    out.mkdir(parents=True, exist_ok=True)
    doc = result.to_json()
    (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_html(result), encoding="utf-8")
    console.print(_summary(result))
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
        table.add_row(name, f"[{STATUS[o.status]}]{o.status}[/]", f"{o.seconds:.2f}",
                      escape(o.summary))
    return table
