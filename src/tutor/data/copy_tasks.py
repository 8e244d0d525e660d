"""Toy sequence-to-sequence tasks: copy a sequence of symbols, or reverse it.

An encoder reads a *source* sequence of S symbols; a decoder then writes a
*target* sequence. In :func:`copy_task` the target is the source itself, in
:func:`reverse_task` the source read backwards. Both are trivial for a program
and hard for an encoder-decoder whose only link between reading and writing is
one fixed-size state: that state must hold all S symbols, in order, at once.
The dependency is long and positional: output t depends on exactly one input
(t in a copy, ``S - 1 - t`` in a reversal), far away for most t.

Symbols are drawn uniformly and independently from an alphabet of K symbols,
``0 .. K-1``; guessing gives a token accuracy of ``1 / K``. Arrays are
time-major as everywhere in :mod:`tutor`: ``src`` and ``tgt`` are ``(S, B)``
integer ids for B sequences.

**No start and no end symbols.** All the sequences of a batch have the same
length, and the target is exactly as long as the source, so the data hold only
the K symbols. The symbol that starts the decoder belongs to the model
(:class:`tutor.seq2seq.Seq2Seq` adds it), and the decoder is told how many
symbols to write, so it needs no end symbol either.

Which to use: in a reversal the last symbol read is the first one written, so
an encoder-decoder without attention gets its first outputs right easily and
fails towards the end; in a copy even the first symbol written was read S steps
earlier. Both show the bottleneck. With attention and an encoder that reads
left to right, a copy is the easier of the two: to write symbol t the decoder
looks at position t, counting from the start as the encoder does, and the
alignment is the diagonal; in a reversal it must look at ``S - 1 - t`` and so
needs to know S as well. Reversal is the classic: Sutskever, Vinyals and Le
(2014) reversed their source sentences because it made training easier.

Training on one length at a time is slow to start for long sequences: with
attention, the network first has to discover where to look, and that is
easiest on short sequences. Drawing a new length for every batch, for example
``copy_task(32, length=(5, 30), vocab_size=8, rng=rng)``, mixes short and long
sequences, and one network then handles all lengths in the range.

Example:
    >>> batch = reverse_task(2, length=5, vocab_size=4, rng=0)
    >>> batch.src.shape, batch.tgt.shape
    ((5, 2), (5, 2))
    >>> batch.src[:, 0].tolist(), batch.tgt[:, 0].tolist()
    ([3, 2, 1, 0, 0], [0, 0, 1, 2, 3])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._checks import as_rng, check_int, check_int_array, check_shape

__all__ = [
    "Seq2SeqBatch",
    "copy_task",
    "reverse_task",
    "token_accuracy",
    "exact_match",
]


class Seq2SeqBatch(NamedTuple):
    """A batch of source sequences and their targets, as integer ids.

    Attributes:
        src: ``(S, B)`` int64, the source symbols, in ``0 .. K-1``.
        tgt: ``(S, B)`` int64, the target symbols, in ``0 .. K-1``.
    """

    src: np.ndarray
    tgt: np.ndarray


def _symbols(
    n: int, length: int | tuple[int, int], vocab_size: int, rng
) -> np.ndarray:
    """Draw ``(S, n)`` symbols uniformly from ``0 .. vocab_size-1``, S given or drawn."""
    n = check_int("n", n, 1)
    vocab_size = check_int("vocab_size", vocab_size, 2)
    rng = as_rng(rng)
    if isinstance(length, tuple):
        if len(length) != 2:
            raise ValueError(
                f"length must be an int or a pair (low, high); got a tuple of {len(length)}."
            )
        low = check_int("length[0]", length[0], 1)
        high = check_int("length[1]", length[1], low)
        length = int(rng.integers(low, high + 1))
    else:
        length = check_int("length", length, 1)
    return rng.integers(0, vocab_size, size=(length, n), dtype=np.int64)


def copy_task(
    n: int,
    length: int | tuple[int, int],
    vocab_size: int,
    rng: int | np.random.Generator,
) -> Seq2SeqBatch:
    """Draw n random sequences whose target is the sequence itself.

    Args:
        n: B, the number of sequences.
        length: S, the number of symbols in each sequence (source and target); or a
            pair ``(low, high)``: then S is drawn uniformly from ``low .. high`` (both
            included), once for the batch, so that all its sequences share it.
        vocab_size: K >= 2, the size of the alphabet.
        rng: an ``int`` seed or a ``numpy.random.Generator``.

    Returns:
        A :class:`Seq2SeqBatch` with ``src`` and ``tgt`` ``(S, B)``, ``tgt == src``
        (a copy, not the same array).

    Raises:
        ValueError: a count is not an int or is too small.
    """
    src = _symbols(n, length, vocab_size, rng)
    return Seq2SeqBatch(src, src.copy())


def reverse_task(
    n: int,
    length: int | tuple[int, int],
    vocab_size: int,
    rng: int | np.random.Generator,
) -> Seq2SeqBatch:
    """Draw n random sequences whose target is the sequence read backwards.

    Args:
        n: B, the number of sequences.
        length: S, the number of symbols in each sequence (source and target); or a
            pair ``(low, high)``: then S is drawn uniformly from ``low .. high`` (both
            included), once for the batch, so that all its sequences share it.
        vocab_size: K >= 2, the size of the alphabet.
        rng: an ``int`` seed or a ``numpy.random.Generator``.

    Returns:
        A :class:`Seq2SeqBatch` with ``src`` and ``tgt`` ``(S, B)``, where
        ``tgt[t] == src[S - 1 - t]``.

    Raises:
        ValueError: a count is not an int or is too small.
    """
    src = _symbols(n, length, vocab_size, rng)
    return Seq2SeqBatch(src, src[::-1].copy())


def _check_pair(
    pred: object, target: object, mask: object
) -> tuple[np.ndarray, ...]:
    """Check predicted and target ids ``(T, B)`` and the optional mask; return them as arrays."""
    pred = check_int_array("pred", pred)
    check_shape(
        "pred",
        pred,
        (None, None),
        "(T, B)",
        "Ids are time-major, one row per step.",
    )
    target = check_int_array("target", target)
    check_shape(
        "target",
        target,
        pred.shape,
        "(T, B)",
        "It must have the shape of pred.",
    )
    if pred.size == 0:
        raise ValueError(
            f"pred and target are empty (shape {pred.shape}): nothing to score."
        )
    if mask is None:
        return pred, target, np.ones(pred.shape, dtype=bool)
    mask = np.asarray(mask)
    check_shape(
        "mask", mask, pred.shape, "(T, B)", "One entry per predicted symbol."
    )
    if mask.dtype != bool:
        raise ValueError(
            f"mask must hold bools (True where a symbol counts); got {mask.dtype}."
        )
    return pred, target, mask


def token_accuracy(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
) -> float:
    """The fraction of symbols predicted correctly, over all steps and sequences.

    Args:
        pred: ``(T, B)`` integer ids, for example the ids from ``Seq2Seq.predict``.
        target: ``(T, B)`` integer ids.
        mask: ``(T, B)`` bools, which symbols count; ``None`` counts all. At least
            one must count.

    Returns:
        A float in ``[0, 1]``.

    Example:
        >>> token_accuracy(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 0]]))
        0.75
    """
    pred, target, mask = _check_pair(pred, target, mask)
    if not mask.any():
        raise ValueError(
            "mask must have at least one True entry (a symbol that counts); "
            f"got all {mask.size} entries False."
        )
    return float(((pred == target) & mask).sum() / mask.sum())


def exact_match(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None
) -> float:
    """The fraction of sequences whose every counted symbol is predicted correctly.

    Args:
        pred: ``(T, B)`` integer ids.
        target: ``(T, B)`` integer ids.
        mask: ``(T, B)`` bools, which symbols count; ``None`` counts all.

    Returns:
        A float in ``[0, 1]``, the number of columns with no mistake divided by B.

    Example:
        >>> exact_match(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 0]]))
        0.5
    """
    pred, target, mask = _check_pair(pred, target, mask)
    return float(np.mean(np.all((pred == target) | ~mask, axis=0)))
