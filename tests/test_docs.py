"""The README and --help cannot drift from the commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.cli.commands))
def test_every_command_has_help_and_is_in_the_readme(command):
    result = CliRunner().invoke(cli.cli, [command, "--help"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) > 2
    assert f"`{command}" in README


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    commands = [line for line in blocks[0].splitlines() if not line.startswith("#")]
    assert len(commands) == 2 and commands[0].endswith("cli.py build")
    assert commands[1] in CI


@pytest.mark.parametrize("flag", ["--min-rating", "--model-name", "--format", "--output-dir",
                                  "--feedback-file", "--var", "--vars"])
def test_every_original_flag_is_documented(flag):
    assert flag in README
