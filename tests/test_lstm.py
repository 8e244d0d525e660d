"""Tests of tutor.lstm: the step functions, the sequence layer, and their input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.gradcheck import gradcheck
from tutor.lstm import LSTM, lstm_step_backward, lstm_step_forward

pytestmark = pytest.mark.filterwarnings("error")  # no overflow or invalid-value warnings

# eps=1e-5 as in the RNN tests: truncation error ~eps**2 against rounding ~1e-16 / eps.
small = st.integers(min_value=1, max_value=3)
FEW = settings(max_examples=15, deadline=None)
NAMES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def step_params(rng, D, H):
    return {
        "weight_ih": rng.normal(size=(4 * H, D)),
        "weight_hh": rng.normal(size=(4 * H, H)) / np.sqrt(H),
        "bias_ih": rng.normal(size=4 * H),
        "bias_hh": rng.normal(size=4 * H),
    }


def run_steps(layer, x, h0, c0):
    """The plain reference: a Python loop over lstm_step_forward."""
    hs, cs, caches = [h0], [c0], []
    for t in range(len(x)):
        (h, c), cache = lstm_step_forward(
            x[t], (hs[-1], cs[-1]), **layer.params, forget_gate=layer.forget_gate
        )
        hs.append(h)
        cs.append(c)
        caches.append(cache)
    return hs, cs, caches


def backprop_steps(layer, caches, dout, dh_T, dc_T):
    """... and a Python loop over lstm_step_backward, from the last step to the first."""
    grads = {name: np.zeros_like(value) for name, value in layer.params.items()}
    dxs, dh, dc = [], dh_T, dc_T
    for t in reversed(range(len(caches))):
        dx, (dh, dc), g = lstm_step_backward(
            (dout[t] + dh, dc), caches[t], layer.params["weight_ih"], layer.params["weight_hh"]
        )
        dxs.append(dx)
        for name in grads:
            grads[name] += g[name]
    return np.stack(dxs[::-1]), dh, dc, grads


def sigmoid_by_hand(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- the step functions --------------------------------------------------------------------


def test_step_forward_and_backward_by_hand():
    # One unit, one input; the gates' pre-activations are chosen through the biases
    # (bias_hh = 0): a_i = 0.5 * 2 + 0.1 * 0.3 + 0.2, a_f = ... as computed below.
    x, h_prev, c_prev = np.array([[2.0]]), np.array([[0.3]]), np.array([[-0.7]])
    w_ih = np.array([[0.5], [-0.25], [1.0], [0.1]])  # rows: i, f, g, o
    w_hh = np.array([[0.1], [0.2], [-0.3], [0.4]])
    b_ih, b_hh = np.array([0.2, 1.0, -0.5, 0.0]), np.zeros(4)
    a = 2.0 * w_ih[:, 0] + 0.3 * w_hh[:, 0] + b_ih  # [1.23, 0.56, 1.41, 0.32]
    i, f, g, o = sigmoid_by_hand(a[0]), sigmoid_by_hand(a[1]), np.tanh(a[2]), sigmoid_by_hand(a[3])
    c = f * -0.7 + i * g
    (h, c_new), cache = lstm_step_forward(x, (h_prev, c_prev), w_ih, w_hh, b_ih, b_hh)
    assert h.shape == c_new.shape == (1, 1)
    assert c_new[0, 0] == pytest.approx(c, abs=1e-15)
    assert h[0, 0] == pytest.approx(o * np.tanh(c), abs=1e-15)
    assert [cache[k][0, 0] for k in "ifgo"] == pytest.approx([i, f, g, o], abs=1e-15)

    # Backward by hand, with dh = 1 and dc = 2 arriving from later steps.
    dx, (dh_prev, dc_prev), grads = lstm_step_backward(
        (np.ones((1, 1)), np.full((1, 1), 2.0)), cache, w_ih, w_hh
    )
    dc_total = 2.0 + o * (1 - np.tanh(c) ** 2)
    assert dc_prev[0, 0] == pytest.approx(dc_total * f, abs=1e-15)  # the cell-state path
    da = np.array(
        [
            dc_total * g * i * (1 - i),
            dc_total * -0.7 * f * (1 - f),
            dc_total * i * (1 - g**2),
            np.tanh(c) * o * (1 - o),
        ]
    )
    np.testing.assert_allclose(grads["bias_ih"], da, rtol=0, atol=1e-15)
    np.testing.assert_allclose(grads["bias_hh"], da, rtol=0, atol=1e-15)
    np.testing.assert_allclose(grads["weight_ih"][:, 0], 2.0 * da, rtol=0, atol=1e-15)
    np.testing.assert_allclose(grads["weight_hh"][:, 0], 0.3 * da, rtol=0, atol=1e-15)
    assert dx[0, 0] == pytest.approx(da @ w_ih[:, 0], abs=1e-15)
    assert dh_prev[0, 0] == pytest.approx(da @ w_hh[:, 0], abs=1e-15)


def test_step_without_forget_gate():
    rng = np.random.default_rng(0)
    p = step_params(rng, 3, 4)
    x, h_prev, c_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    (h, c), cache = lstm_step_forward(x, (h_prev, c_prev), **p, forget_gate=False)
    np.testing.assert_array_equal(cache["f"], 1.0)
    np.testing.assert_array_equal(c, c_prev + cache["i"] * cache["g"])
    dstate = (rng.normal(size=(2, 4)), rng.normal(size=(2, 4)))
    dx, (dh_prev, dc_prev), grads = lstm_step_backward(
        dstate, cache, p["weight_ih"], p["weight_hh"]
    )
    for name in NAMES:
        np.testing.assert_array_equal(grads[name][4:8], 0.0)  # the forget gate's rows


@pytest.mark.parametrize("forget_gate", [True, False])
@FEW
@given(B=small, D=small, H=small, seed=st.integers(0, 2**16))
def test_step_backward_gradcheck(forget_gate, B, D, H, seed):
    rng = np.random.default_rng(seed)
    p = step_params(rng, D, H)
    x, h_prev, c_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    R, S = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss():  # a loss on the new hidden state and on the new cell state
        (h, c), _ = lstm_step_forward(x, (h_prev, c_prev), **p, forget_gate=forget_gate)
        return np.sum(h * R) + np.sum(c * S)

    _, cache = lstm_step_forward(x, (h_prev, c_prev), **p, forget_gate=forget_gate)
    dx, (dh_prev, dc_prev), grads = lstm_step_backward(
        (R, S), cache, p["weight_ih"], p["weight_hh"]
    )
    errors = gradcheck(
        loss,
        {**p, "x": x, "h_prev": h_prev, "c_prev": c_prev},
        {**grads, "x": dx, "h_prev": dh_prev, "c_prev": dc_prev},
        eps=1e-5,
    )
    assert max(errors.values()) < 1e-6, errors


def test_step_shape_errors():
    rng = np.random.default_rng(0)
    p = step_params(rng, 3, 4)
    x, h, c = np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4))
    with pytest.raises(ValueError, match=r"x.*\(B, D\) = \(\?, 3\).*x\[None, :\]"):
        lstm_step_forward(np.ones(3), (h[:1], c[:1]), **p)
    with pytest.raises(ValueError, match=r"state\[0\].*\(B, H\) = \(2, 4\).*\(1, 4\)"):
        lstm_step_forward(x, (np.ones((1, 4)), c), **p)
    with pytest.raises(ValueError, match=r"state\[1\].*\(B, H\) = \(2, 4\).*\(2, 3\)"):
        lstm_step_forward(x, (h, np.ones((2, 3))), **p)
    with pytest.raises(ValueError, match=r"state.*pair \(h, c\).*shape \(2, 4\)"):
        lstm_step_forward(x, h, **p)
    with pytest.raises(ValueError, match=r"weight_ih.*4\*H rows.*\(6, 3\)"):
        lstm_step_forward(x, (h, c), **{**p, "weight_ih": np.ones((6, 3))})
    with pytest.raises(ValueError, match=r"weight_hh.*\(4\*H, H\) = \(16, 4\).*\(4, 16\)"):
        lstm_step_forward(x, (h, c), **{**p, "weight_hh": p["weight_hh"].T})
    with pytest.raises(ValueError, match=r"bias_hh.*\(4\*H,\) = \(16,\).*\(4,\)"):
        lstm_step_forward(x, (h, c), **{**p, "bias_hh": np.ones(4)})
    _, cache = lstm_step_forward(x, (h, c), **p)
    with pytest.raises(ValueError, match=r"dstate\[1\].*\(B, H\) = \(2, 4\).*\(4, 2\)"):
        lstm_step_backward((h, np.ones((4, 2))), cache, p["weight_ih"], p["weight_hh"])
    with pytest.raises(ValueError, match=r"cache.*keys.*missing \['c'\]"):
        lstm_step_backward(
            (h, c), {k: v for k, v in cache.items() if k != "c"}, p["weight_ih"], p["weight_hh"]
        )
    with pytest.raises(ValueError, match=r"cache.*dict.*lstm_step_forward"):
        lstm_step_backward((h, c), (h, c), p["weight_ih"], p["weight_hh"])


# --- the sequence layer ----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["h", "c"])
def test_gradcheck_with_a_loss_on_one_half_of_the_last_state(which):
    # dstate = (S, None) or (None, Q): the missing half is zeros.
    rng = np.random.default_rng(3)
    layer = LSTM(2, 3, rng=4)
    x, S = rng.normal(size=(4, 2, 2)), rng.normal(size=(2, 3))

    def loss():
        _, (h_T, c_T) = layer.forward(x)
        return np.sum((h_T if which == "h" else c_T) * S)

    loss()
    dx, (dh0, dc0) = layer.backward(None, (S, None) if which == "h" else (None, S))
    assert dh0.shape == dc0.shape == (2, 3)
    errors = gradcheck(loss, {**layer.params, "x": x}, {**layer.grads, "x": dx})
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("forget_gate", [True, False])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 3, 2, 4), (6, 1, 3, 2), (9, 4, 5, 7)])
def test_sequence_layer_equals_step_loop(forget_gate, shape):
    T, B, D, H = shape
    rng = np.random.default_rng(1)
    layer = LSTM(D, H, rng=2, forget_gate=forget_gate)
    x, h0, c0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    dout = rng.normal(size=(T, B, H))
    dh_T, dc_T = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    out, (h_T, c_T) = layer.forward(x, (h0, c0))
    dx, (dh0, dc0) = layer.backward(dout, (dh_T, dc_T))

    hs, cs, caches = run_steps(layer, x, h0, c0)
    np.testing.assert_allclose(out, np.stack(hs[1:]), rtol=0, atol=1e-13)
    np.testing.assert_array_equal(h_T, out[-1])
    np.testing.assert_allclose(c_T, cs[-1], rtol=0, atol=1e-13)
    ref_dx, ref_dh0, ref_dc0, ref_grads = backprop_steps(layer, caches, dout, dh_T, dc_T)
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, ref_dh0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc0, ref_dc0, rtol=0, atol=1e-12)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(layer.grads[name], g, rtol=0, atol=1e-12, err_msg=name)


def test_default_state_and_gradients_are_zeros():
    rng = np.random.default_rng(0)
    layer = LSTM(3, 4, rng=0)
    x, dout = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, 4))
    zeros = np.zeros((2, 4))
    out, _ = layer.forward(x)
    for state in [(zeros, zeros), (None, None), (zeros, None), [None, zeros]]:
        np.testing.assert_array_equal(layer.forward(x, state)[0], out)
    results = [layer.backward(dout, dstate) for dstate in [None, (zeros, zeros), (None, zeros)]]
    for dx, (dh0, dc0) in results[1:]:
        np.testing.assert_array_equal(dx, results[0][0])
        np.testing.assert_array_equal(dh0, results[0][1][0])
        np.testing.assert_array_equal(dc0, results[0][1][1])
    # dout=None: the loss is on the last state only.
    ones = np.ones((2, 4))
    dx_c, _ = layer.backward(None, dstate=(ones, None))
    dout_last = np.zeros((5, 2, 4))
    dout_last[-1] = 1.0
    dx_d, _ = layer.backward(dout_last)
    np.testing.assert_array_equal(dx_c, dx_d)


def test_forget_bias_is_added_to_the_forget_block_of_bias_ih():
    plain, biased = LSTM(3, 4, rng=0), LSTM(3, 4, rng=0, forget_bias=1.0)
    for name in NAMES:
        difference = biased.params[name] - plain.params[name]
        expected = np.zeros_like(difference)
        if name == "bias_ih":
            expected[4:8] = 1.0  # rows H:2H, the forget gate
        np.testing.assert_allclose(difference, expected, rtol=0, atol=1e-15, err_msg=name)
    # At the start, the forget gate is then about sigmoid(1) = 0.73 instead of 0.5.
    _, cache = lstm_step_forward(
        np.zeros((1, 3)), (np.zeros((1, 4)), np.zeros((1, 4))), **biased.params
    )
    assert 0.6 < cache["f"].mean() < 0.85


# --- the 1997 cell, without a forget gate -----------------------------------------------------


def test_without_forget_gate_the_rows_are_zero_and_unused():
    rng = np.random.default_rng(0)
    layer = LSTM(3, 4, rng=0, forget_gate=False)
    with_gate = LSTM(3, 4, rng=0)
    for name in NAMES:  # the same draws as with a forget gate, with the f rows set to zero
        np.testing.assert_array_equal(layer.params[name][4:8], 0.0)
        np.testing.assert_array_equal(layer.params[name][:4], with_gate.params[name][:4])
        np.testing.assert_array_equal(layer.params[name][8:], with_gate.params[name][8:])
    x, h0, c0 = rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    out, (h_T, c_T) = layer.forward(x, (h0, c0))
    layer.backward(np.ones_like(out), (np.ones_like(h_T), np.ones_like(c_T)))
    for name in NAMES:
        np.testing.assert_array_equal(layer.grads[name][4:8], 0.0)
    # Pinned, not just a large bias: whatever the f rows hold (even NaN), nothing changes.
    for fill in [50.0, -50.0, np.nan]:
        for name in NAMES:
            layer.params[name][4:8] = fill
        again, (_, c_again) = layer.forward(x, (h0, c0))
        np.testing.assert_array_equal(again, out)
        np.testing.assert_array_equal(c_again, c_T)


def test_without_forget_gate_the_cell_accumulates_without_decay():
    # All weights zero; the biases make i = 1 and g = tanh(0.5) at every step. The 1997 cell
    # adds the same amount at every step, c_t = c_0 + t * tanh(0.5), and grows without bound;
    # with a forget gate (f = sigmoid(0) = 0.5) the cell settles at 2 * tanh(0.5) instead.
    T, H = 50, 3
    c0 = np.full((1, H), 0.25)
    cells = {}
    for forget_gate in [False, True]:
        layer = LSTM(2, H, rng=0, forget_gate=forget_gate)
        for p in layer.params.values():
            p[...] = 0.0
        layer.params["bias_ih"][:H] = 40.0  # i = sigmoid(40) = 1 to 4e-18: exactly 1 in float64
        layer.params["bias_ih"][2 * H : 3 * H] = 0.5
        layer.forward(np.zeros((T, 1, 2)), (None, c0))
        cells[forget_gate] = np.array(layer._cache[2][:, 0, 0])  # c_0, ..., c_T
    steps = np.arange(T + 1)
    np.testing.assert_allclose(cells[False], 0.25 + steps * np.tanh(0.5), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cells[True][-1], 2 * np.tanh(0.5), rtol=1e-12)
    # The constant error carousel: along the cell-state path (here the only path, since
    # weight_hh = 0 keeps h from feeding back), the gradient of c_T reaches c_0 undiminished
    # through 50 steps. With a forget gate it is multiplied by f at every step and vanishes.
    x = np.random.default_rng(0).normal(size=(T, 1, 2))
    dc0 = {}
    for forget_gate in [False, True]:
        layer = LSTM(2, H, rng=0, forget_gate=forget_gate)
        layer.params["weight_hh"][...] = 0.0
        layer.forward(x)
        _, (_, dc0[forget_gate]) = layer.backward(None, (None, np.ones((1, H))))
    np.testing.assert_array_equal(dc0[False], 1.0)
    assert np.all(dc0[True] < 1e-6)


# --- dtypes and ownership ----------------------------------------------------------------------


def test_kept_memory_is_gates_and_states():
    # What forward keeps for backward: the gates (T, B, 4H) and c_0..c_T and h_0..h_T.
    T, B, D, H = 7, 3, 2, 5
    layer = LSTM(D, H, rng=0)
    x = np.zeros((T, B, D))
    layer.forward(x)
    kept, gates, cells, states = layer._cache
    assert kept is x
    assert gates.shape == (T, B, 4 * H) and cells.shape == states.shape == (T + 1, B, H)


def test_repr():
    assert repr(LSTM(3, 4, rng=0, dtype=np.float32, forget_bias=1)) == (
        "LSTM(input_size=3, hidden_size=4, forget_bias=1.0, forget_gate=True, dtype=np.float32)"
    )


# --- the messages a reader gets ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "match"),
    [
        (
            np.zeros((2, 4)),
            r"state.*pair \(h, c\).*\(B, H\) = \(2, 4\).*array.*\(2, 4\)",
        ),
        ((np.zeros((2, 4)),) * 3, r"state.*pair.*tuple of 3"),
        (3.0, r"state.*pair.*float"),
        (
            (np.zeros((2, 4)), np.zeros((3, 4))),
            r"state\[1\].*\(B, H\) = \(2, 4\).*\(3, 4\)",
        ),
        (
            (np.zeros((1, 2, 4)), None),
            r"state\[0\].*\(B, H\) = \(2, 4\).*\(1, 2, 4\).*num_layers.*state\[0\]\[0\]",
        ),
        ((None, np.zeros((2, 4), dtype=np.float32)), r"state\[1\].*float64.*float32"),
        ((np.full((2, 4), np.nan), None), r"state\[0\].*non-finite.*nan"),
    ],
)
def test_bad_state(state, match):
    with pytest.raises(ValueError, match=match):
        LSTM(3, 4, rng=0).forward(np.zeros((5, 2, 3)), state)


def test_bad_gradients():
    layer = LSTM(3, 4, rng=0)
    layer.forward(np.zeros((5, 2, 3)))
    with pytest.raises(
        ValueError,
        match=r"dout.*\(T, B, H\) = \(5, 2, 4\).*\(5, 2, 3\)",
    ):
        layer.backward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dstate.*pair \(h, c\).*array"):
        layer.backward(np.zeros((5, 2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"dstate\[1\].*\(B, H\) = \(2, 4\).*\(4,\)"):
        layer.backward(np.zeros((5, 2, 4)), (None, np.zeros(4)))
    with pytest.raises(ValueError, match=r"dout.*float64.*float32"):
        layer.backward(np.zeros((5, 2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"dout.*non-finite.*nan"):
        layer.backward(np.full((5, 2, 4), np.nan))
    with pytest.raises(ValueError, match=r"dstate\[0\].*non-finite.*inf"):
        layer.backward(None, (np.full((2, 4), np.inf), None))


def test_bad_construction_and_params():
    with pytest.raises(TypeError, match="rng"):
        LSTM(3, 4)
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        LSTM(3, 4, rng=None)
    with pytest.raises(ValueError, match=r"hidden_size.*positive int.*0"):
        LSTM(3, 0, rng=0)
    with pytest.raises(ValueError, match=r"dtype.*float64.*float32.*float16"):
        LSTM(3, 4, rng=0, dtype=np.float16)
    with pytest.raises(ValueError, match=r"forget_bias.*finite.*nan"):
        LSTM(3, 4, rng=0, forget_bias=float("nan"))
    with pytest.raises(ValueError, match=r"forget_bias=1\.0.*forget_gate=False"):
        LSTM(3, 4, rng=0, forget_bias=1.0, forget_gate=False)
    with pytest.raises(ValueError, match=r"forget_gate.*True or False.*'no'"):
        LSTM(3, 4, rng=0, forget_gate="no")
    layer = LSTM(3, 4, rng=0)
    layer.params["weight_hh"] = layer.params["weight_hh"].T.copy()  # a transposed copy-in
    with pytest.raises(
        ValueError,
        match=r"params\['weight_hh'\].*\(4\*H, H\) = \(16, 4\).*\(4, 16\)",
    ):
        layer.forward(np.zeros((5, 2, 3)))


# --- with truncated BPTT -----------------------------------------------------------------------
