"""The self-contained HTML report: Jinja2 template, Plotly embedded (works offline)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from plotly.offline import get_plotlyjs

from rackforge import __version__
from rackforge.pipeline import SCHEMA_VERSION, RunResult
from rackforge.report.sections import build_sections

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined)


def render_html(run: RunResult, withhold_suppliers: bool = False) -> str:
    """The report page for `run` as one HTML string (about 5 MB with Plotly inline);
    `withhold_suppliers` leaves supplier-level data out of the sourcing section."""
    spec = run.scenario.spec
    sections = build_sections(run, withhold_suppliers)
    flagged = sum(s.flagged for s in sections)
    note = (f"{flagged} inputs of this report are invented example data (marked example: true),"
            " not measurements or quotes: see Inputs and their sources." if flagged else None)
    return _environment().get_template("report.html.j2").render(
        scenario_name=spec.name, description=spec.description or "", version=__version__,
        schema_version=SCHEMA_VERSION, outcomes=run.outcomes, sections=sections,
        plotly_js=get_plotlyjs(), example_note=note)
