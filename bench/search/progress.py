"""Search progress in a terminal: per arm, trials counted (over all its studies) and the
best objective so far, read from the Optuna storage while the workers run.

The workers are other processes (or, with one job, this one), so a thread polls the study
being tuned every ``POLL_SECONDS``; studies already done keep their last count. Without a
terminal (or with ``--quiet``) nothing is drawn and the search prints its plain lines.
"""

from __future__ import annotations

import math
import sys
import threading

__all__ = ["SearchProgress", "POLL_SECONDS"]

POLL_SECONDS = 1.0


def _tally(study) -> tuple[int, float]:
    """Trials counted against the budget, and the best finite objective among them."""
    from .budget import counts
    trials = [t for t in study.get_trials(deepcopy=False) if counts(t)]
    values = [t.value for t in trials if t.state.name == "COMPLETE" and t.value is not None
              and math.isfinite(t.value)]
    return len(trials), min(values, default=math.nan)


class SearchProgress:
    def __init__(self, arms: list[str], total_per_arm: int, storage_url: str | None,
                 quiet: bool = False, stream=None):
        self.stream = stream or sys.stderr
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.storage_url, self.total = storage_url, total_per_arm
        self.counts: dict[str, dict[str, tuple[int, float]]] = {a: {} for a in arms}
        self._stop = threading.Event()
        self._thread = None
        self._watched: tuple[str, str] | None = None
        self._bar = self._tasks = None
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
            self._bar = Progress(TextColumn("{task.description:<20}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[best]}"),
                                 console=Console(file=self.stream))
            self._tasks = {a: self._bar.add_task(a, total=total_per_arm, best="")
                           for a in arms}
            self._bar.start()

    def watch(self, arm: str, study_name: str) -> None:
        """Poll ``study_name`` (of ``arm``) until ``unwatch``."""
        self._watched = (arm, study_name)
        if not self.live:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, daemon=True, name="search-progress")
        self._thread.start()

    def unwatch(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self.live and self._watched is not None:
            self._update_once()
        self._watched = None

    def _update_once(self, study=None) -> None:
        import optuna

        from .storage import open_storage
        arm, name = self._watched
        if study is None:
            study = optuna.load_study(study_name=name,
                                      storage=open_storage(self.storage_url, heartbeat=False))
        self.counts[arm][name] = _tally(study)
        self._draw(arm)

    def _poll(self) -> None:
        import optuna

        from .storage import open_storage
        try:
            arm, name = self._watched
            study = optuna.load_study(study_name=name,
                                      storage=open_storage(self.storage_url, heartbeat=False))
            while not self._stop.is_set():
                self._update_once(study)
                self._stop.wait(POLL_SECONDS)
        except Exception:  # noqa: BLE001 - progress must never stop a search
            return

    def _draw(self, arm: str) -> None:
        done = sum(c for c, _ in self.counts[arm].values())
        bests = [b for _, b in self.counts[arm].values() if not math.isnan(b)]
        best = f"best {min(bests):.4f}" if bests else ""
        self._bar.update(self._tasks[arm], completed=done, best=best)

    def close(self) -> None:
        self.unwatch()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
