"""One run, described completely by a frozen dataclass.

Arms of an ablation are ``dataclasses.replace`` deltas of a base config, so each arm says only
what it changes. Every field is validated on construction: a bad value fails with a
``ValueError`` naming the field, the value and what is allowed, before any work starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from nn_core import (ACTIVATIONS, INITIALIZERS, LOSSES, OPTIMIZERS, SCHEDULES, Dense,
                     get_loss, make_optimizer, make_schedule)
from nn_core._validate import check_choice, check_int, check_number
from nn_core.network import Sequential

__all__ = ["RunConfig"]


MAX_WIDTH = 65_536  # wider layers are a typo, not an experiment: fail before allocating


@dataclass(frozen=True)
class RunConfig:
    # -- data --------------------------------------------------------------------------------
    dataset: str = "mnist-5k"
    standardize: str = "global"        # one mean/std from the training split (see bench.datasets)

    # -- architecture: Dense(h) [-> BatchNorm] -> activation [-> Dropout] per hidden width ------
    hidden: tuple[int, ...] = (89,)    # 89 = round(sqrt(784 * 10)), notebook 000
    activation: str = "tanh"
    output_activation: str = "identity"  # "sigmoid" only for the MSE rung; CE takes raw logits
    batchnorm: bool = False
    keep_prob: float = 1.0             # dropout keep probability on hidden layers; 1 = off
    init: str = "unit_normal"          # notebook 000 starts from unit-normal weights
    weight_scale: float | None = None  # std for init="normal" (notebook 003's weight scale)

    # -- objective and optimizer ----------------------------------------------------------------
    loss: str = "softmax_ce"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0          # L2 strength on weights
    schedule: str = "constant"
    final_lr: float | None = None      # for linear / exponential / cosine decay

    # -- loop --------------------------------------------------------------------------------
    epochs: int = 50
    batch_size: int = 64
    # The "full" protocol (see experiments.protocols): validate every epoch, train the whole
    # budget, score the best-validation weights. Notebook 000's rule is eval_every=10, patience=1.
    eval_every: int = 1
    patience: int | None = None        # evaluations without improvement before stopping
    dtype: str = "float32"

    def __post_init__(self):
        # dataset and standardize name the harness's data sets: checked where a run is
        # planned or its data loaded (bench.planning, bench.datasets), not here.
        if isinstance(self.hidden, (str, bytes)) or not hasattr(self.hidden, "__iter__"):
            raise ValueError(f"hidden must be a sequence of layer widths, got {self.hidden!r}")
        hidden = tuple(self.hidden)
        object.__setattr__(self, "hidden", hidden)
        for name in ("batchnorm", "nesterov"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for i, width in enumerate(hidden):
            check_int(f"hidden[{i}]", width, low=1, high=MAX_WIDTH)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("output_activation", self.output_activation, ACTIVATIONS)
        check_number("keep_prob", self.keep_prob, low=0.0, high=1.0, low_inclusive=False)
        check_choice("init", self.init, [*INITIALIZERS, "normal"])
        if self.init == "normal":
            if self.weight_scale is None:
                raise ValueError("init='normal' needs weight_scale (its standard deviation)")
            check_number("weight_scale", self.weight_scale, low=0.0, low_inclusive=False)
        elif self.weight_scale is not None:
            raise ValueError(f"weight_scale applies only to init='normal', not init={self.init!r}")
        check_choice("loss", self.loss, LOSSES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("lr", self.lr, low=0.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        if self.momentum and self.optimizer != "sgd":
            raise ValueError(f"momentum applies to optimizer='sgd', not {self.optimizer!r}")
        if self.nesterov and not self.momentum:
            raise ValueError("nesterov=True needs momentum > 0")
        check_number("weight_decay", self.weight_decay, low=0.0)
        check_choice("schedule", self.schedule, SCHEDULES)
        if self.schedule in ("linear", "exponential", "cosine"):
            if self.final_lr is None:
                raise ValueError(f"schedule={self.schedule!r} needs final_lr")
            check_number("final_lr", self.final_lr, low=0.0,
                         low_inclusive=self.schedule != "exponential")
        elif self.final_lr is not None:
            raise ValueError(f"final_lr applies to linear/exponential/cosine decay, not schedule={self.schedule!r}")
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_int("eval_every", self.eval_every, low=1)
        if self.patience is not None:
            check_int("patience", self.patience, low=1)
        check_choice("dtype", self.dtype, ["float32", "float64"])

    def replace(self, **changes) -> "RunConfig":
        """A copy with ``changes`` applied (and validated); unknown fields are an error."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; valid: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **changes)

    # -- building -------------------------------------------------------------------------------
    def layer_specs(self, n_outputs: int) -> list:
        """Dense(h) [-> BatchNorm] -> activation [-> Dropout] per hidden width, then the output."""
        def dense(units):
            return Dense(units, init=self.init, std=self.weight_scale)

        specs: list = []
        for width in self.hidden:
            specs.append(dense(width))
            if self.batchnorm:
                specs.append("batchnorm")
            specs.append(self.activation)
            if self.keep_prob < 1.0:
                specs.append(f"dropout:{self.keep_prob}")
        specs.append(dense(n_outputs))
        if self.output_activation != "identity":
            specs.append(self.output_activation)
        return specs

    def build(self, n_inputs: int, n_outputs: int, seed: int):
        """The network, loss, optimizer and schedule for one run, all fresh."""
        network = Sequential(self.layer_specs(n_outputs), n_inputs, seed=seed, dtype=self.dtype)
        loss = get_loss(self.loss)
        opt_args = {"lr": self.lr, "weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            opt_args.update(momentum=self.momentum, nesterov=self.nesterov)
        optimizer = make_optimizer(self.optimizer, network.parameters(), **opt_args)
        schedule = make_schedule(self.schedule, lr=self.lr, final_lr=self.final_lr,
                                 epochs=self.epochs)
        return network, loss, optimizer, schedule

    def as_params(self) -> dict[str, str]:
        """Flat string values for tracking (MLflow params)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = "-".join(str(v) for v in value)
            out[f.name] = "none" if value is None else str(value)
        return out

    def describe(self) -> str:
        """A compact human summary, e.g. for a table row."""
        parts = [f"{self.loss}", "x".join(map(str, self.hidden)) + f" {self.activation}"]
        parts.append(self.optimizer + (f"(m={self.momentum:g})" if self.momentum else ""))
        parts.append(f"lr {self.lr:g}" + (f"->{self.final_lr:g} {self.schedule}" if self.final_lr is not None else ""))
        parts.append(self.init if self.init != "normal" else f"normal({self.weight_scale:g})")
        if self.keep_prob < 1:
            parts.append(f"keep {self.keep_prob:g}")
        if self.batchnorm:
            parts.append("batchnorm")
        return ", ".join(parts)
