"""Progress of an experiment: a live bar in a terminal, one plain line per run elsewhere."""

from __future__ import annotations

import sys
import time

__all__ = ["RunProgress"]


class RunProgress:
    def __init__(self, total: int, quiet: bool = False, stream=None):
        self.total, self.done, self.quiet = total, 0, quiet
        self.stream = stream or sys.stderr
        self.started_at = time.perf_counter()
        self.warnings: list[str] = []
        self._bar = None
        if not quiet and self.stream.isatty():
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(file=self.stream), transient=False)
            self._task = self._bar.add_task("runs", total=total)
            self._bar.start()

    def started(self, spec) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=f"runs (now: {spec.arm} seed {spec.seed})")

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(text, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def finished(self, spec, result) -> None:
        self.done += 1
        status = "diverged" if result.diverged else f"test acc {100 * result.test_accuracy:.2f}%"
        if result.diverged:
            self.warnings.append(f"{spec.key} diverged ({result.stop_reason})")
        self._line(f"[{self.done}/{self.total}] {spec.arm} seed {spec.seed}: {status}, "
                   f"{result.epochs_run} epochs, {result.seconds:.1f}s")
        if self._bar is not None:
            self._bar.advance(self._task)

    def failed(self, spec, exc) -> None:
        self.done += 1
        self.warnings.append(f"{spec.key} failed: {type(exc).__name__}: {exc}")
        self._line(f"[{self.done}/{self.total}] {spec.arm} seed {spec.seed}: FAILED ({exc})")
        if self._bar is not None:
            self._bar.advance(self._task)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self.warnings and not self.quiet:
            print(f"\n{len(self.warnings)} warning(s):", file=self.stream)
            for w in self.warnings:
                print(f"  - {w}", file=self.stream)
        if not self.quiet:
            print(f"{self.done}/{self.total} runs in {time.perf_counter() - self.started_at:.1f}s",
                  file=self.stream, flush=True)
