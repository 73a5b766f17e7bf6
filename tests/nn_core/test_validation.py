"""Bad arguments raise ValueError naming the bad value and what is allowed."""

import math

import numpy as np
import pytest

from nn_core import (SGD, Adam, Constant, Dense, Dropout, LeakyReLU, MeanSquaredError, Parameter,
                     RMSprop, Sequential, SoftmaxCrossEntropy, Trainer, get_initializer, get_loss,
                     layer_from_spec, make_optimizer, make_schedule)
from nn_core._validate import check_choice, check_int, check_number


def _param():
    return Parameter("w", np.zeros(2))


def _net():
    return Sequential(["dense:3"], input_dim=2)


def _trainer(**kwargs):
    net = _net()
    return Trainer(net, MeanSquaredError(), SGD(net.parameters(), lr=0.1), **kwargs)


def _built_dense():
    layer = Dense(3)
    layer.build(4, np.random.default_rng(0), np.dtype("float64"))
    return layer


def _set_lr(value):
    SGD([_param()], lr=0.1).lr = value


CASES = {
    # learning rates
    "sgd_negative_lr": (lambda: SGD([_param()], lr=-0.1), ["learning rate", "-0.1", "[0, inf)"]),
    "adam_negative_lr": (lambda: Adam([_param()], lr=-1e-3), ["learning rate", "-0.001", "[0, inf)"]),
    "rmsprop_nan_lr": (lambda: RMSprop([_param()], lr=math.nan), ["learning rate", "nan"]),
    "sgd_nan_lr": (lambda: SGD([_param()], lr=math.nan), ["learning rate", "nan"]),
    "setter_nan_lr": (lambda: _set_lr(math.nan), ["learning rate", "nan"]),
    "setter_inf_lr": (lambda: _set_lr(math.inf), ["learning rate", "inf"]),
    "string_lr": (lambda: SGD([_param()], lr="0.1"), ["learning rate", "'0.1'", "number"]),
    "constant_schedule_nan_lr": (lambda: Constant(math.nan), ["learning rate", "nan"]),
    "schedule_negative_lr": (lambda: make_schedule("linear", lr=-0.2, final_lr=0.1, epochs=5),
                             ["initial learning rate", "-0.2"]),
    # keep probability
    "dropout_keep_zero": (lambda: Dropout(0.0), ["keep probability", "0.0", "(0, 1]"]),
    "dropout_keep_above_one": (lambda: Dropout(1.2), ["keep probability", "1.2", "(0, 1]"]),
    "dropout_spec_keep": (lambda: layer_from_spec("dropout:2"), ["keep probability", "2", "(0, 1]"]),
    # unknown names
    "unknown_initialiser": (lambda: get_initializer("lecun"), ["'lecun'", "glorot_normal", "he_uniform"]),
    "unknown_layer": (lambda: layer_from_spec("conv:3"), ["'conv'", "batchnorm", "dense", "dropout", "relu"]),
    "unknown_layer_in_network": (lambda: Sequential(["dense:3", "softplus"], input_dim=2),
                                 ["'softplus'", "tanh"]),
    "unknown_loss": (lambda: get_loss("hinge"), ["'hinge'", "mse", "softmax_ce"]),
    "unknown_optimizer": (lambda: make_optimizer("adagrad", [_param()]), ["'adagrad'", "adam", "rmsprop", "sgd"]),
    "unknown_schedule": (lambda: make_schedule("poly", lr=0.1), ["'poly'", "cosine", "linear"]),
    # shapes
    "dense_input_width": (lambda: _built_dense().forward(np.zeros((2, 5))), ["(batch, 4)", "(2, 5)"]),
    "network_input_width": (lambda: _net().forward(np.zeros((2, 3))), ["(batch, 2)", "(2, 3)"]),
    "ce_label_count": (lambda: SoftmaxCrossEntropy().value(np.zeros((4, 3)), np.zeros(5, dtype=int)),
                       ["5 labels for 4 predictions"]),
    "mse_label_count": (lambda: MeanSquaredError().value(np.zeros((4, 3)), np.zeros(3, dtype=int)),
                        ["3 labels for 4 predictions"]),
    "ce_target_shape": (lambda: SoftmaxCrossEntropy().value(np.zeros((4, 3)), np.zeros((4, 2))),
                        ["(4, 2)", "(4, 3)"]),
    "mse_target_shape": (lambda: MeanSquaredError().value(np.zeros((4, 3)), np.zeros((3, 3))),
                         ["(3, 3)", "(4, 3)"]),
    "ce_single_column_label_count": (lambda: SoftmaxCrossEntropy().value(np.zeros((4, 1)), np.zeros(2)),
                                     ["2 labels for 4 predictions"]),
    "mse_prediction_rank": (lambda: MeanSquaredError().value(np.zeros(4), np.zeros(4)),
                            ["(batch, outputs)", "(4,)"]),
    # optimizer options
    "nesterov_without_momentum": (lambda: SGD([_param()], lr=0.1, nesterov=True),
                                  ["nesterov", "momentum", "(0, 1)"]),
    "momentum_one": (lambda: SGD([_param()], lr=0.1, momentum=1.0), ["momentum", "1.0", "[0, 1)"]),
    "negative_weight_decay": (lambda: Adam([_param()], weight_decay=-0.1), ["weight_decay", "-0.1"]),
    "adam_beta1_one": (lambda: Adam([_param()], beta1=1.0), ["beta1", "[0, 1)"]),
    # trainer options
    "epochs_zero": (lambda: _trainer(epochs=0), ["epochs", "[1, inf]", "got 0"]),
    "batch_size_zero": (lambda: _trainer(batch_size=0), ["batch_size", "[1, inf]", "got 0"]),
    "batch_size_float": (lambda: _trainer(batch_size=32.0), ["batch_size", "integer", "32.0"]),
    "eval_every_zero": (lambda: _trainer(eval_every=0), ["eval_every", "got 0"]),
    "patience_zero": (lambda: _trainer(patience=0), ["patience", "got 0"]),
    "negative_min_delta": (lambda: _trainer(min_delta=-1.0), ["min_delta", "-1.0"]),
    # layer options
    "dense_zero_units": (lambda: layer_from_spec("dense:0"), ["Dense units", "got 0"]),
    "dense_text_units": (lambda: layer_from_spec("dense:many"), ["Dense units", "'many'"]),
    "dense_unknown_keyword": (lambda: layer_from_spec("dense:3:depth=2"), ["dense:3:depth=2", "depth"]),
    "negative_leaky_alpha": (lambda: LeakyReLU(-0.1), ["alpha", "-0.1"]),
    "network_input_dim_zero": (lambda: Sequential(["dense:3"], input_dim=0), ["input_dim", "got 0"]),
    "empty_layer_spec": (lambda: layer_from_spec(""), ["non-empty", "''"]),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_argument_raises_value_error_naming_value_and_allowed(case):
    make, fragments = CASES[case]
    with pytest.raises(ValueError) as info:
        make()
    message = str(info.value)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"{missing} not in {message!r}"


# -- the helpers themselves ---------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, "1", None, [1.0]])
def test_check_number_rejects_non_numbers(value):
    with pytest.raises(ValueError, match="must be a number"):
        check_number("x", value)


def test_check_number_accepts_numpy_scalars_and_returns_float():
    result = check_number("x", np.float32(0.5), low=0.0, high=1.0)
    assert type(result) is float and result == 0.5


@pytest.mark.parametrize("value, ok", [(0.0, False), (1e-12, True), (1.0, True), (1.0 + 1e-12, False)])
def test_check_number_honours_open_lower_and_closed_upper_bound(value, ok):
    if ok:
        assert check_number("x", value, low=0.0, high=1.0, low_inclusive=False) == value
    else:
        with pytest.raises(ValueError, match=r"\(0, 1\]"):
            check_number("x", value, low=0.0, high=1.0, low_inclusive=False)


@pytest.mark.parametrize("value", [True, 3.0, "3", np.float64(3.0)])
def test_check_int_rejects_non_integers(value):
    with pytest.raises(ValueError, match="must be an integer"):
        check_int("n", value)


def test_check_int_accepts_numpy_integers_and_returns_int():
    result = check_int("n", np.int64(4), low=1)
    assert type(result) is int and result == 4


def test_check_choice_lists_choices_sorted():
    with pytest.raises(ValueError, match=r"unknown colour 'teal'; valid choices: blue, green, red"):
        check_choice("colour", "teal", ["red", "green", "blue"])
