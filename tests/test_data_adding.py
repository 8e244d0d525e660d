"""Tests of tutor.data.adding: the adding problem of Hochreiter and Schmidhuber (1997)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from tutor.data import (
    AddingTask,
    adding_accuracy,
    adding_baseline_error,
    adding_problem,
    last_outputs,
    last_outputs_backward,
)
from tutor.data import adding as adding_module
from tutor.rnn import RNN


def check_invariants(task: AddingTask, T: int) -> None:
    """Every rule of the specification, checked sequence by sequence."""
    inputs, targets, lengths, mask, positions = task
    L, B, two = inputs.shape
    assert two == 2 and targets.shape == (B,) and lengths.shape == (B,)
    assert mask.shape == (L, B) and mask.dtype == bool and positions.shape == (B, 2)
    assert lengths.dtype == np.int64 and positions.dtype == np.int64
    assert L == lengths.max()
    assert np.all((T <= lengths) & (lengths <= T + T // 10))
    np.testing.assert_array_equal(mask, np.arange(L)[:, None] < lengths)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert np.all(inputs[~mask] == 0)  # padding: the pair (0, 0)
    assert np.all((-1 <= values) & (values <= 1))
    for b in range(B):
        n = lengths[b]
        first, second = positions[b]
        marked = np.flatnonzero(markers[:n, b] == 1)
        assert sorted(marked.tolist()) == sorted([first, second])  # exactly two, distinct
        assert 0 <= first < min(10, n)
        # The second is among the first T // 2 - 1 pairs that are still unmarked.
        rank = second - (first < second)
        assert 0 <= rank < T // 2 - 1
        expected = np.zeros(n)
        expected[[0, n - 1]] = -1
        expected[[first, second]] = 1
        np.testing.assert_array_equal(markers[:n, b], expected)
        if first == 0:
            assert values[0, b] == 0  # X1 = 0 when the first pair is the marked one
        x1, x2 = values[first, b], values[second, b]
        assert targets[b] == pytest.approx(0.5 + (x1 + x2) / 4, abs=1e-6)
        assert targets[b] == pytest.approx(0.5 + values[marked, b].sum() / 4, abs=1e-6)
    assert np.all((0 <= targets) & (targets <= 1))


@pytest.mark.parametrize("T", [4, 5, 9, 10, 20, 50, 100])
def test_invariants(T):
    check_invariants(adding_problem(300, T, rng=T), T)


def test_invariants_with_one_length_per_batch():
    task = adding_problem(200, 30, rng=0, same_length=True)
    check_invariants(task, 30)
    assert len(set(task.lengths.tolist())) == 1 and task.mask.all()
    lengths = {
        int(adding_problem(2, 30, rng=seed, same_length=True).lengths[0]) for seed in range(60)
    }
    assert lengths == set(range(30, 34))


def test_every_allowed_position_and_length_occurs():
    T = 40
    task = adding_problem(20000, T, rng=1)
    assert set(task.lengths.tolist()) == set(range(T, T + T // 10 + 1))
    assert set(task.positions[:, 0].tolist()) == set(range(10))
    # The second marked pair reaches step T // 2 - 1 when the first lies before it.
    assert set(task.positions[:, 1].tolist()) == set(range(T // 2))
    assert np.mean(task.positions[:, 0] == 0) == pytest.approx(0.1, abs=0.01)


def test_same_seed_same_data_and_generators_are_accepted():
    a, b = adding_problem(50, 20, rng=7), adding_problem(50, 20, rng=7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = adding_problem(50, 20, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.inputs, c.inputs)
    assert not np.array_equal(a.targets, adding_problem(50, 20, rng=8).targets)


def test_dtype():
    task = adding_problem(5, 10, rng=0, dtype=np.float32)
    assert task.inputs.dtype == task.targets.dtype == np.float32
    assert adding_problem(5, 10, rng=0).inputs.dtype == np.float64
    check_invariants(task, 10)


@pytest.mark.parametrize("T", [5, 20])
def test_baseline_error_of_answering_one_half(T):
    task = adding_problem(100_000, T, rng=2)
    error = np.abs(task.targets - 0.5)
    assert error.mean() == pytest.approx(adding_baseline_error(T), abs=2e-3)
    # Without the rule X1 = 0, E abs(X1 + X2) / 4 = (2/3) / 4 = 1/6.
    assert error[task.positions[:, 0] != 0].mean() == pytest.approx(1 / 6, abs=2e-3)
    assert adding_baseline_error(20) == pytest.approx(0.1625, abs=1e-15)
    assert adding_baseline_error(5) == pytest.approx(1 / 6 - 1 / 120, abs=1e-15)


def test_accuracy():
    targets = np.array([0.5, 0.5, 0.5, 0.2])
    assert adding_accuracy(np.array([0.5, 0.539, 0.55, 0.2]), targets) == 0.75
    assert adding_accuracy(np.array([0.5, 0.539, 0.55, 0.2]), targets, tolerance=0.01) == 0.5
    assert adding_module.TOLERANCE == 0.04
    with pytest.raises(ValueError, match=r"predictions.*\(4,\).*\(4, 1\).*predictions\[:, 0\]"):
        adding_accuracy(np.zeros((4, 1)), targets)
    with pytest.raises(ValueError, match=r"targets.*\(B,\).*\(4, 1\)"):
        adding_accuracy(np.zeros((4, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"tolerance.*> 0.*0\.0"):
        adding_accuracy(targets, targets, tolerance=0.0)


def test_last_outputs_and_its_backward():
    rng = np.random.default_rng(3)
    out = rng.normal(size=(6, 3, 2))
    lengths = np.array([6, 4, 5])
    last = last_outputs(out, lengths)
    np.testing.assert_array_equal(last, np.stack([out[5, 0], out[3, 1], out[4, 2]]))
    np.testing.assert_array_equal(last_outputs(out, np.full(3, 6)), out[-1])
    dlast = rng.normal(size=(3, 2))
    dout = last_outputs_backward(dlast, lengths, 6)
    assert dout.shape == out.shape
    # The backward pass is the adjoint: <last_outputs(out), dlast> = <out, backward(dlast)>.
    assert np.sum(last * dlast) == pytest.approx(np.sum(out * dout), abs=1e-14)
    assert np.count_nonzero(dout) == dlast.size
    with pytest.raises(ValueError, match=r"lengths.*between 1 and.*\b6\b.*\b7\b"):
        last_outputs(out, np.array([7, 1, 1]))
    with pytest.raises(ValueError, match=r"lengths.*\(B,\) = \(3,\).*\(2,\)"):
        last_outputs(out, np.array([6, 6]))
    with pytest.raises(ValueError, match=r"lengths.*integer.*float64"):
        last_outputs(out, np.array([6.0, 6.0, 6.0]))


def test_padding_at_the_end_changes_nothing_for_an_rnn():
    # The padded batch gives each sequence the output and the gradients it gets alone.
    task = adding_problem(6, 20, rng=4)
    assert len(set(task.lengths.tolist())) > 1
    layer = RNN(2, 5, rng=0)
    layer.params["bias_ih"][...] += 0.5  # a bias moves the state even on the (0, 0) padding
    out, _ = layer.forward(task.inputs)
    last = last_outputs(out, task.lengths)
    dx, _ = layer.backward(last_outputs_backward(np.ones_like(last), task.lengths, len(out)))
    for b, n in enumerate(task.lengths):
        alone, h_n = layer.forward(task.inputs[:n, b : b + 1])
        np.testing.assert_allclose(last[b], h_n[0], rtol=0, atol=1e-14)
        dx_alone, _ = layer.backward(None, np.ones((1, 5)))
        np.testing.assert_allclose(dx[:n, b], dx_alone[:, 0], rtol=0, atol=1e-14)
        assert np.all(dx[n:, b] == 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"\bT\b.*(>=|at least) 4.*\b3\b"):
        adding_problem(2, 3, rng=0)
    with pytest.raises(ValueError, match=r"\bT\b.*\bint\b.*float 10\.0"):
        adding_problem(2, 10.0, rng=0)
    with pytest.raises(ValueError, match=r"n_sequences.*(positive|>= 1|at least 1).*\b0\b"):
        adding_problem(0, 10, rng=0)
    with pytest.raises(ValueError, match=r"dtype.*float64.*float32.*int64"):
        adding_problem(2, 10, rng=0, dtype=np.int64)
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        adding_problem(2, 10, rng=None)
    with pytest.raises(ValueError, match=r"\bT\b.*(>=|at least) 4.*\b2\b"):
        adding_baseline_error(2)


def test_docstring_examples():
    failures, tried = doctest.testmod(adding_module, verbose=False)
    assert tried > 0 and failures == 0
