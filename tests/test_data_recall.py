"""Tests of the delayed-recall task (tutor.data.recall)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.data import recall
from tutor.data.recall import IGNORE, RecallTask, delayed_recall


def test_shapes_dtypes_and_one_hot():
    task = delayed_recall(50, 3, rng=0, n_streams=4, n_symbols=5)
    assert isinstance(task, RecallTask)
    assert task.inputs.shape == (50, 4, 5) and task.inputs.dtype == np.float64
    assert task.targets.shape == task.mask.shape == task.symbols.shape == (50, 4)
    assert task.targets.dtype == task.symbols.dtype == np.int64
    assert task.mask.dtype == bool
    assert task.delay == 3
    np.testing.assert_array_equal(task.inputs.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(task.inputs.argmax(axis=-1), task.symbols)


def test_float32_inputs():
    assert delayed_recall(5, 1, rng=0, dtype=np.float32).inputs.dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    delay=st.integers(0, 6),
    extra=st.integers(1, 30),
    n_streams=st.integers(1, 4),
    n_symbols=st.integers(2, 8),
)
def test_target_is_the_symbol_delay_steps_back(seed, delay, extra, n_streams, n_symbols):
    n_steps = delay + extra
    task = delayed_recall(n_steps, delay, seed, n_streams, n_symbols)
    assert task.symbols.min() >= 0 and task.symbols.max() < n_symbols
    for t in range(n_steps):
        if t < delay:
            assert (task.targets[t] == IGNORE).all() and not task.mask[t].any()
        else:
            np.testing.assert_array_equal(task.targets[t], task.symbols[t - delay])
            assert task.mask[t].all()
    np.testing.assert_array_equal(task.mask, task.targets != IGNORE)


def test_delay_zero_repeats_the_current_symbol():
    task = delayed_recall(20, 0, rng=1, n_streams=2)
    np.testing.assert_array_equal(task.targets, task.symbols)
    assert task.mask.all()


def test_seeded_and_streams_independent():
    first = delayed_recall(200, 2, rng=7, n_streams=3)
    again = delayed_recall(200, 2, rng=np.random.default_rng(7), n_streams=3)
    other = delayed_recall(200, 2, rng=8, n_streams=3)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.symbols, other.symbols)
    assert not np.array_equal(first.symbols[:, 0], first.symbols[:, 1])


def test_symbols_are_uniform():
    symbols = delayed_recall(20_000, 1, rng=3, n_streams=2).symbols
    np.testing.assert_allclose(np.bincount(symbols.ravel()) / symbols.size, 0.25, atol=0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_steps": 4, "delay": 4}, r"n_steps \(4\).*larger than delay \(4\)"),
        ({"n_steps": 10, "delay": -1}, r"delay.*(>=|at least) 0.*-1"),
        ({"n_steps": 0, "delay": 0}, r"n_steps.*(positive|>= 1|at least 1).*\b0\b"),
        ({"n_steps": 10, "delay": 2.0}, r"delay.*\bint\b.*float 2\.0"),
        ({"n_steps": 10, "delay": True}, r"delay.*\bint\b.*bool True"),
        ({"n_steps": 10, "delay": 2, "n_symbols": 1}, r"n_symbols.*(>=|at least) 2.*\b1\b"),
        (
            {"n_steps": 10, "delay": 2, "n_streams": 0},
            r"n_streams.*(positive|>= 1|at least 1).*\b0\b",
        ),
        ({"n_steps": 10, "delay": 2, "dtype": np.int64}, r"dtype.*floating.*int64"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        delayed_recall(rng=0, **kwargs)


def test_rng_is_required():
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        delayed_recall(10, 2, rng=None)


def test_docstring_example():
    failures, tried = doctest.testmod(recall, verbose=False)
    assert tried > 0 and failures == 0
