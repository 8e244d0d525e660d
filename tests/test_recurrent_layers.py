"""Behaviour the three recurrent layers (RNN, LSTM, GRU) share, tested once for all.

The interface every layer keeps (see CONTRIBUTING.md and the book's notation page):
PyTorch's initialisation and parameter shapes, the sequence gradient check, float32
kept throughout, read-only outputs and untouched inputs, the messages for bad inputs,
states and gradients, ``None`` states meaning zeros, ``backward`` callable twice and
overwriting ``grads`` in place, a clear error for ``backward`` before ``forward``, and
``forward(ids, ids=True)`` looking up columns of ``weight_ih`` instead of
multiplying by one-hot vectors (the character model's fast path).
Each layer's own file tests what is particular to it.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.gradcheck import gradcheck
from tutor.gru import GRU
from tutor.io import load_model, save_model
from tutor.lstm import LSTM
from tutor.rnn import RNN

pytestmark = pytest.mark.filterwarnings("error")  # no overflow or invalid-value warnings

# Each maker takes (D, H) and any further keyword (rng, dtype); the weights come from seed 0
# unless rng says otherwise.
LAYERS = {
    "rnn tanh": lambda D, H, rng=0, **kw: RNN(D, H, rng=rng, **kw),
    "rnn sigmoid": lambda D, H, rng=0, **kw: RNN(D, H, nonlinearity="sigmoid", rng=rng, **kw),
    "lstm": lambda D, H, rng=0, **kw: LSTM(D, H, rng=rng, **kw),
    "lstm forget_bias=1": lambda D, H, rng=0, **kw: LSTM(D, H, rng=rng, forget_bias=1.0, **kw),
    "lstm 1997 cell": lambda D, H, rng=0, **kw: LSTM(D, H, rng=rng, forget_gate=False, **kw),
    "gru": lambda D, H, rng=0, **kw: GRU(D, H, rng=rng, **kw),
    "gru update_bias=1": lambda D, H, rng=0, **kw: GRU(D, H, rng=rng, update_bias=1.0, **kw),
}
GATES = {RNN: 1, LSTM: 4, GRU: 3}  # blocks of rows in the weights
NAMES = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
small = st.integers(min_value=1, max_value=3)  # sizes for the gradient checks


def random_state(layer, rng, B, H):
    """A random state of the layer's kind: h, or the pair (h, c) for the LSTM."""
    if isinstance(layer, LSTM):
        return rng.normal(size=(B, H)), rng.normal(size=(B, H))
    return rng.normal(size=(B, H))


def arrays_of(state):
    """The arrays of a state or state gradient: [h], or [h, c] for the LSTM's pair."""
    return list(state) if isinstance(state, tuple) else [state]


def like(state, make):
    """A state of the same kind as ``state``, each array replaced by ``make(array)``."""
    return tuple(map(make, state)) if isinstance(state, tuple) else make(state)


