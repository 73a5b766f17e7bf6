"""Notebook 000's MNIST ladder: one improvement per rung, plus a leave-one-out view.

The base is the notebook's network and budget: Dense(89, tanh) -> Dense(10), batch 64, 50
epochs (100 for the deeper arms). The protocol is the harness's sound default (validation
after every epoch, the full budget, the best-validation weights scored); the notebook's
stopping rule is ``--protocol notebook``. Unlike the notebook, selection watches a validation
split, never the test set, and every (arm, seed) starts from fresh state.
"""

from __future__ import annotations

from .config import RunConfig
from .experiment import Arm, Experiment

__all__ = ["make_ablation"]

BASE = RunConfig()

# Each rung is the previous one plus one change.
MSE = BASE.replace(loss="mse", output_activation="sigmoid")
SOFTMAX = BASE
MOMENTUM = SOFTMAX.replace(momentum=0.9)
LINEAR = MOMENTUM.replace(lr=0.15, final_lr=0.05, schedule="linear")
EXPONENTIAL = MOMENTUM.replace(lr=0.2, final_lr=0.05, schedule="exponential")
GLOROT = EXPONENTIAL.replace(init="glorot_normal")
DROPOUT = GLOROT.replace(keep_prob=0.8)
DEEP = DROPOUT.replace(hidden=(178, 46), epochs=100)

# Notebook 000's figures (MNIST, one seed, early stopping on the test set).
_REF = {
    "mse-sigmoid": (0.342, 73.79), "softmax-ce": (0.507, 91.87), "momentum": (0.304, 94.91),
    "linear-decay": (None, 96.02), "exp-decay": (0.330, 95.24), "glorot": (0.217, 96.90),
    "dropout": (0.172, 96.02), "deep-dropout": (0.149, 96.49),
}


def _ref(name):
    loss, acc = _REF[name]
    return {"test_loss": loss, "test_accuracy": acc / 100}


def make_ablation() -> Experiment:
    ladder = [
        Arm("mse-sigmoid", MSE, "MSE loss on a sigmoid output, SGD lr 0.1", None, _ref("mse-sigmoid")),
        Arm("softmax-ce", SOFTMAX, "softmax cross-entropy on logits", "mse-sigmoid", _ref("softmax-ce")),
        Arm("momentum", MOMENTUM, "+ SGD momentum 0.9", "softmax-ce", _ref("momentum")),
        Arm("linear-decay", LINEAR, "+ linear lr decay 0.15 -> 0.05", "momentum", _ref("linear-decay")),
        Arm("exp-decay", EXPONENTIAL, "+ exponential lr decay 0.2 -> 0.05", "momentum", _ref("exp-decay")),
        Arm("glorot", GLOROT, "+ Glorot normal initialisation", "exp-decay", _ref("glorot")),
        Arm("dropout", DROPOUT, "+ dropout, keep 0.8 on the hidden layer", "glorot", _ref("dropout")),
        Arm("deep-dropout", DEEP, "deeper: 178-46 tanh, dropout 0.8, 100 epochs", "dropout",
            _ref("deep-dropout")),
    ]
    # Leave-one-out: the final model with one component taken back out.
    loo = [
        Arm("deep-no-softmax", DEEP.replace(loss="mse", output_activation="sigmoid"),
            "final model with MSE + sigmoid instead of softmax CE", "deep-dropout"),
        Arm("deep-no-momentum", DEEP.replace(momentum=0.0), "final model without momentum",
            "deep-dropout"),
        Arm("deep-no-decay", DEEP.replace(schedule="constant", final_lr=None, lr=0.1),
            "final model with a constant lr 0.1", "deep-dropout"),
        Arm("deep-no-glorot", DEEP.replace(init="unit_normal"),
            "final model with unit-normal initialisation", "deep-dropout"),
        Arm("deep-no-dropout", DEEP.replace(keep_prob=1.0), "final model without dropout",
            "deep-dropout"),
    ]
    return Experiment(
        name="ablation",
        description="Notebook 000's MNIST ladder (one improvement per rung) and a leave-one-out "
                    "view of the final model.",
        arms=tuple(ladder + loo),
        baseline="mse-sigmoid",
        reference_note=(
            "Notebook figures: full MNIST (60k/10k), a single run with seed 42, early stopping "
            "on the test set itself (optimistic), one optimizer object shared across rungs, "
            "dropout models scored with dropout active. Ours: a separate validation split for "
            "early stopping, independent runs, mean over seeds."),
    )
