"""Interrupt ``python -m bench run`` (SIGTERM, SIGINT, SIGKILL) and run the same command
again: every run ends KILLED or FINISHED, tables and weight files are whole or absent, and the
next invocation resumes the same parent run without re-running a finished (arm, seed)."""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.resume import ResumeConflict, process_identity
from bench.session import Interrupted, run_experiment
from bench.tracking import Tracker
from experiments import get_experiment

from harness_util import run_dir

from .util import (BenchProcess, count_finished_children, experiment_runs, kind, report_fault,
                   wait_for)

ARMS = ("softmax-ce", "momentum")
SEEDS = 3
TOTAL = len(ARMS) * SEEDS
EPOCH_KEYS = ("train_loss",)  # the per-epoch metric logged every epoch (validation: every 10th)


def _args(store_uri: str, results: Path, *extra) -> list[str]:
    return ["run", "ablation", "--arms", ",".join(ARMS), "--seeds", str(SEEDS),
            "--dataset", "digits", "--epochs", "120", "--tracking-uri", store_uri,
            "--results-dir", str(results), *extra]


def _copy_store(template_db: Path, root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_db, root / "mlflow.db")
    return f"sqlite:///{root}/mlflow.db"


def _client(uri):
    from mlflow.tracking import MlflowClient
    return MlflowClient(tracking_uri=uri)


def _weights_whole(root: Path) -> int:
    """Every weights file in the store's artifacts loads; no temporary copy is left over.
    Returns how many there are."""
    files = list(root.rglob("weights.npz"))
    for path in files:
        with np.load(path, allow_pickle=False) as z:
            assert z.files, path
    leftovers = [p for p in root.rglob(".tmp-*")]
    assert not leftovers, leftovers
    return len(files)


def _snapshot(client):
    runs = experiment_runs(client, "ablation", deleted=True)
    return {r.info.run_id: r for r in runs}


class Interruption:
    """One interrupted invocation and the resumed one after it."""

    def __init__(self, template_db, root: Path, sig, jobs: int):
        self.sig, self.jobs, self.root = sig, jobs, root
        self.uri = _copy_store(template_db, root / "store")
        self.results = root / "results"
        self.args = _args(self.uri, self.results, "--jobs", str(jobs), "--quiet")
        self.client = _client(self.uri)
        self.first = BenchProcess(self.args, root)

    def deliver(self):
        if self.sig == signal.SIGKILL:
            self.first.kill_group()  # the process and its workers, as a crash would
        else:
            self.first.signal(self.sig)

    def ready(self) -> bool:
        assert self.first.alive(), f"exited early:\n{self.first.output()[-3000:]}"
        return count_finished_children(self.client, "ablation") >= 1


def _interrupt_all(cases):
    """Signal each case as soon as one of its runs has FINISHED (runs still to do)."""
    waiting = list(cases)

    def step():
        for case in list(waiting):
            if case.ready():
                case.deliver()
                waiting.remove(case)
        return not waiting
    try:
        wait_for(step, 180, "a finished child run in every interrupted invocation", 0.4)
        for case in cases:
            case.code = case.first.wait(120) if case.sig != signal.SIGKILL else -9
            case.before = _snapshot(case.client)
            case.results_existed = case.results.exists()
            case.weights_before = _weights_whole(case.root / "store")
    finally:
        for case in cases:
            if case.first.alive():
                case.first.kill_group()


def _check_interrupted(case):
    runs = case.before
    statuses = Counter(r.info.status for r in runs.values())
    (parent,) = kind(runs.values(), "parent")
    children = kind(runs.values(), "run")
    finished = [r for r in children if r.info.status == "FINISHED"]
    msg = f"{case.sig.name}: statuses {dict(statuses)}; output:\n{case.first.output()[-2000:]}"
    assert case.code == 130, msg
    assert statuses.get("RUNNING", 0) == 0, msg
    assert parent.info.status == "KILLED", msg
    assert 1 <= len(finished) < TOTAL, msg
    # Tables are written only by a finished invocation; weights are whole or absent.
    assert not case.results_existed, msg
    assert case.weights_before <= len(finished) + 1, msg
    return parent, finished


