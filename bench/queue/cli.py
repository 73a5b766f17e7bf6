"""The command-line side of the run queue: which storages can hold one, and ``bench worker``
on a run queue (``bench worker --study`` with a search's study stays the search's worker)."""

from __future__ import annotations

import sys

from ..planning import UsageError
from .runqueue import PREFIX

__all__ = ["check_queue_storage", "is_run_queue", "cmd_queue_worker"]

_RDB = ("postgresql:", "postgresql+", "mysql:", "mysql+", "sqlite:")


def check_queue_storage(url: str) -> None:
    """A run queue needs the heartbeat of Optuna's RDB storage: a dead worker's run is
    retried only there (a journal file has no heartbeat)."""
    from ..redaction import redact
    if not url.startswith(_RDB):
        raise UsageError(f"argument --storage: a run queue needs an Optuna RDB storage "
                         f"(postgresql://USER@HOST/DB across machines, sqlite:///PATH on one), "
                         f"got {redact(url)!r}")


def is_run_queue(name: str) -> bool:
    return name.startswith(PREFIX)


def cmd_queue_worker(args) -> int:
    from ..search.storage import describe_storage
    from .worker import serve, summary
    check_queue_storage(args.storage)
    report = serve(args.storage, timeout=args.timeout, max_runs=args.trials,
                   wait_for_work=args.wait, only=args.study)
    print(summary(report, describe_storage(args.storage)), file=sys.stderr)
    return 0
