"""Tests of tutor.bptt: full BPTT, the truncation windows, and truncated training."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.bptt import bptt_windows, full_bptt, truncated_bptt
from tutor.feedforward import Dense, named_parameters
from tutor.functional import mse, softmax_cross_entropy
from tutor.gru import GRU
from tutor.lstm import LSTM
from tutor.optim import SGD, Adam
from tutor.rnn import RNN


class Recorder:
    """An optimiser that records the gradients it is given and leaves the weights alone."""

    def __init__(self):
        self.steps = []

    def step(self, grads):
        self.steps.append({name: g.copy() for name, g in grads.items()})


def make_model(D=3, H=5, K=2, seed=0):
    return RNN(D, H, rng=seed), Dense(H, K, seed + 1)


# truncated_bptt works with any of the package's layers; the LSTM carries a pair (h, c).
LAYERS = {
    "rnn": lambda D, H: RNN(D, H, rng=0),
    "lstm": lambda D, H: LSTM(D, H, rng=0, forget_bias=1.0),
    "gru": lambda D, H: GRU(D, H, rng=0, update_bias=1.0),
}


def random_state(layer, rng, B, H):
    """A random state of the layer's kind: h, or the pair (h, c) for the LSTM."""
    if isinstance(layer, LSTM):
        return rng.normal(size=(B, H)), rng.normal(size=(B, H))
    return rng.normal(size=(B, H))


def regression_stream(N=12, B=2, D=3, K=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, B, D)), rng.normal(size=(N, B, K))


def first_step_only(outputs, targets):
    """An MSE loss on the first step of whatever window it is given."""
    mask = np.zeros(outputs.shape[:-1])
    mask[0] = 1
    return mse(outputs, targets, mask=mask)


# --- the windows ------------------------------------------------------------------------------


def test_windows():
    assert bptt_windows(10, 4) == [(0, 0, 4), (4, 4, 8), (8, 8, 10)]
    assert bptt_windows(8, 4, 4) == [(0, 0, 4), (4, 4, 8)]
    assert bptt_windows(8, 2, 5) == [(0, 0, 2), (0, 2, 4), (1, 4, 6), (3, 6, 8)]
    assert bptt_windows(3, 5) == [(0, 0, 3)]
    for n, k1, k2 in [(50, 3, 7), (17, 4, 4), (9, 1, 3)]:
        windows = bptt_windows(n, k1, k2)
        # Every step gets a loss exactly once, and no window is longer than k2.
        assert [t for _, first, stop in windows for t in range(first, stop)] == list(range(n))
        assert all(stop - start <= k2 for start, _, stop in windows)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((10, 4, 3), r"k2.*\b3\b.*at least k1.*\b4\b"),
        ((10, 0), r"k1.*(positive|>= 1|at least 1).*\b0\b"),
        ((10, 2.0), r"k1.*(positive|>= 1|at least 1).*2\.0"),
        ((0, 2), r"n_steps.*(positive|>= 1|at least 1).*\b0\b"),
    ],
)
def test_window_errors(args, match):
    with pytest.raises(ValueError, match=match):
        bptt_windows(*args)


