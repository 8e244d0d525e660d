"""Gradient flow through time: how much of a loss's gradient reaches the steps far back.

The chapter "Vanishing and exploding gradients" measures three things, and
this module computes each of them exactly (no finite differences):

1. The gradient of the loss with respect to every hidden state,
   ``dL/dh_t`` for t = 0..T, after the loss has been computed on a sequence
   (:func:`state_gradients`, :func:`state_gradient_norms`).
2. The Jacobian product ``dh_T/dh_t``, the matrix that carries a gradient
   from step T back to step t, as a function of the lag ``k = T - t``
   (:func:`jacobian_products`). For the simple RNN it has the closed form
   ``dh_T/dh_t = D_T U D_{T-1} U ... D_{t+1} U`` with ``D_s = diag(phi'(a_s))``
   and U the transition matrix ``weight_hh`` (:func:`rnn_jacobian_products`).
3. The size of the transition matrix: its largest singular value and its
   spectral radius (:func:`largest_singular_value`, :func:`spectral_radius`),
   and the bound they give, ``norm(dh_T/dh_t) <= (gamma sigma_1)^k``, where
   ``gamma`` is the largest slope of phi: 1 for tanh, 1/4 for the sigmoid
   (:func:`jacobian_norm_bound`).

**Any recurrent layer.** :func:`state_gradients` and :func:`jacobian_products`
use nothing but the layer's own interface, ``out, state = layer.forward(x, state)``
and ``dx, dstate0 = layer.backward(dout, dstate)``, so they work for
:class:`tutor.rnn.RNN` and for the gated layers alike. The trick: run the
layer for *one* step, from the state ``s_t``; then ``backward`` with ``dstate = g``
returns ``g`` times the one-step Jacobian ``ds_{t+1}/ds_t`` as the gradient of
the initial state. Backpropagation through time is that product applied step
after step, so calling it once per step, from T down to 0, gives the gradient
at every step. For a whole Jacobian, the step is copied n times along the
batch axis (n the size of the state) and copy i gets the unit vector e_i as
``dstate``: copy i sends back row i of ``ds_{t+1}/ds_t``. The chain rule then
multiplies the one-step Jacobians, ``ds_T/ds_t = ds_T/ds_{t+1} ds_{t+1}/ds_t``.
Everything is exact (to rounding error) and costs T one-step passes.

**States that are pairs.** The LSTM's state is the pair ``(h, c)``. By default
the functions here treat the whole state as one vector, the parts concatenated
in the tuple's order, ``s_t = [h_t, c_t]`` of size 2H: the Jacobian is
``ds_T/ds_t``, ``(2H, 2H)``, and the gradient is ``dL/ds_t``. With
``hidden_only=True`` they use h alone: the gradient ``dL/dh_t`` and the
Jacobian ``dh_T/dh_t``, each taken with ``c_t`` held fixed (the gradient
that reaches ``c_t`` is left out, not added in). For the simple RNN and the
GRU the state is h alone and the flag changes nothing.

Shapes: T time steps, B sequences, D input features, H hidden units, n the
size of the state (H; 2H for the LSTM's full state).
"""

from __future__ import annotations

import numpy as np

from tutor._checks import (
    as_rng,
    check_finite,
    check_float_array,
    check_ndim,
    check_same_keys,
    check_shape,
    check_time_major_layer,
)
from tutor._recurrent import TIME_MAJOR_HINT, check_dtype, check_sizes
from tutor.rnn import RNN

__all__ = [
    "DERIVATIVE_BOUNDS",
    "largest_singular_value",
    "spectral_radius",
    "rescale_to_singular_value",
    "random_recurrent_matrix",
    "state_gradients",
    "state_gradient_norms",
    "jacobian_products",
    "rnn_jacobian_products",
    "jacobian_norm_bound",
    "gradient_cosine",
]

