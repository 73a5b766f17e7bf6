"""Time to target: when a run's validation accuracy first reached its data set's target.

The targets are fixed per data set and declared here, before any run (not taken from a
run's results, which would move with every rerun): roughly what a tuned small MLP reaches
on the validation split, so that the ablation's early rungs miss it and its later rungs reach
it at different speeds (DeepOBS and AlgoPerf report speed this way). A run that never reaches
the target is *censored* at the epochs it ran: it is shown as ``>50``, never as a number.

Computed from the per-epoch history the trainer already returns (``nn_core`` knows nothing
of targets); ``bench.tracking`` records it with every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TARGETS", "target_for", "TargetTime", "time_to_target", "censored_median",
           "format_censored"]

# Validation accuracy targets, one per data set (None: no meaningful target, e.g. the
# synthetic random-label problem).
TARGETS: dict[str, float | None] = {
    "mnist-5k": 0.90,
    "digits": 0.95,
    "mnist": 0.97,
    "fashion-mnist": 0.85,
    "synthetic": None,
}


def target_for(dataset: str) -> float | None:
    return TARGETS.get(dataset)


@dataclass(frozen=True)
class TargetTime:
    target: float
    epoch: int | None       # first epoch whose validation accuracy reached the target
    seconds: float | None   # training seconds up to and including that epoch
    epochs_run: int         # where a run that never reached it is censored

    @property
    def reached(self) -> bool:
        return self.epoch is not None


def time_to_target(history: list[dict], target: float) -> TargetTime:
    """The first epoch (1-based, as the trainer numbers them) with ``val_accuracy >=
    target``, and the summed epoch seconds up to it. Epochs without validation (NaN) are
    skipped, their seconds still counted."""
    seconds = 0.0
    for rec in history:
        seconds += float(rec.get("seconds", 0.0) or 0.0)
        acc = rec.get("val_accuracy", math.nan)
        if acc is not None and not math.isnan(acc) and acc >= target:
            return TargetTime(target, int(rec["epoch"]), seconds, len(history))
    return TargetTime(target, None, None, len(history))


def censored_median(values, reached, censored_at) -> tuple[float, bool]:
    """The median of times that are right-censored where ``reached`` is false (at
    ``censored_at``). Returns ``(value, censored)``: a censored median means more than
    about half the runs never reached the target, and ``value`` is then only a lower bound
    (the largest censoring time)."""
    times = sorted((float(v) if r else math.inf)
                   for v, r in zip(values, reached))
    n = len(times)
    if n == 0:
        return math.nan, False
    middle = times[(n - 1) // 2: n // 2 + 1]  # one value (odd n) or the two middle ones
    if all(math.isfinite(t) for t in middle):
        return sum(middle) / len(middle), False
    return max(float(c) for c in censored_at), True


def format_censored(values, reached, censored_at, fmt: str = "{:.0f}") -> str:
    """``"12 (5/5)"``: median time to target and how many runs reached it; ``">50 (1/5)"``
    when the median is censored; ``"–"`` without runs."""
    values, reached, censored_at = list(values), list(reached), list(censored_at)
    value, censored = censored_median(values, reached, censored_at)
    if math.isnan(value):
        return "–"
    text = (">" if censored else "") + fmt.format(value)
    return f"{text} ({sum(bool(r) for r in reached)}/{len(reached)})"
