"""Tests of tutor.functional: activations, softmax and the losses with their gradients."""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.functional import (
    drelu_from_output,
    dsigmoid_from_output,
    dtanh_from_output,
    log_softmax,
    mse,
    relu,
    sigmoid,
    sigmoid_cross_entropy,
    softmax,
    softmax_cross_entropy,
    tanh,
)
from tutor.gradcheck import gradcheck

pytestmark = pytest.mark.filterwarnings("error")
FEW = settings(max_examples=25, deadline=None)
leading_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


@contextlib.contextmanager
def no_warnings():
    """Fail on any NumPy overflow, division by zero, invalid operation or warning.

    Underflow is allowed: exp(-2000) rounding to 0 is the right answer.
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


def random_mask(rng, shape, p_count):
    """A bool mask of ``shape`` counting about ``p_count`` of the entries, and always the first."""
    mask = np.array(rng.random(shape) < p_count)
    mask.flat[0] = True
    return mask


def check_loss_gradient(loss_fn, array, **fixed):
    """Gradcheck the gradient a loss function returns with respect to its first argument."""
    _, grad = loss_fn(array, **fixed)
    errors = gradcheck(lambda: loss_fn(array, **fixed)[0], {"input": array}, {"input": grad})
    assert errors["input"] < 1e-6


# --- activations -------------------------------------------------------------------------


def test_sigmoid_and_tanh_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(tanh(x), np.tanh(x))
    s, t = sigmoid(x), tanh(x)
    np.testing.assert_allclose(dsigmoid_from_output(s), np.exp(-x) / (1 + np.exp(-x)) ** 2)
    np.testing.assert_allclose(dtanh_from_output(t), 1 / np.cosh(x) ** 2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_extreme_inputs_are_finite_and_exact(dtype):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    with no_warnings():
        s, t, r = sigmoid(x), tanh(x), relu(x)
    assert s.dtype == t.dtype == r.dtype == dtype
    np.testing.assert_array_equal(s[[0, 2, 4]], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(t[[0, 2, 4]], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(r, [0, 0, 0, 50, 1000])


def test_relu_derivative_from_output():
    r = relu(np.array([-1.0, 0.0, 2.0], dtype=np.float32))
    d = drelu_from_output(r)
    assert d.dtype == np.float32
    np.testing.assert_array_equal(d, [0.0, 0.0, 1.0])


# --- softmax -----------------------------------------------------------------------------


@FEW
@given(leading=leading_shapes, n_classes=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_softmax_rows_sum_to_one_and_match_the_definition(leading, n_classes, seed):
    z = np.random.default_rng(seed).normal(0, 3, leading + (n_classes,))
    p = softmax(z)
    assert p.shape == z.shape
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    direct = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(p, direct, rtol=1e-12)
    np.testing.assert_allclose(log_softmax(z), np.log(direct), rtol=1e-12, atol=1e-12)


def test_softmax_is_unchanged_by_a_shift():
    z = np.array([[0.5, -1.0, 2.0]])
    np.testing.assert_allclose(softmax(z + 100.0), softmax(z), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_extreme_inputs_are_finite_and_exact(dtype):
    z = np.array([[1000.0, -1000.0], [1000.0, 1000.0], [-1000.0, -1000.0]], dtype=dtype)
    with no_warnings():
        p, log_p = softmax(z), log_softmax(z)
    assert p.dtype == log_p.dtype == dtype
    np.testing.assert_array_equal(p, [[1, 0], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(log_p, [[0, -2000], [-np.log(2)] * 2, [-np.log(2)] * 2])


def test_softmax_refuses_integer_input_and_says_how_to_convert():
    with pytest.raises(ValueError, match=r"\bz\b.*floating-point.*int64.*astype"):
        softmax(np.array([1, 2, 3]))


# --- softmax cross-entropy ---------------------------------------------------------------


def test_cross_entropy_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 5))
    targets = np.array([0, 4, 2, 2])
    loss, dlogits = softmax_cross_entropy(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(4), targets])), rel=1e-12)
    onehot = np.eye(5)[targets]
    np.testing.assert_allclose(dlogits, (p - onehot) / 4, rtol=1e-12, atol=1e-15)


def test_cross_entropy_of_a_hand_computed_case():
    # Two equal logits: p = 1/2 each, so the loss is log 2 and the gradient (1/2 - 1, 1/2).
    loss, dlogits = softmax_cross_entropy(np.array([[0.0, 0.0]]), np.array([0]))
    assert loss == pytest.approx(np.log(2))
    np.testing.assert_allclose(dlogits, [[-0.5, 0.5]])


@FEW
@given(leading=leading_shapes, n_classes=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_gradient_passes_gradcheck(leading, n_classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, leading + (n_classes,))
    targets = rng.integers(0, n_classes, leading)
    check_loss_gradient(softmax_cross_entropy, logits, targets=targets)


@FEW
@given(leading=leading_shapes, n_classes=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_masked_cross_entropy_gradient_passes_gradcheck(leading, n_classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, leading + (n_classes,))
    targets = rng.integers(0, n_classes, leading)
    mask = random_mask(rng, leading, 0.6)
    check_loss_gradient(softmax_cross_entropy, logits, targets=targets, mask=mask)


def test_cross_entropy_mask_averages_over_counted_entries_only():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 2, 4))  # (T, B, C)
    targets = rng.integers(0, 4, (3, 2))
    mask = np.array([[1, 1], [1, 0], [0, 0]], dtype=bool)
    loss, dlogits = softmax_cross_entropy(logits, targets, mask)
    loss_counted, dcounted = softmax_cross_entropy(logits[mask], targets[mask])
    assert loss == pytest.approx(loss_counted, rel=1e-12)
    np.testing.assert_allclose(dlogits[mask], dcounted, rtol=1e-12)
    np.testing.assert_array_equal(dlogits[~mask], 0.0)
    # A float 0/1 mask means the same as a bool one.
    loss_float, dfloat = softmax_cross_entropy(logits, targets, mask.astype(np.float64))
    assert loss_float == loss
    np.testing.assert_array_equal(dfloat, dlogits)


def test_cross_entropy_ignores_the_targets_of_masked_entries():
    logits = np.zeros((2, 3))
    loss, _ = softmax_cross_entropy(logits, np.array([1, -1]), mask=np.array([True, False]))
    assert loss == pytest.approx(np.log(3))


def test_cross_entropy_mask_with_no_counted_entry_is_an_error():
    with pytest.raises(ValueError, match=r"\bmask\b.*at least one.*all 2 entries 0"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), mask=np.zeros(2, dtype=bool))


def test_cross_entropy_mask_must_be_zero_or_one():
    with pytest.raises(ValueError, match=r"\bmask\b.*only 0/1.*True/False.*values 0\.5\b"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), mask=np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"\bmask\b.*only 0/1.*values -1, 2\b"):
        softmax_cross_entropy(np.zeros((3, 3)), np.array([0, 1, 2]), mask=np.array([2, -1, 1]))


@pytest.mark.parametrize(
    ("loss", "pred", "target", "match"),
    [
        (softmax_cross_entropy, np.zeros((0, 3)), np.zeros(0, int), r"logits.*empty.*\(0, 3\)"),
        (softmax_cross_entropy, np.zeros((2, 0)), np.zeros(2, int), r"logits.*empty.*\(2, 0\)"),
        (sigmoid_cross_entropy, np.zeros(0), np.zeros(0), r"logits.*empty.*\(0,\)"),
        (mse, np.zeros((0, 2)), np.zeros((0, 2)), r"pred.*empty.*\(0, 2\)"),
    ],
)
def test_losses_refuse_empty_input(loss, pred, target, match):
    with pytest.raises(ValueError, match=match):
        loss(pred, target)


def test_cross_entropy_mask_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"\bmask\b.*\(2, 3\).*\(3, 2\)"):
        softmax_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 3), int), mask=np.ones((3, 2)))


@pytest.mark.parametrize("bad", [3, -1])
def test_cross_entropy_targets_out_of_range_name_the_range(bad):
    with pytest.raises(
        ValueError, match=rf"targets.*0\.\.2.*C = 3.*from {min(0, bad)} to {max(0, bad)}"
    ):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, bad]))


def test_cross_entropy_targets_of_the_wrong_shape_name_both_shapes():
    logits = np.zeros((5, 4, 3))  # (T, B, C)
    with pytest.raises(ValueError, match=r"\btargets\b.*\(T, B\) = \(5, 4\).*\(4, 5\)"):
        softmax_cross_entropy(logits, np.zeros((4, 5), dtype=int))


def test_cross_entropy_refuses_one_hot_or_float_targets():
    with pytest.raises(ValueError, match=r"\btargets\b.*integer.*float64"):
        softmax_cross_entropy(np.zeros((2, 3)), np.eye(3)[[0, 1]])


def test_cross_entropy_refuses_nan_logits():
    logits = np.zeros((2, 3))
    logits[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"\blogits\b.*non-finite.*nan.*\(1, 2\)"):
        softmax_cross_entropy(logits, np.array([0, 1]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_extreme_logits_are_finite_and_exact(dtype):
    logits = np.array([[1000.0, -1000.0], [1000.0, -1000.0]], dtype=dtype)
    with no_warnings():
        loss, dlogits = softmax_cross_entropy(logits, np.array([0, 1]))
    # Entry 0 is certain and right (loss 0), entry 1 certain and wrong (loss 2000).
    assert loss == pytest.approx(1000.0)
    assert dlogits.dtype == dtype
    np.testing.assert_allclose(dlogits, [[0, 0], [0.5, -0.5]])


def test_cross_entropy_keeps_float32():
    logits = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    loss32, d32 = softmax_cross_entropy(logits, np.array([0, 1, 3]))
    loss64, d64 = softmax_cross_entropy(logits.astype(np.float64), np.array([0, 1, 3]))
    assert d32.dtype == np.float32
    assert loss32 == pytest.approx(loss64, rel=1e-6)
    np.testing.assert_allclose(d32, d64, rtol=1e-5, atol=1e-7)


def test_cross_entropy_agrees_with_pytorch(torch):
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(3, 2, 5))
    targets = rng.integers(0, 5, (3, 2))
    loss, dlogits = softmax_cross_entropy(logits, targets)
    t_logits = torch.tensor(logits, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(
        t_logits.reshape(-1, 5), torch.tensor(targets).reshape(-1)
    )
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, t_logits.grad.numpy(), rtol=1e-10, atol=1e-15)


# --- sigmoid cross-entropy ---------------------------------------------------------------


def test_sigmoid_cross_entropy_matches_a_direct_computation():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(6, 2))
    targets = rng.integers(0, 2, (6, 2)).astype(np.float64)
    loss, dlogits = sigmoid_cross_entropy(logits, targets)
    s = 1 / (1 + np.exp(-logits))
    direct = -np.mean(targets * np.log(s) + (1 - targets) * np.log(1 - s))
    assert loss == pytest.approx(direct, rel=1e-12)
    np.testing.assert_allclose(dlogits, (s - targets) / 12, rtol=1e-12)


@FEW
@given(shape=leading_shapes.map(lambda s: s + (2,)), seed=st.integers(0, 2**32 - 1))
def test_sigmoid_cross_entropy_gradient_passes_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, shape)
    targets = rng.random(shape)
    mask = random_mask(rng, shape[:-1], 0.7)
    check_loss_gradient(sigmoid_cross_entropy, logits, targets=targets)
    check_loss_gradient(sigmoid_cross_entropy, logits, targets=targets, mask=mask)


def test_sigmoid_cross_entropy_extreme_logits_are_finite_and_exact():
    logits = np.array([1000.0, -1000.0, 1000.0])
    with no_warnings():
        loss, dlogits = sigmoid_cross_entropy(logits, np.array([1.0, 0.0, 0.0]))
    assert loss == pytest.approx(1000.0 / 3)
    np.testing.assert_allclose(dlogits, [0, 0, 1 / 3])


def test_sigmoid_cross_entropy_targets_must_be_probabilities():
    with pytest.raises(ValueError, match=r"\btargets\b.*\[0, 1\].*0\.0 to 2\.0"):
        sigmoid_cross_entropy(np.zeros(2), np.array([0.0, 2.0]))


# --- mean squared error ------------------------------------------------------------------


def test_mse_hand_computed():
    loss, dpred = mse(np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 0.0], [3.0, 4.0]]))
    assert loss == pytest.approx((0 + 4 + 0 + 1) / 4)
    np.testing.assert_allclose(dpred, [[0, 1], [0, 0.5]])


@FEW
@given(shape=leading_shapes.map(lambda s: s + (3,)), seed=st.integers(0, 2**32 - 1))
def test_mse_gradient_passes_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    rows = random_mask(rng, shape[:-1], 0.7)
    check_loss_gradient(mse, pred, target=target)
    check_loss_gradient(mse, pred, target=target, mask=rows)
    check_loss_gradient(mse, pred, target=target, mask=random_mask(rng, shape, 0.5))


def test_mse_row_mask_averages_over_counted_rows_and_features():
    pred = np.arange(12.0).reshape(2, 2, 3)  # (T, B, F)
    target = np.zeros_like(pred)
    mask = np.array([[True, False], [False, False]])
    loss, dpred = mse(pred, target, mask)
    assert loss == pytest.approx((0 + 1 + 4) / 3)  # one counted row of F = 3 features
    np.testing.assert_allclose(dpred[0, 0], 2 * pred[0, 0] / 3)
    assert not dpred[~mask].any()


def test_mse_elementwise_mask_counts_entries_one_by_one():
    pred, target = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))
    loss, _ = mse(pred, target, mask=np.array([[1, 0], [0, 1]]))
    assert loss == pytest.approx((1 + 16) / 2)


def test_mse_agrees_with_pytorch(torch):
    rng = np.random.default_rng(5)
    pred, target = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    loss, dpred = mse(pred, target)
    t_pred = torch.tensor(pred, requires_grad=True)
    t_loss = torch.nn.functional.mse_loss(t_pred, torch.tensor(target))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dpred, t_pred.grad.numpy(), rtol=1e-12)


def test_mse_shape_mismatch_names_the_argument_and_shapes():
    with pytest.raises(ValueError, match=r"\btarget\b.*\(4, 1\).*\(4,\)"):
        mse(np.zeros((4, 1)), np.zeros(4))


def test_mse_dtype_mismatch_is_named():
    with pytest.raises(ValueError, match=r"\btarget\b.*float32.*float64"):
        mse(np.zeros(3, dtype=np.float32), np.zeros(3))


def test_mse_mask_of_the_wrong_shape_names_both_choices():
    with pytest.raises(ValueError, match=r"\bmask\b.*\(2,\).*\(2, 3\).*\(3,\)"):
        mse(np.zeros((2, 3)), np.zeros((2, 3)), mask=np.ones(3))