# --- truncated BPTT against full BPTT ---------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_one_window_is_full_bptt(kind):
    x, y = regression_stream()
    layer, readout = LAYERS[kind](3, 5), Dense(5, 2, 1)
    state = random_state(layer, np.random.default_rng(5), 2, 5)
    loss, grads = full_bptt(layer, readout, x, y, loss_fn=mse, state=state)
    recorder = Recorder()
    history = truncated_bptt(
        layer, readout, x, y, loss_fn=mse, optimizer=recorder, k1=len(x), state=state
    )
    assert history.shape == (1,)
    assert history[0] == pytest.approx(loss, abs=1e-15)
    (recorded,) = recorder.steps
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    expected = {f"rnn.{name}" for name in names} | {"readout.weight", "readout.bias"}
    assert set(recorded) == set(grads) == expected
    for name, g in grads.items():
        np.testing.assert_allclose(recorded[name], g, rtol=0, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize(("k1", "k2"), [(4, None), (5, None), (3, 7), (2, 5), (1, 1)])
def test_state_is_carried_across_windows(kind, k1, k2):
    # With the weights frozen, the losses of the windows are the losses of the same steps in
    # one forward pass over the whole stream: each window starts from the right state, (h, c)
    # for the LSTM. (Starting each window from zeros instead would change them.)
    x, y = regression_stream(N=13)
    layer, readout = LAYERS[kind](3, 5), Dense(5, 2, 1)
    state = random_state(layer, np.random.default_rng(5), 2, 5)
    history = truncated_bptt(
        layer, readout, x, y, loss_fn=mse, optimizer=Recorder(), k1=k1, k2=k2, state=state
    )
    out, _ = layer.forward(x, state)
    predictions = readout.forward(out)
    expected = [
        mse(predictions[first:stop], y[first:stop])[0]
        for _, first, stop in bptt_windows(len(x), k1, k2)
    ]
    np.testing.assert_allclose(history, expected, rtol=1e-13, atol=0)


def test_no_gradient_crosses_the_truncation_point():
    # A loss on the first step of the second chunk only. Truncated at the chunk boundary, its
    # gradient is that of the chunk alone, started from the (detached) state at the boundary:
    # the inputs of chunk 1 contribute through the state's value but get no gradient.
    x, y = regression_stream(N=8)
    layer, readout = make_model()
    recorder = Recorder()
    truncated_bptt(layer, readout, x, y, loss_fn=first_step_only, optimizer=recorder, k1=4)
    truncated = recorder.steps[1]

    _, h4 = layer.forward(x[:4])
    _, chunk_alone = full_bptt(layer, readout, x[4:], y[4:], loss_fn=first_step_only, state=h4)
    for name, g in chunk_alone.items():
        np.testing.assert_allclose(truncated[name], g, rtol=0, atol=1e-15, err_msg=name)

    # The test can fail: without truncation, the same loss (on step 4 of the whole stream)
    # sends gradient through steps 0..3 too, and the recurrent weights get a different one.
    def step_4_only(outputs, targets):
        mask = np.zeros(outputs.shape[:-1])
        mask[4] = 1
        return mse(outputs, targets, mask=mask)

    _, untruncated = full_bptt(layer, readout, x, y, loss_fn=step_4_only)
    for name in ["rnn.weight_ih", "rnn.weight_hh"]:
        assert np.abs(untruncated[name] - truncated[name]).max() > 1e-3, name
    np.testing.assert_allclose(
        untruncated["readout.weight"], truncated["readout.weight"], rtol=0, atol=1e-15
    )


def test_overlapping_windows_backpropagate_k2_steps():
    # k1 = 2, k2 = 5: the window ending at step 8 runs steps 3..7 from the saved state h_3,
    # counts the loss on steps 6 and 7, and backpropagates through all five steps.
    x, y = regression_stream(N=8)
    layer, readout = make_model()
    recorder = Recorder()
    truncated_bptt(layer, readout, x, y, loss_fn=mse, optimizer=recorder, k1=2, k2=5)
    assert len(recorder.steps) == 4

    def last_two_steps(outputs, targets):
        mask = np.zeros(outputs.shape[:-1])
        mask[-2:] = 1
        return mse(outputs, targets, mask=mask)

    _, h3 = layer.forward(x[:3])
    _, expected = full_bptt(layer, readout, x[3:], y[3:], loss_fn=last_two_steps, state=h3)
    for name, g in expected.items():
        np.testing.assert_allclose(recorder.steps[3][name], g, rtol=0, atol=1e-15, err_msg=name)


# --- training ---------------------------------------------------------------------------------


def recall_stream(rng, n_steps, batch, delay, symbols=4):
    """One-hot symbols x_t and targets y_t = the symbol at t - delay, every step scored.

    Unlike :func:`tutor.data.recall.delayed_recall`, the stream starts `delay` steps
    in, so that every step has a target and no mask is needed.
    """
    s = rng.integers(0, symbols, size=(n_steps + delay, batch))
    return np.eye(symbols)[s[delay:]], s[:-delay]


def accuracy_after_training(k1, k2=None, delay=2, seed=0):
    x, y = recall_stream(np.random.default_rng(seed), 1000, 32, delay)
    layer, readout = RNN(4, 16, rng=seed), Dense(16, 4, seed + 1)
    optimizer = Adam(named_parameters({"rnn": layer, "readout": readout}), lr=1e-2)
    truncated_bptt(
        layer, readout, x, y, loss_fn=softmax_cross_entropy, optimizer=optimizer, k1=k1, k2=k2
    )
    x_test, y_test = recall_stream(np.random.default_rng(99), 2000, 1, delay)
    out, _ = layer.forward(x_test)
    return np.mean(readout.forward(out).argmax(axis=-1) == y_test)


def test_delayed_recall_needs_a_window_longer_than_the_delay():
    # Recalling the symbol from d = 2 steps back needs gradient across 2 transitions, i.e. a
    # window of at least d + 1 = 3 steps. k = 4 learns the task; k = 2 cannot (a fading trace
    # in the random recurrent weights keeps it above chance, 0.25, but far from 1).
    assert accuracy_after_training(k1=4) > 0.95
    assert (
        accuracy_after_training(k1=1, k2=4) > 0.95
    )  # every step, backprop 4: the same window length
    assert accuracy_after_training(k1=2) < 0.6


@pytest.mark.parametrize(
    ("make", "accuracy"),
    [
        # Chance is 0.25. Measured over 10 runs (seeds 0-4, learning rates 0.03 and 0.05):
        # the LSTM reached 0.996-0.999, the GRU 0.998-0.999, the loss falling 1000-fold or more.
        (lambda: (LSTM(4, 16, rng=0, forget_bias=1.0), Dense(16, 4, 1)), 0.95),
        (lambda: (GRU(4, 16, rng=0), Dense(16, 4, 0)), 0.95),
    ],
    ids=["lstm", "gru"],
)
def test_gated_layers_learn_delayed_recall(make, accuracy):
    # Recall the symbol seen 2 steps back, trained in windows of 4 steps: a tiny sanity check
    # that the gated layers learn through truncated_bptt.
    x, y = recall_stream(np.random.default_rng(0), 1000, 32, delay=2)
    layer, readout = make()
    optimizer = Adam(named_parameters({"rnn": layer, "readout": readout}), lr=0.03)
    history = truncated_bptt(
        layer, readout, x, y, loss_fn=softmax_cross_entropy, optimizer=optimizer, k1=4
    )
    assert history[-10:].mean() < 0.1 * history[:10].mean()
    x_test, y_test = recall_stream(np.random.default_rng(99), 1000, 1, delay=2)
    out, _ = layer.forward(x_test)
    assert np.mean(readout.forward(out).argmax(axis=-1) == y_test) > accuracy


def test_training_is_deterministic_and_reduces_the_loss():
    x, _ = regression_stream(N=400, B=4)
    y = x[..., :2].copy()  # an easy task: echo the first two inputs of the current step
    histories = []
    for _ in range(2):
        layer, readout = make_model()
        optimizer = SGD(named_parameters({"rnn": layer, "readout": readout}), lr=0.1)
        histories.append(
            truncated_bptt(layer, readout, x, y, loss_fn=mse, optimizer=optimizer, k1=5, k2=8)
        )
    np.testing.assert_array_equal(histories[0], histories[1])
    assert histories[0][-10:].mean() < 0.1 * histories[0][:10].mean()


def test_clip_norm():
    x, y = regression_stream(N=8)
    layer, readout = make_model()
    recorder = Recorder()
    truncated_bptt(layer, readout, x, 100 * y, loss_fn=mse, optimizer=recorder, k1=4, clip_norm=0.5)
    for grads in recorder.steps:
        norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        assert norm == pytest.approx(0.5)


class PairStateRNN(RNN):
    """An RNN whose state is a pair, as the LSTM's (h, c) will be; the second half is unused."""

    def forward(self, x, state=None):
        out, h_T = super().forward(x, None if state is None else state[0])
        return out, (h_T, np.zeros_like(h_T))


def test_works_with_a_tuple_state():
    x, y = regression_stream(N=9)
    layer, readout = make_model()
    plain = truncated_bptt(layer, readout, x, y, loss_fn=mse, optimizer=Recorder(), k1=2, k2=3)
    pair = PairStateRNN(3, 5, rng=0)
    paired = truncated_bptt(pair, readout, x, y, loss_fn=mse, optimizer=Recorder(), k1=2, k2=3)
    np.testing.assert_array_equal(plain, paired)


def test_bad_stream_shapes():
    x, y = regression_stream(N=8)
    layer, readout = make_model()
    with pytest.raises(ValueError, match=r"targets.*\(N, B\) = \(8, 2\).*\(8, 1, 2\)"):
        truncated_bptt(layer, readout, x, y[:, :1], loss_fn=mse, optimizer=Recorder(), k1=4)
    with pytest.raises(ValueError, match=r"\bx\b.*3 axes.*\(N, B, D\).*\(8, 3\)"):
        truncated_bptt(layer, readout, x[:, 0], y[:, 0], loss_fn=mse, optimizer=Recorder(), k1=4)
    with pytest.raises(ValueError, match=r"k2.*\b2\b.*at least k1.*\b4\b"):
        truncated_bptt(layer, readout, x, y, loss_fn=mse, optimizer=Recorder(), k1=4, k2=2)


def test_truncated_bptt_refuses_a_batch_first_layer():
    # It cuts x along its first axis: with batch_first it would cut the batch.
    layer = RNN(2, 3, rng=0, batch_first=True)
    readout = Dense(3, 2, rng=0)
    x = np.zeros((4, 6, 2))
    with pytest.raises(ValueError, match=r"truncated_bptt.*time-major.*batch_first=True"):
        truncated_bptt(
            layer,
            readout,
            x,
            np.zeros((4, 6), dtype=int),
            loss_fn=softmax_cross_entropy,
            optimizer=SGD(named_parameters({"rnn": layer, "readout": readout}), lr=0.1),
            k1=2,
        )
