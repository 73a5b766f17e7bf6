"""run_all: the same numbers for any number of jobs, failures reported per run, workers
stopped with the caller, and Ctrl-C never lost while workers are being forked."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import time

import pytest

from bench.executor import run_all, signals_held
from bench.runner import RunResult, RunSpec
from experiments import get_experiment


def spec(arm="softmax-ce", seed=0, epochs=2) -> RunSpec:
    cfg = get_experiment("ablation").arm(arm).config.replace(dataset="digits", epochs=epochs,
                                                               eval_every=1)
    return RunSpec("ablation", arm, seed, cfg)


SPECS = [spec("softmax-ce", 0), spec("softmax-ce", 1), spec("momentum", 0), spec("momentum", 1)]


def no_dir(_spec):
    return None


def comparable(result: RunResult):
    """Everything a run produced except wall-clock times."""
    history = [{k: v for k, v in rec.items() if k != "seconds"} for rec in result.history]
    return (result.spec.key, history, result.diverged, result.stop_reason, result.best_epoch,
            result.test_loss, result.test_accuracy, result.val_loss, result.val_accuracy)


def results(specs, jobs):
    return {s.key: r for s, r in run_all(specs, jobs, no_dir)}


def test_same_specs_give_identical_results_on_a_second_invocation():
    first, second = results(SPECS, 1), results(SPECS, 1)
    assert {k: comparable(r) for k, r in first.items()} == {k: comparable(r) for k, r in second.items()}


def test_two_jobs_give_exactly_the_results_of_one_job():
    one, two = results(SPECS, 1), results(SPECS, 2)
    assert sorted(one) == sorted(s.key for s in SPECS)
    assert {k: comparable(r) for k, r in two.items()} == {k: comparable(r) for k, r in one.items()}


def test_different_seeds_of_an_arm_give_different_runs():
    out = results(SPECS[:2], 1)
    a, b = (out[s.key] for s in SPECS[:2])
    assert a.history[0]["train_loss"] != b.history[0]["train_loss"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_run_is_yielded_as_its_exception_and_the_others_go_on(jobs):
    broken = dataclasses.replace(SPECS[0], arm="broken", config=None)  # execute() raises
    out = results([broken, SPECS[1]], jobs)
    assert isinstance(out[broken.key], AttributeError)
    assert any("in run ablation/broken/seed-0" in note
               for note in getattr(out[broken.key], "__notes__", []))
    assert isinstance(out[SPECS[1].key], RunResult)


def test_on_start_is_called_in_this_process_before_each_result():
    events = []
    for s, _ in run_all(SPECS[:3], 1, no_dir, on_start=lambda s: events.append(("start", s.key,
                                                                                 os.getpid()))):
        events.append(("done", s.key, os.getpid()))
    me = os.getpid()
    assert events == [(kind, s.key, me) for s in SPECS[:3] for kind in ("start", "done")]


def test_at_most_jobs_runs_are_started_and_unfinished_at_once():
    open_now, most = set(), 0

    def on_start(s):
        nonlocal most
        open_now.add(s.key)
        most = max(most, len(open_now))

    for s, _ in run_all(SPECS, 2, no_dir, on_start):
        open_now.discard(s.key)
    assert most == 2 and not open_now


def test_workers_are_stopped_when_the_caller_stops_early():
    long = [spec("deep-dropout", seed, epochs=100) for seed in range(4)]
    gen = run_all(long, 2, no_dir)
    next(gen)  # one run done, others running
    gen.close()
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def test_ctrl_c_arriving_while_a_worker_is_forked_is_not_lost():
    # Python runs at-fork hooks around every fork; a KeyboardInterrupt raised inside one is
    # printed as "Exception ignored" and dropped. Deliver Ctrl-C from such a hook.
    armed = [True]

    def interrupt_once():
        if armed:
            armed.clear()
            os.kill(os.getpid(), signal.SIGINT)

    os.register_at_fork(before=interrupt_once)  # cannot be unregistered: fires once
    started = []
    with pytest.raises(KeyboardInterrupt):
        for _ in run_all(SPECS, 2, no_dir, on_start=started.append):
            pass
    assert not armed  # the hook did fire
    assert len(started) < len(SPECS)  # stopped, rather than running everything


def test_ctrl_c_inside_signals_held_is_raised_when_the_block_ends():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # time for the handler to run, were it not held
            reached.append("end of block")
    assert reached == ["end of block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
