"""Flat parameter storage (``nn_core.flat``) gives the same bits as per-parameter storage.

``histories(detach)`` trains a set of small configurations (plain SGD, momentum, Nesterov,
RMSprop, Adam, weight decay, dropout, batch norm, float64) and returns every epoch record
and the final weights and optimizer state. ``detach=True`` gives every parameter its own
arrays again before the optimizer is made, so the optimizer takes its per-parameter path.

``python -m benchmarks.flatcheck OUT.npz`` writes the same record from whatever ``nn_core``
is importable, so :func:`compare_with_revision` can run it against an older revision of
``nn_core`` (exported with ``git archive``) in a subprocess and compare bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np

__all__ = ["CONFIGS", "histories", "same_bits", "compare_with_revision", "reference_revision"]

# name: (layers, optimizer name, optimizer kwargs, dtype)
CONFIGS = {
    "sgd": (["dense:16", "tanh", "dense:4"], "sgd", {"lr": 0.1}, "float32"),
    "momentum": (["dense:16", "tanh", "dense:4"], "sgd", {"lr": 0.1, "momentum": 0.9}, "float32"),
    "nesterov": (["dense:16", "relu", "dense:4"], "sgd",
                 {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "float32"),
    "rmsprop": (["dense:16", "tanh", "dense:4"], "rmsprop", {"lr": 0.01}, "float32"),
    "adam": (["dense:16", "sigmoid", "dense:4"], "adam", {"lr": 0.01}, "float32"),
    "sgd-weight-decay": (["dense:16", "tanh", "dense:8", "tanh", "dense:4"], "sgd",
                         {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, "float32"),
    "adam-weight-decay": (["dense:16", "tanh", "dense:4"], "adam",
                          {"lr": 0.01, "weight_decay": 0.05}, "float32"),
    "dropout": (["dense:16", "tanh", "dropout:0.8", "dense:4"], "sgd",
                {"lr": 0.1, "momentum": 0.9}, "float32"),
    "batchnorm": (["dense:16", "batchnorm", "relu", "dense:8", "batchnorm", "tanh", "dense:4"],
                  "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.001}, "float32"),
    "float64": (["dense:16", "tanh", "dropout:0.9", "dense:4"], "adam",
                {"lr": 0.01, "weight_decay": 0.01}, "float64"),
}


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((300, 12))
    y = rng.integers(0, 4, 300)
    return x[:240], y[:240], x[240:], y[240:]


def _train(name: str, detach: bool) -> dict[str, np.ndarray]:
    import nn_core as nc
    layers, opt_name, kwargs, dtype = CONFIGS[name]
    net = nc.Sequential(layers, input_dim=12, seed=7, dtype=dtype)
    _fix_random_state(net)
    params = net.parameters()
    if detach:
        for p in params:
            p.value, p.grad = p.value.copy(), p.grad.copy()
    opt = nc.make_optimizer(opt_name, params, **kwargs)
    trainer = nc.Trainer(net, nc.SoftmaxCrossEntropy(), opt, batch_size=32, epochs=4,
                         eval_every=2, seed=3, restore_best=False)
    x, y, xv, yv = _data()
    history = trainer.fit(x, y, xv, yv)
    keys = ("epoch", "train_loss", "val_loss", "val_accuracy", "lr")
    out = {"history": np.array([[getattr(r, k) for k in keys] for r in history.records])}
    out.update({f"w/{k}": v.copy() for k, v in net.named_arrays().items()})
    for i, state in enumerate(opt.state):
        out.update({f"state/{i}/{k}": np.array(v) for k, v in state.items()})
    return out


def _fix_random_state(net) -> None:
    """Initial weights and dropout generators set here, not by the network's own seeding:
    the comparison is of storage, and the way ``Sequential`` keys its random streams has
    changed since the reference revision (common random numbers across arms)."""
    rng = np.random.default_rng(7)
    for layer in net.layers:
        weights = getattr(layer, "W", None)
        if weights is not None:
            fan_in = weights.value.shape[0]
            weights.value[...] = rng.standard_normal(weights.value.shape) / np.sqrt(fan_in)
        if getattr(layer, "rng", None) is not None:
            layer.rng = np.random.default_rng(int(rng.integers(2**32)))


def histories(detach: bool = False) -> dict[str, dict[str, np.ndarray]]:
    return {name: _train(name, detach) for name in CONFIGS}


def same_bits(a: dict, b: dict) -> list[str]:
    """Names of the configs whose arrays differ in any bit (or in their set of names)."""
    bad = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, {}), b.get(name, {})
        if set(x) != set(y) or any(x[k].dtype != y[k].dtype or x[k].shape != y[k].shape
                                   or x[k].tobytes() != y[k].tobytes() for k in x):
            bad.append(name)
    return bad


def _flatten(record: dict) -> dict[str, np.ndarray]:
    return {f"{name}|{k}": v for name, arrays in record.items() for k, v in arrays.items()}


def _unflatten(arrays) -> dict:
    out: dict = {}
    for key in arrays.files:
        name, k = key.split("|", 1)
        out.setdefault(name, {})[k] = arrays[key]
    return out


def _repo() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reference_revision(repo: str | None = None) -> str:
    """The newest revision without flat storage: the parent of the commit that added
    ``nn_core/flat.py``, or ``HEAD`` while that file is not committed."""
    added = subprocess.run(["git", "-C", repo or _repo(), "log", "-1", "--diff-filter=A",
                            "--format=%H", "--", "nn_core/flat.py"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return f"{added}^" if added else "HEAD"


def compare_with_revision(revision: str | None = None, repo: str | None = None) -> dict:
    """Train every config with ``nn_core`` as of git ``revision`` (default: the newest one
    without flat storage), in a subprocess, and with the current one (flat storage, and
    detached per-parameter arrays); report mismatches."""
    repo = repo or _repo()
    revision = revision or reference_revision(repo)
    with tempfile.TemporaryDirectory(prefix="flatcheck-") as tmp:
        archive = subprocess.run(["git", "-C", repo, "archive", revision, "nn_core"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = os.path.join(tmp, "ref.npz")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([tmp, repo])}
        subprocess.run([sys.executable, "-m", "benchmarks.flatcheck", out], env=env,
                       check=True, cwd=tmp, capture_output=True)
        with np.load(out, allow_pickle=False) as data:
            reference = _unflatten(data)
    flat, detached = histories(detach=False), histories(detach=True)
    return {"revision": revision, "configs": sorted(CONFIGS),
            "flat_vs_revision": same_bits(flat, reference),
            "detached_vs_revision": same_bits(detached, reference),
            "flat_vs_detached": same_bits(flat, detached)}


if __name__ == "__main__":
    import nn_core
    record = histories(detach=False)
    np.savez(sys.argv[1], **_flatten(record))
    print(f"{nn_core.__file__}: {len(record)} configs written to {sys.argv[1]}")