def _check_resumed(case, parent, finished_before, second):
    after = _snapshot(case.client)
    active = {i: r for i, r in after.items() if r.info.lifecycle_stage == "active"}
    parents = kind(active.values(), "parent")
    children = kind(active.values(), "run")
    keys = Counter(r.data.tags["bench.run_key"] for r in children)
    msg = (f"{case.sig.name}: {len(children)} active children, keys {dict(keys)}; output:\n"
           f"{second.stdout[-1500:]}{second.stderr[-1500:]}")
    assert second.returncode == 0, msg
    assert [p.info.run_id for p in parents] == [parent.info.run_id], msg  # the same parent
    assert active[parent.info.run_id].info.status == "FINISHED", msg
    assert active[parent.info.run_id].data.tags.get("bench.attempts") == "2", msg
    assert len(children) == TOTAL and set(keys.values()) == {1}, msg  # no duplicate (arm, seed)
    assert all(r.info.status == "FINISHED" for r in children), msg
    kept = {r.info.run_id for r in finished_before}
    assert kept <= set(active), "a run finished before the interrupt was re-run or removed"
    rerun = [r for r in children if r.info.run_id not in kept]
    assert len(rerun) == TOTAL - len(kept), msg
    superseded = [r for r in after.values() if r.info.lifecycle_stage == "deleted"]
    assert all(r.data.tags.get("bench.superseded_by") in active for r in superseded), msg
    assert not any(r.info.status == "RUNNING" for r in after.values()), msg
    # Every epoch's metrics arrived once: a history point per epoch, no step twice.
    points = 0
    for run in children:
        epochs = int(run.data.metrics["epochs_run"])
        for key in EPOCH_KEYS:
            steps = [m.step for m in case.client.get_metric_history(run.info.run_id, key)]
            assert sorted(steps) == list(range(1, epochs + 1)), (run.info.run_name, key, steps)
            points += len(steps)
    table = pd.read_csv(run_dir(case.results) / "runs.csv")
    assert len(table) == TOTAL and set(table["status"]) == {"FINISHED"}, table
    assert sorted(zip(table["arm"], table["seed"])) == sorted(
        (a, s) for a in ARMS for s in range(SEEDS))
    summary = pd.read_csv(run_dir(case.results) / "table.csv")
    assert list(summary["runs"]) == [SEEDS] * len(ARMS)
    weights = _weights_whole(case.root / "store")
    return {"runs": TOTAL, "finished_before": len(kept), "re_run": len(rerun),
            "superseded": len(superseded), "duplicates": 0, "metric_points": points,
            "weight_files": weights}


@pytest.fixture(scope="module")
def interrupted(template_db, tmp_path_factory):
    """SIGTERM (training in the main process), Ctrl-C (two workers) and SIGKILL (the process
    group), started together; then `bench doctor` on the SIGKILLed store; then the same three
    commands again, together. Sharing the start-up time keeps this under a minute."""
    cases = [Interruption(template_db, tmp_path_factory.mktemp(f"resume-{sig.name}"), sig, jobs)
             for sig, jobs in ((signal.SIGTERM, 1), (signal.SIGINT, 2), (signal.SIGKILL, 1))]
    _interrupt_all(cases)
    by_sig = {c.sig: c for c in cases}
    from bench.doctor import doctor
    killed = by_sig[signal.SIGKILL]
    out = io.StringIO()
    killed.doctor_code, killed.doctor_out = doctor(killed.uri, out=out), out.getvalue()
    # The same commands again, through the same CLI entry point, in this process (MLflow is
    # imported here already: three more interpreters would spend most of their time on it).
    from bench.cli import main
    for case in cases:  # the SIGKILL case runs verbosely: its clean-up is reported on stderr
        args = [a for a in case.args if a != "--quiet"] if case.sig == signal.SIGKILL else case.args
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
        case.second_result = subprocess.CompletedProcess(args, code, out.getvalue(),
                                                         err.getvalue())
    out = io.StringIO()
    killed.doctor_after = (doctor(killed.uri, out=out), out.getvalue())
    return by_sig


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_leaves_runs_killed_or_finished_and_the_next_run_resumes(interrupted, sig):
    case = interrupted[sig]
    parent, finished = _check_interrupted(case)
    counted = _check_resumed(case, parent, finished, case.second_result)
    line = report_fault(
        f"{sig.name} during `bench run` ({case.jobs} job{'s' if case.jobs > 1 else ''})",
        f"{sig.name} after {len(finished)} of {TOTAL} runs finished; same command run again",
        counted, lost=0, test=f"resume-{sig.name}")
    assert counted["re_run"] + counted["finished_before"] == TOTAL, line


