"""Helpers for the reliability tests: subprocesses of ``python -m bench``, store queries, and
the figures each fault test reports (see ``report_fault``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LOG_ENV = "BENCH_RELIABILITY_LOG"


def bench_env(**extra: str) -> dict[str, str]:
    """This checkout importable; no tracking settings inherited from the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MLFLOW_") and not k.startswith("BENCH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _default_sigint():
    # A shell may start background jobs with SIGINT ignored, and Python keeps an ignored
    # SIGINT ignored: the child must get Python's default KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_bench(args, cwd, timeout=240, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *map(str, args)], cwd=cwd,
                          env=bench_env(**env), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class BenchProcess:
    """``python -m bench ...`` in the background, its output in a file, in its own process
    group (so a SIGKILL can take its workers too, as a machine-level kill would)."""

    def __init__(self, args, cwd: Path, **env):
        self.args = [str(a) for a in args]
        self.cwd = Path(cwd)
        self.log_path = self.cwd / f"bench-{uuid.uuid4().hex[:6]}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "bench", *self.args], cwd=cwd,
                                     env=bench_env(**env), stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_default_sigint, start_new_session=True)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)

    def wait(self, timeout=240) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            raise AssertionError(f"bench did not finish in {timeout}s:\n{self.output()[-3000:]}")
        finally:
            if self.proc.poll() is not None:
                self._log.close()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def experiment_runs(client, name: str, deleted: bool = False) -> list:
    from mlflow.entities import ViewType
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return []
    view = ViewType.ALL if deleted else ViewType.ACTIVE_ONLY
    return list(client.search_runs([exp.experiment_id], run_view_type=view, max_results=5000))


def kind(runs, which: str) -> list:
    return [r for r in runs if r.data.tags.get("bench.kind") == which]


def count_finished_children(client, name: str) -> int:
    return sum(1 for r in kind(experiment_runs(client, name), "run")
               if r.info.status == "FINISHED")


def metric_points(client, run_id: str, keys) -> dict[str, list[tuple[int, float]]]:
    return {k: sorted((m.step, m.value) for m in client.get_metric_history(run_id, k))
            for k in keys}


def report_fault(fault: str, done: str, counted: dict, lost: int, **extra) -> str:
    """One line of figures for an assertion message; also appended as JSON to the file named
    by $BENCH_RELIABILITY_LOG (scripts/reliability_report.py builds its table from them)."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    record = {"fault": fault, "done": done, "counted": counted, "lost": lost,
              "nodeid": current.rsplit(" (", 1)[0], **extra}
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    figures = ", ".join(f"{k}={v}" for k, v in counted.items())
    return f"[{fault}] {done}: {figures}; lost={lost}"
