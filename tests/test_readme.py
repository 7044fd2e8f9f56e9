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


def sample(command: str) -> list[str]:
    """The README's output lines under ``$ COMMAND`` (``...`` marks elided lines)."""
    text = README.read_text()
    block = text[text.index(f"```text\n$ {command}\n") + len(f"```text\n$ {command}\n"):]
    return [line.rstrip() for line in block[:block.index("```")].splitlines()]


def test_readme_samples_are_what_the_commands_print(monkeypatch):
    """The samples of deterministic commands: every line the README shows appears, in order,
    in what the command prints today (``...`` stands for lines left out)."""
    monkeypatch.chdir(README.parent)        # the README's paths are relative to the checkout
    for command in ("rackforge check scenarios/reference.yaml",
                    "rackforge check scenarios/examples/copper-past-reach.yaml",
                    "rackforge validate training tests/data/training_throughput.csv"):
        printed = [line.rstrip() for line in CliRunner().invoke(
            app, command.split()[1:]).stdout.splitlines()]
        position = 0
        for line in (ln for ln in sample(command) if ln != "..."):
            assert line in printed[position:], (command, line)
            position = printed.index(line, position) + 1
