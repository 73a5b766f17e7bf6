"""Named training protocols: when validation is checked, when training stops, which weights
are scored. A protocol is a config delta like an arm, applied to every arm of an invocation.

``full`` (the default of every experiment) validates after every epoch, trains the whole
epoch budget, so a learning-rate schedule runs its course, and scores the weights of the
best validation epoch. ``notebook`` is notebook 000's rule, kept for reproduction studies:
check every 10 epochs and stop at the first check that does not improve on the best.
"""

from __future__ import annotations

from dataclasses import dataclass

from nn_core._validate import check_choice

from .config import RunConfig

__all__ = ["Protocol", "PROTOCOLS", "get_protocol", "describe_protocol"]


@dataclass(frozen=True)
class Protocol:
    name: str
    eval_every: int
    patience: int | None       # checks without improvement before stopping; None = never stop
    summary: str

    def apply(self, config: RunConfig) -> RunConfig:
        return config.replace(eval_every=self.eval_every, patience=self.patience)


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("full", 1, None, "full budget, validation every epoch, best-validation weights scored"),
    Protocol("notebook", 10, 1, "notebook 000's rule: validation every 10 epochs, stop at the "
                                "first check that does not improve, best checked weights scored"),
)}


def get_protocol(name: str) -> Protocol:
    return PROTOCOLS[check_choice("protocol", name, PROTOCOLS)]


def describe_protocol(config: RunConfig) -> str:
    """The protocol a config follows, by name when it is a named one, else spelled out."""
    for p in PROTOCOLS.values():
        if (config.eval_every, config.patience) == (p.eval_every, p.patience):
            return f"{p.name} ({p.summary})"
    stop = ("full budget" if config.patience is None
            else f"stop after {config.patience} check(s) without improvement")
    return (f"validation every {config.eval_every} epoch(s), {stop}, best-validation weights "
            "scored")
