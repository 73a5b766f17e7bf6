"""The compiled peers train the same network from nn_core's start over nn_core's row order:
their epoch losses agree with nn_core's up to float32 rounding."""

import numpy as np
import pytest

from benchmarks.core import make_data
from benchmarks.peerloss import _nn_core


@pytest.mark.parametrize("name", ["jax.jit step", "jax lax.scan epoch"])
def test_jax_peer_matches_nn_core_epoch_loss_from_the_same_start(name):
    pytest.importorskip("jax")
    from benchmarks.compiled import compiled_epoch
    x, y = make_data(n=1000, seed=3)  # 15 full batches and a last one of 40 rows
    start, order, nn_loss, nn_final = _nn_core(x, y, 64)
    peer, _ = compiled_epoch(name, x, y, 64, start, order)
    _, loss, final = peer.epoch()
    assert loss == pytest.approx(nn_loss, rel=1e-4)
    for ours, theirs in zip(nn_final, final):
        assert np.allclose(ours, theirs, atol=1e-4)
