"""Tests of tutor.analysis: gradient flow through time, measured exactly."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from tutor import analysis
from tutor.analysis import (
    DERIVATIVE_BOUNDS,
    gradient_cosine,
    jacobian_norm_bound,
    jacobian_products,
    largest_singular_value,
    random_recurrent_matrix,
    rescale_to_singular_value,
    rnn_jacobian_products,
    spectral_radius,
    state_gradient_norms,
    state_gradients,
)
from tutor.optim import clip_grad_norm, clip_grad_value
from tutor.rnn import RNN

NONLINEARITIES = ["tanh", "sigmoid"]


class PairRNN:
    """A tiny recurrent layer whose state is a pair ``(h, c)``, like the LSTM's.

    ``a_t = x_t Wx^T + h_{t-1} Wh^T + b``, ``c_t = f c_{t-1} + tanh(a_t)``, ``h_t = tanh(c_t)``:
    enough to test that the analysis handles tuple states, without the LSTM.
    """

    def __init__(self, D, H, rng, f=0.7):
        rng = np.random.default_rng(rng)
        self.f = f
        self.params = {
            "Wx": rng.normal(size=(H, D)),
            "Wh": rng.normal(size=(H, H)) / np.sqrt(H),
            "b": rng.normal(size=H) * 0.1,
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.H = H

    def forward(self, x, state=None):
        T, B, _ = x.shape
        h, c = state if state is not None else (np.zeros((B, self.H)), np.zeros((B, self.H)))
        p = self.params
        hs, cs, gs = [h], [c], []
        for t in range(T):
            g = np.tanh(x[t] @ p["Wx"].T + hs[-1] @ p["Wh"].T + p["b"])
            cs.append(self.f * cs[-1] + g)
            hs.append(np.tanh(cs[-1]))
            gs.append(g)
        self.cache = (x, hs, cs, gs)
        return np.stack(hs[1:]), (hs[-1], cs[-1])

    def backward(self, dout, dstate=None):
        x, hs, cs, gs = self.cache
        T, B, _ = x.shape
        dh, dc = dstate if dstate is not None else (np.zeros((B, self.H)), np.zeros((B, self.H)))
        p = self.params
        for g in self.grads.values():
            g[...] = 0
        dx = np.zeros_like(x)
        for t in reversed(range(T)):
            dh_total = dout[t] + dh
            dc_total = dc + dh_total * (1 - hs[t + 1] ** 2)
            da = dc_total * (1 - gs[t] ** 2)
            self.grads["Wx"] += da.T @ x[t]
            self.grads["Wh"] += da.T @ hs[t]
            self.grads["b"] += da.sum(axis=0)
            dx[t] = da @ p["Wx"]
            dh, dc = da @ p["Wh"], self.f * dc_total
        return dx, (dh, dc)


# --- helpers: finite differences on the state ----------------------------------------------


def as_vector(state):
    return np.concatenate(state, axis=-1) if isinstance(state, tuple) else state


def from_vector(vector, like):
    if not isinstance(like, tuple):
        return vector
    sizes = np.cumsum([part.shape[-1] for part in like])[:-1]
    return tuple(np.split(vector, sizes, axis=-1))


def state_at(layer, x, t, state):
    """The state after t steps (t = 0: the initial state), in the layer's format."""
    if t == 0:
        return state
    _, last = layer.forward(x[:t], state)
    return tuple(np.array(p) for p in last) if isinstance(last, tuple) else np.array(last)


def numerical_jacobian(layer, x, t, state, eps=1e-6):
    """d s_T / d s_t for sequence 0 by central differences, perturbing s_t entry by entry."""
    start = state_at(layer, x, t, state)
    base = as_vector(start)
    n = base.shape[-1]
    jac = np.zeros((n, n))
    for j in range(n):
        ends = []
        for sign in (1, -1):
            nudged = base.copy()
            nudged[0, j] += sign * eps
            s = from_vector(nudged, start)
            end = layer.forward(x[t:], s)[1] if t < len(x) else s
            ends.append(as_vector(end)[0])
        jac[:, j] = (ends[0] - ends[1]) / (2 * eps)
    return jac


def pair_state(rng, B, H):
    return (rng.normal(size=(B, H)) * 0.5, rng.normal(size=(B, H)) * 0.5)


