"""Bad names and options give one DatasetError (a ValueError) that names the
bad value and the valid choices."""

import numpy as np
import pytest

from bench.datasets import DATASETS, STANDARDIZE_CHOICES, DatasetError, load_dataset, one_hot


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)


def test_unknown_dataset_names_bad_value_and_all_choices():
    with pytest.raises(ValueError) as info:
        load_dataset("cifar-100")
    assert isinstance(info.value, DatasetError)
    msg = str(info.value)
    assert "cifar-100" in msg and all(name in msg for name in DATASETS)


def test_bad_standardize_names_value_and_choices():
    with pytest.raises(DatasetError) as info:
        load_dataset("synthetic", standardize="zscore")
    msg = str(info.value)
    assert "zscore" in msg and all(c in msg for c in STANDARDIZE_CHOICES)


def test_unknown_option_names_key_and_valid_options():
    with pytest.raises(DatasetError) as info:
        load_dataset("synthetic", options={"samples": 5})
    msg = str(info.value)
    assert "samples" in msg and all(k in msg for k in ("n", "d", "classes", "n_test"))


def test_option_for_dataset_without_options_is_rejected():
    with pytest.raises(DatasetError, match="'mirrors'.*none"):
        load_dataset("digits", options={"mirrors": ["http://x/"]})


@pytest.mark.parametrize("value", [0, -3, 2.5, "ten", True])
def test_bad_synthetic_option_value_is_rejected(value):
    with pytest.raises(DatasetError, match="positive integer"):
        load_dataset("synthetic", options={"n": value})


@pytest.mark.parametrize("n_val", [-1, 4000, 1.5, "10"])
def test_bad_n_val_is_rejected_with_the_allowed_range(n_val):
    with pytest.raises(DatasetError, match="n_val"):
        load_dataset("mnist-5k", n_val=n_val)


@pytest.mark.parametrize("n_val", [-1, "5"])
def test_bad_n_val_for_synthetic_is_rejected(n_val):
    with pytest.raises(DatasetError, match="n_val"):
        load_dataset("synthetic", n_val=n_val)


def test_bad_n_val_for_mnist_is_rejected_before_any_download(tmp_path):
    with pytest.raises(DatasetError, match="n_val"):
        load_dataset("mnist", data_dir=tmp_path, n_val=-5)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(DatasetError, match="seed"):
        load_dataset("synthetic", seed=seed)


@pytest.mark.parametrize("dtype", [np.int32, "bogus", object])
def test_non_float_dtype_is_rejected(dtype):
    with pytest.raises(DatasetError, match="dtype"):
        load_dataset("synthetic", dtype=dtype)


def test_bad_timeout_option_is_rejected():
    with pytest.raises(DatasetError, match="timeout"):
        load_dataset("mnist", options={"timeout": 0})


def test_empty_mirror_list_is_rejected(tmp_path):
    with pytest.raises(DatasetError, match="mirror list"):
        load_dataset("mnist", data_dir=tmp_path, options={"mirrors": []})


def test_non_string_mirrors_are_rejected(tmp_path):
    with pytest.raises(DatasetError, match="base URLs"):
        load_dataset("mnist", data_dir=tmp_path, options={"mirrors": [8080]})


def test_one_hot_bad_split_names_value_and_choices():
    ds = load_dataset("synthetic")
    with pytest.raises(DatasetError) as info:
        ds.one_hot("holdout")
    assert "holdout" in str(info.value) and "train, val, test" in str(info.value)


def test_one_hot_label_out_of_range_is_rejected():
    with pytest.raises(DatasetError, match="0..2"):
        one_hot(np.array([0, 3]), 3)


def test_one_hot_encodes_rows():
    out = one_hot(np.array([2, 0]), 3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