# eps=1e-5 in the gradient checks: truncation error ~eps**2 against rounding ~1e-16 / eps.
@pytest.mark.parametrize("name", sorted(LAYERS))
@settings(max_examples=15, deadline=None)
@given(T=small, B=small, D=small, H=small, seed=st.integers(0, 2**16))
def test_sequence_backward_gradcheck(name, T, B, D, H, seed):
    rng = np.random.default_rng(seed)
    layer = LAYERS[name](D, H, rng=rng)
    x, state = rng.normal(size=(T, B, D)), random_state(layer, rng, B, H)
    R, S = rng.normal(size=(T, B, H)), random_state(layer, rng, B, H)

    def loss():  # a loss on every output and, separately, on the last state (h, or h and c)
        out, last = layer.forward(x, state)
        return np.sum(out * R) + sum(np.sum(a * s) for a, s in zip(arrays_of(last), arrays_of(S)))

    loss()
    dx, dstart = layer.backward(R, dstate=S)
    starts = {f"state[{i}]": a for i, a in enumerate(arrays_of(state))}
    dstarts = {f"state[{i}]": a for i, a in enumerate(arrays_of(dstart))}
    params = {**layer.params, "x": x, **starts}
    grads = {**layer.grads, "x": dx, **dstarts}
    errors = gradcheck(loss, params, {key: g.copy() for key, g in grads.items()}, eps=1e-5)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_init_is_pytorch_uniform_and_seeded(cls):
    layer, G = cls(5, 16, rng=3), GATES[cls]
    assert {name: p.shape for name, p in layer.params.items()} == {
        "weight_ih": (G * 16, 5),
        "weight_hh": (G * 16, 16),
        "bias_ih": (G * 16,),
        "bias_hh": (G * 16,),
    }
    for p in layer.params.values():
        assert p.dtype == np.float64
        assert np.abs(p).max() <= 0.25  # 1 / sqrt(16)
        assert np.abs(p).max() > 0.2  # the full range is used
    again = cls(5, 16, rng=np.random.default_rng(3))
    for name, p in layer.params.items():
        np.testing.assert_array_equal(p, again.params[name])
    assert set(layer.grads) == set(layer.params) == NAMES


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_float32_stays_float32_and_agrees_with_float64(name):
    rng = np.random.default_rng(0)
    layer = LAYERS[name](3, 4, dtype=np.float32)
    x = rng.normal(size=(5, 2, 3)).astype(np.float32)
    state = like(random_state(layer, rng, 2, 4), lambda a: a.astype(np.float32))
    out, last = layer.forward(x, state)
    dx, dstart = layer.backward(np.ones_like(out), like(last, np.ones_like))
    arrays = [out, *arrays_of(last), dx, *arrays_of(dstart), *layer._cache]
    arrays += [*layer.params.values(), *layer.grads.values()]
    assert all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]

    ref = LAYERS[name](3, 4)  # the same draws, in float64
    ref.params = {key: p.astype(np.float64) for key, p in layer.params.items()}
    ref_out, ref_last = ref.forward(x.astype(np.float64), like(state, lambda a: a.astype(float)))
    ref_dx, ref_dstart = ref.backward(np.ones(out.shape), like(ref_last, np.ones_like))
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.array(last), np.array(ref_last), rtol=0, atol=1e-5)
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=1e-4)
    np.testing.assert_allclose(np.array(dstart), np.array(ref_dstart), rtol=0, atol=1e-4)
    for key, g in ref.grads.items():
        np.testing.assert_allclose(layer.grads[key], g, rtol=0, atol=1e-4, err_msg=key)