# --- the size of a matrix --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (1, 1)])
def test_largest_singular_value_matches_numpy(shape):
    matrix = np.random.default_rng(0).normal(size=shape)
    value = largest_singular_value(matrix)
    assert isinstance(value, float)
    assert value == pytest.approx(np.linalg.svd(matrix, compute_uv=False)[0], rel=1e-12)


def test_largest_singular_value_of_a_stack():
    stack = np.random.default_rng(1).normal(size=(4, 3, 5, 5))
    values = largest_singular_value(stack)
    assert values.shape == (4, 3)
    expected = np.linalg.svd(stack, compute_uv=False)[..., 0]
    np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_spectral_radius_matches_numpy_and_is_at_most_sigma_1():
    rng = np.random.default_rng(2)
    for _ in range(20):
        matrix = rng.normal(size=(6, 6))
        radius = spectral_radius(matrix)
        assert radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(matrix))), rel=1e-12)
        assert radius <= largest_singular_value(matrix) * (1 + 1e-12)
    # A rotation by 90 degrees: eigenvalues +-i, radius 1; a nilpotent matrix: radius 0.
    assert spectral_radius(np.array([[0.0, -1.0], [1.0, 0.0]])) == pytest.approx(1.0)
    assert spectral_radius(np.array([[0.0, 5.0], [0.0, 0.0]])) == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rescale_to_singular_value(dtype):
    matrix = np.random.default_rng(3).normal(size=(6, 4)).astype(dtype)
    scaled = rescale_to_singular_value(matrix, 2.5)
    assert scaled.dtype == dtype and scaled.shape == matrix.shape
    assert largest_singular_value(scaled) == pytest.approx(
        2.5, rel=1e-5 if dtype == np.float32 else 1e-12
    )
    ratio = scaled / matrix  # the same factor everywhere: only the size changes
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-5)
    assert not np.shares_memory(scaled, matrix)


def test_random_recurrent_matrix():
    gaussian = random_recurrent_matrix(16, 3.0, rng=0)
    assert gaussian.shape == (16, 16) and gaussian.dtype == np.float64
    assert largest_singular_value(gaussian) == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_array_equal(gaussian, random_recurrent_matrix(16, 3.0, rng=0))
    assert not np.array_equal(gaussian, random_recurrent_matrix(16, 3.0, rng=1))
    orthogonal = random_recurrent_matrix(16, 2.0, rng=np.random.default_rng(0), kind="orthogonal")
    np.testing.assert_allclose(np.linalg.svd(orthogonal, compute_uv=False), 2.0, rtol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(orthogonal)), 2.0, rtol=1e-10)
    np.testing.assert_allclose(orthogonal.T @ orthogonal, 4.0 * np.eye(16), atol=1e-12)
    small = random_recurrent_matrix(4, 0.5, rng=0, dtype=np.float32)
    assert small.dtype == np.float32


def test_matrix_errors():
    with pytest.raises(ValueError, match=r"matrix.*two axes.*\(3,\)"):
        largest_singular_value(np.ones(3))
    with pytest.raises(ValueError, match=r"matrix.*square.*\(2, 3\)"):
        spectral_radius(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"matrix.*floating.*int64"):
        spectral_radius(np.eye(3, dtype=int))
    with pytest.raises(ValueError, match=r"matrix.*non-finite.*nan.*\(0, 0\)"):
        largest_singular_value(np.array([[np.nan]]))
    with pytest.raises(ValueError, match=r"matrix.*nonzero.*all zeros.*\(2, 2\)"):
        rescale_to_singular_value(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match=r"singular_value.*> 0.*-1\.0"):
        rescale_to_singular_value(np.eye(2), -1.0)
    with pytest.raises(ValueError, match=r"kind.*'gaussian'.*'orthogonal'.*'uniform'"):
        random_recurrent_matrix(4, 1.0, rng=0, kind="uniform")
    with pytest.raises(ValueError, match=r"hidden_size.*(positive|>= 1|at least 1).*\b0\b"):
        random_recurrent_matrix(0, 1.0, rng=0)
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        random_recurrent_matrix(4, 1.0, rng=None)
    with pytest.raises(ValueError, match=r"dtype.*float64.*float32.*float16"):
        random_recurrent_matrix(4, 1.0, rng=0, dtype=np.float16)


