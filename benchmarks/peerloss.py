"""Equal loss behaviour: nn_core and its peers train one epoch from the same start.

Every library starts from nn_core's initial weights (784-89-10 tanh, float32) and visits
the rows in nn_core's first-epoch order, in batches of the same size, with SGD (classical
momentum 0.9, lr 0.1, no weight decay). Reported per library:

* ``epoch_loss``: the mean training loss over the epoch, as the library itself reports it;
* ``final_loss``: softmax cross-entropy of the weights it ends with, on the whole training
  set, computed by one float64 numpy function for all of them.

Rounding differs between libraries (summation order inside the matrix products), so the
trajectories separate slowly; equal behaviour means these losses agree closely, not bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np

from .core import make_trainer

__all__ = ["equal_start_losses", "cross_entropy"]


def cross_entropy(x, y, W1, b1, W2, b2, chunk: int = 8192) -> float:
    """Mean softmax cross-entropy of a 1-hidden-layer tanh network, in float64."""
    total = 0.0
    W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in (W1, b1, W2, b2))
    for i in range(0, x.shape[0], chunk):
        z = np.tanh(x[i:i + chunk].astype(np.float64) @ W1 + b1) @ W2 + b2
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= logp[np.arange(z.shape[0]), y[i:i + chunk]].sum()
    return total / x.shape[0]


def _nn_core(x, y, batch):
    trainer = make_trainer(batch)
    net = trainer.network
    start = [p.value.copy() for p in net.parameters()]  # W1, b1, W2, b2
    state = trainer._shuffle_rng.bit_generator.state
    order = trainer._shuffle_rng.permutation(x.shape[0])
    trainer._shuffle_rng.bit_generator.state = state  # fit draws the same permutation again
    history = trainer.fit(x, y)
    final = [p.value.copy() for p in net.parameters()]
    return start, order, history.records[0].train_loss, final


def _torch(x, y, batch, start, order):
    import torch

    from .core import CLASSES, HIDDEN
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.Tanh(),
                                torch.nn.Linear(HIDDEN, CLASSES))
    W1, b1, W2, b2 = start
    with torch.no_grad():
        for layer, W, b in ((model[0], W1, b1), (model[2], W2, b2)):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt, idx_all = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(order)
    total = 0.0
    for s in range(0, x.shape[0], batch):
        idx = idx_all[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(model(xt.index_select(0, idx)), yt.index_select(0, idx))
        loss.backward()
        opt.step()
        total += loss.item() * idx.shape[0]
    final = [model[0].weight.detach().numpy().T, model[0].bias.detach().numpy(),
             model[2].weight.detach().numpy().T, model[2].bias.detach().numpy()]
    return total / x.shape[0], [a.copy() for a in final]


def _sklearn(x, y, batch, start, order):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from .core import HIDDEN
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="tanh", solver="sgd",
                          momentum=0.9, nesterovs_momentum=False, batch_size=batch,
                          learning_rate_init=0.1, alpha=0.0, max_iter=1, shuffle=False,
                          warm_start=True, random_state=0)
    first = np.unique(y, return_index=True)[1]  # one row per class: sets classes_ and shapes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # "batch_size ... will be clipped"
        model.fit(x[first], y[first])
        W1, b1, W2, b2 = start
        model.coefs_, model.intercepts_ = [W1.copy(), W2.copy()], [b1.copy(), b2.copy()]
        model.loss_curve_, model.t_, model.n_iter_ = [], 0, 0
        model.fit(x[order], y[order])  # warm start: these weights, a fresh optimizer
    final = [model.coefs_[0], model.intercepts_[0], model.coefs_[1], model.intercepts_[1]]
    return float(model.loss_curve_[-1]), [a.copy() for a in final]


def equal_start_losses(x, y, batch: int = 64) -> dict:
    """Per library: epoch_loss, final_loss (see module docstring); skipped peers say why."""
    start, order, loss, final = _nn_core(x, y, batch)
    out = {"nn_core": {"epoch_loss": loss, "final_loss": cross_entropy(x, y, *final)}}
    out["initial_loss"] = cross_entropy(x, y, *start)
    for name, fn in (("torch", _torch), ("scikit-learn", _sklearn)):
        try:
            epoch_loss, weights = fn(x, y, batch, start, order)
        except ImportError as exc:
            out[name] = {"skipped": f"not importable ({exc})"}
            continue
        out[name] = {"epoch_loss": epoch_loss, "final_loss": cross_entropy(x, y, *weights),
                     "dtype": str(weights[0].dtype)}
    return out
