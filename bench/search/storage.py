"""Optuna storages by URL, with crash recovery where the storage supports it.

- no URL: the default local file ``optuna.journal`` (Optuna's JournalStorage file backend:
  an append-only log with file locking, safe for several worker processes on one machine);
- ``journal:PATH`` or a path ending in ``.journal``: the same backend at PATH;
- ``sqlite:///...``, ``postgresql://...``, ``mysql://...``: Optuna's RDB storage with a
  heartbeat, so a trial whose worker died is marked failed and retried by another worker.
"""

from __future__ import annotations

from ..redaction import redact

import os
import warnings

__all__ = ["DEFAULT_STORAGE", "open_storage", "describe_storage", "local_file_missing",
           "HEARTBEAT_INTERVAL", "GRACE_PERIOD"]

DEFAULT_STORAGE = "optuna.journal"
# RDB storages; $BENCH_HEARTBEAT_INTERVAL and $BENCH_GRACE_PERIOD override them (seconds).
HEARTBEAT_INTERVAL = 5   # seconds between a running trial's heartbeats
GRACE_PERIOD = 20        # a trial silent this long is stale: its worker is gone
_RDB_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+")


def describe_storage(url: str | None) -> str:
    """The storage URL fit to show or record: any password replaced by ``***``."""
    return redact(url or DEFAULT_STORAGE)


def _with_driver(url: str) -> str:
    """``postgresql://`` with the PostgreSQL driver that is installed.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3, while the ``postgres`` extra
    installs psycopg2; a URL that names its driver (``postgresql+psycopg://``) is kept.
    """
    if not url.startswith("postgresql://"):
        return url
    import importlib.util
    for module, driver in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://" + url[len("postgresql://"):]
    return url


def _journal_path(url: str) -> str | None:
    if url.startswith("journal:"):
        return url[len("journal:"):]
    if url.endswith(".journal") and "://" not in url:
        return url
    return None


def local_file_missing(url: str | None) -> bool:
    """Whether ``url`` names a journal or SQLite file that does not exist yet (opening the
    storage would create it: a read-only question must not)."""
    url = url or DEFAULT_STORAGE
    path = _journal_path(url)
    if path is None and url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):].split("?", 1)[0]
    return path is not None and path not in ("", ":memory:") and not os.path.exists(path)


def open_storage(url: str | None, *, heartbeat: bool = True, stale_callback=None):
    """An Optuna storage object for ``url`` (see the module docstring). ``stale_callback``
    replaces the search's retry of a dead worker's trial (``bench.queue`` queues runs)."""
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
            from .budget import RetryDeadTrial
            interval = _seconds("BENCH_HEARTBEAT_INTERVAL", HEARTBEAT_INTERVAL)
            grace = _seconds("BENCH_GRACE_PERIOD", GRACE_PERIOD)
            if grace <= interval:
                raise ValueError(f"the heartbeat grace period ({grace}s) must exceed its "
                                 f"interval ({interval}s)")
            kwargs = dict(heartbeat_interval=interval, grace_period=grace,
                          heartbeat_stale_trial_callback=stale_callback or RetryDeadTrial())
        try:
            return _rdb_storage(url, kwargs)
        except ImportError:
            raise ValueError(f"cannot open Optuna storage {describe_storage(url)!r}: no driver "
                             "for it is installed (PostgreSQL: pip install -e '.[postgres]')"
                             ) from None
        except Exception as exc:  # unreachable server, bad credentials
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(f"cannot open Optuna storage {describe_storage(url)!r}: "
                             f"{message.replace(url, describe_storage(url))}") from None
    raise ValueError(f"unsupported storage {describe_storage(url)!r}; use a .journal file path, journal:PATH, "
                     "sqlite:///PATH or postgresql://USER@HOST/DB")


def _rdb_storage(url: str, kwargs: dict):
    """``RDBStorage`` for ``url``. Two processes opening a new database at once (a worker
    started beside its coordinator) race to create Optuna's tables, and PostgreSQL refuses the
    loser's CREATE with a unique violation; the tables then exist, so the loser tries again."""
    import time

    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError
    for attempt in range(5):
        try:
            with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(_with_driver(url),
                                                  engine_kwargs=_engine_kwargs(url), **kwargs)
        except (IntegrityError, ProgrammingError) as exc:
            racing = "already exists" in str(exc) or "duplicate key" in str(exc)
            if not racing or attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def _seconds(variable: str, default: int) -> int:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"${variable} must be a whole number of seconds >= 1, got {text!r}")
    return value


def _engine_kwargs(url: str) -> dict:
    if url.startswith("postgresql"):
        # Fail fast on an unreachable server instead of hanging in connect().
        return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {}
