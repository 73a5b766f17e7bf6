"""The figures: learning curves per arm (from MLflow's metric histories), the ablation chart,
search importances; written next to the tables and logged to the parent run."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import pandas as pd
from harness_util import QUICK_ARMS, QUICK_SEEDS, run_bench, run_dir

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    from PIL import Image
    with Image.open(path) as im:
        return im.size


def assert_png(path, min_w=500, min_h=200):
    with open(path, "rb") as fh:
        assert fh.read(8) == PNG_MAGIC, path
    w, h = png_size(path)
    assert w >= min_w and h >= min_h, (path, w, h)


# -- pure plotting -------------------------------------------------------------------------------

def test_mean_band_averages_the_seeds_present_at_each_epoch():
    from bench.curves import _mean_band
    band = _mean_band([[(1, 1.0), (2, 3.0)], [(1, 3.0)], [(1, math.nan), (2, 5.0)]])
    assert band == [(1, 2.0, 1.0, 3.0, 2), (2, 4.0, 3.0, 5.0, 2)]


def test_arm_learning_curves_draws_every_arm(tmp_path):
    from bench.plots import arm_learning_curves
    curves = {f"arm-{i}": {"val_loss": [[(e, 1.0 / (e + i)) for e in range(10, 60, 10)]] * 3,
                           "val_accuracy": [[(e, 0.5 + e / 200) for e in range(10, 60, 10)]] * 3}
              for i in range(13)}
    path = arm_learning_curves(curves, str(tmp_path / "c.png"), "thirteen arms",
                               {a: "softmax_ce" for a in curves} | {"arm-0": "mse"})
    assert_png(path, 1200, 450)
    assert not list(tmp_path.glob("*.tmp.png"))


def test_arm_learning_curves_copes_with_an_arm_without_validation(tmp_path):
    from bench.plots import arm_learning_curves
    path = arm_learning_curves({"a": {"val_loss": [[]], "val_accuracy": [[]]},
                                "b": {"val_loss": [[(1, 0.5)]], "val_accuracy": [[(1, 0.9)]]}},
                               str(tmp_path / "c.png"), "one seed")
    assert_png(path)


def _summary(arms, shift=0.0, nan_interval=()):
    rows = []
    for i, arm in enumerate(arms):
        mean = 0.5 + 0.03 * i + shift
        low, high = (math.nan, math.nan) if arm in nan_interval else (mean - 0.02, mean + 0.02)
        rows.append({"arm": arm, "acc_mean": mean, "acc_low": low, "acc_high": high, "runs": 3})
    return pd.DataFrame(rows)


def test_ablation_chart_side_by_side_grows_with_the_tables(tmp_path):
    from bench.plots import ablation_chart
    arms = [f"arm-{i}" for i in range(13)]
    one = ablation_chart({"as specified": _summary(arms)}, str(tmp_path / "one.png"), "t")
    two = ablation_chart({"as specified": _summary(arms),
                          "tuned": _summary(arms[:-1] + ["only-tuned"], 0.05, ("arm-3",))},
                         str(tmp_path / "two.png"), "t")
    assert_png(one, 800, 500)
    assert_png(two, 800, 500)
    assert png_size(two)[1] > png_size(one)[1]  # two markers per arm need more room


def test_importances_chart_none_without_importances(tmp_path):
    from bench.plots import importances_chart
    assert importances_chart({"a": {}, "b": {}}, str(tmp_path / "i.png"), "t") is None
    path = importances_chart({"a": {"lr": 0.7, "momentum": 0.3}, "b": {}, "c": {"lr": 1.0},
                              "d": {"lr": 0.5, "width_factor": 0.5}, "e": {"lr": 1.0}},
                             str(tmp_path / "i.png"), "t")
    assert_png(path)


# -- written by publish(), from MLflow -----------------------------------------------------------

def test_publish_writes_the_figures_next_to_the_tables(quick_run):
    for name in ("learning_curves.png", "ablation_chart.png"):
        assert_png(quick_run.table_dir / name, 800, 250)
    md = (quick_run.table_dir / "table.md").read_text()
    assert "](ablation_chart.png)" in md and "](learning_curves.png)" in md
    assert "learning_curves.png" in quick_run.stderr


def test_figures_are_logged_to_the_parent_run(quick_run, tmp_path):
    client = quick_run.client
    names = {a.path for a in client.list_artifacts(quick_run.parent.info.run_id)}
    assert {"learning_curves.png", "ablation_chart.png"} <= names
    logged = client.download_artifacts(quick_run.parent.info.run_id, "learning_curves.png",
                                       str(tmp_path))
    with open(logged, "rb") as fh:
        assert fh.read() == (quick_run.table_dir / "learning_curves.png").read_bytes()


def test_learning_curves_come_from_the_metric_histories_in_mlflow(quick_run):
    from bench.publish import metric_histories
    from bench.report import load_runs
    from bench.tracking import Tracker
    tracker = Tracker(quick_run.uri)
    histories = metric_histories(tracker, load_runs(tracker, quick_run.parent.info.run_id))
    assert sorted(histories) == sorted(QUICK_ARMS)
    for arm in QUICK_ARMS:
        for metric in ("val_loss", "val_accuracy"):
            expected = sorted(
                sorted((m.step, m.value) for m in quick_run.client.get_metric_history(
                    quick_run.child(arm, seed).info.run_id, metric))
                for seed in QUICK_SEEDS)
            assert sorted(histories[arm][metric]) == expected
            epochs = sorted(int(quick_run.child(arm, s).data.metrics["epochs_run"])
                            for s in QUICK_SEEDS)  # early stopping may end a run early
            assert sorted(len(series) for series in histories[arm][metric]) == epochs


def test_report_redraws_the_same_figures_from_mlflow_alone(quick_run, tmp_path):
    """``bench report`` (a new process, no training) draws byte-identical figures."""
    out = tmp_path / "again"
    proc = run_bench(["report", "ablation", "--run-id", quick_run.parent.info.run_id,
                      "--tracking-uri", quick_run.uri, "--results-dir", out], tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("learning_curves.png", "ablation_chart.png"):
        assert (run_dir(out) / name).read_bytes() == \
            (quick_run.table_dir / name).read_bytes(), name


def test_the_chart_puts_tuned_beside_as_specified_when_tuned_csv_exists(quick_run, tmp_path,
                                                                          monkeypatch):
    import bench.plots
    from bench.publish import publish
    from bench.tracking import Tracker
    from bench.locations import subdir_of
    out = tmp_path / "results"
    folder = out / subdir_of(quick_run.parent)  # the run's own folder, as publish picks it
    folder.mkdir(parents=True)
    shutil.copy(quick_run.table_dir / "table.csv", folder / "tuned.csv")
    seen = {}
    real = bench.plots.ablation_chart

    def spy(tables, path, title):
        seen.update(labels=list(tables), title=title)
        return real(tables, path, title)

    monkeypatch.setattr(bench.plots, "ablation_chart", spy)
    publish(Tracker(quick_run.uri), quick_run.parent.info.run_id, str(out), quiet=True)
    assert seen["labels"] == ["as specified", "tuned"]
    assert "as specified vs tuned" in seen["title"]


def test_a_figure_that_fails_never_costs_the_tables(quick_run, tmp_path, monkeypatch, capsys):
    import bench.plots
    from bench.publish import publish
    from bench.tracking import Tracker

    def broken(*args, **kwargs):
        raise RuntimeError("no ink")

    monkeypatch.setattr(bench.plots, "arm_learning_curves", broken)
    import pytest

    from bench.report import NotWritten
    out = tmp_path / "results"
    with pytest.raises(NotWritten, match="learning curves not drawn: RuntimeError: no ink"):
        publish(Tracker(quick_run.uri), quick_run.parent.info.run_id, str(out))
    # The tables and the other figures are written all the same; the error names what is not.
    for name in ("table.csv", "table.md", "ablation_chart.png", "differences.png"):
        assert (run_dir(out) / name).exists(), name


def test_per_run_learning_curve_has_integer_epochs(tmp_path):
    from bench.plots import learning_curve
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e if e % 2 else math.nan,
                "val_accuracy": 0.5 + e / 20} for e in range(1, 8)]
    assert_png(learning_curve(history, "arm / seed 0", str(tmp_path / "lc.png")), 700, 250)


def test_plots_module_never_needs_a_display(tmp_path):
    code = ("import os; os.environ.pop('DISPLAY', None); os.environ['MPLBACKEND'] = 'TkAgg';"
            "import bench.plots as p, matplotlib; "
            f"p.learning_curve([{{'epoch': 1, 'train_loss': 1.0, 'val_loss': 1.0, "
            f"'val_accuracy': 0.5}}], 't', {str(tmp_path / 'x.png')!r}); "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().lower() == "agg"
