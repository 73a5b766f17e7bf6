"""Checks of what a command only *reads*: a store, a storage, a run, a port. Each one fails
with a :class:`UsageError` (one line, exit 2) before anything is opened, so that a command
reading a store that is not there does not create an empty one in its place (opening a
missing SQLite file or journal creates it)."""

from __future__ import annotations

import errno
import os
import socket

from .planning import UsageError

__all__ = ["require_tracking_store", "require_optuna_storage", "require_free_port",
           "require_parent_run"]


def _local_file(url: str) -> str | None:
    """The file behind a SQLite URL or a plain path (journal, MLflow file store), or None
    for a server (or an in-memory database)."""
    if url.startswith("sqlite:"):
        rest = url.split(":", 1)[1]
        path = rest[3:].split("?", 1)[0] if rest.startswith("///") else ""
        return None if path in ("", ":memory:") else path
    if url.startswith("journal:"):
        return url[len("journal:"):]
    if url.startswith("file:"):
        return url[len("file:"):].removeprefix("//")
    return None if "://" in url else url


def require_tracking_store(uri: str, command: str) -> None:
    path = _local_file(uri)
    if path is not None and not os.path.exists(path):
        raise UsageError(f"no tracking store at {path!r} ({uri}); `python -m bench run` creates "
                         f"one, or pass the store's --tracking-uri to `{command}`")


def require_optuna_storage(url: str) -> None:
    path = _local_file(url)
    if path is not None and not os.path.exists(path):
        raise UsageError(f"no Optuna storage at {path!r}; `python -m bench search` creates the "
                         "studies, or pass the --storage they are in")


def _in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the servers bind: a port left in TIME_WAIT by an earlier server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another "
                             "--host or --port") from None
    return False


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def require_free_port(host: str, port: int) -> None:
    """The server can listen on ``host:port``; a busy port names a free one to use instead."""
    if _in_use(host, port):
        raise UsageError(f"port {port} on {host} is already in use; pass another --port "
                         f"(e.g. --port {_free_port(host)})")


def require_parent_run(tracker, run_id: str):
    """The parent run ``run_id`` (what ``bench run`` or ``bench search`` made), or a
    UsageError naming the id."""
    from . import tags as T
    try:
        run = tracker.client.get_run(run_id)
    except Exception as exc:  # MlflowException (only bench.tracking/store import MLflow)
        if getattr(exc, "error_code", None) not in ("RESOURCE_DOES_NOT_EXIST",
                                                    "INVALID_PARAMETER_VALUE"):
            raise  # an unreachable store is reported as such, not as a bad id
        run = None
    if run is None:
        raise UsageError(f"no run with id {run_id!r} in {tracker.uri}; `python -m bench report "
                         "EXPERIMENT` picks the newest run without --run-id")
    if run.data.tags.get(T.KIND) != "parent":
        raise UsageError(f"run {run_id!r} is not a parent run of `bench run` or `bench search` "
                         f"(it is a {run.data.tags.get(T.KIND) or 'foreign'} run); pass its "
                         "parent's id")
    return run