#: The largest slope ``gamma = max phi'(a)`` of each nonlinearity: tanh' is at most
#: 1 (at a = 0), and the sigmoid's slope ``s (1 - s)`` is at most 1/4 (at a = 0).
DERIVATIVE_BOUNDS = {"tanh": 1.0, "sigmoid": 0.25}


# --- the size of a matrix --------------------------------------------------------------------


def largest_singular_value(matrix: np.ndarray) -> float | np.ndarray:
    """The largest singular value ``sigma_1`` of a matrix, its spectral norm.

    ``sigma_1`` is the most a matrix can stretch a vector:
    ``norm(M v) <= sigma_1 norm(v)`` for every v, with equality for the top
    right singular vector. It is the norm used by the bound on Jacobian products.

    Args:
        matrix: one matrix ``(m, n)``, or a stack of them ``(..., m, n)`` (for
            example the output of :func:`jacobian_products`).

    Returns:
        A float for one matrix; for a stack, an array of shape ``(...)`` with one
        value per matrix.

    Raises:
        ValueError: ``matrix`` is not a floating array with at least two axes, or holds NaN.

    Example:
        >>> largest_singular_value(np.diag([3.0, -4.0]))
        4.0
    """
    matrix = _check_matrix("matrix", matrix, square=False)
    values = np.linalg.norm(matrix, ord=2, axis=(-2, -1))
    return float(values) if matrix.ndim == 2 else values


def spectral_radius(matrix: np.ndarray) -> float:
    """The spectral radius of a square matrix: the largest absolute value of its eigenvalues.

    For a linear recurrence ``h_t = U h_{t-1}``, ``h_t`` shrinks to zero for every
    start when the spectral radius of U is below 1 and grows for some start when it
    is above 1. It is never larger than the largest singular value, and equals it
    for symmetric matrices and for multiples of orthogonal ones.

    Args:
        matrix: ``(n, n)``.

    Returns:
        ``max abs(eigenvalue)``, a float.

    Raises:
        ValueError: ``matrix`` is not a square floating matrix, or holds NaN or infinity.

    Example:
        >>> # A triangular matrix: its eigenvalues are 0 and 0.5.
        >>> spectral_radius(np.array([[0.0, 2.0], [0.0, 0.5]]))
        0.5
    """
    matrix = _check_matrix("matrix", matrix, square=True)
    check_ndim("matrix", matrix, 2, "(n, n)")
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def rescale_to_singular_value(
    matrix: np.ndarray, singular_value: float
) -> np.ndarray:
    """Multiply a matrix by the number that makes its largest singular value ``singular_value``.

    Scaling a matrix by c > 0 scales all its singular values and eigenvalues by
    c, so the direction of every singular vector is kept: only the size changes.

    Args:
        matrix: ``(m, n)``, not all zeros.
        singular_value: the wanted ``sigma_1``, > 0.

    Returns:
        A new array ``matrix * singular_value / sigma_1(matrix)``, same shape and dtype.

    Raises:
        ValueError: ``matrix`` is not a floating matrix or is all zeros, or
            ``singular_value`` is not a positive finite number.
    """
    matrix = _check_matrix("matrix", matrix, square=False)
    check_ndim("matrix", matrix, 2, "(m, n)")
    _check_positive("singular_value", singular_value)
    current = largest_singular_value(matrix)
    if current == 0:
        raise ValueError(
            "matrix must have a nonzero entry (no multiple of a zero matrix has "
            f"a nonzero singular value); got all zeros, shape {matrix.shape}."
        )
    return (matrix * (singular_value / current)).astype(
        matrix.dtype, copy=False
    )


