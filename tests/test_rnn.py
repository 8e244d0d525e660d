"""Tests of tutor.rnn: the step functions, the sequence layer, and their input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.gradcheck import gradcheck
from tutor.rnn import RNN, rnn_step_backward, rnn_step_forward

NONLINEARITIES = ["tanh", "sigmoid"]
# eps=1e-5 balances the truncation error of central differences (~eps**2) against
# rounding (~1e-16 / eps); over 600 random cases the worst relative error was 2e-8.
small = st.integers(min_value=1, max_value=4)


def step_params(rng, D, H):
    return {
        "weight_ih": rng.normal(size=(H, D)),
        "weight_hh": rng.normal(size=(H, H)) / np.sqrt(H),
        "bias_ih": rng.normal(size=H),
        "bias_hh": rng.normal(size=H),
    }


def run_steps(layer, x, h0):
    """The plain reference: a Python loop over rnn_step_forward, then rnn_step_backward."""
    p, hs = layer.params, [h0]
    for t in range(len(x)):
        h, _ = rnn_step_forward(x[t], hs[-1], **p, nonlinearity=layer.nonlinearity)
        hs.append(h)
    return hs


def backprop_steps(layer, x, hs, dout, dstate):
    p = layer.params
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    dxs, dh = [], dstate
    for t in reversed(range(len(x))):
        W_ih, W_hh = p["weight_ih"], p["weight_hh"]
        cache = {"x": x[t], "h_prev": hs[t], "h": hs[t + 1]}
        dx, dh, g = rnn_step_backward(dout[t] + dh, cache, W_ih, W_hh, layer.nonlinearity)
        dxs.append(dx)
        for name in grads:
            grads[name] += g[name]
    return np.stack(dxs[::-1]), dh, grads


# --- the step functions --------------------------------------------------------------------


def test_step_forward_by_hand():
    # One unit, one input: h = phi(2 * 0.5 + 0.1 + 0.3 * (-1) + 0.2) = phi(1.0).
    x, h_prev, w_ih, w_hh = np.array([[2.0]]), np.array([[0.3]]), np.array([[0.5]]), -np.eye(1)
    b_ih, b_hh = np.array([0.1]), np.array([0.2])
    h, _ = rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="sigmoid")
    assert h[0, 0] == pytest.approx(1 / (1 + np.exp(-1.0)), abs=1e-15)
    h, cache = rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh)
    assert h.shape == (1, 1)
    assert h[0, 0] == pytest.approx(np.tanh(1.0), abs=1e-15)
    assert cache["x"] is x and cache["h_prev"] is h_prev and cache["h"] is h
    # Backward by hand, for tanh: da = dh * (1 - h**2), dW_ih = da * x, dh_prev = da * w_hh.
    dx, dh_prev, grads = rnn_step_backward(np.ones((1, 1)), cache, w_ih, w_hh)
    da = 1 - np.tanh(1.0) ** 2
    assert dx[0, 0] == pytest.approx(da * 0.5, abs=1e-15)
    assert dh_prev[0, 0] == pytest.approx(-da, abs=1e-15)
    assert grads["weight_ih"][0, 0] == pytest.approx(da * 2.0, abs=1e-15)
    assert grads["weight_hh"][0, 0] == pytest.approx(da * 0.3, abs=1e-15)
    assert grads["bias_ih"][0] == grads["bias_hh"][0] == pytest.approx(da, abs=1e-15)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@settings(max_examples=20, deadline=None)
@given(B=small, D=small, H=small, seed=st.integers(0, 2**16))
def test_step_backward_gradcheck(nonlinearity, B, D, H, seed):
    rng = np.random.default_rng(seed)
    p = step_params(rng, D, H)
    x, h_prev, R = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss():
        return np.sum(rnn_step_forward(x, h_prev, **p, nonlinearity=nonlinearity)[0] * R)

    _, cache = rnn_step_forward(x, h_prev, **p, nonlinearity=nonlinearity)
    dx, dh_prev, grads = rnn_step_backward(R, cache, p["weight_ih"], p["weight_hh"], nonlinearity)
    errors = gradcheck(
        loss, {**p, "x": x, "h_prev": h_prev}, {**grads, "x": dx, "h_prev": dh_prev}, eps=1e-5
    )
    assert max(errors.values()) < 1e-6, errors


def test_step_shape_errors():
    rng = np.random.default_rng(0)
    p = step_params(rng, 3, 4)
    with pytest.raises(ValueError, match=r"x.*\(B, D\) = \(\?, 3\).*x\[None, :\]"):
        rnn_step_forward(np.ones(3), np.ones((1, 4)), **p)
    with pytest.raises(ValueError, match=r"h_prev.*\(B, H\) = \(2, 4\).*\(1, 4\)"):
        rnn_step_forward(np.ones((2, 3)), np.ones((1, 4)), **p)
    with pytest.raises(ValueError, match=r"weight_hh.*\(H, H\) = \(4, 4\).*\(4, 3\)"):
        rnn_step_forward(
            np.ones((2, 3)),
            np.ones((2, 4)),
            p["weight_ih"],
            p["weight_ih"],
            p["bias_ih"],
            p["bias_hh"],
        )
    with pytest.raises(ValueError, match=r"bias_hh.*\(H,\) = \(4,\).*\(3,\)"):
        rnn_step_forward(
            np.ones((2, 3)),
            np.ones((2, 4)),
            p["weight_ih"],
            p["weight_hh"],
            p["bias_ih"],
            np.ones(3),
        )
    with pytest.raises(ValueError, match=r"dh.*\(B, H\) = \(2, 4\).*\(2, 3\)"):
        cache = {"x": np.ones((2, 3)), "h_prev": np.ones((2, 4)), "h": np.ones((2, 4))}
        rnn_step_backward(np.ones((2, 3)), cache, p["weight_ih"], p["weight_hh"])
    with pytest.raises(ValueError, match="nonlinearity.*'tanh'.*'sigmoid'.*'relu'"):
        rnn_step_forward(np.ones((2, 3)), np.ones((2, 4)), **p, nonlinearity="relu")


# --- the sequence layer ----------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 3, 2, 4), (6, 1, 3, 2), (9, 4, 5, 7)])
def test_sequence_layer_equals_step_loop(nonlinearity, shape):
    T, B, D, H = shape
    rng = np.random.default_rng(1)
    layer = RNN(D, H, nonlinearity, rng=2)
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    dout, dstate = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))

    out, h_T = layer.forward(x, h0)
    dx, dh0 = layer.backward(dout, dstate)

    hs = run_steps(layer, x, h0)
    np.testing.assert_allclose(out, np.stack(hs[1:]), rtol=0, atol=1e-13)
    np.testing.assert_array_equal(h_T, out[-1])
    ref_dx, ref_dh0, ref_grads = backprop_steps(layer, x, hs, dout, dstate)
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, ref_dh0, rtol=0, atol=1e-12)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(layer.grads[name], g, rtol=0, atol=1e-12, err_msg=name)


def test_repr():
    assert repr(RNN(3, 4, "sigmoid", rng=0, dtype=np.float32)) == (
        "RNN(input_size=3, hidden_size=4, nonlinearity='sigmoid', dtype=np.float32)"
    )


# --- the messages a reader gets ---------------------------------------------------------------


def test_single_sequence_of_numbers_hint():
    with pytest.raises(ValueError, match=r"x\[:, None, None\]"):
        RNN(1, 4, rng=0).forward(np.zeros(5))


def test_single_sequence_state_hint():
    with pytest.raises(ValueError, match=r"pass state\[None, :\]"):
        RNN(3, 4, rng=0).forward(np.zeros((5, 1, 3)), np.zeros(4))


def test_bad_construction_and_params():
    with pytest.raises(TypeError, match="rng"):
        RNN(3, 4)
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        RNN(3, 4, rng=None)
    with pytest.raises(ValueError, match=r"hidden_size.*positive int.*0"):
        RNN(3, 0, rng=0)
    with pytest.raises(ValueError, match=r"input_size.*positive int.*2.5"):
        RNN(2.5, 4, rng=0)
    with pytest.raises(ValueError, match=r"nonlinearity.*'tanh'.*'sigmoid'.*'relu'"):
        RNN(3, 4, "relu", rng=0)
    with pytest.raises(ValueError, match=r"dtype.*float64.*float32.*float16"):
        RNN(3, 4, rng=0, dtype=np.float16)
    layer = RNN(3, 4, rng=0)
    layer.params["weight_ih"] = layer.params["weight_ih"].T.copy()  # a transposed copy-in
    with pytest.raises(
        ValueError,
        match=r"params\['weight_ih'\].*\(H, D\) = "
        r"\(4, 3\).*\(3, 4\)",
    ):
        layer.forward(np.zeros((5, 2, 3)))
