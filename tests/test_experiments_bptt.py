"""Tests of tutor.experiments.bptt: the cost of full BPTT and truncated BPTT on delayed recall."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tutor.data.recall import IGNORE, delayed_recall
from tutor.experiments.bptt import (
    full_bptt_cost,
    masked_cross_entropy,
    recall_accuracy,
    train_recall,
    truncation_sweep,
)
from tutor.feedforward import Dense
from tutor.functional import softmax_cross_entropy
from tutor.rnn import RNN


def test_masked_cross_entropy_leaves_out_ignored_steps():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3, 4))
    targets = rng.integers(0, 4, size=(5, 3))
    targets[:2] = IGNORE
    loss, grad = masked_cross_entropy(logits, targets)
    expected_loss, expected_grad = softmax_cross_entropy(logits, targets, mask=targets >= 0)
    assert loss == pytest.approx(expected_loss)
    np.testing.assert_allclose(grad, expected_grad)
    assert (grad[:2] == 0).all()


def test_masked_cross_entropy_of_a_window_without_targets_is_zero():
    logits = np.ones((2, 3, 4))
    loss, grad = masked_cross_entropy(logits, np.full((2, 3), IGNORE))
    assert loss == 0.0
    assert grad.shape == logits.shape and not grad.any()


def copy_network(n_symbols=4):
    """An RNN and readout that output the current symbol: right for every step at delay 0."""
    layer = RNN(n_symbols, n_symbols, rng=0)
    for value in layer.params.values():
        value[...] = 0.0
    layer.params["weight_ih"][...] = 5 * np.eye(n_symbols)
    readout = Dense(n_symbols, n_symbols, rng=0)
    readout.params["weight"][...] = np.eye(n_symbols)
    readout.params["bias"][...] = 0.0
    return layer, readout


def test_recall_accuracy_counts_only_the_masked_steps():
    layer, readout = copy_network()
    assert recall_accuracy(layer, readout, delayed_recall(300, 0, rng=0, n_streams=2)) == 1.0
    # At delay 1 the copy network is right only when a symbol repeats: about 1 in 4.
    task = delayed_recall(4000, 1, rng=0)
    expected = (task.symbols[1:] == task.symbols[:-1]).mean()
    assert recall_accuracy(layer, readout, task) == pytest.approx(expected)


def test_truncation_decides_what_is_learned():
    # Delay 3 needs 3 transitions: a window of k2 = 4 steps learns it, k2 = 3 does not.
    small = {"n_streams": 16, "n_steps": 3000, "test_steps": 500}
    learned = train_recall(3, 4, seed=0, **small)
    not_learned = train_recall(3, 3, seed=0, **small)
    assert learned.accuracy > 0.95
    assert not_learned.accuracy < 0.7
    assert learned.losses.shape == (750,)
    assert learned.layer.hidden_size == 32 and learned.readout.out_features == 4


def test_train_recall_is_deterministic():
    small = {"n_streams": 4, "n_steps": 200, "hidden_size": 8, "test_steps": 100}
    first = train_recall(1, 3, 5, seed=3, **small)
    again = train_recall(1, 3, 5, seed=3, **small)
    assert first.accuracy == again.accuracy
    np.testing.assert_array_equal(first.losses, again.losses)


def test_truncation_sweep_shapes():
    small = {"n_streams": 2, "n_steps": 60, "hidden_size": 4, "test_steps": 50}
    sweep = truncation_sweep(1, [2, 3], seeds=[0, 1, 2], **small)
    assert sweep.accuracy.shape == (3, 2)
    assert ((0 <= sweep.accuracy) & (sweep.accuracy <= 1)).all()
    assert sorted(sweep.losses) == [(s, k) for s in (0, 1, 2) for k in (2, 3)]
    assert sweep.losses[0, 3].shape == (20,)
    np.testing.assert_array_equal(sweep.window_lengths, [2, 3])


def test_full_bptt_cost_grows_with_length():
    cost = full_bptt_cost([20, 40, 80], batch_size=4, hidden_size=16, repeats=1)
    np.testing.assert_array_equal(cost.lengths, [20, 40, 80])
    assert (cost.seconds > 0).all()
    np.testing.assert_array_equal(cost.state_bytes, (cost.lengths + 1) * 4 * 16 * 8)
    assert (cost.peak_bytes >= cost.state_bytes).all()
    assert (np.diff(cost.peak_bytes) > 0).all()
    assert not tracemalloc.is_tracing()


def test_full_bptt_cost_refuses_to_run_under_tracemalloc():
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=r"tracemalloc.*\bstop\b"):
            full_bptt_cost([5])
    finally:
        tracemalloc.stop()
    with pytest.raises(ValueError, match=r"repeats.*positive int.*\b0\b"):
        full_bptt_cost([5], repeats=0)
