"""Recurrent layers fed ids with ``one_hot=True``: the same results as one-hot vectors.

``forward(ids, one_hot=True)`` looks up columns of ``weight_ih`` instead of multiplying
by one-hot vectors (the character model's fast path). The three layers share the
mechanism, so one parametrised test covers them all.
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
