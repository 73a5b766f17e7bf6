"""Stores and folders under concurrent and hostile use: experiment names cannot move
artifacts out of the artifact root, two invocations may create one SQLite store at once,
one results folder is written by one invocation at a time, and an output that cannot be
written is an error naming it."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest
from harness_util import run_dir

from .util import BenchProcess, experiment_runs, report_fault, run_bench, wait_for


def _small(uri: str, root: Path, *extra) -> list:
    return ["run", "ablation", "--arms", "softmax-ce", "--seeds", "1", "--dataset", "digits",
            "--epochs", "2", "--jobs", "1", "--tracking-uri", uri, "--results-dir",
            root / "results", "--quiet", *extra]


@pytest.mark.parametrize("name", ["../../../../elsewhere/x", "/tmp/bench-abs-escape/x",
                                  "a b\tc/..\\d:é*?"])
def test_experiment_names_cannot_leave_the_artifact_root(name, new_store, tmp_path):
    store = new_store()
    root = (store.root / "mlartifacts").resolve()
    # Where the name would put the artifacts if it were a path under the root.
    naive = Path(os.path.normpath(os.path.join(root, name)))
    assert root not in naive.parents or name.startswith("a b")
    proc = run_bench(_small(store.uri, tmp_path, "--experiment-name", name), tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (naive.exists() and root not in naive.parents), naive
    assert not Path("/tmp/bench-abs-escape").exists()
    weights = list(tmp_path.rglob("weights.npz"))
    assert len(weights) == 1 and root in weights[0].resolve().parents, weights
    (run,) = [r for r in experiment_runs(store.client, name) if r.data.tags.get("bench.kind") == "run"]
    assert run.info.status == "FINISHED"


def test_two_runs_may_create_one_new_sqlite_store_at_once(tmp_path):
    uri = f"sqlite:///{tmp_path}/new.db"
    procs = [BenchProcess(_small(uri, tmp_path / f"r{i}", "--experiment-name", f"race-{i}"),
                          tmp_path) for i in range(2)]
    codes = [p.wait(240) for p in procs]
    print(report_fault("Two `bench run`s creating one new SQLite store at once",
                       "both started together on a store that did not exist",
                       {"invocations": 2, "exited 0": codes.count(0)}, 2 - codes.count(0)))
    assert codes == [0, 0], [p.output()[-2000:] for p in procs]


def test_a_results_folder_is_written_by_one_invocation_at_a_time(new_store, tmp_path):
    """While another invocation holds the folder (here: this test, holding its lock), a
    finished run waits to write its tables rather than mixing them with the other's."""
    store = new_store()
    folder = tmp_path / "results" / "ablation" / "digits"
    folder.mkdir(parents=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    proc = BenchProcess(_small(store.uri, tmp_path), tmp_path)
    try:
        wait_for(lambda: any(r.info.status == "FINISHED" and r.data.tags.get("bench.kind") == "parent"
                             for r in experiment_runs(store.client, "ablation")),
                 120, "the parent run to finish")
        time.sleep(2.0)
        written_while_held = sorted(p.name for p in folder.iterdir())
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    code = proc.wait(120)
    assert written_while_held == [], written_while_held
    assert code == 0, proc.output()[-2000:]
    written = run_dir(tmp_path / "results", dataset="digits")
    assert (written / "table.md").exists() and (written / "runs.csv").exists()


def test_an_unwritable_figure_is_an_error_naming_it(new_store, tmp_path):
    """A figure that cannot be written (here its path is taken by a non-empty folder; a full
    disk fails the same way) exits non-zero with one line naming it, even with --quiet; the
    tables and the tracked runs are kept. The run writes its folder; `report` then rewrites it
    (the run's own folder, recorded on its parent) with the figure's path taken."""
    store = new_store()
    first = run_bench(_small(store.uri, tmp_path), tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    folder = run_dir(tmp_path / "results", dataset="digits")
    (folder / "learning_curves.png").unlink()
    (folder / "learning_curves.png" / "occupied").mkdir(parents=True)
    proc = run_bench(["report", "ablation", "--kind", "custom", "--tracking-uri", store.uri,
                      "--results-dir", tmp_path / "results"], tmp_path)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("bench: error")]
    runs = experiment_runs(store.client, "ablation")
    print(report_fault("Unwritable output (a figure's path taken)",
                       "`bench report` whose learning_curves.png cannot be written",
                       {"exit status": proc.returncode, "error lines": len(errors),
                        "runs finished": sum(r.info.status == "FINISHED" for r in runs)},
                       0 if proc.returncode != 0 else 1))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert len(errors) == 1 and "learning_curves.png" in errors[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert (folder / "table.md").exists()
    assert all(r.info.status == "FINISHED" for r in runs)


def test_an_unwritable_results_folder_is_an_error_naming_it(new_store, tmp_path):
    """The run's folder cannot be made (a file stands where runs/ goes): exit 1, one line
    naming it; the tracked runs are kept."""
    store = new_store()
    (tmp_path / "results" / "ablation" / "digits").mkdir(parents=True)
    (tmp_path / "results" / "ablation" / "digits" / "runs").write_text("in the way")
    proc = run_bench(_small(store.uri, tmp_path), tmp_path)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("bench: error")]
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert len(errors) == 1 and "runs" in errors[0] and "not" in errors[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    runs = experiment_runs(store.client, "ablation")
    assert all(r.info.status == "FINISHED" for r in runs)


