"""``bench search lr-grid`` (notebook 003's grid) with ``--quick`` and ``--zipped --quick``:
every cell runs exactly once, diverged cells are failed trials with the
outcome ``diverged``, and the heat map is written."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from harness_util import run_dir
from searchtest_util import counted, load_study, new_store, start_bench, trial_runs

from bench.search.lr_grid import LR_GRID, WS_GRID, zipped_pairs

pytestmark = pytest.mark.slow
ARMS = ("plain-L5", "bn-L5")


@pytest.fixture(scope="module")
def grids(empty_mlflow_db, tmp_path_factory) -> dict:
    """``--quick`` and ``--zipped --quick``, run at the same time."""
    procs = {}
    # The grid with two workers (trial k must run cell k in each), the pairs with one.
    for which, extra, jobs in (("full_grid", [], 2), ("zipped", ["--zipped"], 1)):
        cwd = tmp_path_factory.mktemp(which)
        store = new_store(empty_mlflow_db, cwd / "mlruns")
        storage = str(cwd / "optuna.journal")
        args = ["search", "lr-grid", "--quick", *extra, "--epochs", 3, "--jobs", jobs, "--quiet",
                "--storage", storage, "--tracking-uri", store.uri, "--results-dir",
                cwd / "results"]
        procs[which] = (start_bench(args, cwd, cwd / "search.log"), cwd, store, storage)
    out = {}
    for which, (proc, cwd, store, storage) in procs.items():
        assert proc.wait(timeout=300) == 0, (cwd / "search.log").read_text()[-3000:]
        out[which] = (cwd, store, storage)
    return out


@pytest.fixture
def full_grid(grids):
    return grids["full_grid"]


@pytest.fixture
def zipped(grids):
    return grids["zipped"]


def _cells(study) -> Counter:
    return Counter((round(t.params["lr"], 12), round(t.params["weight_scale"], 12))
                   for t in counted(study))


def _rounded(cells) -> Counter:
    return Counter((round(lr, 12), round(ws, 12)) for lr, ws in cells)


@pytest.mark.parametrize("arm", ARMS)
def test_quick_grid_runs_every_cell_exactly_once(full_grid, arm):
    _, _, storage = full_grid
    study = load_study(f"lr-grid.synthetic.{arm}", storage)
    expected = _rounded(itertools.product(LR_GRID[::2], WS_GRID[::2]))
    assert _cells(study) == expected
    assert len(study.trials) == len(expected)  # nothing ran twice or was left over


@pytest.mark.parametrize("arm", ARMS)
def test_zipped_quick_runs_every_pair_exactly_once(zipped, arm):
    _, _, storage = zipped
    study = load_study(f"lr-grid.synthetic.{arm}", storage)
    assert _cells(study) == _rounded(zipped_pairs(20))
    assert len(study.trials) == 20


@pytest.mark.parametrize("which", ["full_grid", "zipped"])
def test_diverged_cells_are_failed_trials_with_outcome_diverged(which, request):
    _, store, storage = request.getfixturevalue(which)
    study = load_study("lr-grid.synthetic.plain-L5", storage)
    diverged = [t for t in study.trials if t.state.name == "FAIL"]
    assert diverged, "lr 1e5 should diverge"
    assert max(t.params["lr"] for t in study.trials) == pytest.approx(1e5)
    for trial in diverged:
        assert trial.user_attrs["bench_outcome"] == "diverged"
        run = store.client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.info.status == "FAILED"
        assert run.data.tags["bench.error"].startswith("diverged")
    for trial in study.trials:
        if trial.state.name == "COMPLETE":
            assert math.isfinite(trial.value)
    assert len(trial_runs(store.client, "lr-grid", study.study_name)) == len(study.trials)


@pytest.mark.parametrize("which", ["full_grid", "zipped"])
def test_heat_map_is_written(which, request):
    cwd, _, _ = request.getfixturevalue(which)
    png = run_dir(cwd / "results", "lr-grid", "synthetic") / "lr_grid_heatmap.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
