"""The adding problem of Hochreiter and Schmidhuber (1997), their Experiment 4.

A test of memory over long time lags with real numbers. Each step of a
sequence is a pair ``(value, marker)``: ``value`` is drawn uniformly from
[-1, 1]; ``marker`` is 1 at exactly two steps, -1 at the first and the last
step (unless they are marked), and 0 elsewhere. At the end of the sequence,
and only there, the network must output ``0.5 + (X1 + X2) / 4``, where X1 and
X2 are the values of the two marked pairs: their sum scaled to [0, 1].
Everything between the markers is noise that the network must ignore while it
holds X1 and X2 in its state.

The specification, as in the paper, with T the minimal length:

- The length L of a sequence is an integer drawn uniformly from T to
  ``T + T // 10``, both included.
- The first marked pair (value X1) is one of the first 10 pairs, drawn
  uniformly. In the rare case that it is the very first pair, X1 is set to 0
  (its value in the input as well, so that the input and the target agree).
- The second marked pair (value X2) is drawn uniformly among the first
  ``T // 2 - 1`` pairs that are still unmarked. So it lies in the first half of
  the sequence, and the network must hold the two values for at least about T/2 steps.
- A sequence counts as processed correctly when the absolute error of the
  output at its end is below 0.04 (:data:`TOLERANCE`, :func:`adding_accuracy`).

What is not from the paper: for T < 10 the first marked pair is drawn among
the first ``min(10, L)`` pairs, so that short sequences (T = 5) exist; then the
last pair may be marked, and its marker is 1, not -1. The paper trains on one
sequence at a time; here a batch of B sequences is drawn at once. By default each
sequence has its own length, and shorter ones are padded *at the end* with
pairs ``(0, 0)`` up to the longest length in the batch; ``mask`` says which
steps are real, and the output that counts is the one at step ``lengths - 1``
of each sequence (:func:`last_outputs`). Padding at the end changes nothing
for a recurrent network: the padded steps come after the output that is read,
so neither the output nor its gradient depends on them. With
``same_length=True`` all sequences of a batch share one length (drawn as
above), there is no padding, and the output that counts is ``out[-1]``.

Always answering 0.5 gives the absolute error ``abs(X1 + X2) / 4``. For X1 and
X2 independent and uniform on [-1, 1], the sum has the triangular density
``(2 - abs(s)) / 4`` on [-2, 2], so ``E abs(X1 + X2) = 2/3`` and the expected
error is 1/6. The paper's rule X1 = 0 (with probability 1/10 for T >= 10)
lowers it: then ``E abs(X2) = 1/2``, and the expected error is
``(9/10 * 2/3 + 1/10 * 1/2) / 4 = 0.1625`` (:func:`adding_baseline_error`).

Example:
    >>> task = adding_problem(3, T=20, rng=0)
    >>> task.inputs.shape[1:], task.targets.shape, bool(task.lengths.max() <= 22)
    ((3, 2), (3,), True)
    >>> marked = task.inputs[:, :, 1] == 1
    >>> bool(np.all(marked.sum(axis=0) == 2))
    True
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._checks import (
    as_rng,
    check_float_array,
    check_int,
    check_int_array,
    check_shape,
)

__all__ = [
    "TOLERANCE",
    "AddingTask",
    "adding_problem",
    "adding_accuracy",
    "adding_baseline_error",
    "last_outputs",
    "last_outputs_backward",
]

#: A sequence is processed correctly when the absolute error at its end is below this.
TOLERANCE = 0.04


class AddingTask(NamedTuple):
    """A batch of the adding problem, time-major.

    Attributes:
        inputs: ``(L, B, 2)`` float, the pairs: ``inputs[..., 0]`` the values,
            ``inputs[..., 1]`` the markers; L is the longest length in the batch,
            and steps past a sequence's end hold ``(0, 0)``.
        targets: ``(B,)`` float, ``0.5 + (X1 + X2) / 4``, the output wanted at the
            last step of each sequence.
        lengths: ``(B,)`` int64, the length of each sequence, from T to ``T + T // 10``.
        mask: ``(L, B)`` bool, True at the steps that belong to a sequence
            (``t < lengths[b]``).
        positions: ``(B, 2)`` int64, the steps of the two marked pairs (first the
            one of X1, then the one of X2), counted from 0.
    """

    inputs: np.ndarray
    targets: np.ndarray
    lengths: np.ndarray
    mask: np.ndarray
    positions: np.ndarray


def adding_problem(
    n_sequences: int,
    T: int,
    rng: int | np.random.Generator,
    dtype: type | np.dtype = np.float64,
    *,
    same_length: bool = False,
) -> AddingTask:
    """Draw B sequences of the adding problem with minimal length T.

    See the module's introduction for the rules; they are those of Hochreiter
    and Schmidhuber (1997, Experiment 4).

    Args:
        n_sequences: B, the number of sequences, >= 1.
        T: the minimal length, >= 4 (the second marked pair is drawn among the
            first ``T // 2 - 1`` unmarked pairs, so T // 2 - 1 must be at least 1).
            The paper uses T = 100, 500 and 1000.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        dtype: ``np.float64`` or ``np.float32``, for ``inputs`` and ``targets``.
        same_length: draw one length for the whole batch instead of one per sequence.

    Returns:
        An :class:`AddingTask`: ``inputs`` ``(L, B, 2)``, ``targets`` ``(B,)``,
        ``lengths`` ``(B,)``, ``mask`` ``(L, B)`` and ``positions`` ``(B, 2)``.

    Raises:
        ValueError: a count is not an int or is too small, or a bad dtype or ``rng``.
    """
    n_sequences = check_int("n_sequences", n_sequences, 1)
    T = check_int("T", T, 4)
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"dtype must be np.float64 or np.float32; got {dtype.name}."
        )
    rng = as_rng(rng)
    B = n_sequences
    n_lengths = 1 if same_length else B
    lengths = rng.integers(
        T, T + T // 10, endpoint=True, size=n_lengths
    ).astype(np.int64)
    lengths = np.broadcast_to(lengths, (B,)).copy()
    # The first marked pair: one of the first 10 (or of all L, for a shorter sequence).
    first = rng.integers(0, np.minimum(10, lengths))
    # The second: the r-th of the first T // 2 - 1 pairs still unmarked. Counting from 0,
    # the unmarked pairs are 0, 1, ..., first - 1, first + 1, ..., so the r-th is r or r + 1.
    r = rng.integers(0, T // 2 - 1, size=B)
    second = np.where(r < first, r, r + 1)
    L = int(lengths.max())
    values = rng.uniform(-1.0, 1.0, size=(L, B))

    steps = np.arange(L)[:, None]  # (L, 1), against (B,) arrays below
    mask = steps < lengths
    columns = np.arange(B)
    values[~mask] = 0.0  # padding past a sequence's end: the pair (0, 0)
    values[0, first == 0] = 0.0  # X1 = 0 when the first pair is the marked one
    markers = np.zeros((L, B))
    markers[0] = -1.0
    markers[lengths - 1, columns] = -1.0
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0

    inputs = np.stack([values, markers], axis=-1).astype(dtype)
    x1, x2 = inputs[first, columns, 0], inputs[second, columns, 0]
    targets = (0.5 + (x1 + x2) / 4).astype(dtype)
    positions = np.stack([first, second], axis=1).astype(np.int64)
    return AddingTask(inputs, targets, lengths, mask, positions)


def adding_accuracy(
    predictions: np.ndarray, targets: np.ndarray, tolerance: float = TOLERANCE
) -> float:
    """The fraction of sequences processed correctly: ``abs(prediction - target) < tolerance``.

    Args:
        predictions: ``(B,)``, the network's output at the end of each sequence.
        targets: ``(B,)``, ``AddingTask.targets``.
        tolerance: the largest absolute error that is still wrong; 0.04 in the paper.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: the shapes differ (a ``(B, 1)`` readout output needs ``[:, 0]``),
            or ``tolerance`` is not positive.

    Example:
        >>> adding_accuracy(np.array([0.50, 0.70]), np.array([0.52, 0.60]))
        0.5
    """
    predictions, targets = _check_outputs(predictions, targets)
    if not np.isfinite(tolerance) or tolerance <= 0:
        raise ValueError(f"tolerance must be a number > 0; got {tolerance!r}.")
    return float(np.mean(np.abs(predictions - targets) < tolerance))


def adding_baseline_error(T: int) -> float:
    """The expected absolute error of always answering 0.5, for minimal length T.

    The error is ``abs(X1 + X2) / 4``. Its mean is 1/6 when X1 and X2 are both
    uniform on [-1, 1] (see the module's introduction), and ``abs(X2) / 4``, mean
    1/8, when the first pair is the first marked one and X1 = 0. That happens
    with probability ``p = 1 / min(10, T)``, so the expected error is
    ``(1 - p) / 6 + p / 8 = 1/6 - p/24``: 0.1625 for T >= 10.

    Args:
        T: the minimal length, >= 4, as for :func:`adding_problem`.

    Returns:
        The expected mean absolute error, a float.
    """
    T = check_int("T", T, 4)
    p = 1.0 / min(10, T)
    return 1.0 / 6.0 - p / 24.0


def last_outputs(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The output at the last step of each sequence: ``outputs[lengths[b] - 1, b]``.

    Args:
        outputs: ``(L, B, ...)``, time-major, for example a layer's ``out``.
        lengths: ``(B,)``, ``AddingTask.lengths``, each from 1 to L.

    Returns:
        The selected outputs, shape ``(B, ...)``: one step of each sequence. With
        equal lengths this is ``outputs[-1]``.
    """
    outputs, lengths = _check_lengths(outputs, lengths)
    return outputs[lengths - 1, np.arange(len(lengths))]


def last_outputs_backward(
    dlast: np.ndarray, lengths: np.ndarray, n_steps: int
) -> np.ndarray:
    """The backward pass of :func:`last_outputs`: put each gradient back at its step.

    Args:
        dlast: ``(B, ...)``, the gradient with respect to the selected outputs.
        lengths: ``(B,)``, as given to :func:`last_outputs`.
        n_steps: L, the number of steps of ``outputs``.

    Returns:
        The gradient with respect to ``outputs``, shape ``(L, B, ...)``: ``dlast[b]`` at
        step ``lengths[b] - 1`` of sequence b, zeros everywhere else.
    """
    dlast = check_float_array("dlast", dlast)
    n_steps = check_int("n_steps", n_steps, 1)
    doutputs = np.zeros((n_steps, *dlast.shape), dtype=dlast.dtype)
    _, lengths = _check_lengths(doutputs, lengths)
    doutputs[lengths - 1, np.arange(len(lengths))] = dlast
    return doutputs


def _check_outputs(
    predictions: object, targets: object
) -> tuple[np.ndarray, np.ndarray]:
    """Check that predictions and targets are ``(B,)`` float arrays of one shape."""
    targets = check_float_array("targets", targets)
    check_shape("targets", targets, (None,), "(B,)")
    predictions = check_float_array("predictions", predictions)
    hint = "One number per sequence."
    if predictions.shape == (*targets.shape, 1):
        hint += " A (B, 1) readout output becomes (B,) with predictions[:, 0]."
    check_shape("predictions", predictions, targets.shape, "(B,)", hint)
    return predictions, targets


def _check_lengths(
    outputs: object, lengths: object
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``(L, B, ...)`` outputs against ``(B,)`` lengths in 1..L."""
    outputs = np.asarray(outputs)
    if outputs.ndim < 2:
        raise ValueError(
            f"outputs must be time-major, (L, B, ...); got shape {outputs.shape}."
        )
    lengths = check_int_array("lengths", lengths)
    check_shape(
        "lengths",
        lengths,
        (outputs.shape[1],),
        "(B,)",
        "One length per sequence.",
    )
    if lengths.size and (lengths.min() < 1 or lengths.max() > outputs.shape[0]):
        raise ValueError(
            f"lengths must lie between 1 and the number of steps, {outputs.shape[0]}; got "
            f"values from {lengths.min()} to {lengths.max()}."
        )
    return outputs, lengths
