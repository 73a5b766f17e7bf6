import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nn_core.rng import generator, key_to_int, seed_sequence

ROOT = Path(__file__).resolve().parents[2]


def _sha256_prefix_int(text: str) -> int:
    """First four bytes of the SHA-256 digest, little-endian: the documented stable key."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return digest[0] | digest[1] << 8 | digest[2] << 16 | digest[3] << 24


def test_same_seed_and_keys_give_the_same_stream():
    assert np.array_equal(generator(7, "shuffle").random(20), generator(7, "shuffle").random(20))


@pytest.mark.parametrize("other", [(7, "init"), (7, "shuffle", 1), (8, "shuffle"), (7,)])
def test_different_seed_or_keys_give_different_streams(other):
    assert not np.array_equal(generator(7, "shuffle").random(20), generator(*other).random(20))


@pytest.mark.parametrize("short, longer", [((7, "shuffle"), (7, "shuffle", 0)), ((7,), (7, 0))])
def test_appending_key_zero_gives_a_different_stream(short, longer):
    assert not np.array_equal(generator(*short).random(20), generator(*longer).random(20))


def test_key_order_matters():
    assert not np.array_equal(generator(0, "a", "b").random(5), generator(0, "b", "a").random(5))


@pytest.mark.parametrize("key", ["shuffle", "layer", "ablation/sgd", "ümlaut"])
def test_string_key_maps_to_sha256_prefix(key):
    assert key_to_int(key) == _sha256_prefix_int(key)


def test_integer_key_is_used_as_is():
    assert key_to_int(12345) == 12345
    assert key_to_int(np.int64(9)) == 9


def test_negative_integer_key_raises():
    with pytest.raises(ValueError, match="-3"):
        key_to_int(-3)


def test_generator_is_default_rng_of_seed_sequence_of_mapped_keys_and_path_length():
    expected = np.random.default_rng(np.random.SeedSequence([5, _sha256_prefix_int("dropout"), 2, 2]))
    assert np.array_equal(generator(5, "dropout", 2).random(10), expected.random(10))


def test_seed_sequence_entropy_lists_the_mapped_keys_then_their_count():
    assert seed_sequence(5, "x", 3).entropy == [5, _sha256_prefix_int("x"), 3, 2]


def test_key_to_int_is_stable_across_processes_with_different_hash_seeds():
    code = "from nn_core.rng import key_to_int; print(key_to_int('shuffle'), key_to_int('layer'))"
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env=env, cwd=ROOT, check=True)
        outputs.add(result.stdout.strip())
    assert outputs == {f"{_sha256_prefix_int('shuffle')} {_sha256_prefix_int('layer')}"}
