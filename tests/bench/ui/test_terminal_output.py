"""What ``python -m bench run`` shows in a terminal, in a pipe and with ``--quiet``; the printed
table against the files; the problems listed once at the end."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from harness_util import QUICK_ARMS, bench_env, run_bench, unique_name

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# rich's bar as drawn by bench.progress: the bar, "done/total", elapsed time
BAR = re.compile(r"━+\s+(\d+)/(\d+)\s+\d+:\d\d:\d\d")
MLFLOW_NOISE = ("Downloading artifacts", "Creating initial MLflow database tables",
                "Updating database tables", "alembic")


def tiny_run_args(uri: str, results: Path, *extra: str) -> list[str]:
    return ["run", "ablation", "--quick", "--arms", "softmax-ce", "--seeds", "1", "--dataset",
            "digits", "--jobs", "1", "--tracking-uri", uri, "--results-dir", str(results),
            "--experiment-name", unique_name("terminal"), *extra]


def run_in_pty(args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run ``python -m bench ARGS`` with stdin, stdout and stderr on a pseudo-terminal
    (120 columns), as in an interactive shell; returns (exit status, everything shown)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    env = {**bench_env(), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=cwd, env=env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child side closed
                    data = b""
                if data:
                    chunks.append(data)
                    continue
            if proc.poll() is not None and not ready:
                break
            if proc.poll() is not None and ready and not data:
                break
            assert time.monotonic() < deadline, "bench did not finish in time under a pty"
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory):
    """A directory for stores that do not exist yet (so MLflow creates them: its INFO lines
    about creating tables must not reach the user)."""
    return tmp_path_factory.mktemp("terminal")


def test_a_terminal_gets_the_live_bar_and_no_library_noise(fresh_store):
    uri = f"sqlite:///{fresh_store}/tty.db"
    status, shown = run_in_pty(tiny_run_args(uri, fresh_store / "results-tty"), fresh_store)
    assert status == 0, shown
    assert ANSI.search(shown), "no terminal control sequences: the live bar was not drawn"
    plain = ANSI.sub("", shown)
    assert ("1", "1") in BAR.findall(plain), plain
    assert "1/1" in plain and "softmax-ce seed 0: test acc" in plain
    assert "ablation on digits" in plain  # the table
    for noise in MLFLOW_NOISE:
        assert noise not in plain, noise


def test_a_pipe_gets_plain_lines_one_per_run(fresh_store):
    uri = f"sqlite:///{fresh_store}/pipe.db"
    proc = run_bench(tiny_run_args(uri, fresh_store / "results-pipe"), fresh_store)
    assert proc.returncode == 0, proc.stderr
    both = proc.stdout + proc.stderr
    assert not ANSI.search(both), repr(both[:500])
    assert not BAR.search(proc.stderr), proc.stderr
    assert re.search(r"^\[1/1\] softmax-ce seed 0: test acc \d+\.\d\d%, 3 epochs, ", proc.stderr,
                     re.MULTILINE), proc.stderr
    assert re.search(r"^1/1 runs in \d+\.\ds$", proc.stderr, re.MULTILINE), proc.stderr
    assert "tables written to" in proc.stderr and "learning_curves.png" in proc.stderr
    for noise in MLFLOW_NOISE:
        assert noise not in both, noise


def test_quiet_silences_progress_but_not_the_result(fresh_store, store):
    """--quiet drops the progress lines; the table, where it was written and the smoke-test
    note of a --quick run stay."""
    args = tiny_run_args(store.uri, fresh_store / "results-quiet", "--quiet")
    status, shown = run_in_pty(args, fresh_store)
    assert status == 0, shown
    plain = ANSI.sub("", shown)
    assert "ablation on digits" in plain and "softmax-ce" in plain, plain
    assert not BAR.search(plain) and "seed 0: test acc" not in plain, plain
    proc = run_bench(args, fresh_store)
    assert proc.returncode == 0, proc.stderr
    assert "ablation on digits" in proc.stdout
    lines = proc.stderr.splitlines()
    assert [line.split()[0] for line in lines] == ["tables", "note:"], proc.stderr
    assert lines[0].startswith("tables written to ") and "smoke test" in lines[1]


def test_the_printed_table_has_the_numbers_of_the_files(quick_run):
    """Each arm's row printed to stdout shows table.csv's accuracy with its interval and, for an
    arm with a compared arm, the difference, its Holm p and the verdict; and fits 100 columns."""
    csv = pd.read_csv(quick_run.table_dir / "table.csv").set_index("arm")
    rows = {}
    for line in quick_run.stdout.splitlines():
        words = line.split()
        if words and words[0] in QUICK_ARMS:
            rows[words[0]] = line
    assert sorted(rows) == sorted(QUICK_ARMS), quick_run.stdout
    assert max(len(line) for line in quick_run.stdout.splitlines()) <= 100
    for arm, line in rows.items():
        r = csv.loc[arm]
        assert f"{100 * r.acc_mean:.2f} ± {100 * (r.acc_high - r.acc_low) / 2:.2f}" in line
        if isinstance(r.d_prev_vs, str):
            assert f"{100 * r.d_prev_acc:+.2f}" in line and r.d_prev_vs in line
            assert (f"{r.d_prev_padj:.3f}" if r.d_prev_padj >= 0.001 else "<0.001") in line


# -- problems are collected and shown once, at the end -------------------------------------------

def _spec(arm, seed):
    return SimpleNamespace(arm=arm, seed=seed, key=f"ablation/{arm}/seed-{seed}")


def _result(diverged=False):
    return SimpleNamespace(diverged=diverged, stop_reason="non-finite loss" if diverged else "",
                           test_accuracy=0.9, epochs_run=3, seconds=0.1)


@pytest.mark.parametrize("quiet", [False, True])
def test_problems_are_listed_once_after_the_runs(quiet):
    from bench.progress import RunProgress
    out = io.StringIO()
    progress = RunProgress(4, quiet=quiet, stream=out)
    progress.started(_spec("a", 0))
    progress.finished(_spec("a", 0), _result())
    progress.finished(_spec("a", 1), _result(diverged=True))
    warnings.warn("a fallback was taken", UserWarning)
    warnings.warn("a fallback was taken", UserWarning)  # the same one: listed once
    progress.failed(_spec("b", 0), RuntimeError("boom"))
    progress.finished(_spec("b", 1), _result())
    progress.close()
    progress.close()  # a second close shows nothing again
    text = out.getvalue()
    assert text.count("warning(s):") == 1
    block = text[text.index("warning(s):"):]
    assert "3 warning(s):" in text
    assert "ablation/a/seed-1 diverged (non-finite loss)" in block
    assert "ablation/b/seed-0 failed: RuntimeError: boom" in block
    assert block.count("a fallback was taken") == 1
    lines = text.splitlines()
    if quiet:
        assert not any(line.startswith("[") for line in lines)
        assert "runs in" not in text
    else:
        # every per-run line comes before the list of problems, and the summary after it
        assert max(i for i, line in enumerate(lines) if line.startswith("[")) < \
            lines.index("3 warning(s):") < max(i for i, line in enumerate(lines) if "runs in" in line)
        assert text.count("4/4 runs in") == 1


def test_warnings_go_back_to_normal_after_close():
    from bench.progress import RunProgress
    before = warnings.showwarning
    progress = RunProgress(1, quiet=True, stream=io.StringIO())
    assert warnings.showwarning != before
    progress.close()
    assert warnings.showwarning == before
