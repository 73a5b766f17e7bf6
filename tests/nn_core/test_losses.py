import math
import warnings

import numpy as np
import pytest

from gradcheck import TOL, numerical_grad, rel_error
from nn_core import MeanSquaredError, SoftmaxCrossEntropy, accuracy, get_loss

N, K = 4, 3


@pytest.fixture
def rng():
    return np.random.default_rng(21)


def _soft_targets(rng, n, k):
    t = rng.uniform(0.1, 1.0, (n, k))
    return t / t.sum(axis=1, keepdims=True)


def _targets(kind, rng):
    """(predictions, targets) for each target convention the losses accept."""
    if kind == "labels":
        return rng.standard_normal((N, K)), np.array([0, 2, 1, 2])
    if kind == "one_hot":
        return rng.standard_normal((N, K)), np.eye(K)[[1, 0, 2, 2]]
    if kind == "soft":
        return rng.standard_normal((N, K)), _soft_targets(rng, N, K)
    if kind == "unnormalised_soft":
        return rng.standard_normal((N, K)), rng.uniform(0.1, 2.0, (N, K))
    if kind == "single_column_labels":
        return rng.standard_normal((N, 1)), np.array([1, 0, 0, 1])
    if kind == "single_column_soft":
        return rng.standard_normal((N, 1)), rng.uniform(0.0, 1.0, (N, 1))
    raise AssertionError(kind)


def _check_grad(loss, pred, target):
    _, grad = loss.value_and_grad(pred, target)
    numeric = numerical_grad(lambda: loss.value(pred, target), pred)
    return rel_error(grad, numeric)


# -- mean squared error -------------------------------------------------------------------------

def test_mse_is_batch_mean_of_row_sum_of_squares(rng):
    pred, target = rng.standard_normal((N, K)), rng.standard_normal((N, K))
    expected = sum(sum((pred[i, k] - target[i, k]) ** 2 for k in range(K)) for i in range(N)) / N
    assert MeanSquaredError().value(pred, target) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("kind", ["one_hot", "soft", "labels"])
def test_mse_gradient_matches_finite_differences(kind, rng):
    pred, target = _targets(kind, rng)
    assert _check_grad(MeanSquaredError(), pred, target) <= TOL


def test_mse_with_integer_labels_equals_mse_against_one_hot_rows(rng):
    pred = rng.standard_normal((N, K))
    labels = np.array([2, 0, 1, 1])
    loss = MeanSquaredError()
    assert loss.value(pred, labels) == pytest.approx(loss.value(pred, np.eye(K)[labels]), rel=1e-15)


# -- softmax cross-entropy ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["labels", "one_hot", "soft", "unnormalised_soft",
                                  "single_column_labels", "single_column_soft"])
def test_softmax_ce_gradient_matches_finite_differences_of_its_value(kind, rng):
    pred, target = _targets(kind, rng)
    assert _check_grad(SoftmaxCrossEntropy(), pred, target) <= TOL


def test_softmax_ce_with_labels_equals_mean_negative_log_softmax(rng):
    pred, labels = _targets("labels", rng)
    expected = 0.0
    for i in range(N):
        exps = [math.exp(v) for v in pred[i]]
        expected -= math.log(exps[labels[i]] / sum(exps))
    assert SoftmaxCrossEntropy().value(pred, labels) == pytest.approx(expected / N, rel=1e-13)


def test_softmax_ce_with_soft_targets_equals_mean_cross_entropy(rng):
    pred, target = _targets("soft", rng)
    expected = 0.0
    for i in range(N):
        exps = [math.exp(v) for v in pred[i]]
        expected -= sum(target[i, k] * math.log(exps[k] / sum(exps)) for k in range(K))
    assert SoftmaxCrossEntropy().value(pred, target) == pytest.approx(expected / N, rel=1e-13)


def test_softmax_ce_single_column_equals_binary_cross_entropy_of_sigmoid(rng):
    pred, target = _targets("single_column_soft", rng)
    expected = 0.0
    for z, t in zip(pred[:, 0], target[:, 0]):
        p = 1.0 / (1.0 + math.exp(-z))
        expected -= t * math.log(p) + (1.0 - t) * math.log(1.0 - p)
    assert SoftmaxCrossEntropy().value(pred, target) == pytest.approx(expected / N, rel=1e-13)


def test_softmax_ce_labels_and_one_hot_targets_give_the_same_value_and_gradient(rng):
    pred = rng.standard_normal((N, K))
    labels = np.array([1, 1, 0, 2])
    loss = SoftmaxCrossEntropy()
    v_labels, g_labels = loss.value_and_grad(pred, labels)
    v_dense, g_dense = loss.value_and_grad(pred, np.eye(K)[labels])
    assert v_labels == pytest.approx(v_dense, rel=1e-14)
    assert np.allclose(g_labels, g_dense, rtol=1e-14, atol=1e-16)


def test_softmax_ce_is_finite_and_exact_for_huge_logits():
    pred = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, -1e4]])
    labels = np.array([1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = SoftmaxCrossEntropy().value_and_grad(pred, labels)
    # Row 0: log softmax of the label is 0 - 1e4 (up to e^-1e4); row 1: it is 0.
    assert value == pytest.approx(1e4 / 2, rel=1e-15)
    # softmax rows are [1, 0, 0] and [0, 1, 0]; dL/dz = (p - onehot) / n.
    assert np.allclose(grad, np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]) / 2, rtol=0, atol=1e-300)


def test_softmax_ce_single_column_is_finite_and_exact_for_huge_logits():
    pred = np.array([[1e4], [-1e4]])
    target = np.array([0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = SoftmaxCrossEntropy().value_and_grad(pred, target)
    # -log(1 - sigmoid(1e4)) = 1e4; -log(1 - sigmoid(-1e4)) = 0.
    assert value == pytest.approx(1e4 / 2, rel=1e-15)
    assert np.allclose(grad, np.array([[1.0], [0.0]]) / 2, rtol=0, atol=1e-300)


def test_softmax_ce_float32_logits_give_float32_gradient(rng):
    pred = rng.standard_normal((N, K)).astype(np.float32)
    _, grad = SoftmaxCrossEntropy().value_and_grad(pred, np.array([0, 1, 2, 0]))
    assert grad.dtype == np.float32


# -- registry and accuracy ----------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [("mse", MeanSquaredError), ("softmax_ce", SoftmaxCrossEntropy)])
def test_get_loss_resolves_registered_names(name, cls):
    assert type(get_loss(name)) is cls


def test_get_loss_passes_a_loss_instance_through():
    loss = MeanSquaredError()
    assert get_loss(loss) is loss


def test_accuracy_is_share_of_rows_whose_argmax_is_the_label():
    pred = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.3, 0.6, 0.1], [0.5, 0.4, 0.1]])
    labels = np.array([0, 2, 0, 1])  # right, right, wrong, wrong
    assert accuracy(pred, labels) == 0.5


def test_accuracy_accepts_one_hot_targets():
    pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert accuracy(pred, np.eye(2)[[0, 1, 1]]) == pytest.approx(2 / 3)


def test_accuracy_of_single_output_model_raises():
    with pytest.raises(ValueError, match="single-output"):
        accuracy(np.zeros((3, 1)), np.array([0, 1, 0]))
