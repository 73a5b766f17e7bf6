"""The coordinator's reconciliation of the queue with MLflow (real SQLite stores: an Optuna
RDB storage with its heartbeat and an MLflow store): each run ends FINISHED once."""

from __future__ import annotations

import shutil

import pytest

from bench import tags as T
from bench.queue import RunQueue, open_queue_storage, reconcile
from bench.tracking import Tracker


@pytest.fixture
def world(tmp_path, template_db):
    shutil.copy(template_db, tmp_path / "mlflow.db")
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = tracker.experiment_id("reconcile")
    parent = tracker.start_run(exp, "parent", tags={T.KIND: "parent"})
    queue = RunQueue.create(open_queue_storage(f"sqlite:///{tmp_path / 'queue.db'}"),
                            "bench-run.test")
    return tracker, exp, parent, queue


def _attempt(world, key: str, status: str | None) -> str:
    tracker, exp, parent, _ = world
    run_id = tracker.start_run(exp, key, tags={T.KIND: "run", T.INVOCATION: parent,
                                               T.RUN_KEY: key})
    if status:
        tracker.end(run_id, status)
    return run_id


def test_a_run_whose_worker_died_after_settling_its_item_is_ended_finished(world):
    tracker, exp, parent, queue = world
    queue.put_runs([("a", 0, "e/a/seed-0")])
    item = queue.take()
    run_id = _attempt(world, "e/a/seed-0", None)  # results recorded, never ended
    queue.note(item, "mlflow_run_id", run_id)
    assert queue.settle(item, "finished")
    failed, lost = reconcile(tracker, queue, exp, parent, {"e/a/seed-0"})
    assert (failed, lost) == (set(), [])
    assert tracker.client.get_run(run_id).info.status == "FINISHED"


def test_of_two_finished_attempts_the_first_is_kept_and_the_second_superseded(world):
    tracker, exp, parent, queue = world
    first = _attempt(world, "e/a/seed-0", "FINISHED")
    second = _attempt(world, "e/a/seed-0", "FINISHED")
    failed, lost = reconcile(tracker, queue, exp, parent, {"e/a/seed-0"})
    assert (failed, lost) == (set(), [])
    assert tracker.client.get_run(first).info.lifecycle_stage == "active"
    duplicate = tracker.client.get_run(second)
    assert duplicate.info.lifecycle_stage == "deleted"
    assert duplicate.data.tags[T.SUPERSEDED_BY] == first


def test_a_run_left_running_by_a_dead_worker_is_killed_and_counted_lost(world):
    tracker, exp, parent, queue = world
    orphan = _attempt(world, "e/a/seed-1", None)  # its item was never settled
    failed, lost = reconcile(tracker, queue, exp, parent, {"e/a/seed-1"})
    assert failed == {"e/a/seed-1"} and lost == ["e/a/seed-1 (its workers died)"]
    assert tracker.client.get_run(orphan).info.status == "KILLED"
