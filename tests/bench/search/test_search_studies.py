"""Repeated studies and the learning-rate-only space: ``run_search`` on a real journal file
and a real MLflow SQLite store, with worker processes."""

from __future__ import annotations

import math

import pytest
from searchtest_util import DATASET, counted, load_study

from bench.search import run_search, study_name_for
from experiments import get_experiment
from experiments.search_space import LR_RANGE, apply_values, lr_space

ARM = "linear-decay"  # momentum and a decaying schedule: a full space of 4 dimensions


def _experiment():
    return get_experiment("ablation").select([ARM]).map_configs(
        dataset=DATASET, epochs=2, eval_every=1)


@pytest.mark.slow
def test_every_study_counts_exactly_its_budget_with_several_workers(mlflow_store, tmp_path):
    storage = str(tmp_path / "optuna.journal")
    _, outcomes = run_search(_experiment(), mlflow_store.tracker(), trials=3, storage_url=storage,
                             jobs=2, studies=2, space="lr", pruner="none", quiet=True)
    names = [study_name_for("", "ablation", DATASET, ARM, k, "lr") for k in range(2)]
    assert names == [f"ablation.{DATASET}.{ARM}.lr", f"ablation.{DATASET}.{ARM}.lr.study-2"]
    studies = [load_study(n, storage) for n in names]
    assert [len(counted(s)) for s in studies] == [3, 3]
    assert [o[ARM].counted for o in outcomes] == [3, 3]
    # each study drew its own values (its sampler seed comes from its name)
    lrs = [sorted(t.params["lr"] for t in counted(s)) for s in studies]
    assert lrs[0] != lrs[1]
    for study in studies:
        for trial in counted(study):
            assert set(trial.params) == {"lr"}
            assert math.isfinite(trial.user_attrs["val_accuracy"])


def test_lr_space_tunes_only_the_learning_rate_log_uniform_over_the_stated_range():
    config = _experiment().arms[0].config
    (name, dist), = lr_space(config).items()
    assert (name, dist.low, dist.high, dist.log) == ("lr", *LR_RANGE, True)


def test_lr_only_values_keep_the_arms_decay_ratio():
    config = _experiment().arms[0].config  # linear decay 0.15 -> 0.05
    tuned = apply_values(config, {"lr": 0.3})
    assert tuned.lr == 0.3 and tuned.final_lr == pytest.approx(0.1)
