"""Tests for tutor.data.toy: the two-dimensional XOR data set."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tutor.data.toy import CORNERS, xor_clusters


def test_shapes_dtypes_and_labels():
    x, y = xor_clusters(50, rng=0)
    assert x.shape == (50, 2) and x.dtype == np.float64
    assert y.shape == (50,) and y.dtype == np.int64
    assert set(np.unique(y)) <= {0, 1}


def test_without_noise_the_points_are_the_corners_labelled_by_xor():
    x, y = xor_clusters(200, rng=1, spread=0.0)
    assert np.all((x[:, None, :] == CORNERS[None]).all(axis=-1).any(axis=1))
    np.testing.assert_array_equal(y, (x[:, 0] > 0) ^ (x[:, 1] > 0))


def test_the_label_is_the_corners_not_the_noisy_points():
    x, y = xor_clusters(20_000, rng=2, spread=0.4)
    by_sign = (x[:, 0] > 0) ^ (x[:, 1] > 0)
    disagree = np.mean(by_sign != y)
    # Each coordinate crosses its axis with probability P(N(0, 1) > 2.5), about 0.006.
    assert 0.005 < disagree < 0.025


def test_classes_and_corners_are_balanced():
    x, y = xor_clusters(20_000, rng=3)
    assert abs(y.mean() - 0.5) < 0.02
    corner = (x[:, 0] > 0) * 2 + (x[:, 1] > 0)
    assert np.all(np.abs(np.bincount(corner, minlength=4) / len(x) - 0.25) < 0.02)


def test_same_seed_same_data():
    a, b = xor_clusters(10, rng=7), xor_clusters(10, rng=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    gen = np.random.default_rng(7)
    c = xor_clusters(10, rng=gen)
    np.testing.assert_array_equal(a[0], c[0])


@pytest.mark.parametrize("n_points", [0, -3, 2.5, True, "10"])
def test_bad_n_points_is_a_clear_error(n_points):
    given = re.escape(repr(n_points))
    with pytest.raises(ValueError, match=rf"n_points.*(positive|>= 1|at least 1).*{given}"):
        xor_clusters(n_points, rng=0)


@pytest.mark.parametrize("spread", [-0.1, float("nan"), float("inf")])
def test_bad_spread_is_a_clear_error(spread):
    with pytest.raises(ValueError, match=rf"spread.*finite.*>= 0.*{re.escape(repr(spread))}"):
        xor_clusters(5, rng=0, spread=spread)


def test_corners_are_read_only():
    with pytest.raises(ValueError):
        CORNERS[0, 0] = 5.0
