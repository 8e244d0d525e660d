"""Finite-difference gradient checking.

Every hand-written backward pass in this package (and in the book) is checked
the same way: nudge one parameter entry up and down by a small ``eps``,
measure how the loss changes, and compare the slope with the analytic
gradient. Central differences make the error of the estimate shrink like
``eps**2``, so in float64 a correct backward pass agrees to about 1e-8 or better.

Two errors pull ``eps`` in opposite directions: the eps**2 error of the
difference formula, and the rounding error of the loss (about 1e-16 times the
loss), which the division by ``2 * eps`` magnifies. The default ``eps = 1e-5``,
near the cube root of float64's precision, keeps both small: the estimate is
typically good to 1e-11 or 1e-10. For the same reason run gradient checks in float64; in
float32 the rounding error swamps the estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_gradients", "relative_error", "gradcheck"]


def numerical_gradients(
    loss_fn: Callable[[], float],
    params: dict[str, np.ndarray],
    eps: float = 1e-5,
) -> dict[str, np.ndarray]:
    """Estimate d loss / d param for every entry of every array in ``params``.

    Each entry's slope is the central difference
    (loss(p + eps) - loss(p - eps)) / (2 eps).

    Args:
        loss_fn: a function of no arguments that returns the loss as a float.
            It must read the arrays in ``params`` (they are changed in place
            while the gradient is estimated, and restored afterwards, even if
            ``loss_fn`` raises).
        params: named float arrays, any shapes. An input such as ``x`` can be
            included to check the gradient with respect to it.
        eps: the size of the nudge.

    Returns:
        A dict with the same keys; each value has the shape of its parameter.
    """
    estimates = {}
    for name, array in params.items():
        if not isinstance(array, np.ndarray) or not np.issubdtype(
            array.dtype, np.floating
        ):
            raise ValueError(
                f"params[{name!r}] must be a floating-point NumPy array; got "
                f"{getattr(array, 'dtype', type(array).__name__)}."
            )
        flat = array.reshape(-1)
        if not np.shares_memory(flat, array):
            raise ValueError(
                f"params[{name!r}] must be C-contiguous, to be nudged in "
                f"place; got a view with strides {array.strides} (a "
                "transpose or a slice). Pass np.ascontiguousarray of it, "
                "and let loss_fn read that copy."
            )
        grad = np.zeros_like(array)
        flat_grad = grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            try:
                flat[i] = original + eps
                loss_plus = float(loss_fn())
                flat[i] = original - eps
                loss_minus = float(loss_fn())
            finally:
                flat[i] = original  # leave the parameters exactly as they were
            flat_grad[i] = (loss_plus - loss_minus) / (2 * eps)
        estimates[name] = grad
    return estimates


def relative_error(
    analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-4
) -> float:
    """How far two gradient arrays differ, relative to their size: ``|a - n| / (|a| + |n|)``.

    ``|.|`` is the L2 norm of the whole array. Measuring the whole array rather
    than each entry keeps entries whose true gradient is (nearly) zero from
    turning the rounding noise of the finite difference into a large relative
    error. For the same reason, arrays smaller than ``floor`` are measured
    against ``floor`` instead: the estimate cannot resolve differences below
    about 1e-11, so the relative error of a gradient of size 1e-7 would only
    measure that noise. A wrong gradient still stands out: it is off by about
    its own size, so its error is about 1e-2 or more, against 1e-7 or less for
    a right one in float64.

    Args:
        analytic: any shape.
        numeric: the same shape.
        floor: the smallest size ``|a| + |n|`` to divide by.

    Returns:
        ``|a - n| / max(|a| + |n|, floor)``, a float in [0, 1].
    """
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"analytic and numeric gradients must have the same shape; got "
            f"{analytic.shape} and {numeric.shape}."
        )
    scale = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), floor)
    return float(np.linalg.norm(analytic - numeric) / scale)


def gradcheck(
    loss_fn: Callable[[], float],
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    eps: float = 1e-5,
    floor: float = 1e-4,
) -> dict[str, float]:
    """Compare analytic gradients with central differences, one number per parameter.

    Args:
        loss_fn: as for :func:`numerical_gradients`.
        params: the named arrays the loss depends on.
        grads: the analytic gradients, same keys and shapes as ``params``.
            Pass copies if the backward pass writes into the same arrays
            again (``loss_fn`` usually runs only the forward pass, so it does not).
        eps: the size of the nudge.
        floor: as for :func:`relative_error`.

    Returns:
        ``{name: relative_error}``; below 1e-6 in float64 means the backward pass is right.
    """
    missing = sorted(set(params) - set(grads))
    if missing:
        raise ValueError(
            f"grads is missing the keys {missing} that params has."
        )
    for name in params:
        if np.shape(grads[name]) != np.shape(params[name]):
            raise ValueError(
                f"grads[{name!r}] must have the shape of params[{name!r}], "
                f"{np.shape(params[name])}; got {np.shape(grads[name])}."
            )
    numeric = numerical_gradients(loss_fn, params, eps)
    return {
        name: relative_error(grads[name], numeric[name], floor)
        for name in params
    }
