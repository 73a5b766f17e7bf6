"""``python -m bench run ablation --quick`` into a temporary MLflow store, read back with
``MlflowClient``: runs, params, metric histories, tags, artifacts and the published table."""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import fields
from itertools import product

import numpy as np
import pandas as pd
import pytest
from harness_util import (QUICK_ARMS, QUICK_DATASET, QUICK_EPOCHS, QUICK_SEEDS, REPO,
                          arm_runs_of, children_of)

from experiments import RunConfig, get_experiment

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMING = {"run_seconds", "seconds", "target_seconds"}  # wall-clock values: the only ones allowed to differ


def expected_config(arm: str) -> RunConfig:
    """The arm's definition with what ``--quick --dataset digits`` changes."""
    return get_experiment("ablation").arm(arm).config.replace(
        dataset=QUICK_DATASET, epochs=QUICK_EPOCHS, eval_every=1)


def param_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return str(value)


def history(client, run, key):
    points = client.get_metric_history(run.info.run_id, key)
    return sorted((m.step, m.value) for m in points)


def epochs_run(run) -> int:
    return int(run.data.metrics["epochs_run"])


# -- runs ----------------------------------------------------------------------------------------

def test_one_seed_run_per_arm_and_seed_under_its_arm_run_under_the_parent(quick_run):
    parent_id = quick_run.parent.info.run_id
    keys = sorted((r.data.tags["bench.arm"], int(r.data.tags["bench.seed"]))
                  for r in quick_run.children)
    assert keys == sorted(product(QUICK_ARMS, QUICK_SEEDS))
    client = quick_run.client
    arms = {r.data.tags["bench.arm"]: r for r in
            arm_runs_of(client, quick_run.parent.info.experiment_id, parent_id)}
    assert sorted(arms) == sorted(QUICK_ARMS)
    assert all(a.data.tags["mlflow.parentRunId"] == parent_id for a in arms.values())
    for run in quick_run.children:
        assert run.data.tags["mlflow.parentRunId"] == arms[run.data.tags["bench.arm"]].info.run_id


def test_arm_runs_carry_the_seed_aggregates_and_verdicts(quick_run):
    client = quick_run.client
    table = pd.read_csv(quick_run.table_dir / "table.csv")
    table = table.set_index("arm")
    for run in arm_runs_of(client, quick_run.parent.info.experiment_id, quick_run.parent.info.run_id):
        arm, metrics = run.data.tags["bench.arm"], run.data.metrics
        assert run.info.status == "FINISHED"
        assert metrics["test_accuracy_mean"] == pytest.approx(table.loc[arm, "acc_mean"], rel=1e-3)
        assert metrics["seeds"] == len(QUICK_SEEDS)
        if isinstance(table.loc[arm, "d_prev_vs"], str):
            assert run.data.tags["bench.verdict_vs_previous"] == table.loc[arm, "d_prev_verdict"]
            assert metrics["p_holm_vs_previous"] == pytest.approx(table.loc[arm, "d_prev_padj"], rel=1e-3)


def test_the_experiment_is_a_model_training_one(quick_run):
    exp = quick_run.client.get_experiment(quick_run.parent.info.experiment_id)
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"


def test_parent_run_is_tagged_as_the_parent_of_the_experiment(quick_run):
    tags = quick_run.parent.data.tags
    assert (tags["bench.kind"], tags["bench.experiment"], tags["bench.dataset"]) == (
        "parent", "ablation", QUICK_DATASET)
    assert "mlflow.parentRunId" not in tags


def test_child_run_names_are_arm_slash_seed(quick_run):
    for run in quick_run.children:
        assert run.info.run_name == f"{run.data.tags['bench.arm']}/seed-{run.data.tags['bench.seed']}"


def test_every_run_ends_finished(quick_run):
    statuses = {r.info.run_name: r.info.status for r in [quick_run.parent, *quick_run.children]}
    assert set(statuses.values()) == {"FINISHED"}, statuses


# -- params --------------------------------------------------------------------------------------

def test_child_params_are_every_config_field_plus_seed(quick_run):
    for arm, seed in product(QUICK_ARMS, QUICK_SEEDS):
        cfg = expected_config(arm)
        expected = {f.name: param_text(getattr(cfg, f.name)) for f in fields(RunConfig)}
        expected.update(seed=str(seed), data_seed="0")
        assert quick_run.child(arm, seed).data.params == expected, (arm, seed)


# -- metrics -------------------------------------------------------------------------------------

def test_train_loss_is_logged_once_per_epoch_run_with_steps_from_1(quick_run):
    for run in quick_run.children:
        steps = [s for s, _ in history(quick_run.client, run, "train_loss")]
        assert 1 <= epochs_run(run) <= QUICK_EPOCHS
        assert steps == list(range(1, epochs_run(run) + 1)), run.info.run_name


