"""Tests of tutor.evaluate: the error per group of steps and the legal-next-symbol criterion."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.data import reber
from tutor.evaluate import group_means, legal_ranked_first

FEW = settings(max_examples=30, deadline=None)


# --------------------------------------------------------------------------- group_means


def test_group_means_by_hand():
    values = np.array([[1.0, 2.0], [3.0, 10.0], [5.0, 0.0]])
    groups = np.array([[0, 1], [0, 2], [0, 1]])
    np.testing.assert_allclose(group_means(values, groups), [3.0, 1.0, 10.0])


@FEW
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_group_means_agrees_with_a_loop(seed, n_groups):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(7, 3))
    groups = rng.integers(0, n_groups, size=(7, 3))
    means = group_means(values, groups, n_groups)
    assert means.shape == (n_groups,)
    for g in range(n_groups):
        if (groups == g).any():
            assert means[g] == pytest.approx(values[groups == g].mean())
        else:
            assert np.isnan(means[g])


def test_group_means_of_an_empty_group_is_nan_without_a_warning():
    with np.errstate(all="raise"):
        means = group_means(np.array([1.0, 2.0]), np.array([0, 0]), n_groups=2)
    assert means[0] == 1.5 and np.isnan(means[1])


def test_group_means_float32_values_give_float64():
    means = group_means(np.ones(4, dtype=np.float32), np.array([0, 1, 0, 1]))
    assert means.dtype == np.float64


@pytest.mark.parametrize(
    ("values", "groups", "n_groups", "match"),
    [
        (np.ones(3), np.array([0, 1]), None, r"groups.*\(3,\).*\(2,\)"),
        (np.ones(3), np.array([0.0, 1.0, 0.0]), None, r"groups.*integer.*float64"),
        (np.ones(2), np.array([0, -1]), None, r"groups.*(>=|at least) 0.*-1"),
        (np.ones(2), np.array([0, 4]), 3, r"groups.*0\.\.2.*\b4\b"),
        (np.ones(2), np.array([0, 1]), 0, r"n_groups.*positive.*\b0\b"),
        (np.ones(0), np.zeros(0, dtype=int), None, r"values.*empty.*\(0,\)"),
        (np.array([1, 2]), np.array([0, 1]), None, r"values.*floating.*int64"),
    ],
)
def test_group_means_rejects_bad_arguments(values, groups, n_groups, match):
    with pytest.raises(ValueError, match=match):
        group_means(values, groups, n_groups)


# --------------------------------------------------------------------------- legal_ranked_first


def test_legal_ranked_first_by_hand():
    legal = np.array([[True, True, False, False], [False, False, True, False]])
    scores = np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.3]])
    # Row 0: both legal symbols above both illegal ones. Row 1: a tie is not "above".
    np.testing.assert_array_equal(legal_ranked_first(scores, legal), [True, False])


def test_legal_ranked_first_all_or_none_legal_counts_as_true():
    scores = np.array([[0.1, 0.9], [0.5, 0.5]])
    legal = np.array([[True, True], [False, False]])
    assert legal_ranked_first(scores, legal).all()


@FEW
@given(st.integers(0, 2**32 - 1))
def test_legal_ranked_first_is_the_same_for_logits_and_probabilities(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(5, 4, 7))
    legal = rng.random((5, 4, 7)) < 0.4
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    np.testing.assert_array_equal(
        legal_ranked_first(logits, legal), legal_ranked_first(probabilities, legal)
    )


@FEW
@given(st.integers(0, 2**32 - 1))
def test_legal_ranked_first_agrees_with_a_loop(seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(6, 5))
    legal = rng.random((6, 5)) < 0.5
    for row, ok in zip(range(6), legal_ranked_first(scores, legal), strict=True):
        pairs = [
            scores[row, i] > scores[row, j]
            for i in np.flatnonzero(legal[row])
            for j in np.flatnonzero(~legal[row])
        ]
        assert ok == all(pairs)


def test_legal_ranked_first_of_the_ideal_reber_predictor_is_true_everywhere():
    data = reber.continual_stream(200, rng=0, n_streams=3, embedded=False)
    ideal = data.legal / data.legal.sum(axis=-1, keepdims=True)  # equal shares of the legal ones
    assert legal_ranked_first(ideal, data.legal).all()
    wrong = ideal.copy()
    wrong[..., reber.ALPHABET.index("E")] += 1.5  # E above all: right only where E is legal
    ok = legal_ranked_first(wrong, data.legal)
    np.testing.assert_array_equal(ok, data.next_index == reber.ALPHABET.index("E"))


@pytest.mark.parametrize(
    ("scores", "legal", "match"),
    [
        (np.ones((2, 3)), np.ones((2, 3)), r"legal.*bool.*float64"),
        (np.ones((2, 3)), np.ones((3, 2), dtype=bool), r"legal.*\(2, 3\).*\(3, 2\)"),
        (np.ones((2, 3), dtype=int), np.ones((2, 3), dtype=bool), r"scores.*floating.*int64"),
    ],
)
def test_legal_ranked_first_rejects_bad_arguments(scores, legal, match):
    with pytest.raises(ValueError, match=match):
        legal_ranked_first(scores, legal)