def test_sigkill_leaves_orphans_that_doctor_lists_and_the_next_run_cleans_up(interrupted):
    case = interrupted[signal.SIGKILL]
    running = [r for r in case.before.values() if r.info.status == "RUNNING"]
    (parent,) = kind(case.before.values(), "parent")
    finished = [r for r in kind(case.before.values(), "run") if r.info.status == "FINISHED"]
    assert parent.info.status == "RUNNING" and len(running) >= 2, running  # parent + a child
    assert not case.results_existed

    assert case.doctor_code == 1, case.doctor_out
    listed = [line for line in case.doctor_out.splitlines() if line.startswith("orphaned ")]
    assert len(listed) == len(running), case.doctor_out

    # The next invocation marked them KILLED itself, then resumed.
    second = case.second_result
    assert f"marked {len(running)} run(s) KILLED whose process is gone" in second.stderr, \
        second.stderr[-2000:]
    assert "resuming parent run" in second.stderr
    counted = _check_resumed(case, parent, finished, second)
    code, text = case.doctor_after
    assert code == 0 and "no RUNNING runs" in text, text
    counted["orphans_cleaned"] = len(running)
    line = report_fault("SIGKILL during `bench run` (process group)",
                        f"SIGKILL after {len(finished)} of {TOTAL} runs finished; `bench doctor` "
                        "listed the orphans; same command run again", counted, lost=0,
                        test="resume-SIGKILL")
    assert counted["re_run"] + counted["finished_before"] == TOTAL, line


# -- the resume rules, in-process (fast) -------------------------------------------------------

def tiny(seeds_arms=("softmax-ce",)):
    return get_experiment("ablation").select(list(seeds_arms)).map_configs(dataset="digits",
                                                                             epochs=1)


class InterruptAfter(Tracker):
    """Raises KeyboardInterrupt (as SIGINT would) after ``n`` runs were recorded."""

    def __init__(self, uri, n):
        super().__init__(uri)
        self.n = n

    def record_result(self, run_id, result):
        super().record_result(run_id, result)
        self.n -= 1
        if self.n <= 0:
            raise KeyboardInterrupt


def _parents(client, name):
    return kind(experiment_runs(client, name), "parent")


def test_resume_keeps_finished_runs_and_fresh_starts_over(new_store):
    store = new_store()
    with pytest.raises(Interrupted):
        run_experiment(tiny(), InterruptAfter(store.uri, 2), seeds=[0, 1], experiment_name="r",
                       quiet=True)
    (killed,) = _parents(store.client, "r")
    done = {r.info.run_id for r in kind(experiment_runs(store.client, "r"), "run")
            if r.info.status == "FINISHED"}
    assert len(done) == 1  # the second one was recorded, then interrupted: KILLED

    parent = run_experiment(tiny(), Tracker(store.uri), seeds=[0, 1], experiment_name="r",
                            quiet=True)
    assert parent == killed.info.run_id
    children = kind(experiment_runs(store.client, "r"), "run")
    assert len(children) == 2 and done <= {r.info.run_id for r in children}
    assert all(r.info.status == "FINISHED" for r in children)

    # The runs finished but no tables were written (this test calls the session directly):
    # the same command writes the tables instead of measuring again.
    assert run_experiment(tiny(), Tracker(store.uri), seeds=[0, 1], experiment_name="r",
                          quiet=True) == parent
    assert len(_parents(store.client, "r")) == 1
    # A finished parent whose tables were written is never resumed: the same command
    # measures again...
    store.client.set_tag(parent, "bench.published", "2026-12-02T00:00:00")
    with pytest.raises(Interrupted):
        run_experiment(tiny(), InterruptAfter(store.uri, 1), seeds=[0, 1], experiment_name="r",
                       quiet=True)
    assert len(_parents(store.client, "r")) == 2
    # ... and --fresh opens a new parent even though an unfinished one exists.
    fresh = run_experiment(tiny(), Tracker(store.uri), seeds=[0, 1], experiment_name="r",
                           quiet=True, fresh=True)
    statuses = sorted(p.info.status for p in _parents(store.client, "r"))
    assert statuses == ["FINISHED", "FINISHED", "KILLED"]
    assert len(kind(experiment_runs(store.client, "r"), "run")) == 2 + 1 + 2
    assert store.client.get_run(fresh).info.status == "FINISHED"