def test_validation_metrics_are_logged_at_every_evaluated_epoch(quick_run):
    # --quick evaluates every epoch, so every epoch that ran has a validation point.
    for run in quick_run.children:
        expected_steps = list(range(1, epochs_run(run) + 1))
        loss = history(quick_run.client, run, "val_loss")
        acc = history(quick_run.client, run, "val_accuracy")
        assert [s for s, _ in loss] == expected_steps
        assert [s for s, _ in acc] == expected_steps
        assert all(math.isfinite(v) and v > 0 for _, v in loss)
        assert all(0.0 <= v <= 1.0 for _, v in acc)


def history_csv(client, run, tmp_path):
    """The run's ``history.csv`` artifact: every per-epoch field, one row per epoch."""
    import pandas as pd
    return pd.read_csv(client.download_artifacts(run.info.run_id, "history.csv",
                                                 str(tmp_path / run.info.run_id)))


def test_lr_history_follows_each_arms_schedule(quick_run, tmp_path):
    for run in quick_run.children:
        cfg = expected_config(run.data.tags["bench.arm"])
        table = history_csv(quick_run.client, run, tmp_path)
        points = list(zip(table["epoch"], table["lr"]))
        assert [s for s, _ in points] == list(range(1, epochs_run(run) + 1))
        for step, value in points:
            if cfg.schedule == "constant":
                want = cfg.lr
            else:  # exponential: lr0 * (final/lr0)^((e-1)/(epochs-1)), e = 1-based epoch
                assert cfg.schedule == "exponential"
                want = cfg.lr * (cfg.final_lr / cfg.lr) ** ((step - 1) / (cfg.epochs - 1))
            assert value == pytest.approx(want, rel=1e-9), (run.info.run_name, step)


def test_epoch_seconds_are_recorded_per_epoch_and_nonnegative(quick_run, tmp_path):
    for run in quick_run.children:
        table = history_csv(quick_run.client, run, tmp_path)
        assert table["epoch"].tolist() == list(range(1, epochs_run(run) + 1))
        assert (table["seconds"] >= 0).all()


def test_history_csv_matches_the_logged_metric_histories(quick_run, tmp_path):
    for run in quick_run.children:
        table = history_csv(quick_run.client, run, tmp_path)
        for key in ("train_loss", "val_loss", "val_accuracy"):
            logged = history(quick_run.client, run, key)
            recorded = [(e, v) for e, v in zip(table["epoch"], table[key]) if not math.isnan(v)]
            assert logged == recorded, (run.info.run_name, key)


def test_final_metrics_are_logged(quick_run):
    for run in quick_run.children:
        m = run.data.metrics
        assert {"test_loss", "test_accuracy", "epochs_run", "diverged"} <= set(m)
        assert math.isfinite(m["test_loss"]) and m["test_loss"] > 0
        assert 0.0 < m["test_accuracy"] <= 1.0
        assert m["diverged"] == 0.0
        assert m["epochs_run"] == len(history(quick_run.client, run, "train_loss"))


# -- tags ----------------------------------------------------------------------------------------

def test_child_tags_name_experiment_arm_and_seed(quick_run):
    for arm, seed in product(QUICK_ARMS, QUICK_SEEDS):
        tags = quick_run.child(arm, seed).data.tags
        assert (tags["bench.experiment"], tags["bench.arm"], tags["bench.seed"]) == (
            "ablation", arm, str(seed))


def test_dataset_fingerprint_tag_is_the_datasets_fingerprint_as_json(quick_run, digits):
    want = json.loads(json.dumps(digits.fingerprint))
    for run in quick_run.children:
        assert json.loads(run.data.tags["bench.dataset_fingerprint"]) == want


def _git(*args) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_git_tags_record_the_checkout(quick_run):
    commit = _git("rev-parse", "HEAD")
    dirty = "true" if _git("status", "--porcelain", "--untracked-files=no") else "false"
    for run in [quick_run.parent, *quick_run.children]:
        assert run.data.tags["bench.git_commit"] == commit
        assert run.data.tags["bench.git_dirty"] == dirty


def test_version_and_blas_tags_describe_this_environment(quick_run):
    from threadpoolctl import threadpool_info
    apis = {lib["internal_api"] for lib in threadpool_info() if lib.get("user_api") == "blas"}
    for run in quick_run.children:
        tags = run.data.tags
        assert tags["bench.version.numpy"] == np.__version__
        assert apis and all(api in tags["bench.blas"] for api in apis), tags["bench.blas"]


# -- artifacts -----------------------------------------------------------------------------------

