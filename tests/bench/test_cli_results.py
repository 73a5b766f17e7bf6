"""Where ``python -m bench`` writes, and what it prints, through the real command line in
temporary directories: the full default run owns ``results/<experiment>/<dataset>/``, every
other run gets a folder of its own, ``report`` picks the newest run of a kind and says which,
``--json`` and ``--quiet`` keep the result, and files get the mode the umask says."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from harness_util import QUICK_DATASET, bench_env, run_bench, run_dir

from bench.locations import SMOKE_NOTE

# `bench run batchnorm` with no options: the smallest full default run (8 arms x 5 seeds of
# 100 full-batch steps on 50 synthetic samples, well under a minute).
DEFAULT_RUN = ["run", "batchnorm", "--jobs", "2", "--quiet"]


@pytest.fixture(scope="module")
def default_then_quick(tmp_path_factory):
    """In one working directory (default store, default results root): the full default run
    of batchnorm, then a --quick one with --json. Returns (cwd, default proc, quick proc)."""
    cwd = tmp_path_factory.mktemp("default-run")
    default = run_bench(DEFAULT_RUN, cwd, timeout=600)
    assert default.returncode == 0, default.stderr
    quick = run_bench(["run", "batchnorm", "--quick", "--jobs", "2", "--quiet", "--json"], cwd)
    assert quick.returncode == 0, quick.stderr
    return cwd, default, quick


def test_the_full_default_run_writes_the_experiments_own_folder(default_then_quick):
    cwd, default, _ = default_then_quick
    assert (cwd / "results" / "batchnorm" / "synthetic" / "table.md").is_file()
    assert "tables written to results/batchnorm/synthetic/ (" in default.stderr


def test_a_quick_run_writes_its_own_folder_and_says_where(default_then_quick):
    cwd, _, quick = default_then_quick
    folder = run_dir(cwd / "results", "batchnorm", "synthetic")
    assert folder.name.split("-")[2] == "quick", folder.name  # <date>-<time>-quick-<run id>
    assert f"tables written to {folder.relative_to(cwd)}/ (" in quick.stderr


def test_a_quick_run_leaves_the_full_runs_table_untouched(default_then_quick):
    cwd, default, _ = default_then_quick
    table = (cwd / "results" / "batchnorm" / "synthetic" / "table.md").read_text()
    assert "100" in table and "epochs 3" not in table
    assert sorted(p.name for p in (cwd / "results" / "batchnorm" / "synthetic").iterdir()) == [
        "ablation_chart.png", "differences.png", "learning_curves.png", "report.html", "runs",
        "runs.csv", "table.csv", "table.md"]


def test_json_prints_the_table_as_json_on_stdout(default_then_quick):
    _, _, quick = default_then_quick
    table = json.loads(quick.stdout)
    arms = [row["arm"] for row in table["arms"]]
    assert arms[:2] == ["plain-L3-ws0.01", "bn-L3-ws0.01"] and len(arms) == 8
    assert all(isinstance(row["acc_mean"], float) for row in table["arms"])


def test_a_quick_run_says_its_numbers_are_a_smoke_test(quick_run):
    assert SMOKE_NOTE in quick_run.stderr


def test_report_picks_the_full_run_over_a_newer_quick_one_and_says_which(default_then_quick):
    cwd, _, _ = default_then_quick
    before = (cwd / "results" / "batchnorm" / "synthetic" / "table.md").read_bytes()
    proc = run_bench(["report", "batchnorm"], cwd)
    assert proc.returncode == 0, proc.stderr
    said = proc.stderr.splitlines()[0]
    assert said.startswith("reporting batchnorm synthetic 5 seeds (run ") and ", default), started " in said
    assert said.endswith("seeds 0,1,2,3,4; 100 epochs"), said
    assert (cwd / "results" / "batchnorm" / "synthetic" / "table.md").read_bytes() == before


def test_report_of_the_quick_kind_goes_to_the_quick_runs_folder(default_then_quick):
    cwd, _, _ = default_then_quick
    proc = run_bench(["report", "batchnorm", "--kind", "quick"], cwd)
    assert proc.returncode == 0, proc.stderr
    folder = run_dir(cwd / "results", "batchnorm", "synthetic")
    assert ", quick), started " in proc.stderr and "; 3 epochs" in proc.stderr
    assert f"tables written to {folder.relative_to(cwd)}/" in proc.stderr
    assert SMOKE_NOTE in proc.stderr


def test_report_without_a_run_of_the_kind_names_the_kind_to_ask_for(quick_run, tmp_path):
    proc = run_bench(["report", "ablation", "--tracking-uri", quick_run.uri], tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "--kind quick" in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_tables_get_the_mode_the_umask_gives(quick_run, tmp_path, umask, mode):
    proc = subprocess.run([sys.executable, "-m", "bench", "report", "ablation", "--kind", "quick",
                           "--tracking-uri", quick_run.uri, "--results-dir", str(tmp_path)],
                          cwd=tmp_path, env=bench_env(), capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    files = list(run_dir(tmp_path).iterdir())
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == \
        {p.name: oct(mode) for p in files}


def test_the_quick_fixture_wrote_nothing_in_the_experiments_own_folder(quick_run):
    assert sorted(p.name for p in (quick_run.results_dir / "ablation" / QUICK_DATASET).iterdir()) \
        == ["runs"]


def _one_line_exit_2(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: "), proc.stderr
    return lines[0]


def test_report_of_an_unknown_run_id_is_one_line(quick_run, tmp_path):
    line = _one_line_exit_2(run_bench(["report", "ablation", "--run-id", "deadbeef",
                                       "--tracking-uri", quick_run.uri], tmp_path))
    assert "'deadbeef'" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["report", "ablation"], ["doctor"], ["ui"]],
                         ids=["report", "doctor", "ui"])
def test_reading_commands_create_no_tracking_store(argv, tmp_path):
    line = _one_line_exit_2(run_bench(argv, tmp_path))
    assert "no tracking store at 'mlflow.db'" in line
    assert list(tmp_path.iterdir()) == []


def test_worker_creates_no_journal_before_failing(tmp_path):
    line = _one_line_exit_2(run_bench(["worker", "--study", "ablation.digits.momentum",
                                       "--storage", "optuna.journal"], tmp_path))
    assert "'optuna.journal'" in line
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def busy_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_ui_on_a_busy_port_is_one_line_with_a_port_hint(quick_run, tmp_path, busy_port):
    line = _one_line_exit_2(run_bench(["ui", "--tracking-uri", quick_run.uri,
                                       "--port", busy_port], tmp_path))
    assert f"port {busy_port}" in line and "--port " in line


def test_dashboard_on_a_busy_port_is_one_line_with_a_port_hint(tmp_path, busy_port):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    journal = tmp_path / "studies.journal"
    optuna.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(journal))))
    line = _one_line_exit_2(run_bench(["dashboard", "--storage", journal,
                                       "--port", busy_port], tmp_path))
    assert f"port {busy_port}" in line and "--port " in line


def test_offline_mnist_prints_where_to_put_the_files_on_one_line(tmp_path):
    home = tmp_path / "home"
    env = {**bench_env(), "HOME": str(home), "BENCH_MNIST_MIRRORS": "http://127.0.0.1:9/"}
    env.pop("BENCH_DATA_DIR", None)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([sys.executable, "-m", "bench", "run", "ablation", "--dataset", "mnist"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)
    line = _one_line_exit_2(proc)
    assert "into one of these directories" in line, line
    assert str(home / ".cache" / "bench" / "mnist") in line and "--data-dir" in line, line
    assert "--dataset mnist-5k" in line
    assert list(work.iterdir()) == []


def test_results_dir_that_is_a_file_creates_nothing(tmp_path):
    Path(tmp_path / "taken").write_text("")
    line = _one_line_exit_2(run_bench(["run", "ablation", "--results-dir", "taken"], tmp_path))
    assert "'taken'" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