# --- Jacobian products -----------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("with_state", [False, True])
def test_generic_jacobians_equal_the_closed_form(nonlinearity, with_state):
    rng = np.random.default_rng(4)
    layer = RNN(3, 5, nonlinearity, rng=0)
    x = rng.normal(size=(9, 4, 3))
    state = rng.normal(size=(4, 5)) if with_state else None
    generic = jacobian_products(layer, x, state)
    closed = rnn_jacobian_products(layer, x, state)
    assert generic.shape == closed.shape == (10, 4, 5, 5)
    np.testing.assert_array_equal(generic[0], np.broadcast_to(np.eye(5), (4, 5, 5)))
    np.testing.assert_allclose(generic, closed, rtol=0, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_jacobians_match_finite_differences(nonlinearity):
    rng = np.random.default_rng(5)
    layer = RNN(2, 3, nonlinearity, rng=1)
    layer.params["weight_hh"][...] = random_recurrent_matrix(3, 1.5, rng=2)
    x = rng.normal(size=(6, 2, 2))
    state = rng.normal(size=(2, 3))
    jac = jacobian_products(layer, x, state)
    T = len(x)
    for k in range(T + 1):
        numeric = numerical_jacobian(layer, x, T - k, state)
        np.testing.assert_allclose(jac[k, 0], numeric, rtol=0, atol=1e-8)


def test_jacobians_of_a_pair_state_match_finite_differences():
    rng = np.random.default_rng(6)
    layer = PairRNN(2, 3, rng=0)
    x = rng.normal(size=(5, 2, 2))
    state = pair_state(rng, 2, 3)
    full = jacobian_products(layer, x, state)
    hidden = jacobian_products(layer, x, state, hidden_only=True)
    assert full.shape == (6, 2, 6, 6) and hidden.shape == (6, 2, 3, 3)
    np.testing.assert_array_equal(hidden, full[..., :3, :3])
    for k in range(6):
        numeric = numerical_jacobian(layer, x, 5 - k, state)
        np.testing.assert_allclose(full[k, 0], numeric, rtol=0, atol=1e-8)
    # hidden_only: dh_T/dh_t with c_t held fixed, by perturbing h_t alone.
    t = 2
    h_t, c_t = state_at(layer, x, t, state)
    eps, numeric = 1e-6, np.zeros((3, 3))
    for j in range(3):
        plus, minus = h_t.copy(), h_t.copy()
        plus[0, j] += eps
        minus[0, j] -= eps
        h_plus = layer.forward(x[t:], (plus, c_t))[1][0]
        h_minus = layer.forward(x[t:], (minus, c_t))[1][0]
        numeric[:, j] = (h_plus[0] - h_minus[0]) / (2 * eps)
    np.testing.assert_allclose(hidden[5 - t, 0], numeric, rtol=0, atol=1e-8)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("sigma", [0.5, 0.9, 1.0, 2.0, 3.0])
def test_jacobian_norms_stay_under_the_bound(nonlinearity, sigma):
    rng = np.random.default_rng(7)
    for seed in range(5):
        layer = RNN(2, 8, nonlinearity, rng=seed)
        layer.params["weight_hh"][...] = random_recurrent_matrix(8, sigma, rng=seed)
        x = rng.normal(size=(30, 4, 2))
        norms = largest_singular_value(rnn_jacobian_products(layer, x))  # (T + 1, B)
        bound = jacobian_norm_bound(layer.params["weight_hh"], np.arange(31), nonlinearity)
        assert bound.shape == (31,)
        assert np.all(norms <= bound[:, None] * (1 + 1e-10) + 1e-300)


def test_jacobian_norm_bound_values():
    W = np.diag([2.0, -0.5])
    np.testing.assert_allclose(jacobian_norm_bound(W, np.arange(4)), [1, 2, 4, 8])
    np.testing.assert_allclose(jacobian_norm_bound(W, np.arange(3), "sigmoid"), [1, 0.5, 0.25])
    assert jacobian_norm_bound(W, 3).shape == ()
    assert DERIVATIVE_BOUNDS == {"tanh": 1.0, "sigmoid": 0.25}
    with pytest.raises(ValueError, match=r"lags.*integers >= 0.*-1"):
        jacobian_norm_bound(W, np.array([-1, 2]))
    with pytest.raises(ValueError, match=r"lags.*integers >= 0.*0\.5"):
        jacobian_norm_bound(W, np.array([0.5]))
    with pytest.raises(ValueError, match=r"nonlinearity.*'tanh'.*'sigmoid'.*'relu'"):
        jacobian_norm_bound(W, 1, "relu")
    with pytest.raises(ValueError, match=r"weight_hh.*square.*\(2, 3\)"):
        jacobian_norm_bound(np.ones((2, 3)), 1)


def test_the_bound_on_the_slope_is_the_largest_derivative():
    a = np.linspace(-10, 10, 200001)
    assert np.max(1 - np.tanh(a) ** 2) == pytest.approx(DERIVATIVE_BOUNDS["tanh"])
    s = 1 / (1 + np.exp(-a))
    assert np.max(s * (1 - s)) == pytest.approx(DERIVATIVE_BOUNDS["sigmoid"])


def test_rnn_jacobian_products_needs_an_rnn():
    with pytest.raises(ValueError, match=r"layer.*tutor\.rnn\.RNN.*PairRNN"):
        rnn_jacobian_products(PairRNN(2, 3, rng=0), np.zeros((3, 1, 2)))


# --- gradients with respect to every state ---------------------------------------------------


def loss_with_nudged_state(layer, x, t, state, nudge, dout, dstate):
    """L = sum(dout * out) + sum(dstate * s_T), with ``nudge`` added to the state after step t."""
    start = state_at(layer, x, t, state)
    start = from_vector(as_vector(start) + nudge, start)
    loss = 0.0
    if t > 0:  # the outputs before t, and out[t - 1], which is the hidden part of s_t
        out, _ = layer.forward(x[:t], state)
        loss += np.sum(dout[: t - 1] * out[: t - 1])
        hidden = start[0] if isinstance(start, tuple) else start
        loss += np.sum(dout[t - 1] * hidden)
    last = start
    if t < len(x):
        out, last = layer.forward(x[t:], start)
        loss += np.sum(dout[t:] * out)
    return loss + np.sum(as_vector(dstate) * as_vector(last))


@pytest.mark.parametrize("make", ["rnn", "pair"])
def test_state_gradients_match_finite_differences(make):
    rng = np.random.default_rng(8)
    T, B, D, H = 5, 2, 2, 3
    if make == "rnn":
        layer = RNN(D, H, rng=0)
        state, dstate = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    else:
        layer = PairRNN(D, H, rng=0)
        state, dstate = pair_state(rng, B, H), pair_state(rng, B, H)
    x, dout = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, H))
    grads = state_gradients(layer, x, dout, dstate, state)
    n = as_vector(state).shape[-1]
    assert grads.shape == (T + 1, B, n)
    eps = 1e-6
    for t in range(T + 1):
        numeric = np.zeros((B, n))
        for b in range(B):
            for j in range(n):
                nudge = np.zeros((B, n))
                nudge[b, j] = eps
                plus = loss_with_nudged_state(layer, x, t, state, nudge, dout, dstate)
                minus = loss_with_nudged_state(layer, x, t, state, -nudge, dout, dstate)
                numeric[b, j] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grads[t], numeric, rtol=0, atol=1e-8)
    hidden = state_gradients(layer, x, dout, dstate, state, hidden_only=True)
    np.testing.assert_array_equal(hidden, grads[..., :H])


