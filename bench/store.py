"""Every query the harness makes of the MLflow store, in one place.

Writes go through :class:`bench.tracking.Tracker`; what is read back (a parent run to report
or resume, the runs under it, runs still RUNNING, a search's runs found again by key) is
looked up here, through the tracker's retrying client, with filters spelled from
``bench.tags``.
"""

from __future__ import annotations

from . import tags as T

__all__ = ["all_runs", "find_parent_run", "finished_parent", "newest_parent", "children",
           "invocation_runs", "key_runs", "arm_runs", "running", "experiments", "find_keyed_run", "reopen",
           "supersede", "get_run", "download_artifact", "study_trial_runs"]

_NEWEST = ["attributes.start_time DESC"]


def all_runs(tracker, experiment_ids, filter_string: str, order_by=None) -> list:
    """Every run matching ``filter_string``, page by page."""
    token, out = None, []
    while True:
        page = tracker.client.search_runs(experiment_ids, filter_string, max_results=5000,
                                          order_by=order_by, page_token=token)
        out += list(page)
        token = page.token
        if not token:
            return out


def _newest(tracker, experiment_id: str, filter_string: str):
    runs = tracker.client.search_runs([experiment_id], filter_string, order_by=_NEWEST,
                                      max_results=1)
    return runs[0] if runs else None


def find_parent_run(tracker, experiment_name: str, dataset: str | None = None,
                    kind: str | None = None, variant: str | None = None) -> str:
    """The newest finished parent run of ``experiment_name`` (optionally on ``dataset``, of
    ``kind`` (``bench.locations.KINDS``) and ``variant`` (``as-specified`` or ``tuned``))."""
    exp = tracker.client.get_experiment_by_name(experiment_name)
    if exp is None:
        raise ValueError(f"no MLflow experiment named {experiment_name!r} in {tracker.uri}; "
                         "run `python -m bench run` first")
    query = f"tags.`{T.KIND}` = 'parent' and attributes.status = 'FINISHED'"
    if dataset:
        query += f" and tags.`{T.DATASET}` = '{dataset}'"
    if variant:
        query += f" and tags.`{T.VARIANT}` = '{variant}'"
    run = _newest(tracker, exp.experiment_id,
                  query + (f" and tags.`{T.CONFIG_KIND}` = '{kind}'" if kind else ""))
    if run is None:
        where = f" on dataset {dataset!r}" if dataset else ""
        what = ((f"{ {'default': 'full default'}.get(kind, kind)} run"
                 + (" (tuned)" if variant == "tuned" else "")) if kind else "run")
        other = _newest(tracker, exp.experiment_id, query) if kind else None
        hint = ""
        if other is not None:
            other_kind = other.data.tags.get(T.CONFIG_KIND)
            hint = (f"; the newest other one is {other.info.run_id} ("
                    + (f"kind {other_kind}: add --kind {other_kind})" if other_kind
                       else f"kind not recorded: pass --run-id {other.info.run_id})"))
        raise ValueError(f"no finished {what} of {experiment_name!r}{where} in {tracker.uri}{hint}")
    return run.info.run_id


def finished_parent(tracker, experiment_id: str, parent_key: str) -> str | None:
    """The FINISHED parent run made under ``parent_key``, if any."""
    done = tracker.client.search_runs(
        [experiment_id], f"tags.`{T.PARENT_KEY}` = '{parent_key}' and attributes.status = 'FINISHED'",
        max_results=1)
    return done[0].info.run_id if done else None


def newest_parent(tracker, experiment_id: str, structure: str):
    """The newest parent run whose children are ``structure`` (a structure hash), or None."""
    return _newest(tracker, experiment_id,
                   f"tags.`{T.KIND}` = 'parent' and tags.`{T.STRUCTURE_HASH}` = '{structure}'")


def children(tracker, experiment_id: str, parent_id: str, order_by=None) -> list:
    """The (not deleted) child runs of ``parent_id``."""
    return all_runs(tracker, [experiment_id], f"tags.{T.PARENT_RUN_ID} = '{parent_id}'",
                    order_by=order_by)