def random_recurrent_matrix(
    hidden_size: int,
    singular_value: float,
    rng: int | np.random.Generator,
    kind: str = "gaussian",
    dtype: type | np.dtype = np.float64,
) -> np.ndarray:
    """A random ``(H, H)`` transition matrix with a chosen largest singular value.

    Used to build networks whose gradients vanish or explode on purpose: put it
    into ``layer.params["weight_hh"][...]``.

    Args:
        hidden_size: H, >= 1.
        singular_value: the largest singular value ``sigma_1`` of the result, > 0.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        kind: ``"gaussian"``: independent standard normal entries, rescaled (the
            other singular values are spread between 0 and ``sigma_1``);
            ``"orthogonal"``: a random orthogonal matrix (drawn uniformly, by the QR
            decomposition of a Gaussian matrix) times ``sigma_1``, so that every
            singular value, and the absolute value of every eigenvalue, is ``sigma_1``.
        dtype: ``np.float64`` or ``np.float32``.

    Returns:
        The matrix, ``(H, H)``, of ``dtype``.

    Raises:
        ValueError: a bad size, singular value, kind, dtype or ``rng``.
    """
    check_sizes(1, hidden_size)
    _check_positive("singular_value", singular_value)
    if kind not in ("gaussian", "orthogonal"):
        raise ValueError(
            f"kind must be 'gaussian' or 'orthogonal'; got {kind!r}."
        )
    dtype = check_dtype(dtype)
    gaussian = as_rng(rng).standard_normal((hidden_size, hidden_size))
    if kind == "gaussian":
        return rescale_to_singular_value(gaussian, singular_value).astype(dtype)
    q, r = np.linalg.qr(gaussian)
    q *= np.where(
        np.diag(r) < 0, -1.0, 1.0
    )  # fix the column signs: uniform over rotations
    return (singular_value * q).astype(dtype)


# --- gradients and Jacobians through time ------------------------------------------------------


def state_gradients(
    layer,
    x: np.ndarray,
    dout: np.ndarray | None = None,
    dstate=None,
    state=None,
    *,
    hidden_only: bool = False,
) -> np.ndarray:
    """The gradient of a loss with respect to every state, ``dL/ds_t`` for t = 0..T.

    The loss is the one whose gradients ``dout`` and ``dstate`` you would pass to
    ``layer.backward(dout, dstate)`` after ``layer.forward(x, state)``. Entry t
    of the result is the total derivative of that loss with respect to the state
    after step t (``s_0`` is the initial state): the gradient that backpropagation
    through time carries when it reaches step t, from the losses at t and at all
    later steps. Entry 0 equals the ``dstate0`` that ``layer.backward`` returns.

    The gradient is carried back one step at a time by the layer's own backward
    pass (see the module's introduction), and at each step t >= 1 the gradient of
    the output at that step, ``dout[t - 1]``, is added to the hidden part: for
    every layer of :mod:`tutor`, ``out[t - 1]`` is the hidden part of ``s_t``.

    Runs ``layer.forward`` 2T times and ``layer.backward`` T times, each over one step;
    ``layer.grads`` is left as it was, but a later ``layer.backward`` needs a new
    ``layer.forward`` first.

    Args:
        layer: a recurrent layer with the interface of :class:`tutor.rnn.RNN`.
        x: the inputs, ``(T, B, D)``, in the layer's dtype.
        dout: ``dL/d out``, ``(T, B, H)``; ``None`` means zeros.
        dstate: ``dL/d s_T`` from beyond the sequence, in the layer's state format
            (``(B, H)``, or a tuple for the LSTM); ``None`` means zeros.
        state: the initial state, in the layer's format; ``None`` means zeros.
        hidden_only: for a state that is a tuple (the LSTM's ``(h, c)``), return
            ``dL/dh_t`` only; otherwise the parts are concatenated.

    Returns:
        The gradients, shape ``(T + 1, B, n)``: entry t is ``dL/ds_t``, with n = H for
        the RNN and GRU (and for the LSTM with ``hidden_only=True``), 2H for the
        LSTM's full state.

    Raises:
        ValueError: ``x`` is not ``(T, B, D)``, or ``dout`` does not have the shape of
            the layer's output (the layer checks the rest).

    Example:
        >>> layer = RNN(2, 3, rng=0)
        >>> x = np.ones((5, 1, 2))
        >>> grads = state_gradients(layer, x, dstate=np.ones((1, 3)))  # L = sum of h_5
        >>> grads.shape
        (6, 1, 3)
    """
    x = _check_layer_and_input(layer, x)
    T = len(x)
    states, out_shape = _states_along(layer, x, state)
    if dout is not None:
        dout = check_float_array("dout", dout, x.dtype)
        check_shape(
            "dout",
            dout,
            out_shape,
            "(T, B, H)",
            "It is dL/d out, shaped like out.",
        )
    else:
        dout = np.zeros(out_shape, dtype=x.dtype)
    if dstate is None:
        dstate = _zeros_like_state(states[-1])
    grad = _with_hidden(
        dstate, _parts(dstate)[0] + dout[-1]
    )  # dL/ds_T: out[-1] is h_T
    grads = [_flatten(grad, hidden_only)]
    saved = _save_grads(layer)
    try:
        for t in range(T - 1, -1, -1):  # from dL/ds_{t+1} to dL/ds_t
            out, _ = layer.forward(x[t : t + 1], states[t])
            _, grad = layer.backward(
                np.zeros_like(out), grad
            )  # dL/ds_{t+1} ds_{t+1}/ds_t
            if (
                t > 0
            ):  # ... plus the loss's direct dependence on out[t - 1], part of s_t
                grad = _with_hidden(grad, _parts(grad)[0] + dout[t - 1])
            grads.append(_flatten(grad, hidden_only))
    finally:
        _restore_grads(layer, saved)
    return np.stack(grads[::-1])


