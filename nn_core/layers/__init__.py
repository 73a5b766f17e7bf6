"""Layers and the registry that builds them from short text specs such as ``"dense:89"``."""

from __future__ import annotations

from .._validate import check_choice
from .activations import Identity, LeakyReLU, ReLU, ReLU6, Sigmoid, Tanh
from .base import Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

__all__ = ["Layer", "Dense", "Identity", "Sigmoid", "Tanh", "ReLU", "ReLU6", "LeakyReLU", "Dropout",
           "BatchNorm", "LAYERS", "ACTIVATIONS", "layer_from_spec"]

ACTIVATIONS = {"identity": Identity, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
               "relu6": ReLU6, "leaky_relu": LeakyReLU}
LAYERS = {**ACTIVATIONS, "dense": Dense, "dropout": Dropout, "batchnorm": BatchNorm}


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def layer_from_spec(spec: str | Layer) -> Layer:
    """Build a layer from ``"name"`` or ``"name:arg:key=value"``.

    Examples: ``"tanh"``, ``"dense:89"``, ``"dense:10:init=glorot_normal"``, ``"dropout:0.8"``,
    ``"batchnorm"``, ``"leaky_relu:0.1"``. A ``Layer`` instance passes through unchanged.
    """
    if isinstance(spec, Layer):
        return spec
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a layer spec must be a non-empty string or a Layer, got {spec!r}")
    name, *parts = spec.split(":")
    check_choice("layer", name, LAYERS)
    args, kwargs = [], {}
    for part in parts:
        if "=" in part:
            key, text = part.split("=", 1)
            kwargs[key] = _value(text)
        else:
            args.append(_value(part))
    try:
        return LAYERS[name](*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments in layer spec {spec!r}: {exc}") from None