def invocation_runs(tracker, experiment_id: str, parent_id: str, order_by=None) -> list:
    """The (arm, seed) runs of one invocation: nested under its arm runs and tagged with the
    invocation, or (runs made before arm runs existed) direct children of the parent."""
    kind = f"tags.`{T.KIND}` = 'run'"
    nested = all_runs(tracker, [experiment_id],
                      f"tags.`{T.INVOCATION}` = '{parent_id}' and {kind}", order_by=order_by)
    if nested:  # an invocation's runs are all of one kind or the other
        return nested
    return all_runs(tracker, [experiment_id],
                    f"tags.{T.PARENT_RUN_ID} = '{parent_id}' and {kind}", order_by=order_by)


def key_runs(tracker, experiment_id: str, parent_id: str, run_key: str) -> list:
    """Every (not deleted) attempt of one (arm, seed) run of an invocation, oldest first."""
    return all_runs(tracker, [experiment_id],
                    f"tags.`{T.INVOCATION}` = '{parent_id}' and tags.`{T.KIND}` = 'run' "
                    f"and tags.`{T.RUN_KEY}` = '{run_key}'", order_by=["attributes.start_time ASC"])


def arm_runs(tracker, experiment_id: str, parent_id: str) -> list:
    """The per-arm runs of one invocation (none for runs made before they existed)."""
    return all_runs(tracker, [experiment_id],
                    f"tags.`{T.INVOCATION}` = '{parent_id}' and tags.`{T.KIND}` = 'arm'")


def running(tracker, experiment_ids, order_by=None) -> list:
    """Every RUNNING run of ``experiment_ids``."""
    return all_runs(tracker, experiment_ids, "attributes.status = 'RUNNING'", order_by=order_by)


def experiments(tracker, names: list[str] | None = None) -> list:
    """The named MLflow experiments (a missing one is a ``ValueError``), or all of them."""
    client = tracker.client
    if not names:
        return list(client.search_experiments())
    found = [client.get_experiment_by_name(n) for n in names]
    missing = [n for n, e in zip(names, found) if e is None]
    if missing:
        raise ValueError(f"no MLflow experiment named {missing[0]!r} in {tracker.uri}")
    return found


def find_keyed_run(tracker, experiment_id: str, kind: str, key_tag: str, key: str) -> str | None:
    """The newest run of ``kind`` tagged ``key_tag = key`` (a search's runs, found again)."""
    run = _newest(tracker, experiment_id, f"tags.`{key_tag}` = '{key}' and tags.`{T.KIND}` = '{kind}'")
    return run.info.run_id if run else None


def reopen(tracker, run_id: str) -> None:
    """Mark ``run_id`` RUNNING again (a search continued)."""
    tracker.client.update_run(run_id, status="RUNNING")


def supersede(tracker, old_run_id: str, new_run_id: str) -> None:
    """Replace an earlier attempt of a run: tag it with its successor and delete it in
    MLflow's sense (restorable), so each (arm, seed) counts once in the tables."""
    tracker.set_tags(old_run_id, {T.SUPERSEDED_BY: new_run_id})
    tracker.client.delete_run(old_run_id)


def _missing(exc: BaseException) -> bool:
    return getattr(exc, "error_code", None) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


def get_run(tracker, run_id: str):
    """Run ``run_id``, or None if the store has no such run (an unreachable store raises)."""
    try:
        return tracker.client.get_run(run_id)
    except Exception as exc:  # MlflowException
        if _missing(exc):
            return None
        raise


def download_artifact(tracker, run_id: str, name: str, folder: str) -> str | None:
    """Run ``run_id``'s artifact ``name`` copied into ``folder``, or None if it has none."""
    import os
    if name not in {f.path for f in tracker.client.list_artifacts(run_id)}:
        return None
    local = tracker.client.download_artifacts(run_id, name, folder)
    return local if os.path.isfile(local) else None


def study_trial_runs(tracker, experiment_id: str, study: str) -> list:
    """The trial runs of one Optuna study (``bench.study``), including ones that ended
    KILLED because their worker died (tagged ``bench.killed_reason``)."""
    return all_runs(tracker, [experiment_id],
                    f"tags.`{T.STUDY}` = '{study}' and tags.`{T.KIND}` = 'trial'")
