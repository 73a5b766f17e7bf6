"""The ablation: notebook 000's ladder in order, each rung one change from the rung it is
compared with, and leave-one-out arms that each take one component out of the final model."""

from __future__ import annotations

from dataclasses import fields

import pytest

from experiments import RunConfig, get_experiment

LADDER = ["mse-sigmoid", "softmax-ce", "momentum", "linear-decay", "exp-decay", "glorot",
          "dropout", "deep-dropout"]
LEAVE_ONE_OUT = ["deep-no-softmax", "deep-no-momentum", "deep-no-decay", "deep-no-glorot",
                 "deep-no-dropout"]


@pytest.fixture(scope="module")
def ablation():
    return get_experiment("ablation")


def cfg(ablation, name) -> RunConfig:
    return ablation.arm(name).config


def changed(a: RunConfig, b: RunConfig) -> set[str]:
    return {f.name for f in fields(RunConfig) if getattr(a, f.name) != getattr(b, f.name)}


def test_arms_are_the_ladder_in_order_then_the_leave_one_out_arms(ablation):
    assert ablation.arm_names == LADDER + LEAVE_ONE_OUT


def test_baseline_is_the_first_rung(ablation):
    assert ablation.baseline == "mse-sigmoid"
    assert ablation.arm("mse-sigmoid").compare_to is None


RUNG_CHANGES = {  # arm: (compared with, the fields it changes)
    "softmax-ce": ("mse-sigmoid", {"loss", "output_activation"}),
    "momentum": ("softmax-ce", {"momentum"}),
    "linear-decay": ("momentum", {"lr", "final_lr", "schedule"}),
    "exp-decay": ("momentum", {"lr", "final_lr", "schedule"}),  # instead of linear decay
    "glorot": ("exp-decay", {"init"}),
    "dropout": ("glorot", {"keep_prob"}),
    "deep-dropout": ("dropout", {"hidden", "epochs"}),
}


@pytest.mark.parametrize("arm", RUNG_CHANGES)
def test_each_rung_changes_exactly_its_fields_from_the_rung_it_compares_with(ablation, arm):
    previous, fields_changed = RUNG_CHANGES[arm]
    assert ablation.arm(arm).compare_to == previous
    assert changed(cfg(ablation, arm), cfg(ablation, previous)) == fields_changed


LOO_CHANGES = {
    "deep-no-softmax": {"loss", "output_activation"},
    "deep-no-momentum": {"momentum"},
    "deep-no-decay": {"lr", "final_lr", "schedule"},
    "deep-no-glorot": {"init"},
    "deep-no-dropout": {"keep_prob"},
}


@pytest.mark.parametrize("arm", LOO_CHANGES)
def test_leave_one_out_arm_differs_from_the_final_model_in_exactly_one_component(ablation, arm):
    assert ablation.arm(arm).compare_to == "deep-dropout"
    assert changed(cfg(ablation, arm), cfg(ablation, "deep-dropout")) == LOO_CHANGES[arm]


@pytest.mark.parametrize("arm", LOO_CHANGES)
def test_leave_one_out_arm_takes_the_component_back_to_the_ladders_value(ablation, arm):
    # The removed component has the value it had before the rung that introduced it.
    before = {"deep-no-softmax": "mse-sigmoid", "deep-no-momentum": "softmax-ce",
              "deep-no-decay": "momentum", "deep-no-glorot": "exp-decay",
              "deep-no-dropout": "glorot"}[arm]
    for name in LOO_CHANGES[arm]:
        assert getattr(cfg(ablation, arm), name) == getattr(cfg(ablation, before), name), name


def test_base_network_and_budget_are_the_notebooks_under_the_full_protocol(ablation):
    base = cfg(ablation, "mse-sigmoid")
    assert (base.hidden, base.activation, base.batch_size, base.epochs) == ((89,), "tanh", 64, 50)
    assert (base.eval_every, base.patience, base.optimizer) == (1, None, "sgd")
    assert (base.loss, base.output_activation, base.lr, base.momentum) == ("mse", "sigmoid", 0.1, 0.0)
    assert base.init == "unit_normal"


def test_notebook_hyperparameters(ablation):
    assert cfg(ablation, "softmax-ce").loss == "softmax_ce"
    assert cfg(ablation, "softmax-ce").output_activation == "identity"
    assert cfg(ablation, "softmax-ce").lr == 0.1
    assert cfg(ablation, "momentum").momentum == 0.9
    linear = cfg(ablation, "linear-decay")
    assert (linear.schedule, linear.lr, linear.final_lr) == ("linear", 0.15, 0.05)
    exponential = cfg(ablation, "exp-decay")
    assert (exponential.schedule, exponential.lr, exponential.final_lr) == ("exponential", 0.2, 0.05)
    assert cfg(ablation, "glorot").init == "glorot_normal"
    assert cfg(ablation, "dropout").keep_prob == 0.8
    deep = cfg(ablation, "deep-dropout")
    assert (deep.hidden, deep.epochs, deep.keep_prob) == ((178, 46), 100, 0.8)
    no_decay = cfg(ablation, "deep-no-decay")
    assert (no_decay.schedule, no_decay.lr, no_decay.final_lr) == ("constant", 0.1, None)


def test_every_arm_runs_on_the_offline_default_dataset(ablation):
    assert {a.config.dataset for a in ablation.arms} == {"mnist-5k"}


def test_reference_figures_are_fractions_for_the_ladder_only(ablation):
    for arm in ablation.arms:
        if arm.name in LADDER:
            assert 0 < arm.reference["test_accuracy"] < 1, arm.name
        else:
            assert arm.reference == {}, arm.name
