"""run_experiment: truthful run status. Nothing is left RUNNING after Ctrl-C, SIGTERM or an
error, wherever it lands: in a real ``python -m bench run`` subprocess, and (by a Tracker
that raises at a chosen point, over the real MLflow store) at the edges between calls."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from harness_util import bench_env, unique_name

from bench.session import Interrupted, run_experiment
from bench.tracking import Tracker
from experiments import get_experiment


def tiny_experiment():
    """One arm, one epoch on digits: the cheapest real run."""
    return get_experiment("ablation").select(["softmax-ce"]).map_configs(dataset="digits",
                                                                           epochs=1)


def runs_of(client, name):
    exp = client.get_experiment_by_name(name)
    return [] if exp is None else client.search_runs([exp.experiment_id], max_results=1000)


def statuses(client, name) -> dict[str, str]:
    return {r.info.run_name: r.info.status for r in runs_of(client, name)}


class RaisingTracker(Tracker):
    """A real Tracker that raises ``exc`` right after the named call has gone through."""

    def __init__(self, uri, method: str, exc: BaseException, only_children: bool = False):
        super().__init__(uri)
        self.method, self.exc, self.only_children = method, exc, only_children

    def _maybe_raise(self, name, is_child=True):
        if name == self.method and (is_child or not self.only_children):
            raise self.exc

    def log_params(self, run_id, params):
        super().log_params(run_id, params)
        self._maybe_raise("log_params", is_child="seed" in params)

    def log_json(self, run_id, obj, name):
        super().log_json(run_id, obj, name)
        self._maybe_raise("log_json", is_child=False)

    def record_result(self, run_id, result):
        super().record_result(run_id, result)
        self._maybe_raise("record_result")


# -- in-process: an interrupt or error at each edge ------------------------------------------------

@pytest.fixture(scope="module")
def finished(store):
    name = unique_name("session-ok")
    experiment = tiny_experiment()
    tracker = Tracker(store.uri)
    parent_id = run_experiment(experiment, tracker, seeds=[0, 2], jobs=1, experiment_name=name,
                               quiet=True)
    return name, experiment, tracker, parent_id


def test_finished_run_returns_parent_with_seeds_and_arms_as_params(store, finished):
    name, _, _, parent_id = finished
    parent = store.client.get_run(parent_id)
    assert parent.data.params["seeds"] == "0,2"
    assert parent.data.params["arms"] == "softmax-ce"
    assert statuses(store.client, name) == {
        "ablation digits": "FINISHED", "softmax-ce": "FINISHED", "softmax-ce/seed-0": "FINISHED",
        "softmax-ce/seed-2": "FINISHED"}


def test_parent_stores_the_experiment_structure_as_json(finished):
    from bench.report import load_structure
    _, experiment, tracker, parent_id = finished
    stored = load_structure(tracker, parent_id)
    assert stored["arms"][0]["name"] == "softmax-ce"
    assert stored["arms"][0]["config"]["dataset"] == "digits"
    assert stored["baseline"] == "softmax-ce"
    assert stored.keys() == experiment.structure().keys()


def test_interrupt_while_recording_a_finished_run_marks_it_killed(store):
    name = unique_name("session-int-record")
    tracker = RaisingTracker(store.uri, "record_result", KeyboardInterrupt())
    with pytest.raises(Interrupted):
        run_experiment(tiny_experiment(), tracker, seeds=[0], experiment_name=name, quiet=True)
    assert statuses(store.client, name) == {"ablation digits": "KILLED", "softmax-ce": "KILLED",
                                            "softmax-ce/seed-0": "KILLED"}


def test_interrupt_while_opening_a_child_run_marks_it_killed(store):
    name = unique_name("session-int-open")
    tracker = RaisingTracker(store.uri, "log_params", KeyboardInterrupt(), only_children=True)
    with pytest.raises(Interrupted):
        run_experiment(tiny_experiment(), tracker, seeds=[0], experiment_name=name, quiet=True)
    assert statuses(store.client, name) == {"ablation digits": "KILLED", "softmax-ce": "KILLED",
                                            "softmax-ce/seed-0": "KILLED"}


def test_interrupt_while_the_parent_is_being_set_up_marks_it_killed(store):
    name = unique_name("session-int-parent")
    tracker = RaisingTracker(store.uri, "log_json", KeyboardInterrupt())
    with pytest.raises(Interrupted):
        run_experiment(tiny_experiment(), tracker, seeds=[0], experiment_name=name, quiet=True)
    assert statuses(store.client, name) == {"ablation digits": "KILLED"}


def test_error_while_recording_marks_runs_failed_and_propagates(store):
    name = unique_name("session-error")
    tracker = RaisingTracker(store.uri, "record_result", RuntimeError("store went away"))
    with pytest.raises(RuntimeError, match="store went away"):
        run_experiment(tiny_experiment(), tracker, seeds=[0], experiment_name=name, quiet=True)
    assert statuses(store.client, name) == {"ablation digits": "FAILED", "softmax-ce": "FAILED",
                                            "softmax-ce/seed-0": "FAILED"}


def test_sigterm_handler_is_restored_after_an_interrupted_run(store):
    before = signal.getsignal(signal.SIGTERM)
    tracker = RaisingTracker(store.uri, "record_result", KeyboardInterrupt())
    with pytest.raises(Interrupted):
        run_experiment(tiny_experiment(), tracker, seeds=[0],
                       experiment_name=unique_name("session-sigterm"), quiet=True)
    assert signal.getsignal(signal.SIGTERM) is before


# -- a real process, a real signal -----------------------------------------------------------------

def _reset_sigint():
    # A shell may start background jobs with SIGINT ignored, and Python keeps an ignored
    # SIGINT ignored; the child must get Python's default KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class LongRun:
    """``python -m bench run ablation --arms deep-dropout --seeds 4 --epochs 100`` in a
    subprocess, to be signalled once one of its child runs is RUNNING."""

    def __init__(self, store, cwd, sig, jobs):
        self.store, self.cwd, self.sig = store, cwd, sig
        self.name = unique_name(f"interrupt-{sig.name.lower()}")
        self.log = open(cwd / "output.txt", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench", "run", "ablation", "--arms", "deep-dropout",
             "--seeds", "4", "--epochs", "100", "--jobs", str(jobs), "--quiet",
             "--tracking-uri", store.uri, "--experiment-name", self.name,
             "--results-dir", str(cwd / "results")],
            cwd=cwd, env=bench_env(), stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=_reset_sigint)
        self.code = self.status = None

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def child_running(self) -> bool:
        assert self.proc.poll() is None, f"exited early ({self.proc.returncode}):\n{self.output()}"
        return any(r.info.status == "RUNNING" and r.data.tags.get("bench.kind") == "run"
                   for r in runs_of(self.store.client, self.name))

    def finish(self):
        try:
            self.code = self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.status = statuses(self.store.client, self.name)


@pytest.fixture(scope="module")
def interrupted(store, tmp_path_factory):
    """Ctrl-C (two worker processes) and SIGTERM (training in the main process), started
    together to share the start-up time; each signalled as soon as a child run is RUNNING."""
    runs = {sig: LongRun(store, tmp_path_factory.mktemp(sig.name), sig, jobs)
            for sig, jobs in ((signal.SIGINT, 2), (signal.SIGTERM, 1))}
    try:
        waiting, deadline = set(runs), time.monotonic() + 180
        while waiting:
            for sig in list(waiting):
                if runs[sig].child_running():
                    runs[sig].proc.send_signal(sig)
                    waiting.discard(sig)
            assert time.monotonic() < deadline, f"no child run started for {waiting}"
            time.sleep(0.1)
        for run in runs.values():
            run.finish()
    finally:
        for run in runs.values():
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
    return runs


def _check_interrupted(run: LongRun):
    status = dict(run.status)
    assert run.code == 130, run.output()
    assert "RUNNING" not in status.values(), status
    (parent,) = [name for name in status if name.startswith("ablation mnist-5k")]
    assert status.pop(parent) == "KILLED"
    assert status and set(status.values()) <= {"KILLED", "FINISHED"}, status
    assert "KILLED" in status.values(), status
    assert not (run.cwd / "results").exists()  # no table from an interrupted run


def test_ctrl_c_exits_130_and_leaves_no_run_running(interrupted):
    _check_interrupted(interrupted[signal.SIGINT])


def test_sigterm_exits_130_and_leaves_no_run_running(interrupted):
    _check_interrupted(interrupted[signal.SIGTERM])