def state_gradient_norms(
    layer,
    x: np.ndarray,
    dout: np.ndarray | None = None,
    dstate=None,
    state=None,
    *,
    hidden_only: bool = False,
) -> np.ndarray:
    """The size of the gradient that reaches each step: ``norm(dL/ds_t)`` for t = 0..T.

    The norm is taken over the whole batch at once (the Euclidean norm of the
    ``(B, n)`` array ``dL/ds_t`` seen as one vector): the gradient with respect to
    all the states of step t. Arguments as for :func:`state_gradients`.

    Returns:
        The norms, shape ``(T + 1,)``; entry t belongs to the state after step t.
    """
    grads = state_gradients(
        layer, x, dout, dstate, state, hidden_only=hidden_only
    )
    return np.sqrt(np.sum(np.square(grads, dtype=np.float64), axis=(1, 2)))


def jacobian_products(
    layer, x: np.ndarray, state=None, *, hidden_only: bool = False
) -> np.ndarray:
    """The Jacobians ``ds_T/ds_t`` for every lag ``k = T - t``, computed with the layer's backward.

    Entry ``[k, b]`` is the ``(n, n)`` matrix whose entry ``[i, j]`` is
    ``d s_T[i] / d s_{T-k}[j]`` for sequence b: how the last state responds to a
    small change of the state k steps earlier, with the inputs fixed. By the chain
    rule it is the product of the k one-step Jacobians in between, which is why
    its size can shrink or grow geometrically with k. A gradient ``g`` that
    reaches ``s_T`` arrives at ``s_{T-k}`` as ``g @ J[k, b]``.

    Each one-step Jacobian ``ds_{t+1}/ds_t`` comes from the layer's backward pass
    over one step, copied n times along the batch axis with the unit vectors as
    ``dstate`` (see the module's introduction); the products are built from the
    last step back, ``J[k] = J[k - 1] @ ds_{T-k+1}/ds_{T-k}``. Exact to rounding error.

    Runs ``layer.forward`` 2T times and ``layer.backward`` T times, each over one
    step (on a batch of ``B * n`` sequences for the backward); ``layer.grads`` is
    left as it was, but a later ``layer.backward`` needs a new ``layer.forward`` first.

    Args:
        layer: a recurrent layer with the interface of :class:`tutor.rnn.RNN`.
        x: the inputs, ``(T, B, D)``: B trajectories, each with its own Jacobians.
        state: the initial state, in the layer's format; ``None`` means zeros.
        hidden_only: for a state that is a tuple (the LSTM's ``(h, c)``), the
            Jacobian ``dh_T/dh_t`` with ``c_t`` held fixed (the ``(H, H)`` block of
            the full Jacobian); otherwise the Jacobian of the whole state, the parts
            concatenated.

    Returns:
        The Jacobians, shape ``(T + 1, B, n, n)``; entry 0 is the identity. Their norms
        as a function of the lag are ``largest_singular_value(result)``, ``(T + 1, B)``.

    Raises:
        ValueError: ``x`` is not ``(T, B, D)`` (the layer checks the rest).
    """
    x = _check_layer_and_input(layer, x)
    T, B, _ = x.shape
    states, _ = _states_along(layer, x, state)
    sizes = [part.shape[-1] for part in _parts(states[-1])]
    n = sum(sizes)
    # Row b * n + i of the copied batch is copy i of sequence b; it gets e_i as dL/ds_{t+1}.
    unit = np.tile(np.eye(n, dtype=x.dtype), (B, 1))  # (B * n, n)
    seeds = tuple(np.split(unit, np.cumsum(sizes)[:-1], axis=1))
    dstate = seeds if isinstance(states[-1], tuple) else seeds[0]
    result = np.empty((T + 1, B, n, n), dtype=x.dtype)
    result[0] = np.eye(n, dtype=x.dtype)
    saved = _save_grads(layer)
    try:
        for k in range(1, T + 1):
            t = T - k
            copies = _repeat_state(states[t], n)
            out, _ = layer.forward(np.repeat(x[t : t + 1], n, axis=1), copies)
            _, rows = layer.backward(np.zeros_like(out), dstate)
            step = _flatten(rows, hidden_only=False).reshape(
                B, n, n
            )  # ds_{t+1}/ds_t
            result[k] = result[k - 1] @ step
    finally:
        _restore_grads(layer, saved)
    if hidden_only:
        return np.ascontiguousarray(result[..., : sizes[0], : sizes[0]])
    return result


