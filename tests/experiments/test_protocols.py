import pytest

from experiments import PROTOCOLS, RunConfig, describe_protocol, get_protocol


def test_default_config_follows_the_full_protocol():
    assert describe_protocol(RunConfig()).startswith("full ")


def test_notebook_protocol_checks_every_ten_epochs_and_stops_at_the_first_bad_check():
    cfg = get_protocol("notebook").apply(RunConfig())
    assert (cfg.eval_every, cfg.patience) == (10, 1)
    assert describe_protocol(cfg).startswith("notebook ")


def test_unnamed_protocol_is_spelled_out():
    text = describe_protocol(RunConfig(eval_every=5, patience=3))
    assert "every 5 epoch" in text and "3 check(s)" in text


def test_unknown_protocol_names_the_valid_ones():
    with pytest.raises(ValueError, match="full.*notebook|notebook.*full"):
        get_protocol("fast")


def test_protocol_names_are_the_registry_keys():
    assert set(PROTOCOLS) == {"full", "notebook"}
