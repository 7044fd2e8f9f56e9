"""``rackforge check FILE``: design rules for every rack of a scenario."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from rackforge import scenario as scenario_mod
from rackforge.cache import DEFAULT_FOLDER
from rackforge.checks import count
from rackforge.checks.findings import Finding
from rackforge.cli.app import (
    EXIT_FAILED,
    EXIT_OK,
    CacheDirOption,
    ExplainFlag,
    JsonFlag,
    NoCacheFlag,
    ScenarioFile,
    StageOptions,
    app,
    console,
    print_json,
    run_stages,
)
from rackforge.errors import InputError
from rackforge.units import format_value

STYLE = {"error": "bold red", "warning": "yellow", "pass": "green", "info": "dim"}


@app.command()
def check(file: ScenarioFile, json: JsonFlag = False,
          strict: Annotated[bool, typer.Option("--strict",
                                               help="Treat warnings as failures.")] = False,
          no_cache: NoCacheFlag = False, cache_dir: CacheDirOption = DEFAULT_FOLDER,
          explain: ExplainFlag = False) -> None:
    """Check every rack design of FILE against the power, cooling, mechanical and cabling rules.

    Exit 0 when no rule fails, 1 when one does (or a warning under --strict), 2 on bad input.
    """
    scen = scenario_mod.load(file)
    if not scen.layouts:
        raise InputError("the scenario has no rack designs to check", str(file), "racks",
                         expected="at least one entry under racks")
    run = run_stages(scen, ["checks"], StageOptions.of(no_cache, cache_dir, explain),
                     quiet=json)
    results = {rid: rc.findings for rid, rc in run.outcomes["checks"].result.items()}
    totals = count([f for fs in results.values() for f in fs])
    failed = totals["error"] > 0 or (strict and totals["warning"] > 0)
    if json:
        print_json({"scenario": scen.name, "status": "fail" if failed else "pass",
                    "summary": totals,
                    "racks": {rid: [f.to_dict() for f in fs] for rid, fs in results.items()}})
    else:
        for rid, findings in results.items():
            console.print(findings_table(rid, findings))
        console.print(_summary(totals, failed))
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def findings_table(title: str, findings: list[Finding]) -> Table:
    """Rule, severity, subject, value, limit and margin of each finding, worst first; the
    messages of failing and warning rules follow as the table's caption."""
    table = Table(title=f"Rack {title}", title_justify="left", caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("rule", "severity", "subject", "value", "limit", "margin"):
        table.add_column(col, justify="right" if col in ("value", "limit", "margin") else "left",
                         overflow="fold", no_wrap=col == "rule",
                         min_width=16 if col == "subject" else None)
    for f in findings:
        margin = f"{f.margin:+.1%}" if f.margin is not None else ""
        table.add_row(f.rule, f"[{STYLE[f.severity]}]{f.severity}[/]", escape(f.subject),
                      _number(f.value, f.unit), _number(f.limit, f.unit), margin)
    notes = [f"[{STYLE[f.severity]}]{f.rule}[/] {escape(f.subject)}: {escape(f.message)}"
             for f in findings
             if f.severity in ("error", "warning", "info")]
    table.caption = "\n".join(notes) or None
    return table


def _number(value: float | None, unit: str) -> str:
    return "" if value is None else format_value(value, unit)


def _summary(totals: dict[str, int], failed: bool) -> str:
    verdict = "[bold red]FAIL[/]" if failed else "[bold green]PASS[/]"
    return (f"{verdict}: {totals['error']} error(s), {totals['warning']} warning(s), "
            f"{totals['pass']} passed, {totals['info']} info")


