"""Delayed recall: repeat the symbol seen ``d`` steps ago.

The task that shows what truncated backpropagation through time can and
cannot learn. A stream of random symbols, drawn uniformly and independently
from an alphabet of K symbols, is fed to a network one symbol per step, as a
one-hot vector. At step t the network must output the symbol it read at step
t - d, where d >= 0 is the *delay*. Nothing in the recent input helps: the
only way to succeed is to carry each symbol in the hidden state for d steps.
Guessing gives an accuracy of 1 / K.

**Steps are counted from 0**, as in the arrays: the inputs are ``x[0]``,
``x[1]``, ... and the target of step t is the symbol of ``x[t - d]``.

**The first d steps have no target**, because there is no symbol d steps
before them. Their entry in ``targets`` is :data:`IGNORE` (-1) and their
entry in ``mask`` is False; every later entry of ``mask`` is True. So
``mask == (targets != IGNORE)``, and a loss or an accuracy must count only
the steps where ``mask`` is True (for example
``softmax_cross_entropy(logits, targets, mask=mask)``).

Shapes are time-major as everywhere in :mod:`tutor`: ``inputs`` is
``(T, B, K)`` and ``targets``, ``mask`` and ``symbols`` are ``(T, B)``, for B
independent streams of T steps.

Example:
    >>> task = delayed_recall(6, delay=2, rng=0)
    >>> task.symbols[:, 0].tolist(), task.targets[:, 0].tolist()
    ([3, 2, 2, 1, 1, 0], [-1, -1, 3, 2, 2, 1])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._checks import as_rng, check_int

__all__ = ["IGNORE", "RecallTask", "delayed_recall"]

#: The target of a step that has none (the first ``delay`` steps of a stream).
IGNORE = -1


class RecallTask(NamedTuple):
    """The arrays of a delayed-recall task, ready for a network.

    Attributes:
        inputs: ``(T, B, K)`` float, the one-hot symbol read at each step.
        targets: ``(T, B)`` int64, the symbol read ``delay`` steps earlier,
            ``targets[t] = symbols[t - delay]``; :data:`IGNORE` (-1) for
            ``t < delay``.
        mask: ``(T, B)`` bool, True where a step has a target (``t >= delay``).
        symbols: ``(T, B)`` int64, the symbol read at each step, in 0..K-1
            (the index of the 1 in ``inputs``).
        delay: d, the number of steps between reading a symbol and recalling it.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    symbols: np.ndarray
    delay: int


def delayed_recall(
    n_steps: int,
    delay: int,
    rng: int | np.random.Generator,
    n_streams: int = 1,
    n_symbols: int = 4,
    dtype: np.dtype | type = np.float64,
) -> RecallTask:
    """Draw B streams of random symbols with the delayed-recall targets.

    Args:
        n_steps: T, the length of each stream; it must exceed ``delay`` so that
            at least one step has a target.
        delay: d >= 0, how many steps back the target lies (0 means: repeat the
            current symbol).
        rng: an int seed or a ``numpy.random.Generator``.
        n_streams: B, the number of independent streams.
        n_symbols: K >= 2, the size of the alphabet (and of each one-hot input).
        dtype: the floating dtype of ``inputs``.

    Returns:
        A :class:`RecallTask`: ``inputs`` ``(T, B, K)``, ``targets``, ``mask`` and
        ``symbols`` ``(T, B)``, and the delay.

    Raises:
        ValueError: a count is not an int, is too small, or ``n_steps <= delay``.
    """
    delay = check_int("delay", delay, 0)
    n_steps = check_int("n_steps", n_steps, 1)
    if n_steps <= delay:
        raise ValueError(
            f"n_steps ({n_steps}) must be larger than delay ({delay}): the first "
            f"{delay} steps have no target, so a shorter stream would have none at all."
        )
    n_streams = check_int("n_streams", n_streams, 1)
    n_symbols = check_int("n_symbols", n_symbols, 2)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(
            f"dtype must be a floating dtype such as np.float64; got {dtype.name}."
        )
    rng = as_rng(rng)
    symbols = rng.integers(
        0, n_symbols, size=(n_steps, n_streams), dtype=np.int64
    )
    inputs = np.eye(n_symbols, dtype=dtype)[symbols]  # (T, B, K) one-hot
    targets = np.full_like(symbols, IGNORE)
    targets[delay:] = symbols[
        : n_steps - delay
    ]  # the target at t is the symbol at t - d
    return RecallTask(inputs, targets, targets != IGNORE, symbols, delay)
