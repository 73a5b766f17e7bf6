"""Optimizer steps against hand-computed values on tiny parameters."""

import math

import numpy as np
import pytest

from nn_core import SGD, Adam, Parameter, RMSprop, Sequential, make_optimizer

GRADS = [0.5, -0.2, 0.1]  # the gradient fed at steps 1, 2, 3


def run_steps(opt, param, grads=GRADS):
    """Feed ``grads`` one step at a time; return the parameter value after each step."""
    values = []
    for g in grads:
        param.grad[...] = g
        opt.step()
        values.append(float(param.value[0]))
    return values


def scalar_param(value=1.0, decay=False):
    return Parameter("w", np.array([value]), decay=decay)


def test_plain_sgd_subtracts_lr_times_gradient():
    p = scalar_param()
    # 1 - 0.1*0.5 = 0.95; 0.95 + 0.1*0.2 = 0.97; 0.97 - 0.1*0.1 = 0.96
    assert run_steps(SGD([p], lr=0.1), p) == pytest.approx([0.95, 0.97, 0.96], rel=1e-14)


def test_classical_momentum_follows_v_equals_mu_v_plus_lr_g():
    p = scalar_param()
    # v1 = 0.05            p1 = 1 - 0.05      = 0.95
    # v2 = 0.045 - 0.02    = 0.025   p2 = 0.925
    # v3 = 0.0225 + 0.01   = 0.0325  p3 = 0.8925
    assert run_steps(SGD([p], lr=0.1, momentum=0.9), p) == pytest.approx(
        [0.95, 0.925, 0.8925], rel=1e-14)


def test_nesterov_momentum_steps_by_mu_v_plus_lr_g():
    p = scalar_param()
    # v1 = 0.05    p1 = 1 - (0.9*0.05 + 0.05)        = 0.905
    # v2 = 0.025   p2 = 0.905 - (0.9*0.025 - 0.02)   = 0.9025
    # v3 = 0.0325  p3 = 0.9025 - (0.9*0.0325 + 0.01) = 0.86325
    assert run_steps(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p) == pytest.approx(
        [0.905, 0.9025, 0.86325], rel=1e-14)


def test_rmsprop_divides_by_root_of_running_mean_square():
    p = scalar_param()
    lr, rho, eps = 0.01, 0.9, 1e-8
    expected, value, s = [], 1.0, 0.0
    for g in GRADS:
        s = rho * s + (1 - rho) * g * g
        value -= lr * g / (math.sqrt(s) + eps)
        expected.append(value)
    assert run_steps(RMSprop([p], lr=lr, rho=rho, eps=eps), p) == pytest.approx(expected, rel=1e-14)


def test_rmsprop_first_step_is_lr_over_root_one_minus_rho_times_sign():
    p = scalar_param()
    # s1 = 0.1 g^2, so g / sqrt(s1) = sign(g) / sqrt(0.1)
    run_steps(RMSprop([p], lr=0.01, rho=0.9, eps=1e-12), p, grads=[0.5])
    assert p.value[0] == pytest.approx(1.0 - 0.01 / math.sqrt(0.1), rel=1e-12)


def test_adam_first_step_is_lr_times_sign_of_gradient():
    p = Parameter("w", np.array([1.0, 2.0]))
    p.grad[...] = [0.5, -3.0]
    Adam([p], lr=0.01, eps=1e-12).step()
    # Bias correction makes m_hat = g and v_hat = g^2 at t = 1.
    assert np.allclose(p.value, [0.99, 2.01], rtol=1e-12, atol=0)


def test_adam_with_bias_correction_matches_hand_recurrence():
    p = scalar_param()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    expected, value, m, v = [], 1.0, 0.0, 0.0
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        value -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(value)
    assert run_steps(Adam([p], lr=lr, beta1=b1, beta2=b2, eps=eps), p) == pytest.approx(
        expected, rel=1e-14)


def test_weight_decay_adds_wd_times_w_only_to_decayed_parameters():
    w, b = scalar_param(2.0, decay=True), scalar_param(2.0, decay=False)
    w.grad[...] = b.grad[...] = 0.5
    SGD([w, b], lr=0.1, weight_decay=0.01).step()
    assert w.value[0] == pytest.approx(2.0 - 0.1 * (0.5 + 0.01 * 2.0), rel=1e-15)  # 1.948
    assert b.value[0] == pytest.approx(2.0 - 0.1 * 0.5, rel=1e-15)  # 1.95


@pytest.mark.parametrize("cls, kwargs", [(SGD, {"momentum": 0.9}), (RMSprop, {}), (Adam, {})],
                         ids=["sgd", "rmsprop", "adam"])
