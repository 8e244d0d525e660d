"""Beam search: decode a probable sequence by keeping several candidates.

A model that generates writes one symbol at a time. Greedy decoding takes the
most likely symbol at every step, and may commit early to a start whose best
continuation is poor. Beam search keeps the ``width`` most probable partial
sequences (the *beam*) at every step, extends each of them by every symbol,
and keeps the ``width`` best of the extensions; width 1 is greedy decoding.

The score of a sequence ``y_1 .. y_t`` is its log-probability under the model,
the sum ``log p(y_1) + log p(y_2 | y_1) + ... + log p(y_t | y_1 .. y_{t-1})``.
A wider beam costs ``width`` times the work of greedy decoding and usually
finds a more probable sequence, but not always: beam search is not an exact
search, and a wider beam can drop the prefix that a narrower one would have
completed well. Only a beam of ``V ** (max_len - 1)`` hypotheses (V symbols)
is sure to find the most probable sequence of ``max_len`` symbols.

The models that generate call :func:`beam_search` with their own step:
:meth:`tutor.charlm.CharLM.beam_search` and
:meth:`tutor.seq2seq.Seq2Seq.beam_search`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from tutor._checks import check_int

__all__ = ["BeamSearchResult", "beam_search"]


class BeamSearchResult(NamedTuple):
    """The hypotheses left in the beam at the end of a search, best first.

    Attributes:
        sequences: a list of at most ``width`` int64 arrays, the symbols each
            hypothesis wrote (without the start symbol; with the end symbol as
            its last entry if it wrote one). ``sequences[0]`` is the best.
        scores: ``(K,)`` float64, the log-probability of each sequence (the
            sum of the log-probabilities of its symbols), from highest down.
    """

    sequences: list[np.ndarray]
    scores: np.ndarray


def beam_search(
    step: Callable[[np.ndarray, object], tuple[np.ndarray, object]],
    state: object,
    start: int,
    width: int,
    max_len: int,
    end: int | None = None,
) -> BeamSearchResult:
    """Keep the ``width`` most probable partial sequences, step by step.

    At each step every hypothesis in the beam (K of them; 1 at the first
    step, then at most ``width``) is extended by each of the V symbols, with
    score ``score + log p(symbol | hypothesis)``; the ``width`` best of these
    ``K * V`` candidates form the next beam. Ties go to the hypothesis higher
    in the beam, then to the lower symbol id, so the result is deterministic
    and width 1 is exactly greedy decoding (``argmax`` at each step).

    Scores are not divided by the length: with ``end``, a sequence that ends
    early keeps its score while longer ones add negative log-probabilities.

    Args:
        step: ``step(tokens, state) -> (log_probs, state)``. It feeds the last
            symbol of each of the K hypotheses, ``tokens`` ``(K,)`` int64, to
            the model in ``state`` (K rows) and returns the log-probabilities
            of the next symbol, ``(K, V)``, and the new state. The model sees
            the K hypotheses as its batch axis.
        state: the model's state before the first step, for one hypothesis:
            an array with the hypotheses on axis 0 (``(1, H)``), a tuple of
            such arrays (the LSTM's ``(h, c)``), or ``None``. The search
            reorders its rows as it keeps and drops hypotheses.
        start: the symbol fed at the first step (a start symbol, or the last
            symbol of a prime).
        width: the number of hypotheses kept, >= 1; 1 is greedy decoding.
        max_len: the largest number of symbols written, >= 1.
        end: a symbol that finishes a sequence, or ``None``. A finished
            hypothesis stops growing and keeps its score; the search stops
            early when every hypothesis in the beam has finished.

    Returns:
        A :class:`BeamSearchResult` ``(sequences, scores)``, best first.

    Example:
        >>> # Two symbols, and the model ignores the past: p = (0.6, 0.4).
        >>> step = lambda tokens, state: (
        ...     np.log(np.tile([0.6, 0.4], (len(tokens), 1))), state)
        >>> sequences, scores = beam_search(step, None, 0, width=2, max_len=2)
        >>> [s.tolist() for s in sequences], np.exp(scores).round(2).tolist()
        ([[0, 0], [0, 1]], [0.36, 0.24])
    """
    width = check_int("width", width)
    max_len = check_int("max_len", max_len)
    start = check_int("start", start, minimum=0)
    if end is not None:
        end = check_int("end", end, minimum=0)
    tokens = np.array([start])  # (K,), the last symbol of each hypothesis
    scores = np.zeros(1)  # (K,), their log-probabilities
    written = np.empty((1, 0), dtype=np.int64)  # (K, t), their symbols
    done = np.zeros(1, dtype=bool)  # (K,), which have written `end`
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        log_probs = _check_log_probs(log_probs, len(tokens), end)
        V = log_probs.shape[1]
        if done.any():  # a finished one has one continuation, `end`, free
            log_probs[done] = -np.inf
            log_probs[done, end] = 0.0
        candidates = (scores[:, None] + log_probs).ravel()  # (K * V,)
        # Best first; the stable sort breaks ties by position in the beam,
        # then by symbol id. Impossible candidates (-inf) are never kept.
        order = np.argsort(-candidates, kind="stable")
        keep = order[: min(width, np.count_nonzero(candidates > -np.inf))]
        if keep.size == 0:
            raise ValueError(
                "step gave every next symbol log-probability -inf; "
                "log_probs must hold log-probabilities, e.g. log_softmax."
            )
        parents, tokens = np.divmod(keep, V)
        scores = candidates[keep]
        written = np.concatenate([written[parents], tokens[:, None]], axis=1)
        state = _take_rows(state, parents)
        done = done[parents] | (tokens == end if end is not None else False)
        if done.all():
            break
    return BeamSearchResult([_cut(w, end) for w in written], scores)


def _check_log_probs(log_probs: object, K: int, end: int | None):
    """Return ``log_probs`` as a float64 ``(K, V)`` copy, or raise."""
    array = np.array(log_probs, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != K or array.shape[1] == 0:
        raise ValueError(
            f"step must return log_probs of shape (K, V) = ({K}, ?), one row "
            f"per hypothesis fed to it; got shape {array.shape}."
        )
    if np.isnan(array).any() or (array == np.inf).any():
        raise ValueError(
            "step returned log_probs holding NaN or +inf; they must be "
            "log-probabilities (<= 0, -inf for impossible symbols)."
        )
    if end is not None and end >= array.shape[1]:
        raise ValueError(
            f"end must be a symbol id in 0..{array.shape[1] - 1} (step scores "
            f"V = {array.shape[1]} symbols); got {end}."
        )
    return array


def _take_rows(state: object, rows: np.ndarray) -> object:
    """The rows ``rows`` of a state: an array, a tuple of arrays, or None."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_take_rows(part, rows) for part in state)
    return np.asarray(state)[rows]


def _cut(symbols: np.ndarray, end: int | None) -> np.ndarray:
    """``symbols`` up to and including the first ``end``."""
    finished = np.flatnonzero(symbols == end) if end is not None else []
    return symbols[: finished[0] + 1] if len(finished) else symbols
