"""File locks for what two invocations may touch at once: a new SQLite store (its creation
and schema migration) and a results folder (its whole table set).

``flock`` locks are released by the kernel when their holder dies, so a killed invocation
never leaves a lock behind. A results folder is locked through the folder itself (no file
added to it); a store through an empty ``<database>.lock`` file beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from .report import NotWritten

__all__ = ["file_lock", "results_lock", "sqlite_store_lock"]


@contextlib.contextmanager
def file_lock(path: str):
    """Hold an exclusive lock on ``path`` (a file, created if missing, or a directory) for
    the block; waits for it."""
    fd = (os.open(path, os.O_RDONLY | os.O_DIRECTORY) if os.path.isdir(path)
          else os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def results_lock(out_dir: str):
    """One invocation at a time writes a results folder, so its table, CSVs and figures
    always come from one parent run (the last writer's), never a mix of two."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise NotWritten(f"{out_dir} not created ({exc.strerror or exc}); the runs are kept "
                         "in MLflow: `python -m bench report` writes the tables") from exc
    with file_lock(out_dir):
        yield


def sqlite_store_lock(uri: str):
    """For ``sqlite:///PATH``: a lock beside the database, held while a client creates or
    migrates it (two processes creating one store at once otherwise race in its migration).
    Other stores: no lock (their server serialises)."""
    if not uri.startswith("sqlite:///"):
        return contextlib.nullcontext()
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    if path in ("", ":memory:"):
        return contextlib.nullcontext()
    return file_lock(os.path.abspath(path) + ".lock")
