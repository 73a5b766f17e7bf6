"""Weight files read back by ``Sequential.load``: truncated, corrupt, or carrying object
arrays (pickles) are refused with a ValueError naming the file; a pickle inside is never
executed; the network is unchanged by a refused load; an interrupted save leaves the old
file whole."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

from nn_core.network import Sequential


class Payload:
    """Unpickling this creates ``path``: proof of whether a loader ran pickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def net(seed=0):
    return Sequential(["dense:7", "tanh", "dense:3"], input_dim=5, seed=seed)


def snapshot(network):
    return {k: v.copy() for k, v in network.named_arrays().items()}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "weights.npz"
    net(seed=1).save(path)
    return path


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, 0.9, -1])
def test_truncated_weight_files_are_refused(saved, keep):
    data = saved.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else (len(data) - 1 if keep == -1 else keep)
    saved.write_bytes(data[:cut])
    target = net()
    before = snapshot(target)
    with pytest.raises(ValueError, match="weights.npz"):
        target.load(saved)
    assert same(before, snapshot(target))


def test_object_arrays_are_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.npz"
    good = net(seed=1).named_arrays()
    arrays = dict(good)
    arrays["0.W"] = np.array([Payload(str(marker))], dtype=object)
    np.savez(path, **arrays)  # numpy pickles the object array into the archive
    target = net()
    before = snapshot(target)
    with pytest.raises(ValueError, match="not a plain weight file"):
        target.load(path)
    assert not marker.exists(), "the pickle in the weight file was executed"
    assert same(before, snapshot(target))
    # Control: the payload is live -- unpickling the file on purpose does run it.
    with np.load(path, allow_pickle=True) as z:
        z["0.W"]
    assert marker.exists()


def test_a_lone_npy_and_non_archives_are_refused(tmp_path):
    target = net()
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "text.npz").write_text("not a zip")
    with zipfile.ZipFile(tmp_path / "junk.npz", "w") as z:
        z.writestr("0.W.npy", b"\x93NUMPY garbage")
    for name in ("one.npy", "text.npz", "junk.npz"):
        with pytest.raises(ValueError):
            target.load(tmp_path / name)


def test_weights_of_another_shape_or_kind_change_nothing(tmp_path):
    other = Sequential(["dense:4", "tanh", "dense:3"], input_dim=5, seed=2)
    other.save(tmp_path / "other.npz")
    strings = {k: np.array(["x"] * v.size).reshape(v.shape) for k, v in net().named_arrays().items()}
    np.savez(tmp_path / "strings.npz", **strings)
    target = net()
    before = snapshot(target)
    for name in ("other.npz", "strings.npz"):
        with pytest.raises(ValueError):
            target.load(tmp_path / name)
        assert same(before, snapshot(target))


def test_an_interrupted_save_leaves_the_previous_file_whole(saved, monkeypatch):
    before = saved.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # as if SIGINT arrived in the middle of writing

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        net(seed=5).save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    target = net()
    target.load(saved)  # still loads: the old weights, whole
    assert same(snapshot(target), snapshot(_loaded(saved)))
    leftovers = [p for p in os.listdir(saved.parent) if p != saved.name]
    assert all(p.endswith(".tmp") for p in leftovers)  # at most the abandoned temporary


def _loaded(path):
    n = net()
    n.load(path)
    return n
