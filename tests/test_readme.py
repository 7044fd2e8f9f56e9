"""The README's "Writing a scenario" example loads and passes every design rule."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from rackforge.cli import app

README = Path(__file__).parent.parent / "README.md"


def scenario_block() -> str:
    """The first YAML block after the "Writing a scenario" heading."""
    text = README.read_text().split("## Writing a scenario", 1)[1]
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)


def test_readme_scenario_passes(tmp_path):
    path = tmp_path / "readme.yaml"
    path.write_text(scenario_block())
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.stdout