def test_state_gradient_at_step_zero_is_what_backward_returns():
    rng = np.random.default_rng(9)
    layer = RNN(3, 4, "sigmoid", rng=0)
    x, dout = rng.normal(size=(7, 3, 3)), rng.normal(size=(7, 3, 4))
    grads = state_gradients(layer, x, dout)  # zero initial state, no dstate
    layer.forward(x)
    _, dh0 = layer.backward(dout)
    np.testing.assert_allclose(grads[0], dh0, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(grads[-1], dout[-1])  # nothing comes from beyond h_T
    norms = state_gradient_norms(layer, x, dout)
    assert norms.shape == (8,)
    np.testing.assert_allclose(norms, np.linalg.norm(grads.reshape(8, -1), axis=1), rtol=1e-14)


def test_gradients_from_the_end_vanish_at_least_as_fast_as_the_bound():
    # With the loss on h_T only, dL/dh_t = dL/dh_T (dh_T/dh_t), so its norm is at most
    # norm(dL/dh_T) sigma_1^(T - t) for tanh.
    rng = np.random.default_rng(10)
    layer = RNN(2, 16, rng=0)
    layer.params["weight_hh"][...] = random_recurrent_matrix(16, 0.8, rng=1)
    x = rng.normal(size=(40, 8, 2))
    norms = state_gradient_norms(layer, x, dstate=rng.normal(size=(8, 16)))
    bound = norms[-1] * jacobian_norm_bound(layer.params["weight_hh"], np.arange(40, -1, -1))
    assert np.all(norms <= bound * (1 + 1e-10))
    assert norms[0] < 1e-3 * norms[-1]


def test_analysis_leaves_the_layer_gradients_alone():
    rng = np.random.default_rng(11)
    for layer in (RNN(2, 3, rng=0), PairRNN(2, 3, rng=0)):
        x = rng.normal(size=(4, 2, 2))
        out, _ = layer.forward(x)
        layer.backward(np.ones_like(out))
        arrays = dict(layer.grads)  # the layer's own arrays, which an optimiser may hold
        before = {name: g.copy() for name, g in layer.grads.items()}
        state_gradients(layer, x, rng.normal(size=out.shape))
        jacobian_products(layer, x)
        for name, g in layer.grads.items():
            assert g is arrays[name]
            np.testing.assert_array_equal(g, before[name])


def test_float32_layers_work():
    layer = RNN(2, 3, rng=0, dtype=np.float32)
    x = np.random.default_rng(12).normal(size=(4, 2, 2)).astype(np.float32)
    assert jacobian_products(layer, x).dtype == np.float32
    assert state_gradients(layer, x, np.ones((4, 2, 3), np.float32)).dtype == np.float32
    np.testing.assert_allclose(
        jacobian_products(layer, x), rnn_jacobian_products(layer, x), rtol=0, atol=1e-6
    )


def test_bad_inputs_name_the_argument_and_shape():
    layer = RNN(2, 3, rng=0)
    with pytest.raises(ValueError, match=r"\bx\b.*3 axes.*\(T, B, D\).*\(4, 2\)"):
        jacobian_products(layer, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\bx\b.*\(T, B, D\) = \(\?, \?, 2\).*\(\d+, 1, 5\)"):
        state_gradients(layer, np.zeros((4, 1, 5)))  # the layer's own check: D is 2
    with pytest.raises(ValueError, match=r"dout.*\(T, B, H\) = \(4, 1, 3\).*\(4, 3, 1\)"):
        state_gradients(layer, np.zeros((4, 1, 2)), np.zeros((4, 3, 1)))
    with pytest.raises(ValueError, match=r"layer.*recurrent layer.*object.*no forward"):
        jacobian_products(object(), np.zeros((4, 1, 2)))
    with pytest.raises(ValueError, match=r"\bx\b.*at least one step.*\(0, 1, 2\)"):
        jacobian_products(layer, np.zeros((0, 1, 2)))


# --- clipping and the direction of the gradient ----------------------------------------------


def test_norm_clipping_keeps_the_direction_and_value_clipping_turns_it():
    rng = np.random.default_rng(13)
    raw = {"a": rng.normal(size=(4, 5)) * 10, "b": rng.normal(size=7)}
    by_norm = {name: g.copy() for name, g in raw.items()}
    clip_grad_norm(by_norm, 1.0)
    assert gradient_cosine(raw, by_norm) == pytest.approx(1.0, abs=1e-12)
    by_value = {name: g.copy() for name, g in raw.items()}
    clip_grad_value(by_value, 0.5)
    assert gradient_cosine(raw, by_value) < 0.99
    assert gradient_cosine(raw, {n: -g for n, g in raw.items()}) == pytest.approx(-1.0)
    assert gradient_cosine({"a": np.array([1.0, 0.0])}, {"a": np.array([0.0, 2.0])}) == 0.0
    assert np.isnan(gradient_cosine({"a": np.zeros(2)}, {"a": np.ones(2)}))
    with pytest.raises(ValueError, match=r"other.*keys \['a', 'b'\].*missing \['b'\]"):
        gradient_cosine(raw, {"a": raw["a"]})
    with pytest.raises(ValueError, match=r"other\['b'\].*\(7,\).*\(3,\)"):
        gradient_cosine(raw, {"a": raw["a"], "b": np.ones(3)})


def test_docstring_examples():
    failures, tried = doctest.testmod(analysis, verbose=False)
    assert tried > 0 and failures == 0


def test_state_gradients_refuse_a_batch_first_layer():
    layer = RNN(2, 3, rng=0, batch_first=True)
    with pytest.raises(ValueError, match=r"time-major.*batch_first=True"):
        state_gradients(layer, np.zeros((4, 5, 2)))