def rnn_jacobian_products(
    layer: RNN, x: np.ndarray, state: np.ndarray | None = None
) -> np.ndarray:
    """The Jacobians ``dh_T/dh_t`` of a simple RNN at every lag, in closed form.

    One step ``h_s = phi(a_s)`` with ``a_s = W x_s + U h_{s-1} + b`` has the
    Jacobian ``dh_s/dh_{s-1} = diag(phi'(a_s)) U``, so the chain rule gives

    ``dh_T/dh_{T-k} = diag(phi'(a_T)) U ... diag(phi'(a_{T-k+1})) U``.

    This function multiplies these factors in, one lag at a time. It gives the
    same result as :func:`jacobian_products` (the tests check it), in one
    forward pass and T small matrix products, but only for
    :class:`tutor.rnn.RNN`.

    Runs ``layer.forward`` once; a later ``layer.backward`` needs a new forward.

    Args:
        layer: a :class:`tutor.rnn.RNN`.
        x: the inputs, ``(T, B, D)``.
        state: the initial state ``h_0``, ``(B, H)``; ``None`` means zeros.

    Returns:
        The Jacobians, shape ``(T + 1, B, H, H)``, indexed by the lag as in
        :func:`jacobian_products`; entry 0 is the identity.

    Raises:
        ValueError: ``layer`` is not an RNN, or ``x`` or ``state`` is malformed.
    """
    if not isinstance(layer, RNN):
        raise ValueError(
            "layer must be a tutor.rnn.RNN (the closed form of "
            "rnn_jacobian_products holds for the simple RNN only); got "
            f"{type(layer).__name__}. "
            "Use jacobian_products for any layer."
        )
    x = _check_layer_and_input(layer, x)
    out, _ = layer.forward(x, state)
    T, B, H = out.shape
    # phi'(a_s) for s = 1..T, from the outputs h_s: (T, B, H)
    slopes = layer.dphi(out)
    U = layer.params["weight_hh"]
    result = np.empty((T + 1, B, H, H), dtype=x.dtype)
    result[0] = np.eye(H, dtype=x.dtype)
    for k in range(1, T + 1):
        # the step whose Jacobian diag(phi'(a_s)) U joins the product
        s = T - k + 1
        result[k] = result[k - 1] @ (slopes[s - 1][:, :, None] * U)
    return result


