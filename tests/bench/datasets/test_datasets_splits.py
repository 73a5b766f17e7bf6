"""stratified_split and the scaling helper on small hand-made inputs."""

import numpy as np
import pytest

from bench.datasets import DatasetError, stratified_split
from bench.datasets.preprocess import standardize
from bench.datasets.splits import split_rng


def test_stratified_split_covers_every_index_exactly_once():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    keep, hold = stratified_split(labels, 25, split_rng(0, 1))
    assert len(hold) == 25
    assert sorted(np.concatenate([keep, hold]).tolist()) == list(range(100))


def test_stratified_split_holds_out_proportionally():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    _, hold = stratified_split(labels, 50, split_rng(0, 1))
    assert np.bincount(labels[hold]).tolist() == [5, 10, 15, 20]


def test_stratified_split_rounding_keeps_exact_total():
    labels = np.repeat(np.arange(3), [7, 7, 7])
    _, hold = stratified_split(labels, 10, split_rng(0, 1))
    assert len(hold) == 10 and sorted(np.bincount(labels[hold]).tolist()) == [3, 3, 4]


def test_stratified_split_depends_on_seed_only():
    labels = np.arange(200) % 5
    a = stratified_split(labels, 40, split_rng(4, 9))[1]
    b = stratified_split(labels, 40, split_rng(4, 9))[1]
    c = stratified_split(labels, 40, split_rng(5, 9))[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_streams_with_same_seed_differ():
    assert split_rng(0, 1).integers(1 << 30) != split_rng(0, 2).integers(1 << 30)


def test_stratified_split_rejects_holding_out_everything():
    with pytest.raises(DatasetError):
        stratified_split(np.zeros(5, int), 5, split_rng(0, 1))


def test_global_scaling_uses_train_statistics_only():
    train = np.array([[0.0, 2.0], [4.0, 6.0]], dtype=np.float32)  # mean 3, std sqrt(5)
    test = np.array([[100.0, 100.0]], dtype=np.float32)
    record = standardize(train, [test], "global")
    np.testing.assert_allclose(test, (100 - 3) / np.sqrt(5), rtol=1e-6)
    assert "(x - 3)" in record


def test_unit_scaling_without_pixel_max_uses_train_min_max():
    train = np.array([[2.0], [6.0]], dtype=np.float32)
    other = np.array([[4.0]], dtype=np.float32)
    standardize(train, [other], "unit")
    np.testing.assert_allclose(train.ravel(), [0, 1])
    np.testing.assert_allclose(other.ravel(), [0.5])


def test_constant_training_data_does_not_divide_by_zero():
    train = np.full((3, 2), 5.0, dtype=np.float32)
    other = np.array([[6.0, 6.0]], dtype=np.float32)
    standardize(train, [other], "global")
    assert np.isfinite(other).all() and np.all(train == 0)
