"""A dead worker costs one run: SIGKILL of one worker process (what the out-of-memory killer
does) records that run FAILED with the signal, the others go on, the command says so in one
line and exits 75; the same command then finishes the lost run. Workers never outlive the
process that started them."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

from .util import BenchProcess, experiment_runs, kind, report_fault, run_bench, wait_for

ARMS = ("softmax-ce", "momentum")
SEEDS = 3
TOTAL = len(ARMS) * SEEDS


def _args(uri: str, root: Path, epochs: int = 30) -> list[str]:
    return ["run", "ablation", "--arms", ",".join(ARMS), "--seeds", str(SEEDS), "--dataset",
            "digits", "--epochs", str(epochs), "--jobs", "2", "--tracking-uri", uri,
            "--results-dir", root / "results"]


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _running_children(client) -> list:
    return [r for r in kind(experiment_runs(client, "ablation"), "run")
            if r.info.status == "RUNNING"]


def test_a_killed_worker_fails_one_run_and_the_rest_go_on(new_store, tmp_path):
    store = new_store()
    first = BenchProcess(_args(store.uri, tmp_path, epochs=300), tmp_path)  # ~2 s a run
    try:
        wait_for(lambda: len(_running_children(store.client)) == 2 and children_of(first.proc.pid),
                 120, "two runs in two workers")
        victim = children_of(first.proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        code = first.wait(240)
    finally:
        if first.alive():
            first.kill_group()
    out = first.output()
    runs = kind(experiment_runs(store.client, "ablation"), "run")
    statuses = Counter(r.info.status for r in runs)
    failed = [r for r in runs if r.info.status == "FAILED"]
    errors = [line for line in out.splitlines() if line.startswith("bench: error")]
    assert code == 75, out[-3000:]
    assert len(errors) == 1 and "1 of 6 runs lost" in errors[0], out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert len(failed) == 1, dict(statuses)
    assert failed[0].data.tags["bench.error"] == "WorkerDied: worker killed by signal 9"
    assert statuses["FINISHED"] == TOTAL - 1 and not statuses.get("RUNNING"), dict(statuses)
    (parent,) = kind(experiment_runs(store.client, "ablation"), "parent")
    assert parent.info.status == "FAILED"  # not FINISHED: the next start resumes it

    second = run_bench(_args(store.uri, tmp_path, epochs=300), tmp_path)
    active = kind(experiment_runs(store.client, "ablation"), "run")
    keys = Counter(r.data.tags["bench.run_key"] for r in active)
    print(report_fault("SIGKILL of one worker during `bench run` (2 jobs)",
                       "one worker process SIGKILLed mid-run; the same command run again",
                       {"runs": TOTAL, "failed with the signal": len(failed),
                        "finished in the first invocation": statuses["FINISHED"],
                        "finished after the second": sum(r.info.status == "FINISHED"
                                                         for r in active),
                        "duplicates": sum(v - 1 for v in keys.values()),
                        "left running": sum(r.info.status == "RUNNING" for r in active)},
                       TOTAL - sum(r.info.status == "FINISHED" for r in active)))
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(active) == TOTAL and set(keys.values()) == {1}
    assert all(r.info.status == "FINISHED" for r in active)


def test_workers_exit_when_the_main_process_is_killed(new_store, tmp_path):
    store = new_store()
    proc = BenchProcess(_args(store.uri, tmp_path, epochs=200), tmp_path)
    try:
        workers = wait_for(lambda: len(children_of(proc.proc.pid)) == 2
                           and children_of(proc.proc.pid), 120, "two worker processes")
        wait_for(lambda: _running_children(store.client), 60, "a running run")
        os.kill(proc.proc.pid, signal.SIGKILL)  # the main process only, not its group
        proc.proc.wait(30)
        started = time.monotonic()
        try:
            wait_for(lambda: not any(_alive(w) for w in workers), 10, "the workers to exit")
        except AssertionError:
            pass
        left = [w for w in workers if _alive(w)]
        print(report_fault("SIGKILL of the main process (workers left alone)",
                           "SIGKILL to `bench run`'s main process only, its 2 workers watched",
                           {"workers": len(workers), "workers alive after 10 s": len(left),
                            "seconds until gone": round(time.monotonic() - started, 1)},
                           len(left)))
        assert not left
    finally:
        proc.kill_group()
