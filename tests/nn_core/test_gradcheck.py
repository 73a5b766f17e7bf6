"""The finite-difference helper itself: it must agree with known derivatives and flag wrong ones."""

import numpy as np

from gradcheck import TOL, numerical_grad, rel_error


def test_numerical_grad_matches_known_derivative_of_cubic():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    numeric = numerical_grad(lambda: float(np.sum(x ** 3)), x)
    assert rel_error(3.0 * x ** 2, numeric) <= TOL


def test_numerical_grad_restores_the_perturbed_array():
    x = np.array([0.25, -0.5, 1.5])
    original = x.copy()
    numerical_grad(lambda: float(np.sum(np.sin(x))), x)
    assert np.array_equal(x, original)


def test_rel_error_flags_a_gradient_that_is_off_by_one_percent():
    x = np.array([0.3, -1.2, 2.0])
    numeric = numerical_grad(lambda: float(np.sum(x ** 3)), x)
    assert rel_error(3.0 * x ** 2 * 1.01, numeric) > 1e-3


def test_rel_error_is_zero_where_both_gradients_are_exactly_zero():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
