"""``--precision`` on a shared queue: the next round of seeds is queued by whichever worker
finds the queue drained, and the invocation ends with the same seeds and numbers as a local
``--jobs 1`` run (PostgreSQL from ``.ci/services.sh``)."""

from __future__ import annotations

import pytest
from harness_util import run_bench
from test_queue_postgres import _numbers, _run_args, start

PRECISION = [*_run_args(epochs=2, arms=("softmax-ce", "momentum"), seeds=2),
             "--precision", "1", "--max-seeds", "5"]


@pytest.mark.slow
def test_adaptive_rounds_on_a_queue_give_the_local_runs(queue_url, tmp_path):
    from optuna.trial import TrialState

    from bench.queue import list_queues, open_queue_storage
    worker = start(["worker", "--storage", queue_url], tmp_path, tmp_path / "worker.log")
    shared = run_bench([*PRECISION, "--storage", queue_url, "--tracking-uri",
                        f"sqlite:///{tmp_path / 'shared.db'}", "--results-dir",
                        tmp_path / "shared"], tmp_path, timeout=600)
    assert shared.returncode == 0, shared.stderr
    assert worker.wait(120) == 0, (tmp_path / "worker.log").read_text()
    local = run_bench([*PRECISION, "--tracking-uri", f"sqlite:///{tmp_path / 'local.db'}",
                       "--results-dir", tmp_path / "local"], tmp_path, timeout=600)
    assert local.returncode == 0, local.stderr

    shared_runs, shared_table = _numbers(tmp_path / "shared")
    local_runs, local_table = _numbers(tmp_path / "local")
    assert len(local_runs) > 4  # the target asked for more rounds than the first
    assert shared_runs.equals(local_runs) and shared_table.equals(local_table)
    storage = open_queue_storage(queue_url)
    [(_, study_id)] = list_queues(storage)
    rounds = [t for t in storage.get_all_trials(study_id)
              if t.user_attrs.get("kind") == "round"]
    assert len(rounds) >= 2 and all(t.state == TrialState.COMPLETE for t in rounds)
