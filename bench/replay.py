"""Replaying one run from the resolved configuration it logged (``config.toml``)."""

from __future__ import annotations

from .planning import UsageError

__all__ = ["CONFIG_FILE", "fetch_config"]

CONFIG_FILE = "config.toml"


def fetch_config(tracker, run_id: str, folder: str) -> str:
    """Download run ``run_id``'s ``config.toml`` into ``folder``; its path."""
    from . import store
    from . import tags as T
    run = store.get_run(tracker, run_id)
    if run is None:
        raise UsageError(f"no run with id {run_id!r} in {tracker.uri}; pass the id of one "
                         "(arm, seed) run (MLflow's runs table shows it)")
    if run.data.tags.get(T.KIND) != "run":
        raise UsageError(f"run {run_id!r} is a {run.data.tags.get(T.KIND) or 'foreign'} run, "
                         "not one (arm, seed) run: pass the id of a run named <arm>/seed-<n>")
    path = store.download_artifact(tracker, run_id, CONFIG_FILE, folder)
    if path is None:
        raise UsageError(f"run {run_id!r} has no {CONFIG_FILE} artifact (runs recorded before "
                         "resolved configs were logged cannot be replayed)")
    return path
