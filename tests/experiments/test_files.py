"""Experiment files: the schema, the deltas, the search spaces and the one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import EXPERIMENTS, RunConfig, builtin_text, get_experiment, load_file
from experiments.files import ExperimentFileError, parse_text
from experiments.search_space import Choice, Float

# The example, verbatim (shared with tests/bench/test_experiment_files.py).
EXAMPLE = (Path(__file__).parents[1] / "data" / "lr-study.toml").read_text()


def parse(text: str):
    return parse_text(text, "x.toml")


def test_example_gives_two_arms_deltas_of_base_with_the_first_as_baseline():
    definition = parse(EXAMPLE)
    exp = definition.experiment
    assert exp.name == "lr-study" and exp.arm_names == ["slow", "fast"]
    assert exp.baseline == "slow"
    assert definition.seeds == (0, 1, 2)
    base = RunConfig(dataset="digits", epochs=5, lr=0.05)
    assert exp.arm("slow").config == base
    assert exp.arm("fast").config == base.replace(lr=0.2)
    assert exp.arm("fast").compare_to == "slow" and exp.arm("slow").compare_to is None


def test_from_starts_an_arm_from_another_arm_and_compares_with_it():
    exp = parse(EXAMPLE + '\n[[arm]]\nname = "fast-momentum"\nfrom = "fast"\nmomentum = 0.9\n').experiment
    arm = exp.arm("fast-momentum")
    assert arm.config == exp.arm("fast").config.replace(momentum=0.9)
    assert arm.compare_to == "fast"


def test_baseline_names_another_arm():
    assert parse('baseline = "fast"\n' + EXAMPLE).experiment.baseline == "fast"


def test_seeds_as_a_list_are_taken_as_given():
    assert parse(EXAMPLE.replace("seeds = 3", "seeds = [0, 3, 7]")).seeds == (0, 3, 7)


def test_none_unsets_an_optional_field():
    text = EXAMPLE.replace("lr = 0.05", 'lr = 0.05\nschedule = "linear"\nfinal_lr = 0.01')
    text += '\n[[arm]]\nname = "constant"\nfrom = "fast"\nschedule = "constant"\nfinal_lr = "none"\n'
    assert parse(text).experiment.arm("constant").config.final_lr is None


def test_tuple_field_takes_a_list():
    exp = parse(EXAMPLE.replace("lr = 0.2", "lr = 0.2\nhidden = [128, 64]")).experiment
    assert exp.arm("fast").config.hidden == (128, 64)


def test_search_spaces_per_arm_and_shared():
    text = EXAMPLE.replace("[base]", '[search]\nlr = { float = [1e-3, 1.0], log = true }\n\n[base]')
    text = text.replace("lr = 0.2", 'lr = 0.2\nsearch.activation = { choice = ["tanh", "relu"] }')
    spaces = parse(text).experiment.search_spaces
    assert spaces["slow"] == {"lr": Float(1e-3, 1.0, True)}
    assert spaces["fast"] == {"lr": Float(1e-3, 1.0, True), "activation": Choice(("tanh", "relu"))}


# -- errors: one line naming the file, the arm, the field or line, and what is allowed ----------

ERRORS = {
    "unknown field, nearest name": (EXAMPLE.replace("lr = 0.2", "lrr = 0.2"),
                                    ["x.toml", "arm 'fast'", "'lrr'", "did you mean 'lr'?", "valid:"]),
    "unknown top-level field": ("nmae = 'x'\n" + EXAMPLE, ["x.toml", "'nmae'", "did you mean 'name'?"]),
    "unknown field in base": (EXAMPLE.replace("epochs = 5", "epoch = 5"),
                              ["x.toml", "[base]", "'epoch'", "did you mean 'epochs'?"]),
    "bad value type": (EXAMPLE.replace("lr = 0.2", 'lr = "fast"'),
                       ["x.toml", "arm 'fast'", "lr expects a number", "'fast'"]),
    "bad value range": (EXAMPLE.replace("lr = 0.2", "lr = -0.2"),
                        ["x.toml", "arm 'fast'", "lr must be a finite number in (0, inf)", "-0.2"]),
    "bad choice": (EXAMPLE.replace("lr = 0.2", 'activation = "relu7"'),
                   ["x.toml", "arm 'fast'", "'relu7'", "relu6"]),
    "unknown compare_to": (EXAMPLE.replace('compare_to = "slow"', 'compare_to = "slo"'),
                           ["x.toml", "arm 'fast'", "compare_to 'slo'", "valid: slow, fast"]),
    "unknown from": (EXAMPLE.replace('compare_to = "slow"', 'from = "medium"'),
                     ["x.toml", "arm 'fast'", "from 'medium'", "earlier arm", "valid: slow"]),
    "duplicate arm": (EXAMPLE.replace('name = "fast"', 'name = "slow"'),
                      ["x.toml", "arm 'slow'", "duplicate arm name 'slow'"]),
    "unknown baseline": ('baseline = "medium"\n' + EXAMPLE, ["x.toml", "baseline 'medium'", "slow, fast"]),
    "TOML syntax error": (EXAMPLE.replace("lr = 0.2", "lr = = 0.2"),
                          ["x.toml", "TOML syntax error", "line 18"]),
    "no arms": (EXAMPLE.split("[[arm]]")[0], ["x.toml", "at least one [[arm]]"]),
    "bad seeds": (EXAMPLE.replace("seeds = 3", "seeds = 0"), ["x.toml", "seeds", "got 0"]),
    "bad search space": (EXAMPLE.replace("lr = 0.2", "lr = 0.2\nsearch.lr = { float = [1.0, 0.1] }"),
                         ["x.toml", "arm 'fast'", "search.lr.float", "low < high"]),
    "search value invalid for the arm": (
        EXAMPLE.replace("lr = 0.2", "lr = 0.2\nsearch.momentum = { float = [0.5, 1.5] }"),
        ["x.toml", "arm 'fast'", "search.momentum = 1.5", "momentum"]),
    "name not a plain name": (EXAMPLE.replace('name = "lr-study"', 'name = "../up"'),
                              ["x.toml", "'../up'", "letters, digits"]),
}


@pytest.mark.parametrize("text, named", ERRORS.values(), ids=ERRORS.keys())
def test_error_is_one_line_naming_file_place_and_what_is_allowed(text, named):
    with pytest.raises(ExperimentFileError) as info:
        parse(text)
    message = str(info.value)
    assert "\n" not in message
    for part in named:
        assert part in message, (part, message)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ExperimentFileError, match="nope.toml: cannot read"):
        load_file(str(tmp_path / "nope.toml"))


# -- built-ins go through the same loader -------------------------------------------------------

@pytest.mark.parametrize("name", ["ablation", "optimizers", "activations"])
def test_builtin_files_load_through_the_file_loader(name, tmp_path):
    path = tmp_path / f"{name}.toml"
    path.write_text(builtin_text(name))
    assert load_file(str(path)).experiment.arm_configs() == get_experiment(name).arm_configs()
    assert name in EXPERIMENTS


def test_ablation_ladder_keeps_its_rungs():
    exp = get_experiment("ablation")
    deep = exp.arm("deep-dropout").config
    assert deep.hidden == (178, 46) and deep.epochs == 100 and deep.keep_prob == 0.8
    assert deep.schedule == "exponential" and (deep.lr, deep.final_lr) == (0.2, 0.05)
    assert exp.arm("deep-no-decay").config.final_lr is None


def test_optimizers_differ_only_in_optimizer_settings():
    exp = get_experiment("optimizers")
    others = {"optimizer", "lr", "momentum", "nesterov"}
    configs = [a.config.as_params() for a in exp.arms]
    for config in configs[1:]:
        assert {k for k in config if config[k] != configs[0][k]} <= others
    assert [a.config.optimizer for a in exp.arms] == ["sgd", "sgd", "sgd", "rmsprop", "adam"]
    assert set(exp.search_spaces) == set(exp.arm_names)  # each declares its search space


def test_activations_swap_only_activation_and_init_on_the_final_model_at_a_tenth_of_its_rate():
    exp = get_experiment("activations")
    ladder = get_experiment("ablation").arm("deep-dropout").config
    # The ladder's rate was picked for tanh; the ReLU family does not train at it.
    final = ladder.replace(lr=ladder.lr / 10, final_lr=ladder.final_lr / 10)
    inits = {"sigmoid": "glorot_normal", "tanh": "glorot_normal", "relu": "he_normal",
             "leaky_relu": "he_normal", "relu6": "he_normal"}
    assert sorted(a.config.activation for a in exp.arms) == sorted(inits)
    for arm in exp.arms:
        assert arm.config == final.replace(activation=arm.config.activation,
                                           init=inits[arm.config.activation])
        assert ("Glorot" if arm.config.init == "glorot_normal" else "He") in arm.description
    assert exp.arm("tanh").config == final and exp.baseline == "tanh"
