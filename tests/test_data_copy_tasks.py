"""Tests of the copy and reversal tasks and their scores (tutor.data.copy_tasks)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.data import copy_tasks
from tutor.data.copy_tasks import (
    Seq2SeqBatch,
    copy_task,
    exact_match,
    reverse_task,
    token_accuracy,
)

TASKS = [copy_task, reverse_task]


@pytest.mark.parametrize("task", TASKS)
def test_shapes_dtypes_and_range(task):
    batch = task(6, 9, 5, rng=0)
    assert isinstance(batch, Seq2SeqBatch)
    assert batch.src.shape == batch.tgt.shape == (9, 6)
    assert batch.src.dtype == batch.tgt.dtype == np.int64
    assert batch.src.min() >= 0 and batch.src.max() < 5
    src, tgt = batch  # unpacks as a pair
    assert src is batch.src and tgt is batch.tgt


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 5),
    length=st.integers(1, 12),
    vocab_size=st.integers(2, 9),
)
def test_targets(seed, n, length, vocab_size):
    batch = copy_task(n, length, vocab_size, rng=seed)
    np.testing.assert_array_equal(batch.tgt, batch.src)
    assert not np.shares_memory(batch.tgt, batch.src)
    batch = reverse_task(n, length, vocab_size, rng=seed)
    for t in range(length):
        np.testing.assert_array_equal(batch.tgt[t], batch.src[length - 1 - t])
    assert batch.tgt.flags.c_contiguous


@pytest.mark.parametrize("task", TASKS)
def test_seeded_and_uniform(task):
    first, again = task(4, 7, 3, rng=11), task(4, 7, 3, rng=11)
    np.testing.assert_array_equal(first.src, again.src)
    assert not np.array_equal(first.src, task(4, 7, 3, rng=12).src)
    # A Generator is advanced: two draws from it differ.
    rng = np.random.default_rng(0)
    assert not np.array_equal(task(4, 7, 3, rng=rng).src, task(4, 7, 3, rng=rng).src)
    counts = np.bincount(task(1000, 20, 4, rng=1).src.ravel(), minlength=4)
    np.testing.assert_allclose(counts / counts.sum(), 0.25, atol=0.01)


@pytest.mark.parametrize("task", TASKS)
def test_length_range_is_drawn_per_batch(task):
    rng = np.random.default_rng(2)
    lengths = [task(3, (4, 7), 5, rng=rng).src.shape[0] for _ in range(200)]
    assert set(lengths) == {4, 5, 6, 7}
    assert task(3, (5, 5), 5, rng=0).src.shape == (5, 3)
    batch = task(3, (2, 9), 5, rng=3)
    assert batch.tgt.shape == batch.src.shape


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 5, 3), r"\bn\b.*(positive|>= 1|at least 1).*\b0\b"),
        ((2, 0, 3), r"length .*(positive|>= 1|at least 1).*\b0\b"),
        ((2, 5, 1), r"vocab_size.*(>=|at least) 2.*\b1\b"),
        ((2.0, 5, 3), r"\bn\b.*\bint\b.*float 2\.0"),
        ((2, True, 3), r"length .*\bint\b.*bool True"),
        ((2, (5,), 3), r"length .*\bint\b.*pair \(low, high\).*tuple of 1"),
        ((2, (5, 3), 3), r"length\[1\].*(>=|at least) 5.*\b3\b"),
        ((2, (0, 3), 3), r"length\[0\].*(positive|>= 1|at least 1).*\b0\b"),
    ],
)
def test_bad_arguments(args, match):
    for task in TASKS:
        with pytest.raises(ValueError, match=match):
            task(*args, rng=0)


def test_rng_is_required():
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        reverse_task(2, 3, 4, rng=None)


def test_token_accuracy_and_exact_match():
    target = np.array([[1, 2, 3], [4, 5, 6]])
    pred = np.array([[1, 0, 3], [4, 5, 0]])
    assert token_accuracy(pred, target) == pytest.approx(4 / 6)
    assert exact_match(pred, target) == pytest.approx(1 / 3)
    assert token_accuracy(target, target) == exact_match(target, target) == 1.0
    mask = np.array([[True, False, True], [True, True, False]])  # leave out the two mistakes
    assert token_accuracy(pred, target, mask) == 1.0
    assert exact_match(pred, target, mask) == 1.0
    mask = np.array([[True, True, False], [False, False, False]])
    assert token_accuracy(pred, target, mask) == 0.5
    assert exact_match(pred, target, mask) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("pred", "target", "mask", "match"),
    [
        (np.zeros((2, 3)), np.zeros((2, 3), dtype=int), None, r"pred.*integer.*float64"),
        (np.zeros(3, dtype=int), np.zeros(3, dtype=int), None, r"pred.*\(T, B\).*\(3,\)"),
        (
            np.zeros((2, 3), dtype=int),
            np.zeros((3, 2), dtype=int),
            None,
            r"target.*\(T, B\) = \(2, 3\).*\(3, 2\)",
        ),
        (
            np.zeros((2, 3), dtype=int),
            np.zeros((2, 3), dtype=int),
            np.ones((2, 3)),
            r"mask.*bool.*float64",
        ),
        (
            np.zeros((2, 3), dtype=int),
            np.zeros((2, 3), dtype=int),
            np.ones((3,), dtype=bool),
            r"mask.*\(T, B\) = \(2, 3\).*\(3,\)",
        ),
        (np.zeros((0, 3), dtype=int), np.zeros((0, 3), dtype=int), None, r"pred.*empty.*\(0, 3\)"),
    ],
)
def test_score_errors(pred, target, mask, match):
    with pytest.raises(ValueError, match=match):
        token_accuracy(pred, target, mask)
    with pytest.raises(ValueError, match=match):
        exact_match(pred, target, mask)


def test_token_accuracy_needs_a_counted_symbol():
    with pytest.raises(ValueError, match=r"mask.*True.*all 4 entries False"):
        token_accuracy(
            np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=bool)
        )


def test_docstring_examples():
    failures, tried = doctest.testmod(copy_tasks, verbose=False)
    assert tried > 0 and failures == 0
