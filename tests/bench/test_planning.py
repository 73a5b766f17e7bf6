"""``bench.planning``: what a command will run, checked before anything is opened."""

from __future__ import annotations

import argparse

import pytest

from bench.planning import (UsageError, check_data_choices, default_seeds, experiment_options,
                            run_plan)
from experiments import get_experiment

# The data set and its scaling name the harness's data: checked when a run is planned (they
# were RunConfig's checks before the definitions layer stopped importing the harness).
BAD = [
    ({"dataset": "no-such-data"}, "dataset", "'no-such-data'"),
    ({"standardize": "zscore"}, "standardize", "'zscore'"),
]


@pytest.mark.parametrize("changes, field, value", BAD, ids=[f"{b[1]}={b[2]}" for b in BAD])
def test_bad_data_choice_is_rejected_naming_the_field_and_value(changes, field, value):
    experiment = get_experiment("ablation").select(["softmax-ce"]).map_configs(**changes)
    with pytest.raises(ValueError) as info:
        check_data_choices(experiment)
    assert field in str(info.value) and value in str(info.value), str(info.value)


def test_default_seeds_are_five_or_two_when_quick():
    assert (default_seeds(), default_seeds(quick=True)) == ([0, 1, 2, 3, 4], [0, 1])


def test_an_option_of_another_experiment_names_the_experiment_it_is_for():
    args = argparse.Namespace(depths=[3], widths=None, weight_scales=None)
    with pytest.raises(UsageError, match="--depths .*batchnorm"):
        experiment_options(args, "ablation")


def test_declared_options_become_factory_keywords():
    args = argparse.Namespace(depths=[3, 4], widths=None, weight_scales=[0.1])
    assert experiment_options(args, "batchnorm") == {"depths": (3, 4), "weight_scales": (0.1,)}


def test_run_plan_of_a_quick_run():
    args = argparse.Namespace(experiment="ablation", dataset=None, arms=["glorot"], quick=True,
                              epochs=None, seeds=None, jobs=3, depths=None, widths=None,
                              weight_scales=None)
    experiment, seeds, jobs = run_plan(args)
    assert (experiment.arm_names, seeds, jobs) == (["glorot"], [0, 1], 3)
    assert experiment.arms[0].config.epochs == 3
