"""The download path, for real: small IDX files served from 127.0.0.1."""

import os
import time

import numpy as np
import pytest

from bench.datasets import SOURCES, DatasetError, FileSpec, load_dataset, search_dirs
from bench.datasets.locate import cache_root

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def load(server, data_dir, **kw):
    kw.setdefault("options", {"mirrors": [server.url]})
    return load_dataset("mnist", data_dir=data_dir, n_val=10, standardize="none",
                        progress=False, **kw)


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_fetches_each_file_once_and_stores_it(tiny_mnist, server, tmp_path):
    ds = load(server, tmp_path / "data")
    assert dict(server.requests) == {n: 1 for n in NAMES}
    assert leftovers(tmp_path / "data" / "mnist") == sorted(NAMES)
    np.testing.assert_array_equal(ds.x_test, tiny_mnist.x_test.reshape(20, -1))
    np.testing.assert_array_equal(ds.y_train, tiny_mnist.y_train[:50])


def test_second_load_uses_cache_without_requests(tiny_mnist, server, tmp_path):
    first = load(server, tmp_path / "data")
    before = server.total
    second = load(server, tmp_path / "data")
    assert server.total == before == 4
    np.testing.assert_array_equal(first.x_train, second.x_train)


def test_download_without_data_dir_goes_to_user_cache(tiny_mnist, server, isolated_env):
    load(server, None)
    assert leftovers(cache_root() / "mnist") == sorted(NAMES)
    assert str(cache_root()).startswith(str(isolated_env))


def test_validation_is_last_rows_of_training_file(tiny_mnist, server, tmp_path):
    ds = load(server, tmp_path / "data")
    np.testing.assert_array_equal(ds.x_val, tiny_mnist.x_train[50:].reshape(10, -1))
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (50, 10, 20)


def test_default_n_val_is_one_sixth_of_training_rows(tiny_mnist, server, tmp_path):
    ds = load_dataset("mnist", data_dir=tmp_path, progress=False,
                      options={"mirrors": [server.url]})
    assert len(ds.y_val) == 60 // 6


def test_http_500_leaves_no_file_and_names_the_failure(tiny_mnist, server, tmp_path):
    server.fail(NAMES[0], "500")
    with pytest.raises(DatasetError, match="HTTP 500"):
        load(server, tmp_path / "data")
    assert leftovers(tmp_path / "data" / "mnist") == []


def test_truncated_download_leaves_no_partial_file(tiny_mnist, server, tmp_path):
    server.fail(NAMES[0], "truncate")
    with pytest.raises(DatasetError, match="truncated|IncompleteRead"):
        load(server, tmp_path / "data")
    assert leftovers(tmp_path / "data" / "mnist") == []


def test_corrupt_download_reports_checksum_with_expected_and_actual(tiny_mnist, server, tmp_path):
    server.fail(NAMES[2], "garbage")
    with pytest.raises(DatasetError) as info:
        load(server, tmp_path / "data")
    msg = str(info.value)
    expected = SOURCES["mnist"].test_images.sha256
    actual = __import__("hashlib").sha256(bytes(len(tiny_mnist.gz[NAMES[2]]))).hexdigest()
    assert "checksum mismatch" in msg and expected in msg and actual in msg
    assert NAMES[2] not in leftovers(tmp_path / "data" / "mnist")


def test_failed_attempt_then_retry_succeeds_fetching_only_missing(tiny_mnist, server, tmp_path):
    server.fail(NAMES[3], "500")
    with pytest.raises(DatasetError):
        load(server, tmp_path / "data")
    assert leftovers(tmp_path / "data" / "mnist") == sorted(NAMES[:3])
    ds = load(server, tmp_path / "data")
    assert server.requests[NAMES[0]] == 1 and server.requests[NAMES[3]] == 2
    assert len(ds.y_test) == 20


def test_next_mirror_is_tried_after_a_failing_one(tiny_mnist, server, tmp_path, dead_url):
    ds = load(server, tmp_path / "data", options={"mirrors": [dead_url, server.url]})
    assert len(ds.y_train) == 50 and server.total == 4


