"""Element-wise activations, softmax and losses, each with its derivative.

Every function here is written to stay finite for extreme inputs: the book's
experiments push networks into saturation on purpose, and a NaN there would
hide the lesson.
"""

from __future__ import annotations

import numpy as np

from tutor._checks import (
    check_finite,
    check_float_array,
    check_int_array,
    check_ndim,
    check_shape,
    format_shape,
)

__all__ = [
    "sigmoid",
    "tanh",
    "dsigmoid_from_output",
    "dtanh_from_output",
    "relu",
    "drelu_from_output",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "mse",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-x)), element-wise, without overflow.

    ``exp(-x)`` overflows for x below about -709, so negative inputs are
    computed as exp(x) / (1 + exp(x)) instead: both forms only ever take the
    exponential of a non-positive number.

    Args:
        x: any shape, floating dtype.

    Returns:
        Same shape and dtype as ``x``, values in [0, 1].
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(
        x.dtype, copy=False
    )


def tanh(x: np.ndarray) -> np.ndarray:
    """The hyperbolic tangent, element-wise (NumPy's is already stable)."""
    return np.tanh(x)


def dsigmoid_from_output(s: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid, written with its output s = sigmoid(x): s (1 - s).

    Backward passes keep the forward outputs, so the derivative is cheapest
    to compute from them.
    """
    return s * (1.0 - s)


def dtanh_from_output(t: np.ndarray) -> np.ndarray:
    """Derivative of tanh, written with its output t = tanh(x): 1 - t**2."""
    return 1.0 - t * t


def relu(x: np.ndarray) -> np.ndarray:
    """The rectified linear unit max(x, 0), element-wise; same shape and dtype as ``x``."""
    return np.maximum(x, 0)


def drelu_from_output(r: np.ndarray) -> np.ndarray:
    """Derivative of the ReLU, written with its output r = relu(x): 1 where r > 0, else 0.

    At x = 0 the ReLU has no derivative; 0 is used there, as PyTorch does.
    """
    return (r > 0).astype(np.asarray(r).dtype)


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities exp(z_k) / sum_j exp(z_j) over the last axis, without overflow.

    Subtracting the largest entry first leaves the result unchanged (the factor
    exp(-max) cancels) and makes every exponent <= 0, so nothing overflows.

    Args:
        z: ``(..., C)``, floating dtype.

    Returns:
        ``(..., C)``, same dtype; every row along the last axis sums to 1.
    """
    z = check_float_array("z", z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """The logarithm of :func:`softmax` over the last axis, computed without log(0).

    log p_k = (z_k - m) - log sum_j exp(z_j - m), with m the largest entry; the
    sum is at least 1, so its logarithm is finite.

    Args:
        z: ``(..., C)``, floating dtype.

    Returns:
        ``(..., C)``, same dtype, every entry <= 0.
    """
    z = check_float_array("z", z)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy between softmax(logits) and integer class targets, with its gradient.

    loss = (1 / N) sum over counted entries of -log p[target], where p is the
    softmax of that entry's logits and N the number of counted entries (all of
    them when ``mask`` is None). Its gradient is (p - onehot(target)) / N for a
    counted entry and 0 for an entry the mask leaves out.

    Args:
        logits: ``(..., C)``, e.g. ``(B, C)`` or ``(T, B, C)``; floating dtype.
        targets: ``(...)``, the leading shape of ``logits``; integer class
            indices in 0..C-1 (entries the mask leaves out may hold anything,
            e.g. a padding value of -1).
        mask: ``(...)`` like ``targets``, bool or 0/1 numbers: which entries
            count. At least one must.

    Returns:
        ``(loss, dlogits)``: a float, and dL/dlogits with the shape and dtype of
        ``logits``.
    """
    logits, targets, weights, count = _check_classes(logits, targets, mask)
    n_classes = logits.shape[-1]
    rows = logits.reshape(-1, n_classes)  # (N, C): one row per prediction
    # Masked entries may hold any target; any valid index will do, since their weight is 0.
    picked = np.where(weights > 0, targets, 0).reshape(-1)
    n = np.arange(rows.shape[0])
    # log p_k = (z_k - m) - log sum_j exp(z_j - m), with m the row's largest entry (as in
    # log_softmax), so every exponential is at most 1 and the sum at least 1.
    shifted = rows - rows.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=1)
    nll = np.log(total) - shifted[n, picked]  # -log p[target], (N,)
    # The gradient, (p - onehot(target)) / N, computed in place in the array of p.
    p /= total[:, None]
    p[n, picked] -= 1
    p *= (weights.reshape(-1) / count)[:, None]
    return float((nll * weights.reshape(-1)).sum() / count), p.reshape(
        logits.shape
    )


def sigmoid_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """The mean binary cross-entropy of sigmoid(logits), and its gradient.

    For one entry with logit z and target y, the loss is
    -y log s - (1 - y) log(1 - s) with s = sigmoid(z), computed as
    ``max(z, 0) - y z + log(1 + exp(-|z|))`` so that it stays finite for any z.
    The loss is averaged over the counted entries, exactly as for :func:`mse`;
    the gradient of one entry is (s - y) / N.

    Args:
        logits: any shape, floating dtype.
        targets: the shape and dtype of ``logits``, values in [0, 1].
        mask: as for :func:`mse`.

    Returns:
        ``(loss, dlogits)``: a float, and dL/dlogits with the shape and dtype of
        ``logits``.
    """
    logits, targets = _check_pair("logits", logits, targets)
    if ((targets < 0) | (targets > 1)).any():
        raise ValueError(
            f"targets must lie in [0, 1] (probabilities or 0/1 labels); got "
            f"values from {targets.min()} to {targets.max()}."
        )
    weights, count = _elementwise_weights(mask, logits)
    losses = (
        np.maximum(logits, 0)
        - targets * logits
        + np.log1p(np.exp(-np.abs(logits)))
    )
    dlogits = (sigmoid(logits) - targets) * weights / count
    return float((losses * weights).sum() / count), dlogits


def mse(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean squared error, with its gradient.

    loss = (1 / N) sum of (pred - target)^2 over the counted entries, where an
    entry is one number (every feature counts separately). Without a mask N is
    ``pred.size``, as in PyTorch's ``mse_loss``. A mask of shape ``pred.shape[:-1]``
    (e.g. ``(T, B)`` for ``(T, B, F)`` predictions) counts or drops whole rows,
    and then N = (number of counted rows) * F; a mask of the shape of ``pred``
    counts entries one by one. The gradient is 2 (pred - target) / N for counted
    entries and 0 elsewhere.

    Args:
        pred: ``(..., F)``, floating dtype.
        target: the shape and dtype of ``pred``.
        mask: ``pred.shape[:-1]`` or ``pred.shape``, bool or 0/1 numbers.

    Returns:
        ``(loss, dpred)``: a float, and dL/dpred with the shape and dtype of ``pred``.
    """
    pred, target = _check_pair("pred", pred, target)
    weights, count = _elementwise_weights(mask, pred)
    diff = pred - target
    return float(
        (diff * diff * weights).sum() / count
    ), 2 * diff * weights / count


def _leading_labels(ndim: int) -> str:
    """Axis names for a message about a leading shape, e.g. ``(T, B)`` for 3-D logits."""
    return {2: "(B,)", 3: "(T, B)"}.get(ndim, "(...)")


def _check_pair(
    name: str, pred: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Check that ``pred`` and its target are finite floating arrays of one shape and dtype."""
    target_name = "target" if name == "pred" else "targets"
    pred = check_float_array(name, pred)
    target = check_float_array(target_name, target, pred.dtype)
    check_shape(
        target_name,
        target,
        pred.shape,
        hint=f"It must have the shape of {name}; nothing is broadcast.",
    )
    if pred.size == 0:
        raise ValueError(
            f"{name} must not be empty (the loss averages over its entries); "
            f"got shape {pred.shape}."
        )
    check_finite(name, pred)
    check_finite(target_name, target)
    return pred, target


def _check_classes(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Check logits ``(..., C)``, integer targets ``(...)`` in 0..C-1 where counted, and the mask.

    Returns the logits and targets as arrays, the mask's weights and their count.
    """
    logits = check_float_array("logits", logits)
    if logits.ndim == 0:
        check_ndim("logits", logits, 1, "(..., C)")
    if logits.size == 0:
        raise ValueError(
            "logits must not be empty (the loss averages over its rows, each "
            f"of C >= 1 classes); got shape {logits.shape}."
        )
    check_finite("logits", logits)
    targets = check_int_array("targets", targets)
    check_shape(
        "targets",
        targets,
        logits.shape[:-1],
        _leading_labels(logits.ndim),
        hint="targets hold one class index per row of logits, not one-hot vectors.",
    )
    weights, count = _mask_weights(mask, targets.shape, logits.dtype)
    n_classes = logits.shape[-1]
    counted = targets[weights > 0]
    if counted.size and (counted.min() < 0 or counted.max() >= n_classes):
        raise ValueError(
            f"targets must be class indices in the range 0..{n_classes - 1} "
            f"(logits have C = {n_classes} classes); got values from "
            f"{counted.min()} to {counted.max()}."
        )
    return logits, targets, weights, count


def _mask_weights(
    mask: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype
) -> tuple[np.ndarray, float]:
    """Turn a mask of shape ``shape`` into 0/1 weights of ``dtype``, with their count.

    No mask counts every entry: the weights are all 1.
    """
    if mask is None:
        mask = np.ones(shape, dtype=dtype)
    mask = np.asarray(mask)
    check_shape(
        "mask",
        mask,
        shape,
        format_shape(shape) if shape else "()",
        hint="The mask has one entry per target (the leading shape of the logits).",
    )
    valid = np.isin(mask, (0, 1))
    if not valid.all():
        bad = np.unique(mask[~valid])
        shown = ", ".join(str(v) for v in bad[:5]) + (
            ", ..." if bad.size > 5 else ""
        )
        raise ValueError(
            "mask must hold only 0/1 or True/False, saying which entries "
            f"count; got the values {shown}."
        )
    weights = mask.astype(dtype)
    count = weights.sum()
    if count == 0:
        raise ValueError(
            "mask must have at least one entry 1/True (an entry to average "
            f"over); got all {mask.size} entries 0/False."
        )
    return weights, count


def _elementwise_weights(
    mask: np.ndarray | None, pred: np.ndarray
) -> tuple[np.ndarray | None, float]:
    """Weights broadcastable to ``pred`` from a mask over ``pred.shape[:-1]`` or ``pred.shape``,
    with the number of entries they count (every feature counts)."""
    if mask is None or np.shape(mask) == pred.shape:
        return _mask_weights(mask, pred.shape, pred.dtype)
    if np.shape(mask) != pred.shape[:-1]:
        raise ValueError(
            f"mask must have shape {pred.shape[:-1]} (one entry per row, the "
            f"leading shape of the predictions) or {pred.shape} (one per "
            f"entry); got shape {np.shape(mask)}."
        )
    weights, _ = _mask_weights(mask, pred.shape[:-1], pred.dtype)
    weights = weights[..., None]
    return weights, weights.sum() * pred.shape[-1]
