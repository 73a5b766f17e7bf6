"""What a training run produced, epoch by epoch."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = ["EpochRecord", "History", "StopTraining"]


class StopTraining(Exception):
    """Raised by a callback to end training after the current epoch; ``reason`` is recorded."""

    def __init__(self, reason: str = "stopped by callback"):
        super().__init__(reason)
        self.reason = reason


@dataclass
class EpochRecord:
    epoch: int                 # 1-based
    train_loss: float          # mean over the epoch's minibatches (weighted by batch size)
    lr: float
    seconds: float             # wall time of the epoch's training and evaluation
    val_loss: float = math.nan  # NaN on epochs without evaluation
    val_accuracy: float = math.nan

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    records: list[EpochRecord] = field(default_factory=list)
    diverged: bool = False
    stop_reason: str = "completed"  # "completed", "early_stopping", "diverged: ...", or a callback's
    best_epoch: int | None = None   # epoch whose weights the network holds after early stopping
    best_val_loss: float = math.nan

    @property
    def epochs_run(self) -> int:
        return len(self.records)

    def column(self, name: str) -> list[float]:
        return [getattr(r, name) for r in self.records]

    def evaluated(self) -> list[EpochRecord]:
        return [r for r in self.records if not math.isnan(r.val_loss)]
