"""nn_core against other libraries: the same 784-89-10 tanh network, softmax cross-entropy,
SGD with classical momentum 0.9 at lr 0.1, float32, on the same data, in the same process.

Each library trains one epoch of a freshly built model per repeat; the repeats rotate the
order of the libraries so none always runs first. The peers:

* scikit-learn's ``MLPClassifier`` (``solver="sgd"``, ``nesterovs_momentum=False``,
  ``alpha=0``), one epoch as ``fit`` with ``max_iter=1`` (which includes its input checks);
* PyTorch eager on the CPU (only if ``import torch`` works), with its intra-op threads set
  to the BLAS thread count. torch's momentum ``v <- mu v + g; p <- p - lr v`` is nn_core's
  ``v <- mu v + lr g; p <- p - v`` at a constant learning rate.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np

from .core import CLASSES, HIDDEN, nn_core_epoch
from .machine import blas_info, blas_limits

__all__ = ["sklearn_epoch", "torch_epoch", "compare_peers"]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds since ``started``."""
    now = _clock()
    return now[0] - started[0], now[1] - started[1]


def sklearn_epoch(x: np.ndarray, y: np.ndarray, batch: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="tanh", solver="sgd",
                          momentum=0.9, nesterovs_momentum=False, batch_size=batch,
                          learning_rate_init=0.1, alpha=0.0, max_iter=1, shuffle=True,
                          random_state=0)
    started = _clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch is the point
        model.fit(x, y)
    seconds = _since(started)
    if model.coefs_[0].dtype != x.dtype:
        raise RuntimeError(f"scikit-learn trained in {model.coefs_[0].dtype}, not {x.dtype}")
    return seconds


def _torch_setup(x, y, batch):
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.Tanh(),
                                torch.nn.Linear(HIDDEN, CLASSES))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return torch, model, opt, torch.nn.CrossEntropyLoss()


def torch_epoch(x: np.ndarray, y: np.ndarray, batch: int) -> tuple[float, float]:
    torch, model, opt, loss_fn = _torch_setup(x, y, batch)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = x.shape[0]
    started = _clock()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, batch):
        idx = order[start:start + batch]
        xb, yb = xt.index_select(0, idx), yt.index_select(0, idx)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * idx.shape[0]  # nn_core also reads each step's loss
    return _since(started)


def _torch_info() -> dict | str:
    try:
        import torch
    except ImportError as exc:
        return f"torch not importable ({exc})"
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available()}


def compare_peers(x: np.ndarray, y: np.ndarray, batch: int = 64, threads: int | None = 1,
                  repeats: int = 5, warmup: int = 1) -> dict:
    import sklearn
    runners = {"nn_core": lambda: nn_core_epoch(x, y, batch),
               "scikit-learn": lambda: sklearn_epoch(x, y, batch)}
    versions = {"scikit-learn": sklearn.__version__}
    skipped = {}
    torch_info = _torch_info()
    if isinstance(torch_info, dict):
        import torch
        runners["torch"] = lambda: torch_epoch(x, y, batch)
        versions["torch"] = torch_info["version"]
        torch_threads = torch.get_num_threads()
    else:
        skipped["torch"] = torch_info
    times = {name: [] for name in runners}   # (wall, cpu) seconds per repeat
    names = list(runners)
    with blas_limits(threads):
        if "torch" in runners:
            torch.set_num_threads(threads or torch_threads)
            torch_info = _torch_info()
        blas = blas_info()
        try:
            for i in range(warmup + repeats):
                for name in names[i % len(names):] + names[:i % len(names)]:  # rotate
                    seconds = runners[name]()
                    if i >= warmup:
                        times[name].append(seconds)
        finally:
            if "torch" in runners:
                torch.set_num_threads(torch_threads)
    def summary(t):
        wall, cpu = [w for w, _ in t], [c for _, c in t]
        return {"median_s": statistics.median(wall), "cpu_median_s": statistics.median(cpu),
                "all_s": wall, "all_cpu_s": cpu}
    peers = {name: {"version": versions[name], **summary(t)}
             for name, t in times.items() if name != "nn_core"}
    peers.update({name: {"skipped": why} for name, why in skipped.items()})
    own = summary(times["nn_core"])
    return {"batch": batch, "threads": threads, "samples": x.shape[0],
            "nn_core_s": own["median_s"], "nn_core_cpu_s": own["cpu_median_s"],
            "nn_core_all_s": own["all_s"], "nn_core_all_cpu_s": own["all_cpu_s"],
            "peers": peers, "blas": blas, "torch": torch_info}
