"""Bad input: a clear one-line error, exit status 2, and nothing written or lost.

Every case runs in an empty working directory that also serves as the default store
location: afterwards it must still be empty (no mlflow.db, mlartifacts, results, optuna
journal). Cases run in this process through ``bench.cli.main`` (fast); the ones that reach
deeper (stores, data files, an existing store left unchanged) also run as real
``python -m bench`` processes, checked for stray warnings and for failing fast."""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .util import report_fault, run_bench

UNREACHABLE_HTTP = "http://127.0.0.1:1"
UNREACHABLE_PG = "postgresql://u@127.0.0.1:1/db"

# (id, argv). "{tmp}" is the test's scratch directory (outside the working directory).
CASES = [
    ("unknown-command", ["frobnicate"]),
    ("unknown-option", ["run", "ablation", "--frobnicate"]),
    ("abbreviated-option", ["run", "ablation", "--epoch", "3"]),  # not taken for --epochs
    ("seed-is-not-seeds", ["run", "ablation", "--seed", "3"]),
    ("unknown-experiment", ["run", "nope"]),
    ("unknown-arm", ["run", "ablation", "--arms", "softmax-ce,nope"]),
    ("empty-arms", ["run", "ablation", "--arms", ","]),
    ("unknown-dataset", ["run", "ablation", "--dataset", "cifar-1000"]),
    ("epochs-nan", ["run", "ablation", "--epochs", "nan"]),
    ("epochs-zero", ["run", "ablation", "--epochs", "0"]),
    ("epochs-negative", ["run", "ablation", "--epochs", "-3"]),
    ("epochs-float", ["run", "ablation", "--epochs", "2.5"]),
    ("epochs-word", ["run", "ablation", "--epochs", "ten"]),
    ("batch-zero", ["run", "ablation", "--batch-size", "0"]),
    ("seeds-nan", ["run", "ablation", "--seeds", "nan"]),
    ("seeds-zero", ["run", "ablation", "--seeds", "0"]),
    ("seeds-repeated", ["run", "ablation", "--seeds", "1,1"]),
    ("seeds-negative", ["run", "ablation", "--seeds", "0,-1"]),
    ("seeds-huge", ["run", "ablation", "--seeds", "100000000"]),
    ("jobs-zero", ["run", "ablation", "--jobs", "0"]),
    ("jobs-huge", ["run", "ablation", "--jobs", "1000000"]),
    ("lr-nan", ["run", "ablation", "--lr", "nan"]),
    ("lr-inf", ["run", "ablation", "--lr", "inf"]),
    ("lr-zero", ["run", "ablation", "--lr", "0"]),
    ("lr-negative", ["run", "ablation", "--lr", "-0.1"]),
    ("weight-scales-nan", ["run", "batchnorm", "--weight-scales", "nan"]),
    ("weight-scales-negative", ["run", "batchnorm", "--weight-scales", "0.01,-1"]),
    ("weight-scales-word", ["run", "batchnorm", "--weight-scales", "big"]),
    ("depths-zero", ["run", "batchnorm", "--depths", "0"]),
    ("widths-negative", ["run", "batchnorm", "--widths", "-4"]),
    ("depths-wrong-experiment", ["run", "ablation", "--depths", "3"]),
    ("experiment-name-blank", ["run", "ablation", "--experiment-name", " "]),
    ("results-dir-is-a-file", ["run", "ablation", "--results-dir", "{tmp}/a-file"]),
    ("data-dir-missing", ["run", "ablation", "--data-dir", "{tmp}/missing"]),
    ("tracking-scheme", ["run", "ablation", "--tracking-uri", "gopher://x"]),
    ("tracking-sqlite-dir-missing", ["run", "ablation", "--tracking-uri",
                                     "sqlite:///{tmp}/missing/mlflow.db"]),
    ("tracking-sqlite-not-a-db", ["run", "ablation", "--tracking-uri", "sqlite:///{tmp}/a-file"]),
    ("tracking-unreachable", ["run", "ablation", "--tracking-uri", UNREACHABLE_HTTP]),
    ("report-unreachable", ["report", "ablation", "--tracking-uri", UNREACHABLE_HTTP]),
    ("doctor-unreachable", ["doctor", "--tracking-uri", UNREACHABLE_HTTP]),
    ("search-timeout-nan", ["search", "ablation", "--timeout", "nan"]),
    ("search-timeout-negative", ["search", "ablation", "--timeout", "-5"]),
    ("search-timeout-inf", ["search", "ablation", "--timeout", "inf"]),
    ("search-trials-zero", ["search", "ablation", "--trials", "0"]),
    ("search-trials-nan", ["search", "ablation", "--trials", "nan"]),
    ("search-seed-negative", ["search", "ablation", "--seed", "-1"]),
    ("search-sampler", ["search", "ablation", "--sampler", "psychic"]),
    ("search-epochs-nan", ["search", "ablation", "--epochs", "nan"]),
    ("search-storage-dir-missing", ["search", "ablation", "--storage", "{tmp}/missing/s.journal"]),
    ("search-storage-scheme", ["search", "ablation", "--storage", "ftp://x/y"]),
    ("search-storage-unreachable", ["search", "ablation", "--storage", UNREACHABLE_PG]),
    ("worker-storage-unreachable", ["worker", "--study", "s", "--storage", UNREACHABLE_PG]),
    ("worker-timeout-nan", ["worker", "--study", "s", "--storage", "x.journal", "--timeout", "nan"]),
    ("dashboard-port-range", ["dashboard", "--port", "70000"]),
    ("ui-port-range", ["ui", "--port", "70000"]),
    ("ui-port-nan", ["ui", "--port", "nan"]),
    ("list-extra", ["list", "--everything"]),
]


