"""Resuming ``bench run`` and finding runs whose process is gone.

Every run the harness opens records which process holds it: ``bench.host``, ``bench.pid``,
``bench.process_start`` (the process's start time in clock ticks since boot, from
``/proc/PID/stat``, so a recycled pid is not mistaken for the owner) and ``bench.boot_id``
(a reboot ends every owner). A RUNNING run is then

- ``alive``: its owner process still runs on this host;
- ``orphaned``: its owner was on this host and is gone (SIGKILL, OOM, power loss);
- ``unknown``: its owner is on another host, or the run predates owner tags.

Resume: each parent run carries ``bench.structure_hash``, a hash of what its children are
(experiment, arms and their full configs, seeds, data seed, variant). A new invocation with the
same hash whose newest such parent is unfinished (KILLED, FAILED, or RUNNING with a dead owner)
reuses that parent, skips the (arm, seed) children already FINISHED (``bench.run_key``) and
re-runs the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass

from . import store
from . import tags as T
from .process import boot_id, pid_exists, start_ticks

__all__ = ["OWNER_TAGS", "process_identity", "owner_state", "structure_hash",
           "ResumeConflict", "ResumePlan", "plan_resume", "reap_orphans", "running_runs",
           "RunningRun", "mark_killed"]

OWNER_TAGS = T.OWNER_TAGS
HASH_TAG = T.STRUCTURE_HASH
UNFINISHED = ("KILLED", "FAILED", "RUNNING")


class ResumeConflict(ValueError):
    """The run to resume is held by a live process (or one that cannot be checked)."""


# -- who holds a run ----------------------------------------------------------------------------

def process_identity(pid: int | None = None) -> dict[str, str]:
    """Owner tags naming this process (or ``pid`` on this host)."""
    pid = os.getpid() if pid is None else pid
    return {T.HOST: socket.gethostname(), T.PID: str(pid),
            T.PROCESS_START: start_ticks(pid) or "", T.BOOT_ID: boot_id() or ""}


def owner_state(tags: dict[str, str]) -> tuple[str, str]:
    """``(state, why)`` with state ``alive``, ``orphaned`` or ``unknown`` (see module doc)."""
    host, pid = tags.get(T.HOST), tags.get(T.PID)
    if not host or not pid or not pid.isdigit():
        return "unknown", "no owner process recorded"
    if host != socket.gethostname():
        return "unknown", f"held by pid {pid} on host {host}, which cannot be checked from here"
    boot = tags.get(T.BOOT_ID)
    if boot and boot_id() and boot != boot_id():
        return "orphaned", f"pid {pid} was running before this machine rebooted"
    if not pid_exists(int(pid)):
        return "orphaned", f"pid {pid} on {host} is no longer running"
    started = tags.get(T.PROCESS_START)
    now = start_ticks(int(pid))
    if started and now and started != now:
        return "orphaned", f"pid {pid} on {host} now belongs to another process"
    return "alive", f"pid {pid} on {host} is running"


# -- what a parent run holds ----------------------------------------------------------------------

def structure_hash(experiment, seeds, data_seed: int = 0, variant: str = "as-specified") -> str:
    """Identifies the set of (arm, config, seed) runs an invocation makes.

    Descriptions and reference numbers are left out: they change no result. ``jobs`` is left
    out too: results are identical for any number of workers.
    """
    blob = json.dumps({
        "experiment": experiment.name,
        "arms": experiment.arm_configs(),
        "seeds": sorted(int(s) for s in seeds), "data_seed": int(data_seed), "variant": variant,
    }, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def mark_killed(tracker, run_id: str, why: str) -> None:
    tracker.set_tags(run_id, {T.KILLED_REASON: why[:4900]})
    tracker.end(run_id, "KILLED")


def reap_orphans(tracker, experiment_id: str, kinds=("parent", "arm", "run")) -> list[str]:
    """Mark KILLED the RUNNING runs of ``experiment_id`` whose owner process is gone."""
    reaped = []
    for run in store.running(tracker, [experiment_id]):
        if kinds and run.data.tags.get(T.KIND) not in kinds:
            continue
        state, why = owner_state(run.data.tags)
        if state == "orphaned":
            mark_killed(tracker, run.info.run_id, f"orphaned: {why}")
            reaped.append(run.info.run_id)
    return reaped


@dataclass
class ResumePlan:
    parent_id: str
    finished: dict[str, str]          # run_key -> FINISHED child run id (kept, not re-run)
    stale: dict[str, list[str]]       # run_key -> earlier unfinished attempts (superseded)
    previous_status: str


def plan_resume(tracker, experiment_id: str, structure: str,
                same_tags: dict[str, str | None] | None = None) -> ResumePlan | None:
    """The unfinished parent run to continue, or None to start a new one.

    Only the newest parent with this structure counts: if it FINISHED, a new invocation is a
    new measurement. It is also not continued when a tag of ``same_tags`` differs (the git
    commit: runs of one table come from one version of the code). Run after
    :func:`reap_orphans`, so a parent left RUNNING by a dead process is already KILLED here.
    """
    parent = store.newest_parent(tracker, experiment_id, structure)
    if parent is None:
        return None
    status = parent.info.status
    if status not in UNFINISHED:
        return None
    for key, value in (same_tags or {}).items():
        if parent.data.tags.get(key) != value:
            return None
    if status == "RUNNING":
        state, why = owner_state(parent.data.tags)
        raise ResumeConflict(
            f"the same runs are in progress under parent run {parent.info.run_id} ({why}); "
            "wait for it, pass --fresh to start a separate parent run, or run "
            "`python -m bench doctor --fix` if that process is gone")
    finished: dict[str, str] = {}
    stale: dict[str, list[str]] = {}
    for child in store.invocation_runs(tracker, experiment_id, parent.info.run_id,
                                       order_by=["attributes.start_time ASC"]):
        key = child.data.tags.get(T.RUN_KEY)
        if not key:
            continue
        if child.info.status == "FINISHED" and key not in finished:
            finished[key] = child.info.run_id
        elif child.info.status != "FINISHED":
            stale.setdefault(key, []).append(child.info.run_id)
    return ResumePlan(parent.info.run_id, finished,
                      {k: v for k, v in stale.items() if k not in finished}, status)


# -- listing ----------------------------------------------------------------------------------

@dataclass
class RunningRun:
    run_id: str
    experiment: str
    name: str
    kind: str
    state: str
    why: str
    age_seconds: float


def running_runs(tracker, experiment_names: list[str] | None = None) -> list[RunningRun]:
    """Every RUNNING run (of the named experiments, else of all), with its owner's state."""
    exps = store.experiments(tracker, experiment_names)
    names = {e.experiment_id: e.name for e in exps}
    out = []
    ids = list(names)
    for i in range(0, len(ids), 100):
        for run in store.running(tracker, ids[i:i + 100], order_by=["attributes.start_time ASC"]):
            state, why = owner_state(run.data.tags)
            age = time.time() - (run.info.start_time or 0) / 1000
            out.append(RunningRun(run.info.run_id, names.get(run.info.experiment_id, "?"),
                                  run.info.run_name or "", run.data.tags.get(T.KIND, "?"),
                                  state, why, age))
    return out
