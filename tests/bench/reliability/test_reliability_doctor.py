"""``bench doctor``: RUNNING runs are classified by who holds them (a live process, a dead
one, or one that cannot be checked); ``--fix`` marks only the orphaned ones KILLED."""

from __future__ import annotations

import io
import os
import subprocess

from bench.doctor import doctor
from bench.resume import owner_state, process_identity
from bench.tracking import Tracker


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_owner_states():
    me = process_identity()
    assert owner_state(me)[0] == "alive"
    assert owner_state({**me, "bench.pid": str(_dead_pid())})[0] == "orphaned"
    # A recycled pid: the process running under it started at another time.
    assert owner_state({**me, "bench.process_start": "1"})[0] == "orphaned"
    assert owner_state({**me, "bench.boot_id": "another-boot"})[0] == "orphaned"
    assert owner_state({**me, "bench.host": "elsewhere"})[0] == "unknown"
    assert owner_state({})[0] == "unknown"


def test_doctor_lists_and_fixes_only_orphans(new_store):
    store = new_store()
    tracker = Tracker(store.uri)
    exp = tracker.experiment_id("doc")
    runs = {}
    for name, tags in (("orphan", {"bench.pid": str(_dead_pid())}),
                       ("alive", {}),
                       ("remote", {"bench.host": "elsewhere"})):
        runs[name] = tracker.start_run(exp, name, tags={"bench.kind": "run"})
        if tags:
            tracker.set_tags(runs[name], tags)
    done = tracker.start_run(exp, "done", tags={"bench.kind": "run"})
    tracker.end(done, "FINISHED")

    out = io.StringIO()
    assert doctor(store.uri, out=out) == 1
    text = out.getvalue()
    assert "3 RUNNING run(s): 1 alive, 1 orphaned, 1 unknown" in text, text
    assert {r: store.client.get_run(i).info.status for r, i in runs.items()} == {
        "orphan": "RUNNING", "alive": "RUNNING", "remote": "RUNNING"}  # listing changes nothing

    out = io.StringIO()
    assert doctor(store.uri, fix=True, out=out) == 0
    status = {r: store.client.get_run(i).info.status for r, i in runs.items()}
    assert status == {"orphan": "KILLED", "alive": "RUNNING", "remote": "RUNNING"}, out.getvalue()
    assert "bench doctor --fix" in store.client.get_run(runs["orphan"]).data.tags[
        "bench.killed_reason"]

    out = io.StringIO()
    assert doctor(store.uri, ["doc"], fix=True, include_unknown=True, out=out) == 0
    status = {r: store.client.get_run(i).info.status for r, i in runs.items()}
    assert status == {"orphan": "KILLED", "alive": "RUNNING", "remote": "KILLED"}
    tracker.end(runs["alive"], "FINISHED")
    out = io.StringIO()
    assert doctor(store.uri, out=out) == 0 and "no RUNNING runs" in out.getvalue()
    assert os.getpid() > 0
