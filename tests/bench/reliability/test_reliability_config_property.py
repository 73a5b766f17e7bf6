"""Property: a RunConfig built from any field values (NaN, negative, huge, wrong types)
either trains for one epoch on a tiny synthetic data set or is rejected with ValueError --
never another exception, never a hang (each example has a deadline).

Two edge cases get their own tests at the end: widths beyond ``MAX_WIDTH`` are rejected
before anything is allocated, and a weight scale of 1e300 (inf weights in float32) trains
without numpy's overflow warning (the run is then recorded as diverged)."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.runner import RunResult, RunSpec, execute
from experiments import RunConfig
from nn_core import ACTIVATIONS, INITIALIZERS, LOSSES, OPTIMIZERS, SCHEDULES
from nn_core.history import StopTraining

from .util import report_fault

JUNK = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.just([]), st.just({}),
                 st.just(object()), st.just(b"\x00"), st.just(complex(1, 1)),
                 st.just((1, "a")), st.just(float("nan")))
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=-10**30, max_value=10**30),
    st.sampled_from([0, 1, -0.0, 1e-300, 1e300, 2**63, -1, 0.5, 0.999999]),
    st.just(Decimal("NaN")), st.just(Decimal("0.1")), st.just(Fraction(1, 3)),
    st.just(np.float32(0.1)), st.just(np.float64("inf")), st.just(np.int64(3)),
    JUNK)
INTEGER = st.one_of(
    st.integers(min_value=-3, max_value=4),
    st.sampled_from([0, -1, 10**6, 10**12, 2**63, 10**100]),
    st.just(np.int64(2)), st.just(True), st.just(2.0), st.just(float("nan")), st.just("3"),
    JUNK)
WIDTH = st.one_of(st.integers(min_value=-2, max_value=24),
                  st.sampled_from([0, -10**12, -2**63]), st.just(1.5),
                  st.just(np.int32(4)), st.just("8"), st.none())
HIDDEN = st.one_of(st.tuples(), st.lists(WIDTH, max_size=3).map(tuple), st.lists(WIDTH, max_size=3),
                   st.lists(st.integers(1, 4), min_size=200, max_size=300).map(tuple),
                   WIDTH, JUNK)


def choice(names):
    return st.one_of(st.sampled_from(sorted(names)), JUNK, st.text(max_size=8))


FIELDS = {
    "dataset": st.one_of(st.just("synthetic"), st.just("nope"), JUNK),
    "standardize": st.one_of(st.sampled_from(["global", "none", "per_feature", "bogus"]), JUNK),
    "hidden": HIDDEN,
    "activation": choice(ACTIVATIONS),
    "output_activation": choice(ACTIVATIONS),
    "batchnorm": st.one_of(st.booleans(), JUNK, st.just(0), st.just("False")),
    "keep_prob": NUMBER,
    "init": choice([*INITIALIZERS, "normal"]),
    "weight_scale": st.one_of(st.none(), NUMBER.filter(
        lambda v: not (isinstance(v, (int, float)) and not isinstance(v, bool)
                       and math.isfinite(v) and abs(v) > 1e30))),
    "loss": choice(LOSSES),
    "optimizer": choice(OPTIMIZERS),
    "lr": NUMBER,
    "momentum": NUMBER,
    "nesterov": st.one_of(st.booleans(), JUNK, st.just(1), st.just("no")),
    "weight_decay": NUMBER,
    "schedule": choice(SCHEDULES),
    "final_lr": st.one_of(st.none(), NUMBER),
    "epochs": INTEGER,
    "batch_size": INTEGER,
    "eval_every": INTEGER,
    "patience": st.one_of(st.none(), INTEGER),
    "dtype": st.one_of(st.sampled_from(["float32", "float64", "float16", "int8"]), JUNK),
}
# Mostly-valid draws (one or two fields off) reach training far more often than fully random.
VALID_BASE = {"dataset": "synthetic"}


def one_epoch(record, trainer):
    raise StopTraining("property test: one epoch")


def _run(values):
    try:
        cfg = RunConfig(**{**VALID_BASE, **values})
    except ValueError:
        return "rejected"
    try:
        result = execute(RunSpec("property", "arm", 0, cfg), out_dir=None,
                         callbacks=[one_epoch])
    except ValueError:
        return "rejected at run time"
    assert isinstance(result, RunResult)
    assert result.epochs_run == 1
    assert result.diverged == (not math.isfinite(result.history[0]["train_loss"]))
    return "trained"


TALLY: Counter = Counter()


@settings(max_examples=150, deadline=timedelta(seconds=20), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.fixed_dictionaries({}, optional=FIELDS))
def _any_config(values):
    TALLY[_run(values)] += 1


@settings(max_examples=100, deadline=timedelta(seconds=20), derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIELDS)), st.data())
def _one_bad_field(field, data):
    TALLY[_run({field: data.draw(FIELDS[field], label=field)})] += 1


def _property(check, fault, done):
    TALLY.clear()
    check()  # Hypothesis runs the examples (and shrinks any failure) here
    counted = {"examples": sum(TALLY.values()), **{k.replace(" ", "_"): v for k, v in TALLY.items()},
               "other_exceptions": 0}
    return report_fault(fault, done, counted, lost=0, test="config-property")


def test_any_config_trains_one_epoch_or_is_rejected_with_value_error():
    line = _property(_any_config, "RunConfig from random field values",
                     "every field drawn at random (NaN, negative, huge, wrong types)")
    assert TALLY["trained"] > 0, line


def test_one_bad_field_on_a_good_config():
    """One field drawn from its strategy on an otherwise default config."""
    line = _property(_one_bad_field, "RunConfig with one random field",
                     "one field drawn at random on the default config")
    assert TALLY["trained"] > 0 and TALLY["rejected"] > 0, line


def test_the_strategies_reach_training():
    """Not vacuous: valid configs do train (the defaults, and a few extremes)."""
    for values in ({}, {"lr": 1e38}, {"hidden": ()}, {"keep_prob": 1e-300},
                   {"init": "normal", "weight_scale": 1e-30}, {"epochs": 10**12},
                   {"batch_size": 10**12}, {"dtype": "float64", "batchnorm": True},
                   {"optimizer": "sgd", "momentum": 0.999999, "nesterov": True}):
        assert _run(values) == "trained", values


@pytest.mark.parametrize("width", [10**7, 10**12, 2**63])
def test_huge_widths_are_rejected_with_value_error_before_allocating(width):
    with pytest.raises(ValueError, match=r"hidden\[0\].*" + str(width)):
        RunConfig(**{**VALID_BASE, "hidden": (width,)})


def test_a_huge_weight_scale_trains_without_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert _run({"init": "normal", "weight_scale": 1e300}) == "trained"
