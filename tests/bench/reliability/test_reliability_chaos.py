"""Chaos: while a small ablation runs, SIGKILL a random worker or the main process every few
seconds and start the same command again until it exits 0. Every (arm, seed) must end
FINISHED exactly once, with every metric point once, nothing RUNNING, and the table equal to
an undisturbed run's."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from harness_util import run_dir

from .test_reliability_workers import children_of
from .util import BenchProcess, experiment_runs, kind, report_fault, run_bench, wait_for

ARMS = ("softmax-ce", "momentum", "glorot")
SEEDS = 3
EPOCHS = 250   # a few seconds a run on digits: kills land mid-run
MAX_KILLS = 6
TOTAL = len(ARMS) * SEEDS
BUDGET_SECONDS = 110


def _args(uri: str, results: Path) -> list:
    return ["run", "ablation", "--arms", ",".join(ARMS), "--seeds", str(SEEDS), "--dataset",
            "digits", "--epochs", str(EPOCHS), "--jobs", "2", "--tracking-uri", uri,
            "--results-dir", results, "--quiet"]


def test_random_kills_lose_and_duplicate_nothing(new_store, tmp_path):
    rng = random.Random(17)
    calm, store = new_store("calm"), new_store("chaos")
    undisturbed = run_bench(_args(calm.uri, tmp_path / "calm-results"), tmp_path)
    assert undisturbed.returncode == 0, undisturbed.stderr[-2000:]

    kills = Counter()
    attempts = 0
    deadline = time.monotonic() + BUDGET_SECONDS
    while True:
        attempts += 1
        assert time.monotonic() < deadline, f"not done after {attempts} attempts, {dict(kills)}"
        proc = BenchProcess(_args(store.uri, tmp_path / "results"), tmp_path)
        if sum(kills.values()) < MAX_KILLS:
            # Once its workers are up (a kill during start-up only tests imports), wait a
            # random moment and kill a random worker or the main process.
            # (With one run left there is no pool: no workers ever appear.)
            try:
                wait_for(lambda: children_of(proc.proc.pid) or not proc.alive(), 20,
                         "the workers")
            except AssertionError:
                pass
            time.sleep(rng.uniform(0.3, 2.5))
            workers = children_of(proc.proc.pid)
            if proc.alive() and workers and rng.random() < 0.6:
                os.kill(rng.choice(workers), signal.SIGKILL)
                kills["worker"] += 1
            elif proc.alive():
                os.kill(proc.proc.pid, signal.SIGKILL)
                kills["main"] += 1
        code = proc.wait(90)  # a hang fails here, with the invocation's output
        if code == 0:
            break
        assert code in (75, -signal.SIGKILL), proc.output()[-2000:]

    everything = experiment_runs(store.client, "ablation", deleted=True)
    # One parent: a kill after its runs finished but before its tables were written makes the
    # restart write the tables, not measure again.
    parents = kind(experiment_runs(store.client, "ablation"), "parent")
    newest = max(parents, key=lambda r: r.info.start_time)
    active = [r for r in kind(experiment_runs(store.client, "ablation"), "run")
              if r.data.tags.get("bench.invocation") == newest.info.run_id]
    keys = Counter(r.data.tags["bench.run_key"] for r in active)
    finished = [r for r in active if r.info.status == "FINISHED"]
    points_missing = points_extra = 0
    for run in finished:
        steps = [m.step for m in store.client.get_metric_history(run.info.run_id, "train_loss")]
        points_missing += len(set(range(1, EPOCHS + 1)) - set(steps))
        points_extra += len(steps) - len(set(steps))
    running = [r for r in everything if r.info.status == "RUNNING"]
    # Not the experiment's default configuration: each writes its own runs/<...>/ folder.
    calm_table = pd.read_csv(run_dir(tmp_path / "calm-results", dataset="digits") / "table.csv")
    chaos_table = pd.read_csv(run_dir(tmp_path / "results", dataset="digits") / "table.csv")
    timing = [c for c in calm_table.columns if "second" in c]
    same_table = calm_table.drop(columns=timing).equals(chaos_table.drop(columns=timing))
    lost = abs(TOTAL - len(finished)) + points_missing + points_extra + len(running) \
        + (len(parents) - 1) \
        + sum(v - 1 for v in keys.values()) + (0 if same_table else 1)
    print(report_fault(
        "Chaos: random SIGKILLs of workers and the main process",
        f"{len(ARMS)} arms x {SEEDS} seeds on digits, {EPOCHS} epochs, 2 jobs; a SIGKILL 0.3-2.5 s "
        f"after the workers start, to a random worker (60%) or the main process, {MAX_KILLS} "
        "times; the command restarted until it exited 0",
        {"kills survived": sum(kills.values()), "workers killed": kills["worker"],
         "main process killed": kills["main"], "invocations": attempts,
         "runs expected": TOTAL, "finished": len(finished),
         "parent runs": len(parents),
         "duplicated": sum(v - 1 for v in keys.values()), "left running": len(running),
         "metric points missing": points_missing, "metric points twice": points_extra,
         "table identical to undisturbed": same_table}, lost))
    assert len(finished) == TOTAL and set(keys.values()) == {1} and len(parents) == 1
    assert not running and not points_missing and not points_extra
    assert same_table
    assert sum(kills.values()) >= 2  # the run must have been disturbed to prove anything
