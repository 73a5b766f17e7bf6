"""A sequential network of any depth, built from layer specs."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence

import numpy as np

from ._validate import check_int
from .flat import FlatParameters
from .layers import Layer, layer_from_spec
from .parameter import Parameter
from .rng import generator

__all__ = ["Sequential"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _as_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.name not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt.name}")
    return dt


class Sequential:
    """Layers applied in order. Each layer gets its own generator derived from ``seed`` and
    keyed by its use and its rank within that use (the k-th dense layer's initial weights,
    the j-th dropout layer's masks), so initial weights and masks are reproducible, independent
    of each other, and shared with any other network built from the same seed wherever the
    shapes agree: adding a dropout or batch-norm layer does not change the weights drawn.

    >>> net = Sequential(["dense:89", "tanh", "dense:10"], input_dim=784, seed=0)
    """

    def __init__(self, layers: Sequence[Layer | str], input_dim: int, *, seed: int = 0,
                 dtype="float32"):
        if not layers:
            raise ValueError("a network needs at least one layer")
        self.layers = [layer_from_spec(spec) for spec in layers]
        if len({id(layer) for layer in self.layers}) != len(self.layers):
            raise ValueError("the same layer object appears twice; give each position its own layer")
        self.input_dim = check_int("input_dim", input_dim, low=1)
        self.dtype = _as_dtype(dtype)
        width = self.input_dim
        ranks: dict[str, int] = {}
        for i, layer in enumerate(self.layers):
            use = layer.random_use
            if use is None:  # draws nothing; a generator of its own all the same
                rng = generator(seed, "layer", i)
            else:
                rng = generator(seed, use, ranks.setdefault(use, 0))
                ranks[use] += 1
            width = layer.build(width, rng, self.dtype)
        self.output_dim = width
        # Nothing consumes the gradient with respect to the data, so the first layer with
        # parameters skips computing it (a whole matrix product per step for Dense).
        for layer in self.layers:
            layer.needs_input_grad = False
            if layer.parameters():
                break
        # All parameters in one array per kind (values, gradients): optimizers update them
        # with a few numpy calls per step (see nn_core.flat).
        params = self.parameters()
        self._flat = FlatParameters(params) if params else None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"expected input of shape (batch, {self.input_dim}), got {x.shape}")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad: np.ndarray) -> None:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            if grad is None:
                break

    def predict(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Inference-mode outputs, in chunks so large inputs do not need large temporaries."""
        parts = [self.forward(x[i:i + batch_size], training=False)
                 for i in range(0, x.shape[0], batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.output_dim), self.dtype)

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_arrays(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer by a stable name such as ``"2.W"`` (layer index, name)."""
        out = {}
        for i, layer in enumerate(self.layers):
            for p in layer.parameters():
                out[f"{i}.{p.name}"] = p.value
            for name, buf in layer.buffers().items():
                out[f"{i}.{name}"] = buf
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters and buffers."""
        return {k: v.copy() for k, v in self.named_arrays().items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state`` into this network's arrays in place (optimizers keep their references)."""
        own = self.named_arrays()
        if set(state) != set(own):
            missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
            raise ValueError(f"weights do not fit this network: missing {missing}, unexpected {extra}")
        sources = {key: np.asarray(state[key]) for key in own}
        for key, target in own.items():  # check every shape first: a failed load changes nothing
            if sources[key].shape != target.shape:
                raise ValueError(f"weight {key!r} has shape {sources[key].shape}, the network needs {target.shape}")
            if sources[key].dtype.kind not in "biuf":
                raise ValueError(f"weight {key!r} has dtype {sources[key].dtype}, not a real number type")
        for key, target in own.items():
            target[...] = sources[key]

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights as ``.npz``, atomically: a crash never leaves a half-written file."""
        path = os.fspath(path)
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, **self.named_arrays())
        os.replace(tmp, path)

    def load(self, path: str | os.PathLike) -> None:
        """Read weights written by ``save``; object arrays are refused, never unpickled."""
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):  # a lone .npy array, not an archive
                raise ValueError("a single array, not an .npz archive of named weights")
            with data:
                state = {k: data[k] for k in data.files}
        except ValueError as exc:  # numpy's message when an object array would need pickle
            raise ValueError(f"{os.fspath(path)}: not a plain weight file ({exc})") from None
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{os.fspath(path)}: cannot read weights ({exc}); the file may be "
                             "truncated or not an .npz written by Sequential.save") from None
        self.load_state_dict(state)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], input_dim={self.input_dim}, dtype={self.dtype.name})"