def test_mirrors_env_var_overrides_builtin_list(tiny_mnist, server, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_MNIST_MIRRORS", server.url)
    load(server, tmp_path / "data", options={})
    assert server.total == 4


def test_offline_without_files_fails_fast_pointing_to_mnist_5k(tiny_mnist, tmp_path, dead_url):
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path / "data", progress=False,
                     options={"mirrors": [dead_url]})
    assert time.monotonic() - start < 5
    msg = str(info.value)
    assert "mnist-5k" in msg and "cannot connect" in msg
    assert str(tmp_path / "data" / "mnist") in msg and str(cache_root() / "mnist") in msg
    assert "train-images-idx3-ubyte.gz" in msg


def test_real_mnist_offline_error_lists_every_search_dir(tmp_path):
    # The real registry entry; mirrors point at a closed port (isolated_env).
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path, progress=False)
    for d in search_dirs("mnist", tmp_path):
        assert str(d) in str(info.value)


def test_download_false_reports_missing_without_any_request(tiny_mnist, server, tmp_path):
    with pytest.raises(DatasetError, match="download=False") as info:
        load(server, tmp_path / "data", download=False)
    assert server.total == 0 and "mnist-5k" in str(info.value)


def test_progress_bar_download_succeeds(tiny_mnist, server, tmp_path, capsys):
    load_dataset("mnist", data_dir=tmp_path, n_val=10, progress=True,
                 options={"mirrors": [server.url]})
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err


def test_corrupt_local_file_error_names_file_digests_and_fix(tiny_mnist, tmp_path):
    folder = tiny_mnist.write(tmp_path / "data" / "mnist")
    bad = folder / NAMES[0]
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path / "data", n_val=10)
    msg = str(info.value)
    assert str(bad) in msg and SOURCES["mnist"].train_images.sha256 in msg
    assert __import__("hashlib").sha256(bad.read_bytes()).hexdigest() in msg
    assert "delete it and re-run" in msg


def test_keras_style_npz_is_accepted(tiny_mnist, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(tiny_mnist.npz)
    ds = load_dataset("mnist", data_dir=tmp_path, n_val=10, standardize="none")
    np.testing.assert_array_equal(ds.x_test, tiny_mnist.x_test.reshape(20, -1))
    assert list(ds.fingerprint["sha256"]) == ["mnist.npz"]


def test_existing_keras_cache_npz_is_reused(tiny_mnist, isolated_env):
    keras = isolated_env / ".keras" / "datasets"
    keras.mkdir(parents=True)
    (keras / "mnist.npz").write_bytes(tiny_mnist.npz)
    assert len(load_dataset("mnist", n_val=10).y_test) == 20


def test_npz_with_wrong_checksum_is_rejected(tiny_mnist, tmp_path):
    damaged = bytearray(tiny_mnist.npz)
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "mnist.npz").write_bytes(bytes(damaged))
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_dataset("mnist", data_dir=tmp_path, n_val=10)


def test_uncompressed_idx_files_pass_via_content_checksum(tiny_mnist, tmp_path):
    raw = tmp_path / "MNIST" / "raw"  # torchvision's layout
    raw.mkdir(parents=True)
    for name in NAMES:
        (raw / name[:-3]).write_bytes(tiny_mnist.raw[name])
    assert len(load_dataset("mnist", data_dir=tmp_path, n_val=10).y_train) == 50


def test_bench_data_dir_env_is_searched(tiny_mnist, tmp_path, monkeypatch):
    tiny_mnist.write(tmp_path / "envdir" / "mnist")
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "envdir"))
    assert len(load_dataset("mnist", n_val=10).y_train) == 50


def test_search_order_is_data_dir_env_cache_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "env"))
    dirs = [str(d) for d in search_dirs("mnist", tmp_path / "arg")]
    order = [str(tmp_path / "arg" / "mnist"), str(tmp_path / "env" / "mnist"),
             str(cache_root() / "mnist"), os.path.join(os.environ["KERAS_HOME"], "datasets")]
    assert [dirs.index(d) for d in order] == sorted(dirs.index(d) for d in order)


def test_md5_only_spec_is_enforced(tiny_mnist, tmp_path, monkeypatch):
    import dataclasses
    src = SOURCES["mnist"]
    monkeypatch.setitem(SOURCES, "mnist", dataclasses.replace(
        src, train_labels=FileSpec(NAMES[1], md5="0" * 32)))
    tiny_mnist.write(tmp_path / "mnist")
    with pytest.raises(DatasetError, match="md5 0{32}"):
        load_dataset("mnist", data_dir=tmp_path, n_val=10)
