"""Progress of an experiment: a live bar in a terminal, one plain line per run elsewhere.

Problems (diverged or failed runs, Python warnings raised while the runs go) are collected
and shown once, together, when the runs are done, rather than scattered through the output
or lost above a progress bar. ``--quiet`` silences the progress; the closing list of
problems is still printed, since a failed run is never good news to hide.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings

__all__ = ["RunProgress", "quiet_library_noise"]

# MLflow logs these at INFO when it creates or migrates a SQLite store: noise for a user.
_NOISY_LOGGERS = ("mlflow.store.db.utils", "alembic", "alembic.runtime.migration")


def quiet_library_noise() -> None:
    """Hide MLflow's "Downloading artifacts" bars, its "View run" lines and its
    database-creation INFO lines (and alembic's) from the terminal. Called first thing by ``python -m bench``; an explicit
    ``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR`` wins. Warnings and errors still come through.
    """
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow's "View run ... at: URL" line on every run's end prints the tracking URL as
    # given, password and all; `bench run` prints its own redacted link instead.
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class RunProgress:
    def __init__(self, total: int, quiet: bool = False, stream=None):
        self.total, self.done, self.quiet = total, 0, quiet
        self.stream = stream or sys.stderr
        self.started_at = time.perf_counter()
        self.warnings: list[str] = []
        self._bar = None
        self._closed = False
        self._showwarning = warnings.showwarning
        warnings.showwarning = self._collect_warning  # restored by close()
        if not quiet and _isatty(self.stream):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(file=self.stream), transient=False)
            self._task = self._bar.add_task("runs", total=total)
            self._bar.start()

    def _collect_warning(self, message, category, filename, lineno, file=None, line=None):
        text = f"{category.__name__}: {message}"
        if not any(w.startswith(text + " (") for w in self.warnings):  # once, wherever from
            self.warnings.append(f"{text} ({os.path.basename(filename)}:{lineno})")

    def warn(self, text: str) -> None:
        """Record a problem to show once at the end (duplicates are shown once)."""
        if text not in self.warnings:
            self.warnings.append(text)

    def add(self, n: int) -> None:
        """Another round of ``n`` runs (adaptive seeds) joins the total."""
        self.total += n
        if self._bar is not None and n:
            self._bar.update(self._task, total=self.total)

    def started(self, spec) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=f"runs (now: {spec.arm} seed {spec.seed})")

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=self.stream, flush=True)

    def finished(self, spec, result) -> None:
        self.done += 1
        status = "diverged" if result.diverged else f"test acc {100 * result.test_accuracy:.2f}%"
        if result.diverged:
            self.warn(f"{spec.key} diverged ({result.stop_reason})")
        self._line(f"[{self.done}/{self.total}] {spec.arm} seed {spec.seed}: {status}, "
                   f"{result.epochs_run} epochs, {result.seconds:.1f}s")
        if self._bar is not None:
            self._bar.advance(self._task)

    def failed(self, spec, exc) -> None:
        self.done += 1
        self.warn(f"{spec.key} failed: {type(exc).__name__}: {exc}")
        self._line(f"[{self.done}/{self.total}] {spec.arm} seed {spec.seed}: FAILED ({exc})")
        if self._bar is not None:
            self._bar.advance(self._task)

    def close(self) -> None:
        """Stop the bar, then show the problems and the summary line (once)."""
        if self._closed:
            return
        self._closed = True
        if warnings.showwarning == self._collect_warning:
            warnings.showwarning = self._showwarning
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self.warnings:
            print(f"\n{len(self.warnings)} warning(s):", file=self.stream)
            for w in self.warnings:
                print(f"  - {w}", file=self.stream)
        if not self.quiet:
            print(f"{self.done}/{self.total} runs in {time.perf_counter() - self.started_at:.1f}s",
                  file=self.stream, flush=True)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
