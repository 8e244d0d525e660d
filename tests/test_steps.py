"""The step functions of the three cells share one form and one set of checks.

Forward: ``state, cache = step_forward(x, state_prev, weight_ih, weight_hh,
bias_ih, bias_hh)``; backward: ``dx, dstate_prev, grads = step_backward(dstate,
cache, weight_ih, weight_hh)``. The state is ``h`` for the simple RNN and the
GRU, and the pair ``(h, c)`` for the LSTM.
"""

from __future__ import annotations

import numpy as np
import pytest

from tutor.gradcheck import gradcheck
from tutor.gru import gru_step_backward, gru_step_forward
from tutor.lstm import lstm_step_backward, lstm_step_forward
from tutor.rnn import rnn_step_backward, rnn_step_forward

STEPS = {
    "rnn": (rnn_step_forward, rnn_step_backward, 1),
    "lstm": (lstm_step_forward, lstm_step_backward, 4),
    "gru": (gru_step_forward, gru_step_backward, 3),
}
CELLS = list(STEPS)
B, D, H = 2, 3, 4


def weights(cell, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    G = STEPS[cell][2]
    shapes = [(G * H, D), (G * H, H), (G * H,), (G * H,)]
    return [rng.normal(size=shape).astype(dtype) for shape in shapes]


def state(cell, value, dtype=np.float64):
    """A state of the cell's form, every part filled from ``value`` (B, H)."""
    h = np.asarray(value, dtype=dtype)
    return (h, h + 0.5) if cell == "lstm" else h


def as_list(value):
    return tuple(map(as_list, value)) if isinstance(value, tuple) else value.tolist()


@pytest.mark.parametrize("cell", CELLS)
def test_one_form_forward_and_backward(cell):
    forward, backward, _ = STEPS[cell]
    rng = np.random.default_rng(1)
    x, prev = rng.normal(size=(B, D)), state(cell, rng.normal(size=(B, H)))
    w_ih, w_hh, b_ih, b_hh = weights(cell)
    new, cache = forward(x, prev, w_ih, w_hh, b_ih, b_hh)
    assert isinstance(cache, dict)
    assert type(new) is type(prev)
    R = state(cell, rng.normal(size=(B, H)))  # a loss: sum of state * R

    def loss():
        out, _ = forward(x, prev, w_ih, w_hh, b_ih, b_hh)
        parts = zip(out, R) if cell == "lstm" else [(out, R)]
        return sum(np.sum(a * r) for a, r in parts)

    dx, dprev, grads = backward(R, cache, w_ih, w_hh)
    assert type(dprev) is type(prev)
    params = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    if cell == "lstm":
        arrays = {**params, "x": x, "h": prev[0], "c": prev[1]}
        analytic = {**grads, "x": dx, "h": dprev[0], "c": dprev[1]}
    else:
        arrays, analytic = {**params, "x": x, "h": prev}, {**grads, "x": dx, "h": dprev}
    errors = gradcheck(loss, arrays, analytic, eps=1e-5)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", CELLS)
def test_nested_lists_give_the_same_numbers_as_arrays(cell):
    forward, backward, _ = STEPS[cell]
    rng = np.random.default_rng(2)
    x, prev = rng.normal(size=(B, D)), state(cell, rng.normal(size=(B, H)))
    w = weights(cell)
    new, cache = forward(x, prev, *w)
    new_l, cache_l = forward(x.tolist(), as_list(prev), *[a.tolist() for a in w])
    for a, b in zip(np.atleast_3d(new), np.atleast_3d(new_l), strict=True):
        np.testing.assert_array_equal(a, b)
    dstate = state(cell, np.ones((B, H)))
    dx, _, grads = backward(dstate, cache, *w[:2])
    dx_l, _, grads_l = backward(as_list(dstate), cache_l, *[a.tolist() for a in w[:2]])
    np.testing.assert_array_equal(dx, dx_l)
    for name in grads:
        np.testing.assert_array_equal(grads[name], grads_l[name])


@pytest.mark.parametrize("cell", CELLS)
def test_an_integer_state_is_refused(cell):
    forward, _, _ = STEPS[cell]
    x = np.ones((B, D))
    prev = state(cell, np.ones((B, H), dtype=int), dtype=int)
    with pytest.raises(ValueError, match=r"(h_prev|state\[0\]).*floating.*int64"):
        forward(x, prev, *weights(cell))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("which", ["x", "state", "bias_ih"])
def test_a_dtype_other_than_the_weights_is_refused(cell, which):
    forward, _, _ = STEPS[cell]
    args = {"x": np.ones((B, D)), "state": state(cell, np.ones((B, H)))}
    w = weights(cell)
    if which == "bias_ih":
        w[2] = w[2].astype(np.float32)
        name = "bias_ih"
    elif which == "x":
        args["x"] = args["x"].astype(np.float32)
        name = "x"
    else:
        args["state"] = state(cell, np.ones((B, H)), dtype=np.float32)
        name = r"(h_prev|state\[0\])"
    with pytest.raises(ValueError, match=rf"{name}.*float64.*float32"):
        forward(args["x"], args["state"], *w)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_throughout_stays_float32(cell):
    forward, backward, _ = STEPS[cell]
    w = weights(cell, np.float32)
    new, cache = forward(np.ones((B, D), np.float32), state(cell, np.zeros((B, H)), np.float32), *w)
    for part in new if cell == "lstm" else (new,):
        assert part.dtype == np.float32
    dx, _, grads = backward(state(cell, np.ones((B, H)), np.float32), cache, *w[:2])
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("cell", CELLS)
def test_backward_checks_the_cache_and_the_state_gradient(cell):
    forward, backward, _ = STEPS[cell]
    w = weights(cell)
    _, cache = forward(np.ones((B, D)), state(cell, np.zeros((B, H))), *w)
    with pytest.raises(ValueError, match=rf"cache.*dict.*{cell}_step_forward.*tuple"):
        backward(state(cell, np.ones((B, H))), tuple(cache.values()), *w[:2])
    missing = {k: v for k, v in cache.items() if k != "x"}
    with pytest.raises(ValueError, match=r"cache.*missing \['x'\]"):
        backward(state(cell, np.ones((B, H))), missing, *w[:2])
    name = r"dstate\[0\]" if cell == "lstm" else "dh"
    with pytest.raises(ValueError, match=rf"{name}.*\(B, H\) = \(2, 4\).*\(2, 5\)"):
        backward(state(cell, np.ones((B, 5))), cache, *w[:2])