@pytest.mark.parametrize("name", ["rnn tanh", "lstm", "gru"])
def test_outputs_are_read_only_and_inputs_untouched(name):
    rng = np.random.default_rng(0)
    layer = LAYERS[name](3, 4)
    x, state = rng.normal(size=(5, 2, 3)), random_state(layer, rng, 2, 4)
    inputs = [x, *arrays_of(state), *layer.params.values()]
    copies = [a.copy() for a in inputs]
    out, last = layer.forward(x, state)
    for array in [out, *arrays_of(last)]:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0
    dout, dlast = np.ones((5, 2, 4)), like(last, np.ones_like)
    layer.backward(dout, dlast)
    for array, copy in zip(inputs, copies):
        np.testing.assert_array_equal(array, copy)
    for array in [dout, *arrays_of(dlast)]:
        np.testing.assert_array_equal(array, 1.0)
    # The last state feeds the next call, as in truncated BPTT.
    out2, _ = layer.forward(x, last)
    assert out2.shape == out.shape
    np.testing.assert_array_equal(out[-1], arrays_of(last)[0])  # the first call's arrays stay


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_backward_before_forward(cls):
    name = cls.__name__
    with pytest.raises(RuntimeError, match=rf"{name}\.backward.*before.*{name}\.forward"):
        cls(3, 4, rng=0).backward(np.zeros((5, 2, 4)))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_ids_give_the_result_of_one_hot_vectors(name):
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

    out_i, last_i = layer.forward(ids, state, ids=True)
    dx, dstart_i = layer.backward(dout, dstate)
    assert dx is None  # a one-hot input has no gradient to report
    np.testing.assert_allclose(out_i, out_v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(last_i), last_v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(dstart_i), np.array(dstart_v), rtol=0, atol=1e-12)
    assert set(layer.grads) == set(grads_v)
    for key, g in layer.grads.items():
        np.testing.assert_allclose(g, grads_v[key], rtol=0, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", ["rnn tanh", "lstm", "gru"])
def test_ids_are_checked(name):
    layer = LAYERS[name](4, 3)
    ids = np.zeros((5, 2), dtype=np.int64)
    with pytest.raises(ValueError, match=r"x.*integer.*float64"):
        layer.forward(ids.astype(np.float64), ids=True)
    with pytest.raises(ValueError, match=r"x.*\(T, B\).*\(5, 2, 1\)"):
        layer.forward(ids[:, :, None], ids=True)
    with pytest.raises(ValueError, match=r"x.*0\.\.3.*from 4 to 4"):
        layer.forward(ids + 4, ids=True)
    with pytest.raises(ValueError, match=r"x.*0\.\.3.*from -1 to -1"):
        layer.forward(ids - 1, ids=True)
    with pytest.raises(ValueError, match=r"x.*at least one time step.*\(0, 2\)"):
        layer.forward(ids[:0], ids=True)
    with pytest.raises(ValueError, match=r"x.*\(T, B, D\).*\(5, 2\).*ids=True"):
        layer.forward(ids)  # ids without ids=True: the message says to pass it
    with pytest.raises(ValueError, match=r"x.*floating-point.*int64"):
        layer.forward(ids[:, :, None])


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


# The layers check their input x with the same function, so the same messages.
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((5, 3)), r"x.*\(T, B, D\).*\(5, 3\).*x\[:, None, :\]"),
        # The time-major hint says how to pass batch-first data.
        (
            np.zeros((2, 5, 3, 1)),
            r"x.*\(T, B, D\).*\(2, 5, 3, 1\).*batch_first=True.*x\.transpose\(1, 0, 2\)",
        ),
        (np.zeros((5, 2, 4)), r"x.*\(T, B, D\) = \(\?, \?, 3\).*\(5, 2, 4\).*D = 3"),
        (np.zeros((5, 3, 2)), r"x.*\(5, 3, 2\).*transposed"),
        (np.zeros((5, 2, 3), dtype=np.float32), r"x.*float64.*float32.*x\.astype"),
        (np.zeros((5, 2, 3), dtype=np.int64), r"x.*floating-point.*int64"),
        (np.zeros((0, 2, 3)), r"x.*at least one time step.*\(0, 2, 3\)"),
        (np.full((5, 2, 3), np.nan), r"x.*non-finite.*nan.*\(0, 0, 0\)"),
        (
            np.where(np.arange(30).reshape(5, 2, 3) == 7, np.inf, 0.0),
            r"x.*non-finite.*inf.*\(1, 0, 1\)",
        ),
    ],
)
def test_bad_inputs(cls, x, match):
    with pytest.raises(ValueError, match=match):
        cls(3, 4, rng=0).forward(x)


# The layers with a single state h check it, and its gradient, with the same functions.
# (The LSTM's pair (h, c) has its own messages, tested in test_lstm.py.)
@pytest.mark.parametrize("cls", [RNN, GRU])
@pytest.mark.parametrize(
    ("state", "match"),
    [
        (np.zeros((1, 2, 4)), r"state.*\(B, H\) = \(2, 4\).*\(1, 2, 4\).*state\[0\]"),
        (np.zeros((3, 4)), r"state.*\(B, H\) = \(2, 4\).*\(3, 4\)"),
        (np.zeros((2, 4), dtype=np.float32), r"state.*float64.*float32"),
        (np.full((2, 4), np.inf), r"state.*non-finite.*inf"),
    ],
)
def test_bad_state(cls, state, match):
    with pytest.raises(ValueError, match=match):
        cls(3, 4, rng=0).forward(np.zeros((5, 2, 3)), state)


