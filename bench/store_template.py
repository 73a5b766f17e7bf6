"""A new local SQLite tracking store starts as a copy of a migrated empty one.

MLflow migrates every new SQLite store (about 4 s of CPU, measured in results/perf.md); with a
template those migrations run once per MLflow version and machine, and a new store costs a file
copy.
"""

from __future__ import annotations

import os
import shutil

__all__ = ["from_template"]


def _template_path() -> str:
    """A migrated empty SQLite store for this MLflow version, in the user cache (the
    datasets' cache root): ``$BENCH_STORE_TEMPLATE_DIR`` overrides where."""
    import mlflow
    base = os.environ.get("BENCH_STORE_TEMPLATE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bench")
    return os.path.join(base, f"mlflow-{mlflow.__version__}-empty.db")


def _make_template(path: str) -> None:
    """Let MLflow create and migrate a store at a temporary name, drop its default
    experiment (whose artifact folder would point where the template was made: MLflow makes
    a new one, in place, when it opens a store with no experiments), then move it in."""
    import sqlite3

    from mlflow.tracking import MlflowClient
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    MlflowClient(tracking_uri=f"sqlite:///{tmp}").search_experiments()
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.execute("DELETE FROM experiment_tags")
            con.execute("DELETE FROM experiments")
    finally:
        con.close()
    os.replace(tmp, path)


def from_template(uri: str) -> None:
    """A new local SQLite store starts as a copy of a migrated empty one: MLflow's
    migrations (seconds of CPU at every new store) then run once per MLflow version and
    machine. Anything else (an existing store, a server, a failure here) is left to MLflow."""
    if not uri.startswith("sqlite:///"):
        return
    db = uri[len("sqlite:///"):].split("?", 1)[0]
    if db in ("", ":memory:") or os.path.exists(db):
        return
    try:
        template = _template_path()
        if not os.path.exists(template):
            _make_template(template)
        tmp = f"{db}.{os.getpid()}.tmp"
        shutil.copyfile(template, tmp)
        os.replace(tmp, db)
    except Exception:  # noqa: BLE001 -- a cache problem must never stop a run: MLflow migrates
        return