def jacobian_norm_bound(
    weight_hh: np.ndarray, lags: np.ndarray | int, nonlinearity: str = "tanh"
) -> np.ndarray:
    """The bound ``(gamma sigma_1)^k`` on the norm of a k-step Jacobian product.

    Each factor ``diag(phi'(a_s)) U`` of the product (see
    :func:`rnn_jacobian_products`) has a norm of at most ``gamma sigma_1``,
    where ``sigma_1`` is the largest singular value of U and ``gamma`` the
    largest slope of phi (:data:`DERIVATIVE_BOUNDS`), and the norm of a product
    is at most the product of the norms. So when ``gamma sigma_1 < 1`` every
    Jacobian product, and the gradient it carries, must shrink geometrically
    with the lag. The converse does not hold: when ``gamma sigma_1 > 1`` the
    bound allows growth but does not force it (saturated units have small
    slopes).

    Args:
        weight_hh: the transition matrix U, ``(H, H)``.
        lags: the lags k >= 0, an int or an array of ints of any shape (for
            example ``np.arange(T + 1)``).
        nonlinearity: ``"tanh"`` (``gamma = 1``) or ``"sigmoid"``
            (``gamma = 1/4``).

    Returns:
        ``(gamma sigma_1) ** lags``, float64, with the shape of ``lags``.

    Raises:
        ValueError: a bad matrix, a negative or non-integer lag, or an unknown
            nonlinearity.
    """
    weight_hh = _check_matrix("weight_hh", weight_hh, square=True)
    check_ndim("weight_hh", weight_hh, 2, "(H, H)")
    if nonlinearity not in DERIVATIVE_BOUNDS:
        raise ValueError(
            f"nonlinearity must be 'tanh' or 'sigmoid'; got {nonlinearity!r}."
        )
    lags = np.asarray(lags)
    if not np.issubdtype(lags.dtype, np.integer) or (lags < 0).any():
        raise ValueError(
            f"lags must be integers >= 0, e.g. np.arange(T + 1); got {lags!r}."
        )
    rate = DERIVATIVE_BOUNDS[nonlinearity] * largest_singular_value(
        weight_hh.astype(np.float64)
    )
    return np.power(rate, lags.astype(np.float64))


def gradient_cosine(
    grads: dict[str, np.ndarray], other: dict[str, np.ndarray]
) -> float:
    """The cosine of the angle between two gradients, each a dict of arrays seen as one vector.

    1 means the same direction. Use it to compare a gradient with its clipped
    copy: :func:`tutor.optim.clip_grad_norm` only rescales, so the cosine is 1;
    :func:`tutor.optim.clip_grad_value` cuts entries one by one, which turns the
    direction whenever it cuts anything.

    Args:
        grads: ``{name: array}``.
        other: the same keys and shapes.

    Returns:
        ``<g, o> / (norm(g) norm(o))``, a float in [-1, 1]; NaN when either gradient is zero.
    """
    check_same_keys("other", other, grads)
    dot = norm_g = norm_o = 0.0
    for name, g in grads.items():
        g = np.asarray(g, dtype=np.float64)
        o = np.asarray(other[name], dtype=np.float64)
        check_shape(
            f"other[{name!r}]",
            o,
            g.shape,
            hint=f"It must match grads[{name!r}].",
        )
        dot += float(np.sum(g * o))
        norm_g += float(np.sum(g * g))
        norm_o += float(np.sum(o * o))
    if norm_g == 0 or norm_o == 0:
        return float("nan")
    return dot / float(np.sqrt(norm_g) * np.sqrt(norm_o))


# --- helpers -----------------------------------------------------------------------------------


