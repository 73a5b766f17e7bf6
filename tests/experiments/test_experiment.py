"""Experiment: consistency checks, arm lookup, select (order and comparisons), map_configs,
and the registry."""

from __future__ import annotations

import pytest

from experiments import EXPERIMENTS, Arm, Experiment, RunConfig, get_experiment

BASE = RunConfig()


def toy(**kw) -> Experiment:
    arms = (Arm("a", BASE, "base"),
            Arm("b", BASE.replace(momentum=0.9), "a + momentum", "a"),
            Arm("c", BASE.replace(momentum=0.9, lr=0.2), "b + lr", "b"),
            Arm("d", BASE.replace(lr=0.3), "a + lr", "a"))
    return Experiment(name="toy", description="toy", arms=kw.pop("arms", arms),
                      baseline=kw.pop("baseline", "a"), **kw)


# -- consistency -----------------------------------------------------------------------------------

def test_duplicate_arm_names_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        toy(arms=(Arm("a", BASE, "x"), Arm("a", BASE, "y")))


def test_compare_to_an_unknown_arm_is_rejected_naming_it():
    with pytest.raises(ValueError, match="'ghost'"):
        toy(arms=(Arm("a", BASE, "x"), Arm("b", BASE, "y", "ghost")))


def test_unknown_baseline_is_rejected_naming_it():
    with pytest.raises(ValueError, match="'zzz'"):
        toy(baseline="zzz")


def test_arm_looks_up_by_name():
    assert toy().arm("c").description == "b + lr"


def test_unknown_arm_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid arms: a, b, c, d"):
        toy().arm("e")


# -- select ----------------------------------------------------------------------------------------

def test_select_keeps_the_experiments_order_not_the_given_one():
    assert toy().select(["d", "b", "a"]).arm_names == ["a", "b", "d"]


def test_select_keeps_comparisons_whose_target_is_selected():
    sub = toy().select(["a", "b", "d"])
    assert {a.name: a.compare_to for a in sub.arms} == {"a": None, "b": "a", "d": "a"}


def test_select_drops_comparisons_whose_target_is_not_selected():
    sub = toy().select(["a", "c"])  # c compares to b, which is left out
    assert sub.arm("c").compare_to is None
    assert sub.arm("c").config == toy().arm("c").config


def test_select_keeps_the_baseline_when_selected_else_uses_the_first_arm():
    assert toy().select(["b", "a"]).baseline == "a"
    assert toy().select(["d", "c"]).baseline == "c"


@pytest.mark.parametrize("names", [None, []])
def test_select_nothing_means_everything(names):
    assert toy().select(names).arm_names == ["a", "b", "c", "d"]


def test_select_rejects_an_unknown_arm():
    with pytest.raises(ValueError, match="'nope'"):
        toy().select(["a", "nope"])


def test_select_keeps_search_spaces_of_selected_arms_only():
    sub = toy(search_spaces={"a": {"lr": 1}, "c": {"lr": 2}}).select(["a", "b"])
    assert sub.search_spaces == {"a": {"lr": 1}}


def test_selected_ablation_subset_rewires_comparisons_consistently():
    sub = get_experiment("ablation").select(["glorot", "momentum", "softmax-ce"])
    assert sub.arm_names == ["softmax-ce", "momentum", "glorot"]
    names = set(sub.arm_names)
    assert all(a.compare_to is None or a.compare_to in names for a in sub.arms)
    assert sub.arm("momentum").compare_to == "softmax-ce"


# -- map_configs -----------------------------------------------------------------------------------

def test_map_configs_changes_every_arm_and_keeps_the_rest():
    exp = toy()
    mapped = exp.map_configs(dataset="digits", epochs=3)
    for old, new in zip(exp.arms, mapped.arms):
        assert (new.config.dataset, new.config.epochs) == ("digits", 3)
        assert new.config == old.config.replace(dataset="digits", epochs=3)
        assert (new.name, new.compare_to, new.description) == (old.name, old.compare_to, old.description)
    assert mapped.baseline == exp.baseline


def test_map_configs_validates_the_changes():
    with pytest.raises(ValueError, match="epochs"):
        toy().map_configs(epochs=0)


# -- registry --------------------------------------------------------------------------------------

def test_registry_holds_the_ablation_and_batchnorm_experiments():
    assert {"ablation", "batchnorm"} <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        assert get_experiment(name).name == name


def test_unknown_experiment_is_rejected_naming_it():
    with pytest.raises(ValueError, match="'nope'"):
        get_experiment("nope")
