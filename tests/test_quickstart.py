"""The README's Quickstart: both commands make and use a virtual environment (so they work
where the system Python refuses global installs, PEP 668), and CI runs the test command exactly
as the README prints it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_quickstart_has_the_run_and_the_test_command():
    run, test = _quickstart_commands()
    assert run.endswith("python -m bench run ablation") and test.endswith("python -m pytest")


def test_each_quickstart_command_creates_and_activates_a_venv_before_installing():
    for command in _quickstart_commands():
        steps = [s.strip() for s in command.split("&&")]
        assert steps[0] == "python3 -m venv .venv" and steps[1] == ". .venv/bin/activate", command
        assert shlex.split(steps[2])[:3] == ["pip", "install", "-e"], command


def test_ci_runs_the_readmes_test_command_verbatim():
    _, test = _quickstart_commands()
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert test in lines


def test_the_venv_is_ignored_by_git():
    assert ".venv/" in (REPO / ".gitignore").read_text().splitlines()