def _check_matrix(name: str, matrix: object, square: bool) -> np.ndarray:
    """Return a floating array with at least two axes (square when asked), finite."""
    matrix = check_float_array(name, matrix)
    if matrix.ndim < 2:
        raise ValueError(
            f"{name} must be a matrix, with at least two axes (m, n); got shape {matrix.shape}."
        )
    if square and matrix.shape[-1] != matrix.shape[-2]:
        raise ValueError(
            f"{name} must be square, (n, n); got shape {matrix.shape}."
        )
    check_finite(name, matrix)
    return matrix


def _check_positive(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number > 0."""
    ok = isinstance(
        value, (int, float, np.integer, np.floating)
    ) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}.")


def _check_layer_and_input(layer, x: object) -> np.ndarray:
    """Check that ``layer`` has the recurrent interface and ``x`` is a ``(T, B, D)`` array."""
    interface = ("forward", "backward", "params", "grads")
    missing = [name for name in interface if not hasattr(layer, name)]
    if missing:
        raise ValueError(
            f"layer must be a recurrent layer such as tutor.RNN, with forward, backward, "
            f"params and grads; {type(layer).__name__} has no {', '.join(missing)}."
        )
    check_time_major_layer(layer, "tutor.analysis")
    x = check_float_array("x", x)
    check_ndim("x", x, 3, "(T, B, D)", TIME_MAJOR_HINT)
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"x must hold at least one step and one sequence; got shape {x.shape}."
        )
    # Checked here, on the whole x: the layer itself sees one step at a time
    # and would report the shape of a step.
    D = getattr(layer, "input_size", None)
    check_shape("x", x, (None, None, D), "(T, B, D)", TIME_MAJOR_HINT)
    return x


def _parts(state) -> tuple[np.ndarray, ...]:
    """A state as a tuple of arrays: ``(h,)`` for the RNN and GRU, ``(h, c)`` for the LSTM."""
    return tuple(state) if isinstance(state, tuple) else (state,)


def _flatten(state, hidden_only: bool) -> np.ndarray:
    """One ``(B, n)`` array from a state: the hidden part alone, or all parts side by side."""
    parts = _parts(state)
    return parts[0] if hidden_only else np.concatenate(parts, axis=-1)


def _with_hidden(state, hidden: np.ndarray):
    """The same state with its hidden part replaced by ``hidden``."""
    parts = (hidden, *_parts(state)[1:])
    return parts if isinstance(state, tuple) else parts[0]


def _zeros_like_state(state):
    """Zeros in the layer's state format."""
    zeros = tuple(np.zeros_like(part) for part in _parts(state))
    return zeros if isinstance(state, tuple) else zeros[0]


def _repeat_state(state, n: int):
    """Each sequence's state n times along the batch axis, in the layer's format."""
    copies = tuple(np.repeat(part, n, axis=0) for part in _parts(state))
    return copies if isinstance(state, tuple) else copies[0]


def _states_along(layer, x: np.ndarray, state) -> tuple[list, tuple[int, ...]]:
    """The states ``s_0 .. s_T`` of the layer along ``x`` (copies), and the shape of ``out``.

    The forward pass runs one step at a time, so that the full state (for the
    LSTM, c as well as h) is available at every step.
    """
    states = [state]
    for t in range(len(x)):
        out, last = layer.forward(x[t : t + 1], states[-1])
        copy = tuple(np.array(part) for part in _parts(last))
        states.append(copy if isinstance(last, tuple) else copy[0])
    if state is None:
        # None means zeros; make them explicit, in the layer's format.
        states[0] = _zeros_like_state(states[1])
    return states, (len(x), *out.shape[1:])


def _save_grads(layer) -> dict[str, np.ndarray]:
    return {name: np.array(g) for name, g in layer.grads.items()}


def _restore_grads(layer, saved: dict[str, np.ndarray]) -> None:
    """Put the saved gradients back into the layer's own arrays (optimisers may hold them)."""
    for name, g in saved.items():
        layer.grads[name][...] = g
