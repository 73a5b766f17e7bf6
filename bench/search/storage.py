"""Optuna storages by URL, with crash recovery where the storage supports it.

- no URL: the default local file ``optuna.journal`` (Optuna's JournalStorage file backend:
  an append-only log with file locking, safe for several worker processes on one machine);
- ``journal:PATH`` or a path ending in ``.journal``: the same backend at PATH;
- ``sqlite:///...``, ``postgresql://...``, ``mysql://...``: Optuna's RDB storage with a
  heartbeat, so a trial whose worker died is marked failed and retried by another worker.
"""

from __future__ import annotations

import os

__all__ = ["DEFAULT_STORAGE", "open_storage", "describe_storage", "HEARTBEAT_INTERVAL",
           "GRACE_PERIOD"]

DEFAULT_STORAGE = "optuna.journal"
HEARTBEAT_INTERVAL = 5   # seconds between a running trial's heartbeats
GRACE_PERIOD = 20        # a trial silent this long is stale: its worker is gone
_RDB_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+")


def describe_storage(url: str | None) -> str:
    return url or DEFAULT_STORAGE


def _journal_path(url: str) -> str | None:
    if url.startswith("journal:"):
        return url[len("journal:"):]
    if url.endswith(".journal") and "://" not in url:
        return url
    return None


def open_storage(url: str | None, *, heartbeat: bool = True):
    """An Optuna storage object for ``url`` (see the module docstring)."""
    import optuna
    url = url or DEFAULT_STORAGE
    path = _journal_path(url)
    if path is not None:
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise ValueError(f"storage directory {parent!r} does not exist (storage {url!r})")
        # The open(2)-based lock works on every local file system (no symlink support needed).
        return optuna.storages.JournalStorage(
            JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    if url.startswith(_RDB_SCHEMES):
        kwargs = {}
        if heartbeat:
            kwargs = dict(heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD,
                          heartbeat_stale_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=3))
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url), **kwargs)
        except Exception as exc:  # unreachable server, bad credentials, missing driver
            raise ValueError(f"cannot open Optuna storage {url!r}: {str(exc).splitlines()[0]}") from None
    raise ValueError(f"unsupported storage {url!r}; use a .journal file path, journal:PATH, "
                     "sqlite:///PATH or postgresql://USER@HOST/DB")


def _engine_kwargs(url: str) -> dict:
    if url.startswith("postgresql"):
        # Fail fast on an unreachable server instead of hanging in connect().
        return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {}
