"""``python -m bench doctor``: list RUNNING runs whose process is gone and, with ``--fix``,
mark them KILLED."""

from __future__ import annotations

import sys

from .checks import check_tracking_uri, redact
from .resume import mark_killed, running_runs
from .tracking import Tracker, resolve_tracking_uri

__all__ = ["doctor"]


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def doctor(tracking_uri: str | None, experiment_names: list[str] | None = None,
           fix: bool = False, include_unknown: bool = False, out=None) -> int:
    """Report RUNNING runs and who holds them; with ``fix``, mark orphans KILLED.

    Returns 0 when no orphaned run is left, 1 otherwise.
    """
    out = out or sys.stdout
    uri = resolve_tracking_uri(tracking_uri)
    check_tracking_uri(uri)
    tracker = Tracker(uri)
    runs = running_runs(tracker, experiment_names)
    print(f"tracking store: {redact(uri)} (reachable)", file=out)
    if not runs:
        print("no RUNNING runs", file=out)
        return 0
    fixable = [r for r in runs if r.state == "orphaned" or (include_unknown and r.state == "unknown")]
    for r in runs:
        action = ""
        if fix and r in fixable:
            mark_killed(tracker, r.run_id, f"marked by `bench doctor --fix`: {r.why}")
            action = " -> marked KILLED"
        print(f"{r.state:<8} {r.run_id}  {r.experiment}/{r.name} ({r.kind}), started "
              f"{_age(r.age_seconds)} ago: {r.why}{action}", file=out)
    counts = {s: sum(1 for r in runs if r.state == s) for s in ("alive", "orphaned", "unknown")}
    print(f"{len(runs)} RUNNING run(s): {counts['alive']} alive, {counts['orphaned']} orphaned, "
          f"{counts['unknown']} unknown", file=out)
    left = [r for r in runs if r.state == "orphaned" and not (fix and r in fixable)]
    if left:
        print("run `python -m bench doctor --fix` to mark the orphaned runs KILLED", file=out)
    return 1 if left else 0
