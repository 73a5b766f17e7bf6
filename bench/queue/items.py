"""What a worker does with one item of the run queue: train a run, or plan the next round.

The queue lends an item; MLflow records what came of it. The two are kept in step so that
every (arm, seed) ends FINISHED exactly once:

- before training, an attempt that already FINISHED (its worker died after the end call,
  before settling the item) makes this one a no-op;
- the new attempt supersedes the earlier unfinished ones of the same run (ended KILLED if a
  dead worker left them RUNNING, tagged ``bench.superseded_by`` and deleted, as a resumed
  invocation does), so each counts once;
- results are recorded, then the item is settled, then the run is ended FINISHED: a worker
  that lost its item meanwhile (the heartbeat gave it up and queued it again) ends its run
  KILLED instead, and a run whose item settled but whose end call never came is ended by the
  coordinator (its results are all in MLflow by then; see ``bench.queue.coordinator``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from experiments import RunConfig

from .. import store
from .. import tags as T
from ..adaptive import Precision
from ..resume import mark_killed
from ..runner import RunSpec, execute
from .runqueue import Item, RunQueue

__all__ = ["QueueContext", "settings_for", "run_item", "plan_round", "give_up"]


@dataclass
class QueueContext:
    """One queue's settings (what the coordinator published), ready to use."""
    settings: dict
    tracker: object
    env: dict

    def spec(self, arm: str, seed: int) -> RunSpec:
        s = self.settings
        return RunSpec(s["experiment"], arm, int(seed), RunConfig(**s["arms"][arm]),
                       s["data_seed"], s["data_dir"])

    @property
    def precision(self) -> Precision | None:
        p = self.settings.get("precision")
        return Precision(*p) if p else None


def settings_for(*, experiment, tracking_uri: str, experiment_id: str, parent: str,
                 arm_runs: dict, seeds, data_seed: int, data_dir, precision, run_plots: bool,
                 git_commit: str | None, dataset: str) -> dict:
    """What a worker anywhere needs to run any of the invocation's runs (JSON)."""
    return {"version": 1, "experiment": experiment.name, "tracking_uri": tracking_uri,
            "experiment_id": experiment_id, "parent": parent, "arm_runs": dict(arm_runs),
            "arms": {a.name: dataclasses.asdict(a.config) for a in experiment.arms},
            "seeds": [int(s) for s in seeds], "data_seed": data_seed, "data_dir": data_dir,
            "precision": [precision.target, precision.max_seeds] if precision else None,
            "run_plots": run_plots, "git_commit": git_commit, "dataset": dataset}


def give_up(tracker, run_id: str, why: str, successor: str | None = None) -> None:
    """End an attempt that will not finish KILLED (if it is still open) and, when another
    attempt replaces it, supersede it."""
    try:
        run = tracker.client.get_run(run_id)
        if run.info.status == "RUNNING":
            mark_killed(tracker, run_id, why)
        if successor and run.info.lifecycle_stage == "active":
            store.supersede(tracker, run_id, successor)
    except Exception as exc:  # a run deleted meanwhile by a newer attempt
        if getattr(exc, "error_code", None) not in ("INVALID_PARAMETER_VALUE",
                                                    "RESOURCE_DOES_NOT_EXIST"):
            raise


def _open(ctx: QueueContext, queue: RunQueue, item: Item, spec: RunSpec) -> tuple[str, bool]:
    """Open the item's MLflow run; False with it when the item is no longer ours."""
    s, tracker = ctx.settings, ctx.tracker
    run_id = tracker.start_run(
        s["experiment_id"], f"{spec.arm}/seed-{spec.seed}", parent_id=s["arm_runs"][spec.arm],
        tags={**ctx.env, T.KIND: "run", T.EXPERIMENT: spec.experiment, T.ARM: spec.arm,
              T.SEED: str(spec.seed), T.INVOCATION: s["parent"], T.RUN_KEY: spec.key,
              T.DATASET: spec.config.dataset, T.QUEUE: queue.name,
              T.ATTEMPTS: str(item.attrs.get("attempt", 1))})
    if not queue.note(item, "mlflow_run_id", run_id):
        return run_id, False  # the heartbeat gave the item up meanwhile: it is queued again
    tracker.log_params(run_id, {**spec.config.as_params(), "seed": spec.seed,
                                "data_seed": spec.data_seed})
    for old in store.key_runs(tracker, s["experiment_id"], s["parent"], spec.key):
        if old.info.run_id != run_id and old.info.status != "FINISHED":
            give_up(tracker, old.info.run_id, "its worker died or gave the run up; the run "
                    "was taken again from the queue", successor=run_id)
    return run_id, True


_SILENT = "its worker fell silent for the heartbeat's grace period; the run was queued again"


def run_item(ctx: QueueContext, queue: RunQueue, item: Item, out_root: str) -> str:
    """Train the item's run and record it; returns its outcome (``finished``, ``done``:
    an earlier attempt had finished, ``error``, or ``lost``: the item was taken from us)."""
    s, tracker = ctx.settings, ctx.tracker
    spec = ctx.spec(item.attrs["arm"], item.attrs["seed"])
    earlier = store.key_runs(tracker, s["experiment_id"], s["parent"], spec.key)
    if any(r.info.status == "FINISHED" for r in earlier):
        queue.settle(item, "done")
        return "done"
    run_id, ours = _open(ctx, queue, item, spec)
    if not ours:
        give_up(tracker, run_id, _SILENT)
        return "lost"
    try:
        result = execute(spec, os.path.join(out_root, spec.arm, f"seed-{spec.seed}"),
                         plot=s.get("run_plots", False))
    except Exception as exc:  # the run failed by itself: recorded, counted, not retried
        tracker.set_tags(run_id, {T.ERROR: f"{type(exc).__name__}: {exc}"[:4900]})
        tracker.end(run_id, "FAILED")
        queue.settle(item, "error")
        return "error"
    except BaseException:  # interrupted: the run goes back on the queue for someone else
        give_up(tracker, run_id, "its worker was interrupted; the run was queued again")
        queue.release(item)
        raise
    tracker.record_result(run_id, result)
    if queue.settle(item, "finished"):
        tracker.end(run_id, "FINISHED")
        return "finished"
    give_up(tracker, run_id, _SILENT)
    return "lost"


def plan_round(ctx: QueueContext, queue: RunQueue, item: Item) -> int:
    """Queue the next round of adaptive seeds (replayed from what finished, as a local
    invocation does), followed by its marker; returns how many runs were queued."""
    from ..report import load_runs
    s = ctx.settings
    precision = ctx.precision
    runs = load_runs(ctx.tracker, s["parent"])
    done = runs[runs["status"] == "FINISHED"]
    given_up = queue.given_up_keys()
    live = queue.live_keys()
    todo = []
    for arm in s["arms"]:
        mine = done[done["arm"] == arm]
        results = dict(zip(mine["seed"].astype(int), mine["test_accuracy"].astype(float)))
        lost = frozenset(int(k.rsplit("-", 1)[1]) for k in given_up
                         if k.startswith(f"{s['experiment']}/{arm}/seed-"))
        for seed in precision.plan(s["seeds"], results, lost).pending:
            key = ctx.spec(arm, seed).key
            if key not in live:
                todo.append((arm, seed, key))
    queue.put_runs(todo, round_=item.attrs["round"] + 1 if todo else None)
    queue.settle(item, "done")
    return len(todo)
