import math
import pickle

import pytest

from nn_core import Constant, Cosine, Exponential, Linear, Step, make_schedule

# (initial, final, epochs): the notebook's 0.15 -> 0.05 over 50 epochs, plus pairs for which
# a naive ``initial + (final - initial) * 1.0`` or ``initial * (final / initial) ** 1.0``
# lands one ulp away from ``final`` (or ``final + (initial - final)`` one ulp from ``initial``).
RUNS = [(0.15, 0.05, 50), (0.1, 0.001, 7), (1.0, 0.3, 10), (0.07, 0.0123, 20),
        (0.8116277439344163, 0.8761665387363365, 5), (0.03071060536972682, 0.649809539120722, 11)]
DECAYS = {"linear": Linear, "exponential": Exponential, "cosine": Cosine}


def test_constant_returns_its_lr_at_every_epoch():
    sched = Constant(0.3)
    assert [sched(e) for e in (0, 1, 17, 1000)] == [0.3, 0.3, 0.3, 0.3]


@pytest.mark.parametrize("kind", DECAYS)
@pytest.mark.parametrize("initial, final, epochs", RUNS)
def test_decay_starts_exactly_at_initial(kind, initial, final, epochs):
    assert DECAYS[kind](initial, final, epochs)(0) == initial


@pytest.mark.parametrize("kind", DECAYS)
@pytest.mark.parametrize("initial, final, epochs", RUNS)
def test_decay_ends_exactly_at_final_on_the_last_epoch(kind, initial, final, epochs):
    assert DECAYS[kind](initial, final, epochs)(epochs - 1) == final


@pytest.mark.parametrize("kind", DECAYS)
def test_decay_stays_at_final_after_the_planned_epochs(kind):
    sched = DECAYS[kind](0.15, 0.05, 50)
    assert sched(50) == sched(80) == 0.05


def test_linear_decreases_by_equal_steps():
    sched = Linear(0.15, 0.05, 50)
    for e in range(50):
        assert sched(e) == pytest.approx(0.15 - 0.1 * e / 49, rel=1e-12)


def test_exponential_decreases_by_a_constant_ratio():
    sched = Exponential(0.15, 0.05, 50)
    ratio = (0.05 / 0.15) ** (1 / 49)
    for e in range(50):
        assert sched(e) == pytest.approx(0.15 * ratio ** e, rel=1e-12)


def test_cosine_passes_the_midpoint_halfway():
    sched = Cosine(0.2, 0.0, 11)
    assert sched(5) == pytest.approx(0.1, rel=1e-14)
    assert sched(2) == pytest.approx(0.1 * (1 + math.cos(math.pi * 2 / 10)), rel=1e-14)


def test_single_epoch_decay_uses_the_initial_rate():
    assert Linear(0.2, 0.1, 1)(0) == 0.2


def test_step_multiplies_by_drop_every_n_epochs():
    sched = Step(0.4, drop=0.5, every=3)
    assert [sched(e) for e in range(8)] == pytest.approx(
        [0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1], rel=1e-15)


@pytest.mark.parametrize("name, cls", [("linear", Linear), ("exponential", Exponential),
                                       ("cosine", Cosine)])
def test_make_schedule_builds_decays_from_lr_final_lr_and_epochs(name, cls):
    assert make_schedule(name, lr=0.15, final_lr=0.05, epochs=50) == cls(0.15, 0.05, 50)


def test_make_schedule_builds_constant_and_step():
    assert make_schedule("constant", lr=0.1) == Constant(0.1)
    assert make_schedule("step", lr=0.1, drop=0.1, every=5) == Step(0.1, 0.1, 5)


def test_make_schedule_unknown_name_lists_valid_choices():
    with pytest.raises(ValueError, match=r"'poly'.*constant, cosine, exponential, linear, step"):
        make_schedule("poly", lr=0.1)


@pytest.mark.parametrize("name", ["linear", "exponential", "cosine"])
def test_make_schedule_decay_without_final_lr_raises(name):
    with pytest.raises(ValueError, match="needs final_lr"):
        make_schedule(name, lr=0.1, epochs=10)


@pytest.mark.parametrize("initial, final", [(0.0, 0.1), (0.1, 0.0)])
def test_exponential_with_a_zero_rate_raises(initial, final):
    with pytest.raises(ValueError, match="exponential decay needs"):
        Exponential(initial, final, 10)


@pytest.mark.parametrize("make", [
    lambda: Linear(0.1, 0.01, 0),
    lambda: Linear(-0.1, 0.01, 10),
    lambda: Cosine(0.1, math.nan, 10),
    lambda: Step(0.1, drop=0.0),
    lambda: Step(0.1, every=0),
    lambda: Constant(-1.0),
], ids=["zero_epochs", "negative_initial", "nan_final", "zero_drop", "zero_every", "negative_constant"])
def test_bad_schedule_arguments_raise(make):
    with pytest.raises(ValueError):
        make()


def test_schedules_pickle_to_equal_schedules():
    sched = Cosine(0.1, 0.01, 30)
    assert pickle.loads(pickle.dumps(sched)) == sched
