"""Tests of tutor.gradcheck: the finite-difference check that every backward pass relies on."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.gradcheck import gradcheck, numerical_gradients, relative_error

pytestmark = pytest.mark.filterwarnings("error")
FEW = settings(max_examples=25, deadline=None)


def test_numerical_gradients_of_a_known_function():
    # loss = sum(a^2 * b), so d/da = 2 a b and d/db = a^2.
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0])
    numeric = numerical_gradients(lambda: float(np.sum(a**2 * b)), {"a": a, "b": b})
    np.testing.assert_allclose(numeric["a"], 2 * a * b, rtol=1e-8)
    np.testing.assert_allclose(numeric["b"], a**2, rtol=1e-8)


def test_numerical_gradients_restore_the_parameters_exactly():
    w = np.random.default_rng(0).normal(size=(3, 4))
    before = w.copy()
    numerical_gradients(lambda: float(np.sum(np.sin(w))), {"w": w})
    np.testing.assert_array_equal(w, before)


def test_numerical_gradients_restore_the_parameters_when_the_loss_raises():
    w = np.array([1.0, 2.0, 3.0])
    calls = []

    def loss_fn():
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(np.sum(w))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradients(loss_fn, {"w": w})
    np.testing.assert_array_equal(w, [1.0, 2.0, 3.0])


@FEW
@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_gradcheck_accepts_the_gradient_of_a_quadratic_form(n, seed):
    # loss = x^T A x + c . x has gradient (A + A^T) x + c.
    rng = np.random.default_rng(seed)
    a, c, x = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=n)
    errors = gradcheck(lambda: float(x @ a @ x + c @ x), {"x": x}, {"x": (a + a.T) @ x + c})
    assert errors["x"] < 1e-8


@pytest.mark.parametrize(
    "mistake",
    [
        lambda g: 2 * g,  # a factor forgotten in the chain rule
        lambda g: -g,  # a sign error
        lambda g: g.T,  # a transposed matrix
        lambda g: np.where(np.arange(g.size).reshape(g.shape) == 0, 0.0, g),  # one entry lost
    ],
)
def test_gradcheck_detects_a_wrong_gradient(mistake):
    rng = np.random.default_rng(1)
    w, x = rng.normal(size=(3, 3)), rng.normal(size=(5, 3))

    def loss_fn():
        return float(np.sum(np.tanh(x @ w.T)))

    correct = (1 - np.tanh(x @ w.T) ** 2).T @ x  # dL/dW for loss = sum(tanh(x W^T))
    assert gradcheck(loss_fn, {"w": w}, {"w": correct})["w"] < 1e-8
    assert gradcheck(loss_fn, {"w": w}, {"w": mistake(correct)})["w"] > 1e-2


def test_gradcheck_checks_every_parameter_separately():
    a, b = np.array([1.0, 2.0]), np.array([3.0])
    errors = gradcheck(
        lambda: float(a @ a * b[0]), {"a": a, "b": b}, {"a": 2 * a * b, "b": np.array([a @ a + 1])}
    )
    assert errors["a"] < 1e-8
    assert errors["b"] > 1e-2


def test_relative_error_values():
    g = np.array([1.0, -2.0, 3.0])
    assert relative_error(g, g) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(g, -g) == pytest.approx(1.0)
    assert relative_error(g, np.zeros(3)) == pytest.approx(1.0)
    assert relative_error(g, g * (1 + 1e-7)) == pytest.approx(0.5e-7, rel=1e-3)


def test_relative_error_tolerates_rounding_noise_on_zero_entries():
    # A true gradient of 0 estimated as 1e-10 (rounding noise) must not fail the check.
    analytic = np.array([0.3, 0.0, -0.2])
    numeric = np.array([0.3, 1e-10, -0.2])
    assert relative_error(analytic, numeric) < 1e-8


def test_relative_error_measures_tiny_gradients_against_the_floor():
    # A gradient of size 1e-7 estimated with 1e-12 of rounding noise is right...
    tiny = np.array([1e-7, -5e-8])
    assert relative_error(tiny, tiny + 1e-12) < 1e-7
    # ...and one that is off by its own size is still caught.
    assert relative_error(tiny, 2 * tiny) > 1e-4
    assert relative_error(tiny, 2 * tiny, floor=0.0) == pytest.approx(1 / 3)


def test_default_eps_estimates_to_about_1e_10():
    x = np.linspace(-3, 3, 7)
    numeric = numerical_gradients(lambda: float(np.sum(np.exp(np.sin(x)))), {"x": x})["x"]
    np.testing.assert_allclose(numeric, np.cos(x) * np.exp(np.sin(x)), rtol=0, atol=1e-9)


def test_relative_error_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"analytic.*numeric.*same shape.*\(2, 3\).*\(3, 2\)"):
        relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_gradcheck_names_a_missing_key_and_a_wrong_shape():
    w = np.zeros(3)
    with pytest.raises(ValueError, match=r"\bgrads\b.*missing.*\['w'\]"):
        gradcheck(lambda: 0.0, {"w": w}, {})
    with pytest.raises(ValueError, match=r"grads\['w'\].*params\['w'\].*\(3,\).*\(3, 1\)"):
        gradcheck(lambda: 0.0, {"w": w}, {"w": np.zeros((3, 1))})


def test_numerical_gradients_refuse_integer_and_non_contiguous_arrays():
    with pytest.raises(ValueError, match=r"params\['n'\].*floating-point.*int64"):
        numerical_gradients(lambda: 0.0, {"n": np.arange(3)})
    strided = np.zeros((3, 4)).T  # its entries cannot be walked as one flat view
    with pytest.raises(
        ValueError, match=r"params\['s'\].*contiguous.*strides \(8, 32\).*ascontiguousarray"
    ):
        numerical_gradients(lambda: 0.0, {"s": strided})
