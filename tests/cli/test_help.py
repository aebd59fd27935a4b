"""Every command and every option explains itself (covers commands added later: walks cli.commands)."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from optimizer.cli import cli


def _walk(group: click.Group, prefix: tuple = ()):
    for name, cmd in sorted(group.commands.items()):
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, prefix + (name,))


COMMANDS = list(_walk(cli))


def test_the_core_commands_are_there():
    names = {path for path, _ in COMMANDS}
    assert {("validate",), ("solve",)} <= names


def _options(cmd: click.Command):
    return [p for p in cmd.params if isinstance(p, click.Option)]


@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_has_help(path, cmd):
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
    assert cmd.get_short_help_str().strip()
    for opt in _options(cmd):
        assert (opt.help or "").strip(), f"{' '.join(path)} {opt.opts[0]} has no help text"


@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_page_lists_every_option(path, cmd):
    r = CliRunner().invoke(cli, [*path, "--help"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Usage:")
    for opt in _options(cmd):
        assert opt.opts[-1] in r.stdout, opt.opts
    r = CliRunner().invoke(cli, [*path, "-h"])
    assert r.exit_code == 0


def test_group_options_have_help():
    for opt in _options(cli):
        assert (opt.help or "").strip(), opt.opts
    r = CliRunner().invoke(cli, ["--help"])
    assert r.exit_code == 0
    for path, cmd in COMMANDS:
        if len(path) == 1:
            assert path[0] in r.stdout
    assert "Exit codes" in r.stdout