@pytest.mark.parametrize("cls", [RNN, GRU])
def test_bad_gradients(cls):
    layer = cls(3, 4, rng=0)
    layer.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dout.*\(T, B, H\) = \(5, 2, 4\).*\(5, 2, 3\)"):
        layer.backward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dstate.*\(B, H\) = \(2, 4\).*\(4,\)"):
        layer.backward(np.zeros((5, 2, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"dout.*float64.*float32"):
        layer.backward(np.zeros((5, 2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"dout.*non-finite.*nan"):
        layer.backward(np.full((5, 2, 4), np.nan))
    with pytest.raises(ValueError, match=r"dstate.*non-finite.*inf"):
        layer.backward(None, np.full((2, 4), np.inf))


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("ids_input", [False, True], ids=["vectors", "ids"])
def test_batch_first_gives_the_transposed_results(name, ids_input):
    # batch_first=True is the same computation on transposed inputs: outputs, dout and
    # dx are (B, T, ...) and exactly the transposes; states and parameter gradients equal.
    rng = np.random.default_rng(4)
    T, B, D, H = 6, 3, 4, 5
    time_major, batch_first = LAYERS[name](D, H), LAYERS[name](D, H, batch_first=True)
    x = rng.integers(0, D, size=(T, B)) if ids_input else rng.normal(size=(T, B, D))
    state, dstate = random_state(time_major, rng, B, H), random_state(time_major, rng, B, H)
    dout = rng.normal(size=(T, B, H))

    out, last = time_major.forward(x, state, ids=ids_input)
    dx, dstart = time_major.backward(dout, dstate)
    out_bf, last_bf = batch_first.forward(x.swapaxes(0, 1), state, ids=ids_input)
    dx_bf, dstart_bf = batch_first.backward(dout.swapaxes(0, 1), dstate)

    assert out_bf.shape == (B, T, H)
    np.testing.assert_array_equal(out_bf, out.swapaxes(0, 1))
    for ours, ref in zip(arrays_of(last_bf), arrays_of(last), strict=True):
        assert ours.shape == (B, H)
        np.testing.assert_array_equal(ours, ref)
    for ours, ref in zip(arrays_of(dstart_bf), arrays_of(dstart), strict=True):
        np.testing.assert_array_equal(ours, ref)
    if ids_input:
        assert dx is None and dx_bf is None
    else:
        assert dx_bf.shape == (B, T, D)
        np.testing.assert_array_equal(dx_bf, dx.swapaxes(0, 1))
    assert set(batch_first.grads) == NAMES
    for key, g in batch_first.grads.items():
        np.testing.assert_array_equal(g, time_major.grads[key], err_msg=key)
    with pytest.raises(ValueError, match="read-only"):
        out_bf[0] = 0.0


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_batch_first_is_a_bool_and_shows_in_repr(cls):
    assert cls(3, 4, rng=0).batch_first is False
    assert "batch_first" not in repr(cls(3, 4, rng=0))
    layer = cls(3, 4, rng=0, batch_first=True)
    assert layer.batch_first is True
    assert repr(layer).endswith(", batch_first=True)")
    with pytest.raises(ValueError, match=r"batch_first.*True or False.*'yes'"):
        cls(3, 4, rng=0, batch_first="yes")


# With batch_first=True the messages name the (B, T, ...) layout the layer expects.
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((5, 3)), r"x.*\(B, T, D\).*\(5, 3\).*x\[None\]"),
        (np.zeros((2, 5, 3, 1)), r"x.*\(B, T, D\).*\(2, 5, 3, 1\).*batch_first=False"),
        (np.zeros((2, 5, 4)), r"x.*\(B, T, D\) = \(\?, \?, 3\).*\(2, 5, 4\)"),
        (np.zeros((2, 0, 3)), r"x.*at least one time step.*T = 0, B = 2"),
        (
            np.where(np.arange(30).reshape(2, 5, 3) == 7, np.inf, 0.0),
            r"x.*non-finite.*\(0, 2, 1\)",  # the index in the layout given
        ),
    ],
)
def test_bad_inputs_batch_first(cls, x, match):
    with pytest.raises(ValueError, match=match):
        cls(3, 4, rng=0, batch_first=True).forward(x)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_bad_gradients_and_ids_batch_first(cls):
    layer = cls(3, 4, rng=0, batch_first=True)
    layer.forward(np.zeros((2, 5, 3)))  # B = 2 sequences of T = 5 steps
    with pytest.raises(ValueError, match=r"dout.*\(B, T, H\) = \(2, 5, 4\).*\(5, 2, 4\)"):
        layer.backward(np.zeros((5, 2, 4)))  # time-major dout for a batch-first layer
    with pytest.raises(ValueError, match=r"x.*\(B, T\).*\(2, 5, 1\).*x\[None, :\]"):
        layer.forward(np.zeros((2, 5, 1), dtype=np.int64), ids=True)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_batch_first_is_saved_and_loaded(cls, tmp_path):
    layer = cls(3, 4, rng=0, batch_first=True)
    save_model(tmp_path / "layer.npz", layer)
    loaded = load_model(tmp_path / "layer.npz")
    assert loaded.batch_first is True
    x = np.random.default_rng(0).normal(size=(2, 5, 3))  # B = 2, T = 5
    np.testing.assert_array_equal(loaded.forward(x)[0], layer.forward(x)[0])