def test_a_different_structure_is_not_resumed(new_store):
    store = new_store()
    with pytest.raises(Interrupted):
        run_experiment(tiny(), InterruptAfter(store.uri, 1), seeds=[0, 1], experiment_name="s",
                       quiet=True)
    other = run_experiment(tiny(), Tracker(store.uri), seeds=[0, 2], experiment_name="s",
                           quiet=True)
    parents = {p.info.run_id: p.info.status for p in _parents(store.client, "s")}
    assert len(parents) == 2 and parents[other] == "FINISHED"
    assert sorted(parents.values()) == ["FINISHED", "KILLED"]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_runs_left_running_by_a_dead_process_are_killed_then_resumed(new_store):
    from bench.resume import HASH_TAG, structure_hash
    store = new_store()
    tracker = Tracker(store.uri)
    exp = tiny()
    exp_id = tracker.experiment_id("o")
    dead = {"bench.pid": str(_dead_pid()), "bench.process_start": "1"}
    from bench.environment import environment_tags
    commit = environment_tags()["bench.git_commit"]
    parent = tracker.start_run(exp_id, "ablation/digits", tags={
        "bench.kind": "parent", HASH_TAG: structure_hash(exp, [0]), "bench.git_commit": commit})
    child = tracker.start_run(exp_id, "softmax-ce/seed-0", parent_id=parent, tags={
        "bench.kind": "run", "bench.run_key": "ablation/softmax-ce/seed-0"})
    for run_id in (parent, child):
        tracker.set_tags(run_id, dead)  # as if the process that opened them was SIGKILLed
    resumed = run_experiment(exp, tracker, seeds=[0], experiment_name="o", quiet=True)
    assert resumed == parent
    old = store.client.get_run(child)
    assert old.info.status == "KILLED" and old.info.lifecycle_stage == "deleted"
    assert "orphaned" in old.data.tags["bench.killed_reason"]
    children = kind(experiment_runs(store.client, "o"), "run")
    assert [r.info.status for r in children] == ["FINISHED"]


def test_a_parent_held_by_a_live_process_is_not_taken_over(new_store):
    from bench.environment import environment_tags
    from bench.resume import HASH_TAG, structure_hash
    store = new_store()
    tracker = Tracker(store.uri)
    exp = tiny()
    exp_id = tracker.experiment_id("l")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        parent = tracker.start_run(exp_id, "ablation/digits", tags={
            "bench.kind": "parent", HASH_TAG: structure_hash(exp, [0]),
            "bench.git_commit": environment_tags()["bench.git_commit"]})
        tracker.set_tags(parent, process_identity(sleeper.pid))
        with pytest.raises(ResumeConflict, match="--fresh"):
            run_experiment(exp, tracker, seeds=[0], experiment_name="l", quiet=True)
        assert store.client.get_run(parent).info.status == "RUNNING"  # left alone
        fresh = run_experiment(exp, tracker, seeds=[0], experiment_name="l", quiet=True,
                               fresh=True)
        assert fresh != parent
    finally:
        sleeper.kill()
        sleeper.wait()