def _argv(argv, tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in argv]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """(working directory, scratch directory); the working directory is where defaults
    (mlflow.db, results/, optuna.journal) would go."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "scratch"
    cwd.mkdir()
    tmp.mkdir()
    (tmp / "a-file").write_text("not a directory and not a database\n")
    monkeypatch.chdir(cwd)
    for var in ("MLFLOW_TRACKING_URI", "BENCH_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return cwd, tmp


@pytest.mark.parametrize("case", [argv for _, argv in CASES], ids=[name for name, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, scratch, capsys):
    from bench.cli import main
    cwd, tmp = scratch
    before = (tmp / "a-file").read_bytes()
    started = time.monotonic()
    code = main(_argv(case, tmp))
    seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("bench: error: "), err
    assert out == ""
    assert seconds < 10, f"took {seconds:.1f}s to fail"
    assert sorted(os.listdir(cwd)) == [], "files were created in the working directory"
    assert sorted(os.listdir(tmp)) == ["a-file"] and (tmp / "a-file").read_bytes() == before
    for url in (UNREACHABLE_HTTP, UNREACHABLE_PG):
        if url in case:
            assert url in lines[0], lines[0]  # names what it could not reach


# -- real processes ------------------------------------------------------------------------------

def _corrupt_mnist(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "mnist.npz").write_bytes(os.urandom(4096))


def _corrupt_idx(directory: Path) -> None:
    directory.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (directory / f"{name}.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03truncated"))


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


SUBPROCESS_CASES = {
    "epochs-nan": ["run", "ablation", "--epochs", "nan"],
    "timeout-nan": ["search", "ablation", "--timeout", "nan"],
    "weight-scales-nan": ["run", "batchnorm", "--weight-scales", "nan"],
    "tracking-unreachable": ["run", "ablation", "--dataset", "digits", "--tracking-uri",
                             UNREACHABLE_HTTP],
    "storage-unreachable": ["search", "ablation", "--dataset", "digits", "--storage",
                            UNREACHABLE_PG],
    "corrupt-mnist-npz": ["run", "ablation", "--dataset", "mnist", "--data-dir", "data-npz"],
    "corrupt-mnist-idx": ["run", "ablation", "--dataset", "mnist", "--data-dir", "data-idx"],
    "corrupt-mnist-search": ["search", "ablation", "--dataset", "mnist", "--data-dir", "data-npz",
                             "--storage", "studies.journal"],
}


@pytest.fixture(scope="module")
def subprocess_results(template_db, tmp_path_factory):
    """Each case in a working directory holding an existing store (``mlflow.db``, the
    default tracking URI, with one experiment in it) and the corrupt data sets; all cases
    run concurrently."""
    import shutil

    from mlflow.tracking import MlflowClient

    model = tmp_path_factory.mktemp("bad-input-model")
    shutil.copyfile(template_db, model / "mlflow.db")
    client = MlflowClient(tracking_uri=f"sqlite:///{model}/mlflow.db")
    exp = client.create_experiment("existing", artifact_location=f"file://{model}/mlartifacts")
    client.set_terminated(client.create_run(exp).info.run_id)
    _corrupt_mnist(model / "data-npz")
    _corrupt_idx(model / "data-idx")

    def prepare(name):
        cwd = tmp_path_factory.mktemp(f"bad-{name}")
        shutil.copytree(model, cwd, dirs_exist_ok=True)
        return cwd

    dirs = {name: prepare(name) for name in SUBPROCESS_CASES}
    before = {name: _digest(d) for name, d in dirs.items()}

    def run(name):
        started = time.monotonic()
        proc = run_bench(SUBPROCESS_CASES[name], dirs[name], timeout=120)
        return proc, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(SUBPROCESS_CASES, pool.map(run, SUBPROCESS_CASES)))
    return {name: (*results[name], before[name], _digest(dirs[name])) for name in SUBPROCESS_CASES}


@pytest.mark.parametrize("name", list(SUBPROCESS_CASES))
def test_bad_input_in_a_real_process_leaves_an_existing_store_unchanged(subprocess_results, name):
    proc, seconds, before, after = subprocess_results[name]
    lines = proc.stderr.strip().splitlines()
    figures = {"exit_status": proc.returncode, "stderr_lines": len(lines),
               "seconds": round(seconds, 1), "files_changed": sum(
                   1 for k in set(before) | set(after) if before.get(k) != after.get(k))}
    line = report_fault(f"Bad input: {name}", " ".join(SUBPROCESS_CASES[name]), figures,
                        lost=figures["files_changed"], test=f"bad-input-{name}")
    assert proc.returncode == 2, line + "\n" + proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("bench: error: "), line + "\n" + proc.stderr
    assert proc.stdout == "", proc.stdout
    assert after == before, line  # the existing store (and everything else) is untouched
    if "unreachable" in name:
        assert (UNREACHABLE_HTTP in lines[0]) or (UNREACHABLE_PG in lines[0]), lines[0]
        # Fails at the check, not after the tracking retry budget (120 s); the margin is for
        # four of these starting at once on a loaded 2-core machine (~30 s seen).
        assert seconds < 60, line
    if "corrupt" in name:
        assert "checksum mismatch" in lines[0] or "corrupt" in lines[0], lines[0]
