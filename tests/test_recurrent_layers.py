"""Behaviour the three recurrent layers (RNN, LSTM, GRU) share, tested once for all.

The interface of ../shared/DESIGN.md: ``None`` states mean zeros, ``backward`` may be
called twice and overwrites ``grads`` in place, and ``forward(ids, one_hot=True)``
looks up columns of ``weight_ih`` instead of multiplying by one-hot vectors (the
character model's fast path). Each layer's own file tests what is particular to it.
"""

import numpy as np
import pytest

from tutor.gru import GRU
from tutor.lstm import LSTM
from tutor.rnn import RNN

LAYERS = {
    "rnn tanh": lambda D, H: RNN(D, H, rng=0),
    "rnn sigmoid": lambda D, H: RNN(D, H, nonlinearity="sigmoid", rng=0),
    "lstm": lambda D, H: LSTM(D, H, rng=0),
    "lstm forget_bias=1": lambda D, H: LSTM(D, H, rng=0, forget_bias=1.0),
    "lstm 1997 cell": lambda D, H: LSTM(D, H, rng=0, forget_gate=False),
    "gru": lambda D, H: GRU(D, H, rng=0),
    "gru update_bias=1": lambda D, H: GRU(D, H, rng=0, update_bias=1.0),
}


def random_state(layer, rng, B, H):
    """A random state of the layer's kind: h, or the pair (h, c) for the LSTM."""
    if isinstance(layer, LSTM):
        return rng.normal(size=(B, H)), rng.normal(size=(B, H))
    return rng.normal(size=(B, H))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_one_hot_ids_give_the_result_of_one_hot_vectors(name):
    rng = np.random.default_rng(3)
    T, B, D, H = 6, 4, 7, 5
    layer = LAYERS[name](D, H)
    ids = rng.integers(0, D, size=(T, B))
    vectors = np.eye(D)[ids]  # (T, B, D)
    state, dstate = random_state(layer, rng, B, H), random_state(layer, rng, B, H)
    dout = rng.normal(size=(T, B, H))

    out_v, last_v = layer.forward(vectors, state)
    out_v, last_v = out_v.copy(), np.array(last_v)
    dx, dstart_v = layer.backward(dout, dstate)
    assert dx.shape == (T, B, D)
    grads_v = {key: g.copy() for key, g in layer.grads.items()}

    out_i, last_i = layer.forward(ids, state, one_hot=True)
    dx, dstart_i = layer.backward(dout, dstate)
    assert dx is None  # a one-hot input has no gradient to report
    np.testing.assert_allclose(out_i, out_v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(last_i), last_v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(dstart_i), np.array(dstart_v), rtol=0, atol=1e-12)
    assert set(layer.grads) == set(grads_v)
    for key, g in layer.grads.items():
        np.testing.assert_allclose(g, grads_v[key], rtol=0, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", ["rnn tanh", "lstm", "gru"])
def test_one_hot_ids_are_checked(name):
    layer = LAYERS[name](4, 3)
    ids = np.zeros((5, 2), dtype=np.int64)
    with pytest.raises(ValueError, match=r"integer ids"):
        layer.forward(ids.astype(np.float64), one_hot=True)
    with pytest.raises(ValueError, match=r"shape \(T, B\)"):
        layer.forward(ids[:, :, None], one_hot=True)
    with pytest.raises(ValueError, match=r"ids in 0\.\.3"):
        layer.forward(ids + 4, one_hot=True)
    with pytest.raises(ValueError, match=r"ids in 0\.\.3"):
        layer.forward(ids - 1, one_hot=True)
    with pytest.raises(ValueError, match=r"at least one time step"):
        layer.forward(ids[:0], one_hot=True)
    with pytest.raises(ValueError, match=r"x must hold floating-point numbers"):
        layer.forward(ids)  # ids without one_hot=True are an error, as before


@pytest.mark.parametrize("name", ["rnn tanh", "gru"])
def test_default_state_and_gradients_are_zeros(name):
    # (The LSTM's pair of states, either of which may be None, is tested in test_lstm.py.)
    rng = np.random.default_rng(0)
    layer = LAYERS[name](3, 4)
    x, dout = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, 4))
    out, _ = layer.forward(x)
    out0, _ = layer.forward(x, np.zeros((2, 4)))
    np.testing.assert_array_equal(out, out0)
    dx_a, dh0_a = layer.backward(dout)
    dx_b, dh0_b = layer.backward(dout, np.zeros((2, 4)))
    np.testing.assert_array_equal(dx_a, dx_b)
    np.testing.assert_array_equal(dh0_a, dh0_b)
    # dout=None: the loss is on the last state only.
    dx_c, dh0_c = layer.backward(None, dstate=np.ones((2, 4)))
    dout_last = np.zeros((5, 2, 4))
    dout_last[-1] = 1.0
    dx_d, dh0_d = layer.backward(dout_last)
    np.testing.assert_array_equal(dx_c, dx_d)
    np.testing.assert_array_equal(dh0_c, dh0_d)


@pytest.mark.parametrize("name", ["rnn tanh", "lstm", "gru"])
def test_backward_twice_gives_the_same_result_and_overwrites_grads(name):
    rng = np.random.default_rng(0)
    layer = LAYERS[name](3, 4)
    layer.forward(rng.normal(size=(5, 2, 3)))
    dout, dstate = rng.normal(size=(5, 2, 4)), random_state(layer, rng, 2, 4)
    dx1, dstart1 = layer.backward(dout, dstate)
    grads = {key: g.copy() for key, g in layer.grads.items()}
    arrays = dict(layer.grads)
    dx2, dstart2 = layer.backward(dout, dstate)
    np.testing.assert_array_equal(dx1, dx2)
    np.testing.assert_array_equal(np.array(dstart1), np.array(dstart2))
    for key, g in layer.grads.items():
        np.testing.assert_array_equal(g, grads[key])  # overwritten, not accumulated
        assert g is arrays[key]  # in place: references held elsewhere stay valid
