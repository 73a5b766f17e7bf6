"""The command line explains itself: bare ``bench`` prints help, ``--version``, help text on
every option, examples at the end of every subcommand's help."""

from __future__ import annotations

import argparse

import pytest
from harness_util import run_bench

from bench.cli import build_parser, version


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_bare_bench_prints_help_and_exits_0(tmp_path):
    proc = run_bench([], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: bench") and "report" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_version_prints_the_installed_version(tmp_path):
    proc = run_bench(["--version"], tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"bench {version()}"


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_option_has_help_text(command):
    parser = _subcommands()[command]
    missing = [a.dest for a in parser._actions if not (a.help or "").strip()]
    assert missing == []


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_help_ends_with_examples_of_the_command(command, tmp_path):
    proc = run_bench([command, "--help"], tmp_path)
    assert proc.returncode == 0
    tail = proc.stdout.rstrip().split("\n\n")[-1].splitlines()
    assert tail[0] == "examples:" and 1 <= len(tail) - 1 <= 2, proc.stdout
    assert all(line.strip().startswith(f"python -m bench {command}") for line in tail[1:])


def test_help_does_not_talk_about_how_the_project_was_built(tmp_path):
    texts = [run_bench(["--help"], tmp_path).stdout]
    texts += [run_bench([c, "--help"], tmp_path).stdout for c in ("run", "search")]
    for text in texts:
        assert "issue" not in text.lower(), text
