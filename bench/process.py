"""Is a recorded process still the one that recorded itself? (Linux /proc where available.)

Runs and trials record their host, pid and the kernel's start time of that pid, so a later
invocation can tell a dead owner, and a pid reused by another process, from a live one.
"""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["start_ticks", "boot_id", "pid_exists", "is_alive", "die_with_parent"]


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/PID/stat``: state first, start time at index 19; None without /proc."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) may hold spaces or parentheses: split after the last ')'.
    return stat[stat.rfind(")") + 1:].split()


def start_ticks(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), None where unknown."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def boot_id() -> str | None:
    return _read("/proc/sys/kernel/random/boot_id")


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def is_alive(pid: int, started: str | None = None) -> bool:
    """``pid`` runs, is not a zombie, and (when ``started`` is given) is the same process."""
    if not pid_exists(pid):
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return not os.path.isdir("/proc")  # no /proc: trust kill(0); gone from /proc: dead
    if fields and fields[0] in ("Z", "X"):
        return False  # killed, not yet reaped by its parent
    return not started or len(fields) <= 19 or fields[19] == started


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` (the process that started it) dies: a worker left
    behind by a killed ``bench`` would hold the store open and compute for no one.

    Linux: the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``).
    Elsewhere a daemon thread polls the parent's pid once a second.
    """
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch():
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)
        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
    # The parent may have died before the request above was made.
    if os.getppid() != parent:
        os._exit(1)
