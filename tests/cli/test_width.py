"""Piped output fits 100 columns and no value is cut short (Rich's ellipsis)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rackforge.cli import app

REFERENCE = str(Path(__file__).parents[2] / "scenarios" / "reference.yaml")
COMMANDS = [["check", REFERENCE], ["cluster", REFERENCE], ["plan", REFERENCE],
            ["compare", REFERENCE], ["source", REFERENCE], ["build", REFERENCE],
            ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-70b", "--gpus", "64"],
            ["catalog", "show", "mgx-power-shelf-33kw"]]


def test_every_command_fits_100_columns_without_cut_values(tmp_path, monkeypatch):
    monkeypatch.setenv("RACKFORGE_CACHE", str(tmp_path))     # one cache for the whole tour
    runner = CliRunner()
    for args in COMMANDS:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output[-500:])
        lines = result.stdout.splitlines()
        assert max(len(line.rstrip()) for line in lines) <= 100, args
        assert not [line for line in lines if "…" in line], args