def test_weight_decay_equals_adding_wd_w_to_the_gradient(cls, kwargs):
    wd = 0.05
    decayed, reference = scalar_param(1.5, decay=True), scalar_param(1.5, decay=True)
    opt = cls([decayed], lr=0.01, weight_decay=wd, **kwargs)
    ref_opt = cls([reference], lr=0.01, **kwargs)
    for g in GRADS:
        decayed.grad[...] = g
        reference.grad[...] = g + wd * reference.value
        opt.step()
        ref_opt.step()
    assert decayed.value[0] == pytest.approx(reference.value[0], rel=1e-14)


@pytest.mark.parametrize("cls, kwargs", [(SGD, {"momentum": 0.9}), (RMSprop, {}), (Adam, {})],
                         ids=["sgd", "rmsprop", "adam"])
def test_weight_decay_leaves_undecayed_parameters_as_without_decay(cls, kwargs):
    p, q = scalar_param(1.5), scalar_param(1.5)
    run_steps(cls([p], lr=0.01, weight_decay=0.5, **kwargs), p)
    run_steps(cls([q], lr=0.01, **kwargs), q)
    assert p.value[0] == q.value[0]


def test_sgd_lr_change_between_steps_takes_effect():
    p = scalar_param()
    opt = SGD([p], lr=0.1)
    run_steps(opt, p, grads=[0.5])
    opt.lr = 0.01
    run_steps(opt, p, grads=[0.5])
    assert p.value[0] == pytest.approx(1.0 - 0.05 - 0.005, rel=1e-15)


def test_momentum_lr_change_scales_only_the_new_gradient():
    p = scalar_param()
    opt = SGD([p], lr=0.1, momentum=0.9)
    run_steps(opt, p, grads=[0.5])  # v1 = 0.05, p1 = 0.95
    opt.lr = 0.01
    run_steps(opt, p, grads=[0.5])  # v2 = 0.045 + 0.005 = 0.05, p2 = 0.9
    assert p.value[0] == pytest.approx(0.9, rel=1e-14)


@pytest.mark.parametrize("cls", [RMSprop, Adam])
def test_adaptive_optimizer_with_lr_set_to_zero_stops_moving(cls):
    p = scalar_param()
    opt = cls([p], lr=0.01)
    run_steps(opt, p, grads=[0.5])
    moved = float(p.value[0])
    opt.lr = 0.0
    run_steps(opt, p, grads=[0.5, -0.3])
    assert moved != 1.0
    assert p.value[0] == moved


def _two_nets():
    return [Sequential(["dense:3", "tanh", "dense:2"], input_dim=2, seed=4, dtype="float64")
            for _ in range(2)]


@pytest.mark.parametrize("cls, kwargs", [(SGD, {"momentum": 0.9, "nesterov": True}),
                                         (SGD, {}), (RMSprop, {}), (Adam, {})],
                         ids=["nesterov", "sgd", "rmsprop", "adam"])
def test_two_optimizers_on_two_networks_share_no_state(cls, kwargs):
    net_a, net_b = _two_nets()
    opt_a, opt_b = cls(net_a.parameters(), lr=0.1, **kwargs), cls(net_b.parameters(), lr=0.1, **kwargs)
    for p in net_a.parameters() + net_b.parameters():
        p.grad[...] = 0.3
    opt_a.step()
    after_one = [p.value.copy() for p in net_a.parameters()]
    opt_a.step()
    opt_a.step()
    # net_b's first step must be a first step: no velocity/moments and no step count leaked.
    opt_b.step()
    for p, expected in zip(net_b.parameters(), after_one):
        assert np.array_equal(p.value, expected)


def test_optimizer_lr_setter_rejects_negative_values():
    opt = SGD([scalar_param()], lr=0.1)
    with pytest.raises(ValueError, match=r"learning rate.*-0\.5"):
        opt.lr = -0.5


@pytest.mark.parametrize("name, cls", [("sgd", SGD), ("rmsprop", RMSprop), ("adam", Adam)])
def test_make_optimizer_resolves_names_and_passes_keywords(name, cls):
    opt = make_optimizer(name, [scalar_param()], lr=0.25)
    assert type(opt) is cls
    assert opt.lr == 0.25


def test_make_optimizer_turns_unknown_keyword_into_value_error():
    with pytest.raises(ValueError, match="bad arguments for optimizer 'adam'"):
        make_optimizer("adam", [scalar_param()], lr=0.1, momentum=0.9)


def test_optimizer_rejects_empty_parameter_list():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)


def test_optimizer_rejects_the_same_parameter_twice():
    p = scalar_param()
    with pytest.raises(ValueError, match="same parameter twice"):
        Adam([p, p], lr=0.1)
