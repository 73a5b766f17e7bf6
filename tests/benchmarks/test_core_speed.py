"""Regression guard: nn_core's training epoch stays within a few times its matrix products.

The bound is a ratio measured in one process (epoch / floor, interleaved, one BLAS thread),
never an absolute time, so a slow or busy machine slows both sides alike. The benchmark
``python -m benchmarks core`` aims at 1.4 (batch 64); 3 here only catches a several-fold
regression such as an accidental float64 path or a per-step copy of the data.
"""

import numpy as np

from benchmarks.core import compare, make_data, make_trainer

MAX_RATIO = 3.0


def test_epoch_within_3x_of_matrix_product_floor():
    x, y = make_data(n=8_000, seed=1)
    result = compare(x, y, batch=64, threads=1, repeats=3)
    figures = (f"epoch {result.epoch:.4f}s, floor {result.floor:.4f}s (medians of "
               f"{result.epoch_s} and {result.floor_s}), ratio {result.ratio:.2f}, "
               f"CPU-time ratio {result.cpu_ratio:.2f}, BLAS {result.blas}")
    # Noise only adds time; if the medians are off but the fastest runs are fine, the
    # machine was busy rather than nn_core slow.
    assert min(result.ratio, result.best_ratio, result.cpu_ratio) <= MAX_RATIO, (
        f"nn_core epoch is more than {MAX_RATIO}x its matrix-product floor: {figures}")


def test_training_step_stays_float32():
    """A float64 scalar or array anywhere in the step would upcast and roughly halve speed."""
    x, y = make_data(n=256, seed=2)
    trainer = make_trainer(batch=64)
    net = trainer.network
    out = net.forward(x[:64], training=True)
    value, grad = trainer.loss.value_and_grad(out, y[:64])
    net.backward(grad)
    trainer.optimizer.step()
    arrays = {"output": out, "loss grad": grad}
    for i, p in enumerate(net.parameters()):
        arrays[f"{i}.{p.name}"] = p.value
        arrays[f"{i}.{p.name}.grad"] = p.grad
    for i, state in enumerate(trainer.optimizer.state):
        arrays.update({f"{i}.{k}": v for k, v in state.items()})
    wrong = {k: a.dtype.name for k, a in arrays.items() if a.dtype != np.float32}
    assert not wrong, f"float32 training produced other dtypes: {wrong}"
    assert isinstance(value, float)
