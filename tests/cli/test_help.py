"""Every command has help text, and --help works for each (sqlite-utils style)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from rackforge.cli import app

runner = CliRunner()


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help():
    root = typer.main.get_command(app)
    commands = list(_commands(root))
    assert len(commands) >= 4
    for path, cmd in commands:
        assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_catalog_show_unknown_id_is_one_line_exit_2():
    result = runner.invoke(app, ["catalog", "show", "h100-sxm"], terminal_width=300)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "Did you mean h100-sxm-80gb" in result.output


def test_catalog_list_kind_and_json():
    result = runner.invoke(app, ["catalog", "list", "accelerator", "--json"])
    assert result.exit_code == 0
    assert '"id": "mi355x"' in result.output
    bad = runner.invoke(app, ["catalog", "list", "acelerator"], terminal_width=300)
    assert bad.exit_code == 2 and "Did you mean accelerator" in bad.output