def test_each_child_has_its_weights_history_and_config_and_no_per_run_plot_by_default(quick_run):
    for run in quick_run.children:
        names = {a.path for a in quick_run.client.list_artifacts(run.info.run_id)}
        assert names == {"weights.npz", "history.csv", "config.toml"}, run.info.run_name


def test_run_plots_adds_a_png_learning_curve_to_every_child(store, tmp_path):
    from bench.session import run_experiment
    from bench.tracking import Tracker
    from experiments import get_experiment
    exp = get_experiment("ablation").select(["softmax-ce"]).map_configs(dataset="digits",
                                                                        epochs=2)
    name = f"run-plots-{tmp_path.name}"
    run_experiment(exp, Tracker(store.uri), seeds=[0, 1], jobs=2, experiment_name=name,
                   quiet=True, run_plots=True)
    experiment_id = store.client.get_experiment_by_name(name).experiment_id
    children = store.client.search_runs([experiment_id], "tags.`bench.kind` = 'run'")
    assert len(children) == 2
    for run in children:
        names = {a.path for a in store.client.list_artifacts(run.info.run_id)}
        assert names == {"weights.npz", "history.csv", "config.toml", "learning_curve.png"}, \
            run.info.run_name
        png = store.client.download_artifacts(run.info.run_id, "learning_curve.png",
                                              str(tmp_path / run.info.run_id))
        with open(png, "rb") as fh:
            assert fh.read(8) == PNG_MAGIC


def test_logged_weights_reproduce_the_logged_test_accuracy(quick_run, digits, tmp_path):
    from nn_core.network import Sequential
    for i, run in enumerate(quick_run.children):
        cfg = expected_config(run.data.tags["bench.arm"])
        path = quick_run.client.download_artifacts(run.info.run_id, "weights.npz",
                                                   str(tmp_path / str(i)))
        # A fresh network (a different seed: its own weights must all be overwritten).
        net = Sequential(cfg.layer_specs(digits.n_classes), digits.n_features, seed=12345,
                         dtype=cfg.dtype)
        net.load(path)
        predicted = net.predict(digits.x_test).argmax(axis=1)
        accuracy = float(np.mean(predicted == digits.y_test))
        assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=1e-9), \
            run.info.run_name


# -- the table -----------------------------------------------------------------------------------

def test_table_csv_mean_accuracy_matches_the_runs_in_mlflow(quick_run):
    table = pd.read_csv(quick_run.table_dir / "table.csv").set_index("arm")
    assert list(table.index) == list(QUICK_ARMS)
    for arm in QUICK_ARMS:
        accs = [quick_run.child(arm, s).data.metrics["test_accuracy"] for s in QUICK_SEEDS]
        assert table.loc[arm, "acc_mean"] == pytest.approx(sum(accs) / len(accs), rel=1e-5)
        assert table.loc[arm, "runs"] == len(QUICK_SEEDS)


def test_tables_and_charts_are_written(quick_run):
    names = sorted(p.name for p in quick_run.table_dir.iterdir())
    assert names == ["ablation_chart.png", "differences.png", "learning_curves.png",
                     "report.html", "runs.csv", "table.csv", "table.md"]


# -- reproducibility -----------------------------------------------------------------------------

def _metrics_by_key(client, experiment_id, parent_id):
    out = {}
    for run in children_of(client, experiment_id, parent_id):
        key = (run.data.tags["bench.arm"], run.data.tags["bench.seed"])
        finals = {k: v for k, v in run.data.metrics.items() if k not in TIMING}
        series = {k: history(client, run, k) for k in ("train_loss", "val_loss", "val_accuracy", "lr")}
        out[key] = (finals, series)
    return out


def test_second_invocation_with_two_jobs_logs_identical_metrics(quick_run):
    # The same experiment the quick run's command line built, run again in this process
    # with two worker processes instead of one.
    from bench.session import run_experiment
    from bench.tracking import Tracker
    experiment = get_experiment("ablation").select(list(QUICK_ARMS)).map_configs(
        dataset=QUICK_DATASET, epochs=QUICK_EPOCHS, eval_every=1)
    parent_id = run_experiment(experiment, Tracker(quick_run.uri), seeds=list(QUICK_SEEDS),
                               jobs=2, experiment_name="ablation-again-jobs2", quiet=True)
    client = quick_run.client
    parent = client.get_run(parent_id)
    assert parent.data.params["jobs"] == "2"
    again = _metrics_by_key(client, parent.info.experiment_id, parent_id)
    first = _metrics_by_key(client, quick_run.experiment_id, quick_run.parent.info.run_id)
    assert sorted(again) == sorted(first)
    for key in first:
        assert again[key] == first[key], key  # exact: same seeds, same numbers
