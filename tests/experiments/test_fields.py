"""The config-field vocabulary shared by files and --set, and the resolved-config file."""

from __future__ import annotations

import pytest

from experiments import EXPERIMENTS, get_experiment
from experiments.fields import FIELDS, from_text, from_toml, parse_assignment
from experiments.files import parse_text
from experiments.resolved import resolved_toml


def test_every_config_field_has_a_kind():
    from dataclasses import fields

    from experiments import RunConfig
    assert FIELDS == tuple(f.name for f in fields(RunConfig))


@pytest.mark.parametrize("text, expected", [
    ("hidden=128,64", ("hidden", (128, 64))), ("keep_prob=0.9", ("keep_prob", 0.9)),
    ("nesterov=true", ("nesterov", True)), ("final_lr=none", ("final_lr", None)),
    ("epochs=7", ("epochs", 7)), ("activation=relu6", ("activation", "relu6")),
])
def test_assignment_text_is_parsed_by_field_kind(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text, named", [
    ("lrr=0.1", "did you mean 'lr'?"), ("epochs=1.5", "epochs expects an integer"),
    ("hidden=a,b", "hidden expects a list of integers"), ("lr=nan", "lr expects a number"),
    ("nesterov=yes", "nesterov expects true or false"), ("lr", "expected FIELD=VALUE"),
])
def test_bad_assignment_names_the_field_and_what_it_takes(text, named):
    with pytest.raises(ValueError, match=named.replace("?", r"\?")):
        parse_assignment(text)


def test_file_values_of_the_wrong_kind_are_refused():
    with pytest.raises(ValueError, match="epochs expects an integer"):
        from_toml("epochs", True)
    assert from_toml("lr", 1) == 1.0 and from_text("weight_scale", "None") is None


@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if n != "batchnorm"] + ["batchnorm"])
def test_resolved_config_reads_back_as_the_same_config(name):
    for arm in get_experiment(name).arms:
        text = resolved_toml(name, arm.name, 3, arm.config, f"{name}/{arm.name}/seed-3")
        definition = parse_text(text, "config.toml")
        assert definition.experiment.name == name and definition.seeds == (3,)
        assert definition.experiment.arms[0].config == arm.config
        assert definition.replay_of == f"{name}/{arm.name}/seed-3"
