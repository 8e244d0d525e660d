"""Tests of tutor.gru: the step functions, the sequence layer, and their input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.analysis import jacobian_products, state_gradients
from tutor.gradcheck import gradcheck
from tutor.gru import GRU, gru_step_backward, gru_step_forward

pytestmark = pytest.mark.filterwarnings("error")  # no overflow or invalid-value warnings

# eps=1e-5 as in the RNN and LSTM tests: truncation error ~eps**2 against rounding ~1e-16 / eps.
small = st.integers(min_value=1, max_value=3)
FEW = settings(max_examples=15, deadline=None)


def step_params(rng, D, H):
    return {
        "weight_ih": rng.normal(size=(3 * H, D)),
        "weight_hh": rng.normal(size=(3 * H, H)) / np.sqrt(H),
        "bias_ih": rng.normal(size=3 * H),
        "bias_hh": rng.normal(size=3 * H),
    }


def run_steps(layer, x, h0):
    """The plain reference: a Python loop over gru_step_forward."""
    hs, caches = [h0], []
    for t in range(len(x)):
        h, cache = gru_step_forward(x[t], hs[-1], **layer.params)
        hs.append(h)
        caches.append(cache)
    return hs, caches


def backprop_steps(layer, caches, dout, dh_T):
    """... and a Python loop over gru_step_backward, from the last step to the first."""
    grads = {name: np.zeros_like(value) for name, value in layer.params.items()}
    dxs, dh = [], dh_T
    for t in reversed(range(len(caches))):
        dx, dh, g = gru_step_backward(
            dout[t] + dh, caches[t], layer.params["weight_ih"], layer.params["weight_hh"]
        )
        dxs.append(dx)
        for name in grads:
            grads[name] += g[name]
    return np.stack(dxs[::-1]), dh, grads


def sigmoid_by_hand(a):
    return 1.0 / (1.0 + np.exp(-a))


# --- the step functions --------------------------------------------------------------------


def test_step_forward_and_backward_by_hand():
    # One unit, one input, weights set by hand; rows: r, z, n.
    x, h_prev = np.array([[2.0]]), np.array([[0.5]])
    w_ih = np.array([[0.5], [-0.25], [1.0]])
    w_hh = np.array([[0.1], [0.2], [-0.6]])
    b_ih, b_hh = np.array([0.2, 1.0, -0.5]), np.array([0.3, -0.4, 0.8])
    r = sigmoid_by_hand(0.5 * 2 + 0.2 + 0.1 * 0.5 + 0.3)  # sigmoid(1.55)
    z = sigmoid_by_hand(-0.25 * 2 + 1.0 + 0.2 * 0.5 - 0.4)  # sigmoid(0.2)
    hn = -0.6 * 0.5 + 0.8  # the recurrent part of n, bias included: 0.5
    n = np.tanh(1.0 * 2 - 0.5 + r * hn)
    h_expected = (1 - z) * n + z * 0.5
    h, cache = gru_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh)
    assert h.shape == (1, 1)
    assert h[0, 0] == pytest.approx(h_expected, abs=1e-15)
    for name, value in {"r": r, "z": z, "n": n, "hn": hn}.items():
        assert cache[name][0, 0] == pytest.approx(value, abs=1e-15), name
    # Backward by hand, with dL/dh = 1.
    da_n = (1 - z) * (1 - n**2)
    da_z = (0.5 - n) * z * (1 - z)
    da_r = da_n * hn * r * (1 - r)
    dhn = da_n * r
    dx, dh_prev, grads = gru_step_backward(np.ones((1, 1)), cache, w_ih, w_hh)
    assert dx[0, 0] == pytest.approx(0.5 * da_r - 0.25 * da_z + 1.0 * da_n, abs=1e-15)
    assert dh_prev[0, 0] == pytest.approx(z + 0.1 * da_r + 0.2 * da_z - 0.6 * dhn, abs=1e-15)
    np.testing.assert_allclose(grads["weight_ih"][:, 0], 2.0 * np.array([da_r, da_z, da_n]))
    np.testing.assert_allclose(grads["weight_hh"][:, 0], 0.5 * np.array([da_r, da_z, dhn]))
    np.testing.assert_allclose(grads["bias_ih"], [da_r, da_z, da_n], rtol=0, atol=1e-15)
    np.testing.assert_allclose(grads["bias_hh"], [da_r, da_z, dhn], rtol=0, atol=1e-15)


def test_step_reset_gate_multiplies_the_recurrent_bias():
    # PyTorch's form: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). With the reset gate
    # shut (r = 0) the candidate ignores b_hn entirely, but not b_in; open, it sees both.
    x, h_prev = np.zeros((1, 1)), np.ones((1, 1))
    w_ih, w_hh = np.zeros((3, 1)), np.zeros((3, 1))
    b_hh = np.array([0.0, 0.0, 0.7])
    for reset, expected in [(-800.0, np.tanh(0.2)), (800.0, np.tanh(0.2 + 0.7))]:
        b_ih = np.array([reset, 0.0, 0.2])
        _, cache = gru_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh)
        assert cache["n"][0, 0] == pytest.approx(expected, abs=1e-15)


def test_step_update_gate_keeps_or_replaces_the_state():
    # z = 1 copies h_prev; z = 0 replaces it by the candidate (PyTorch's convention).
    x, h_prev = np.ones((2, 1)), np.array([[0.3, -0.9], [0.1, 0.4]])
    w_ih, w_hh = np.full((6, 1), 0.5), np.full((6, 2), -0.2)
    for update, keep in [(800.0, True), (-800.0, False)]:
        b_ih = np.array([0.0, 0.0, update, update, 0.0, 0.0])
        h, cache = gru_step_forward(x, h_prev, w_ih, w_hh, b_ih, np.zeros(6))
        np.testing.assert_array_equal(h, h_prev if keep else cache["n"])


def test_step_takes_hand_set_weights_as_lists():
    # For a reader trying numbers: nested lists of floats work like arrays.
    args = ([[1.0]], [[0.5]], [[0.5], [-0.25], [1.0]], [[0.1], [0.2], [-0.6]])
    biases = ([0.2, 1.0, -0.5], [0.3, -0.4, 0.8])
    h, cache = gru_step_forward(*args, *biases)
    h_ref, _ = gru_step_forward(*map(np.array, args), *map(np.array, biases))
    np.testing.assert_array_equal(h, h_ref)
    dx, dh_prev, grads = gru_step_backward([[1.0]], cache, args[2], args[3])
    assert dx.shape == dh_prev.shape == (1, 1) and grads["weight_hh"].shape == (3, 1)


@FEW
@given(B=small, D=small, H=small, seed=st.integers(0, 2**16))
def test_step_backward_gradcheck(B, D, H, seed):
    rng = np.random.default_rng(seed)
    p = step_params(rng, D, H)
    x, h_prev, R = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss():
        return np.sum(gru_step_forward(x, h_prev, **p)[0] * R)

    _, cache = gru_step_forward(x, h_prev, **p)
    dx, dh_prev, grads = gru_step_backward(R, cache, p["weight_ih"], p["weight_hh"])
    errors = gradcheck(
        loss, {**p, "x": x, "h_prev": h_prev}, {**grads, "x": dx, "h_prev": dh_prev}, eps=1e-5
    )
    assert max(errors.values()) < 1e-6, errors


def test_step_shape_errors():
    rng = np.random.default_rng(0)
    p = step_params(rng, 3, 4)
    w_ih, w_hh, b_ih, b_hh = p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
    x, h = np.ones((2, 3)), np.ones((2, 4))
    with pytest.raises(ValueError, match=r"x.*\(B, D\) = \(\?, 3\).*x\[None, :\]"):
        gru_step_forward(np.ones(3), np.ones((1, 4)), **p)
    with pytest.raises(ValueError, match=r"h_prev.*\(B, H\) = \(2, 4\).*\(1, 4\)"):
        gru_step_forward(x, np.ones((1, 4)), **p)
    with pytest.raises(
        ValueError,
        match=r"weight_ih.*3\*H rows.*\(r, z, n\).*\(8, 3\)",
    ):
        gru_step_forward(x, h, w_ih[:8], w_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"weight_hh.*\(3\*H, H\) = \(12, 4\).*\(4, 12\)"):
        gru_step_forward(x, h, w_ih, w_hh.T, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"bias_hh.*\(3\*H,\) = \(12,\).*\(4,\)"):
        gru_step_forward(x, h, w_ih, w_hh, b_ih, np.ones(4))
    with pytest.raises(ValueError, match=r"bias_ih.*floating-point.*int64"):
        gru_step_forward(x, h, w_ih, w_hh, np.ones(12, dtype=int), b_hh)
    _, cache = gru_step_forward(x, h, **p)
    with pytest.raises(ValueError, match=r"dh.*\(B, H\) = \(2, 4\).*\(2, 3\)"):
        gru_step_backward(np.ones((2, 3)), cache, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"cache.*dict.*gru_step_forward"):
        gru_step_backward(h, (1, 2), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"cache.*keys.*missing \['hn'\]"):
        gru_step_backward(h, {k: v for k, v in cache.items() if k != "hn"}, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"cache\['x'\].*\(B, D\) = \(2, 5\).*\(2, 3\)"):
        gru_step_backward(h, cache, np.ones((12, 5)), w_hh)


# --- the sequence layer ----------------------------------------------------------------------


def test_gradcheck_with_a_loss_on_the_last_state_only():
    # dout=None and a dstate: the gradient enters at h_T only, as in truncated BPTT.
    rng = np.random.default_rng(3)
    layer = GRU(2, 3, rng=1, update_bias=1.5)
    x, h0, S = rng.normal(size=(6, 2, 2)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))

    def loss():
        return np.sum(layer.forward(x, h0)[1] * S)

    loss()
    dx, dh0 = layer.backward(None, dstate=S)
    errors = gradcheck(
        loss, {**layer.params, "x": x, "h0": h0}, {**layer.grads, "x": dx, "h0": dh0}, eps=1e-5
    )
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 3, 2, 4), (6, 1, 3, 2), (9, 4, 5, 7)])
def test_sequence_layer_equals_step_loop(shape):
    T, B, D, H = shape
    rng = np.random.default_rng(1)
    layer = GRU(D, H, rng=2, update_bias=1.0)
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    dout, dh_T = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))

    out, h_T = layer.forward(x, h0)
    dx, dh0 = layer.backward(dout, dh_T)

    hs, caches = run_steps(layer, x, h0)
    np.testing.assert_allclose(out, np.stack(hs[1:]), rtol=0, atol=1e-13)
    np.testing.assert_array_equal(h_T, out[-1])
    ref_dx, ref_dh0, ref_grads = backprop_steps(layer, caches, dout, dh_T)
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, ref_dh0, rtol=0, atol=1e-12)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(layer.grads[name], g, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_update_bias_is_added_to_the_update_block_of_bias_ih(dtype):
    H = 4
    plain, biased = GRU(3, H, rng=7, dtype=dtype), GRU(3, H, rng=7, dtype=dtype, update_bias=3)
    assert biased.params["bias_ih"].dtype == dtype
    difference = biased.params["bias_ih"] - plain.params["bias_ih"]
    np.testing.assert_allclose(difference[H : 2 * H], 3.0, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(difference[:H], 0.0)
    np.testing.assert_array_equal(difference[2 * H :], 0.0)
    for name in ["weight_ih", "weight_hh", "bias_hh"]:
        np.testing.assert_array_equal(biased.params[name], plain.params[name])
    # From zero inputs and state, z = sigmoid(3 + b_iz + b_hz) >= sigmoid(2) = 0.88, since
    # each bias is at most 1 / sqrt(H) = 0.5 in size: each unit starts out keeping its state.
    zeros_x, zeros_h = np.zeros((1, 3), dtype=dtype), np.zeros((1, H), dtype=dtype)
    _, cache = gru_step_forward(zeros_x, zeros_h, **biased.params)
    assert np.all(cache["z"] >= 0.88)
    _, cache = gru_step_forward(zeros_x, zeros_h, **plain.params)
    assert np.all(cache["z"] <= 1 - 0.26)  # sigmoid(1) = 0.73 at most without the bias


def test_kept_memory_is_gates_and_states():
    # What forward keeps for backward: the gates (3, T, B, H), hn (T, B, H), h_0..h_T.
    T, B, D, H = 7, 3, 2, 5
    layer = GRU(D, H, rng=0)
    x = np.zeros((T, B, D))
    layer.forward(x)
    kept, gates, hn, states = layer._cache
    assert kept is x
    assert gates.shape == (3, T, B, H) and hn.shape == (T, B, H) and states.shape == (T + 1, B, H)


def test_repr():
    assert repr(GRU(3, 4, rng=0, dtype=np.float32, update_bias=3)) == (
        "GRU(input_size=3, hidden_size=4, update_bias=3.0, dtype=np.float32)"
    )


# --- the messages a reader gets ---------------------------------------------------------------


def test_bad_construction_and_params():
    with pytest.raises(TypeError, match="rng"):
        GRU(3, 4)
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        GRU(3, 4, rng=None)
    with pytest.raises(ValueError, match=r"hidden_size.*positive int.*0"):
        GRU(3, 0, rng=0)
    with pytest.raises(ValueError, match=r"dtype.*float64.*float32.*float16"):
        GRU(3, 4, rng=0, dtype=np.float16)
    with pytest.raises(ValueError, match=r"update_bias.*finite.*nan"):
        GRU(3, 4, rng=0, update_bias=float("nan"))
    with pytest.raises(ValueError, match=r"update_bias.*finite.*True"):
        GRU(3, 4, rng=0, update_bias=True)
    with pytest.raises(ValueError, match=r"update_bias.*finite.*'3'"):
        GRU(3, 4, rng=0, update_bias="3")
    layer = GRU(3, 4, rng=0)
    layer.params["weight_hh"] = layer.params["weight_hh"].T.copy()  # a transposed copy-in
    with pytest.raises(
        ValueError,
        match=r"params\['weight_hh'\].*\(3\*H, H\) = \(12, 4\).*\(4, 12\)",
    ):
        layer.forward(np.zeros((5, 2, 3)))


# --- with truncated BPTT and the analysis of gradient flow -----------------------------------


def test_jacobian_products_match_finite_differences():
    # The generic analysis drives the GRU through forward and backward only; check its
    # Jacobians dh_T/dh_t against central differences of h_T in h_t.
    rng = np.random.default_rng(0)
    T, B, D, H = 4, 2, 3, 3
    layer = GRU(D, H, rng=1, update_bias=1.0)
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    jac = jacobian_products(layer, x, h0)
    assert jac.shape == (T + 1, B, H, H)
    np.testing.assert_array_equal(jac[0], np.broadcast_to(np.eye(H), (B, H, H)))
    np.testing.assert_array_equal(jacobian_products(layer, x, h0, hidden_only=True), jac)
    out, _ = layer.forward(x, h0)
    states = [h0, *np.array(out)]
    eps = 1e-6
    for k in (1, T):
        t = T - k
        numeric = np.empty((B, H, H))
        for j in range(H):
            nudge = np.zeros((B, H))
            nudge[:, j] = eps
            _, plus = layer.forward(x[t:], states[t] + nudge)
            plus = plus.copy()
            _, minus = layer.forward(x[t:], states[t] - nudge)
            numeric[:, :, j] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(jac[k], numeric, rtol=0, atol=1e-8)
    # The state gradients agree with the layer's own backward pass.
    dout, dh_T = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))
    grads = state_gradients(layer, x, dout, dh_T, h0)
    layer.forward(x, h0)
    _, dh0 = layer.backward(dout, dh_T)
    np.testing.assert_allclose(grads[0], dh0, rtol=0, atol=1e-13)
