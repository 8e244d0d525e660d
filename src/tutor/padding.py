"""Batches of sequences of different lengths: padding, lengths and masks.

Sequences in a batch are stored in one ``(T, B, ...)`` array, T being the
longest length; a shorter sequence is followed by padding, steps that hold
any valid input and mean nothing. ``lengths``, shape ``(B,)``, says how many
steps of each sequence are real. The recurrent layers take it in
``forward(x, state, lengths=lengths)`` and then

- give zeros as outputs after each sequence's end (as PyTorch's
  ``pad_packed_sequence`` does),
- return as final state the state at each sequence's own last step, not at
  step T, and
- let no gradient flow from the padding.

The functions here do the bookkeeping. A layer still computes its steps over
the padding (one matrix product per step for the whole batch is faster than
a shrinking batch), then throws those results away: a step only depends on
the steps before it, so the padding after a sequence cannot change what came
before.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "check_lengths",
    "padding_mask",
    "zero_padding",
    "at_ends",
    "put_at_ends",
    "reverse_sequences",
]


def check_lengths(lengths: object, steps: int, batch_size: int) -> np.ndarray:
    """Return ``lengths`` as an ``int64`` array of shape ``(B,)``, or raise.

    Args:
        lengths: the number of real steps of each sequence; integers between
            1 and T.
        steps: T, the number of time steps of the padded batch.
        batch_size: B.

    Raises:
        ValueError: ``lengths`` is not integer, not ``(B,)``, or holds a length
            below 1 or above T; the message names the first bad entry.
    """
    given = np.asarray(lengths)
    if given.dtype == bool or not np.issubdtype(given.dtype, np.integer):
        raise ValueError(
            f"lengths must hold integers, the number of steps of each "
            f"sequence; got dtype {given.dtype}"
            + (f" ({given.ravel()[:4]}...)" if given.size else "")
            + ". Convert with np.asarray(lengths, dtype=int) if they are whole."
        )
    if given.shape != (batch_size,):
        raise ValueError(
            f"lengths must have shape (B,) = ({batch_size},), one length per "
            f"sequence in the batch; got shape {given.shape}."
        )
    bad = np.flatnonzero((given < 1) | (given > steps))
    if bad.size:
        b = int(bad[0])
        raise ValueError(
            f"lengths[{b}] = {int(given[b])}: each length must be between 1 "
            f"and T = {steps}, the number of time steps of x "
            f"({bad.size} of {batch_size} lengths are outside)."
        )
    return given.astype(np.int64)


def padding_mask(lengths: np.ndarray, steps: int) -> np.ndarray:
    """``mask[t, b]`` is ``True`` when step t (from 0) is a real step of sequence b.

    Returns:
        A boolean ``(T, B)`` array: ``t < lengths[b]``.
    """
    return np.arange(steps)[:, None] < np.asarray(lengths)[None, :]


def zero_padding(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A copy of ``values``, ``(T, B, ...)``, with zeros at the padding steps."""
    mask = padding_mask(lengths, values.shape[0])
    return np.where(
        mask.reshape(mask.shape + (1,) * (values.ndim - 2)), values, 0
    )


def at_ends(states: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The state of each sequence at its last step.

    Args:
        states: ``(T + 1, B, H)``, the initial state in row 0 and the state
            after step t in row t.
        lengths: ``(B,)``.

    Returns:
        ``(B, H)``: row b is ``states[lengths[b], b]``.
    """
    return states[lengths, np.arange(len(lengths))]


def put_at_ends(
    grad: np.ndarray, steps: int, lengths: np.ndarray
) -> np.ndarray:
    """Spread the gradient of the final states over the steps where they were taken.

    The backward of :func:`at_ends`: the final state of sequence b is its
    state after step ``lengths[b]``, so its gradient lands there.

    Args:
        grad: ``(B, H)``, the gradient with respect to the final states.
        steps: T.
        lengths: ``(B,)``.

    Returns:
        ``(T, B, H)`` zeros, except row ``lengths[b] - 1`` of sequence b,
        which holds ``grad[b]`` (row t is the state after step t + 1).
    """
    spread = np.zeros((steps, *grad.shape), dtype=grad.dtype)
    spread[lengths - 1, np.arange(len(lengths))] = grad
    return spread


def reverse_sequences(x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """Each sequence of the batch backwards, its padding left in place.

    A backward-reading layer must start at each sequence's own last step, not
    at step T (which may be padding). Row t of sequence b becomes row
    ``lengths[b] - 1 - t`` for t below its length; padding rows stay where
    they are. Doing it twice gives ``x`` back, so the same function undoes it,
    and the backward pass of a reversal is the same reversal of the gradient.

    Args:
        x: ``(T, B, ...)``, time-major.
        lengths: ``(B,)``; ``None`` when every sequence has T steps.

    Returns:
        ``(T, B, ...)``: a reversed view of ``x`` when ``lengths`` is
        ``None``, else a reversed copy.
    """
    if lengths is None:
        return x[::-1]
    steps, batch = x.shape[:2]
    t = np.arange(steps)[:, None]
    source = np.where(t < lengths, lengths - 1 - t, t)  # (T, B)
    return x[source, np.arange(batch)]
