"""The two stream tasks of Elman (1990), "Finding structure in time".

Both tasks are endless streams in which only some positions can be predicted
from the past. A network trained to predict the next element shows what it
has learned through *where* its error is low.

**Temporal XOR.** The stream is made of triplets: two random bits, then their
XOR. Only the third bit of a triplet can be predicted, and only by a network
that knows where the triplets start. Each position carries a *phase*:

======  ===========================  =====================
phase   bit                          predictable?
======  ===========================  =====================
0       first bit of a triplet       no (random)
1       second bit of a triplet      no (random)
2       XOR of the two bits before   yes
======  ===========================  =====================

**Letter sequences.** Random consonants from {b, d, g}, each followed by a
fixed run of vowels: b -> "ba", d -> "dii", g -> "guuu". The vowels can be
predicted from the consonant; the next consonant cannot, but the moment it
comes can. Each letter is a vector of six phonetic features, from Table 1 of
Elman (1990):

======  =========  =====  ===========  ====  ====  ======
letter  Consonant  Vowel  Interrupted  High  Back  Voiced
======  =========  =====  ===========  ====  ====  ======
b       1          0      1            0     0     1
d       1          0      1            1     0     1
g       1          0      1            0     1     1
a       0          1      0            0     1     1
i       0          1      0            1     0     1
u       0          1      0            1     1     1
======  =========  =====  ===========  ====  ====  ======

The table is consistent with its phonetics: the three consonants share the
Consonant, Interrupted and Voiced bits and differ only in High (d) and Back
(g); the vowels are Vowel and Voiced, never Interrupted. So after a vowel run
ends, a network can know that *a* consonant comes (four of the six bits) but
not *which* one.

Shapes are time-major as everywhere in :mod:`tutor`: one stream is ``(T,)``,
``B`` parallel independent streams are ``(T, B)``, and the inputs of a network
are ``(T, B, D)``.

Reference: J. L. Elman (1990), Finding structure in time, *Cognitive Science*
14(2), 179-211.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._checks import as_rng, check_int

__all__ = [
    "temporal_xor",
    "next_step_pairs",
    "XorTask",
    "temporal_xor_task",
    "LETTERS",
    "FEATURE_NAMES",
    "FEATURES",
    "EXPANSION",
    "letter_indices",
    "letters_to_text",
    "text_to_indices",
    "encode_letters",
    "is_vowel",
    "LetterTask",
    "letter_task",
]


# --------------------------------------------------------------------------- checks


def _n_columns(n_streams: int | None) -> int:
    """The number of streams to draw: 1 when ``n_streams`` is None (a single 1-D stream)."""
    return 1 if n_streams is None else check_int("n_streams", n_streams)


def _squeeze_single(array: np.ndarray, n_streams: int | None) -> np.ndarray:
    """Drop the stream axis of a ``(T, 1, ...)`` array when one 1-D stream was asked for."""
    return array[:, 0] if n_streams is None else array


# --------------------------------------------------------------------------- temporal XOR


def temporal_xor(
    n_steps: int,
    rng: int | np.random.Generator,
    n_streams: int | None = None,
    random_offset: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a stream of bits in triplets (a, b, a XOR b), and the phase of every bit.

    Args:
        n_steps: T, the length of each stream.
        rng: an int seed or a ``numpy.random.Generator``.
        n_streams: B, the number of independent streams; ``None`` for one
            stream returned without the stream axis.
        random_offset: if False every stream starts at the first bit of a
            triplet (phase 0). If True each stream starts at a phase drawn
            uniformly from {0, 1, 2}, so a network cannot count positions
            from the start: it must infer the phase from the bits.

    Returns:
        ``(bits, phase)``, two int64 arrays of shape ``(T,)`` when
        ``n_streams`` is None, else ``(T, B)``. ``bits`` holds 0 or 1;
        ``phase`` holds the position of each bit in its triplet: 0 and 1 for
        the two random bits, 2 for their XOR (the only predictable one).

    Example:
        >>> bits, phase = temporal_xor(6, rng=0)
        >>> bool(bits[2] == bits[0] ^ bits[1]) and phase.tolist() == [0, 1, 2, 0, 1, 2]
        True
    """
    n_steps = check_int("n_steps", n_steps)
    n_columns = _n_columns(n_streams)
    rng = as_rng(rng)
    # One spare triplet, so that a stream shifted by up to two bits is still T long.
    n_triplets = n_steps // 3 + 2
    pairs = rng.integers(0, 2, size=(n_triplets, 2, n_columns))
    triplets = np.concatenate(
        [pairs, pairs[:, :1] ^ pairs[:, 1:]], axis=1
    )  # (n, 3, B)
    long_bits = triplets.reshape(3 * n_triplets, n_columns)
    if random_offset:
        offset = rng.integers(0, 3, size=n_columns)
    else:
        offset = np.zeros(n_columns, dtype=np.int64)
    position = (
        offset[None, :] + np.arange(n_steps)[:, None]
    )  # (T, B) index into long_bits
    bits = long_bits[position, np.arange(n_columns)[None, :]]
    phase = position % 3
    return _squeeze_single(bits, n_streams), _squeeze_single(phase, n_streams)


def next_step_pairs(
    stream: np.ndarray, dtype: np.dtype | type = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Split a stream into network inputs and next-step targets: ``x[t]`` should predict ``y[t]``.

    The target at step t is the stream's element t + 1, so a stream of length
    T gives T - 1 input-target pairs.

    Args:
        stream: ``(T,)`` one stream of numbers (e.g. bits), ``(T, B)`` B such
            streams, or ``(T, B, D)`` streams of feature vectors (e.g. the
            output of :func:`encode_letters`).
        dtype: the floating dtype of the results.

    Returns:
        ``(x, y)``, both of shape ``(T - 1, B, D)`` and dtype ``dtype``, with
        ``B = 1`` for a 1-D stream and ``D = 1`` for a stream of numbers;
        ``y[t] == x[t + 1]`` for every t < T - 2.
    """
    stream = np.asarray(stream)
    if stream.ndim not in (1, 2, 3):
        raise ValueError(
            f"stream must have shape (T,), (T, B) or (T, B, D); got shape {stream.shape}."
        )
    if stream.shape[0] < 2:
        raise ValueError(
            f"stream must have at least 2 time steps to make a next-step pair; got shape "
            f"{stream.shape}. The time axis comes first (time-major)."
        )
    if stream.ndim == 1:
        stream = stream[:, None]
    if stream.ndim == 2:
        stream = stream[:, :, None]
    stream = stream.astype(dtype, copy=False)
    return stream[:-1], stream[1:]


class XorTask(NamedTuple):
    """Inputs and next-bit targets for the temporal XOR, ready for a network.

    Attributes:
        inputs: ``(T, B, 1)`` float, the bit at step t.
        targets: ``(T, B, 1)`` float, the bit at step t + 1.
        target_phase: ``(T, B)`` int64, the phase (0, 1 or 2) of the target
            bit; the error is expected to fall only where it is 2.
    """

    inputs: np.ndarray
    targets: np.ndarray
    target_phase: np.ndarray


def temporal_xor_task(
    n_steps: int,
    rng: int | np.random.Generator,
    n_streams: int = 1,
    random_offset: bool = False,
    dtype: np.dtype | type = np.float64,
) -> XorTask:
    """Draw ``n_streams`` temporal XOR streams and cut them into T next-bit predictions.

    Args:
        n_steps: T, the number of input-target pairs per stream (the streams
            drawn are T + 1 bits long).
        rng: an int seed or a ``numpy.random.Generator``.
        n_streams: B, the number of independent streams.
        random_offset: start each stream at a random phase (see :func:`temporal_xor`).
        dtype: floating dtype of ``inputs`` and ``targets``.

    Returns:
        An :class:`XorTask` with ``inputs`` and ``targets`` ``(T, B, 1)`` and
        ``target_phase`` ``(T, B)``.
    """
    n_steps = check_int("n_steps", n_steps)
    bits, phase = temporal_xor(
        n_steps + 1, rng, _n_columns(n_streams), random_offset
    )
    inputs, targets = next_step_pairs(bits, dtype)
    return XorTask(inputs, targets, phase[1:])


# --------------------------------------------------------------------------- letters

#: The six letters, in the row order of :data:`FEATURES`: consonants first, then vowels.
LETTERS = "bdgaiu"

#: The names of the six feature bits, in the column order of :data:`FEATURES`.
FEATURE_NAMES = ("consonant", "vowel", "interrupted", "high", "back", "voiced")

#: ``(6, 6)`` float64, row ``LETTERS.index(letter)`` is that letter's feature
#: vector (Elman 1990, Table 1). Read-only: it is shared by every caller.
FEATURES = np.array(
    [
        [1, 0, 1, 0, 0, 1],  # b
        [1, 0, 1, 1, 0, 1],  # d
        [1, 0, 1, 0, 1, 1],  # g
        [0, 1, 0, 0, 1, 1],  # a
        [0, 1, 0, 1, 0, 1],  # i
        [0, 1, 0, 1, 1, 1],  # u
    ],
    dtype=np.float64,
)
FEATURES.setflags(write=False)

#: How each consonant is expanded into a "word" of the stream.
EXPANSION = {"b": "ba", "d": "dii", "g": "guuu"}

_CONSONANTS = np.array([LETTERS.index(word[0]) for word in EXPANSION.values()])
_VOWEL_OF = np.array([LETTERS.index(word[1]) for word in EXPANSION.values()])
_WORD_LENGTH = np.array([len(word) for word in EXPANSION.values()])


def _one_letter_stream(n_letters: int, rng: np.random.Generator) -> np.ndarray:
    """``(T,)`` letter indices: random consonants from {b, d, g}, each expanded into its word."""
    # Every word has at least 2 letters, so T // 2 + 1 words always cover T letters.
    which = rng.integers(0, len(_CONSONANTS), size=n_letters // 2 + 1)
    lengths = _WORD_LENGTH[which]
    letters = np.repeat(_VOWEL_OF[which], lengths)
    word_starts = np.cumsum(lengths) - lengths
    letters[word_starts] = _CONSONANTS[which]
    return letters[:n_letters]


def letter_indices(
    n_letters: int, rng: int | np.random.Generator, n_streams: int | None = None
) -> np.ndarray:
    """Draw Elman's letter stream: random consonants b, d, g expanded to "ba", "dii", "guuu".

    Args:
        n_letters: T, the number of letters in each stream. Every stream
            starts with a consonant; the last word may be cut short.
        rng: an int seed or a ``numpy.random.Generator``.
        n_streams: B, the number of independent streams; ``None`` for one
            stream returned without the stream axis.

    Returns:
        int64 indices into :data:`LETTERS` (0..5), shape ``(T,)`` when
        ``n_streams`` is None, else ``(T, B)``.

    Example:
        >>> letters_to_text(letter_indices(12, rng=1))[:1] in "bdg"
        True
    """
    n_letters = check_int("n_letters", n_letters)
    n_columns = _n_columns(n_streams)
    rng = as_rng(rng)
    letters = np.stack(
        [_one_letter_stream(n_letters, rng) for _ in range(n_columns)], axis=1
    )
    return _squeeze_single(letters, n_streams)


def letters_to_text(indices: np.ndarray) -> str | list[str]:
    """Turn letter indices back into text: ``(T,)`` gives a str, ``(T, B)`` a list of B strs."""
    indices = np.asarray(indices)
    if indices.ndim == 2:
        return [letters_to_text(indices[:, b]) for b in range(indices.shape[1])]
    if indices.ndim != 1:
        raise ValueError(
            f"indices must have shape (T,) or (T, B); got shape {indices.shape}."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= len(LETTERS)):
        raise ValueError(
            f"indices must lie in 0..{len(LETTERS) - 1} (one per letter); got "
            f"values from {indices.min()} to {indices.max()}."
        )
    return "".join(LETTERS[i] for i in indices)


def text_to_indices(text: str) -> np.ndarray:
    """Turn a text such as ``"badiiguuu"`` into ``(T,)`` int64 indices into :data:`LETTERS`."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str; got {type(text).__name__}.")
    for position, letter in enumerate(text):
        if letter not in LETTERS:
            raise ValueError(
                f"unknown letter {letter!r} at position {position} of {text!r}; "
                f"the letters are {', '.join(LETTERS)} (lower case)."
            )
    return np.array([LETTERS.index(letter) for letter in text], dtype=np.int64)


def encode_letters(
    indices: np.ndarray, dtype: np.dtype | type = np.float64
) -> np.ndarray:
    """Replace every letter index by its six feature bits (Elman 1990, Table 1).

    Args:
        indices: int indices into :data:`LETTERS`, any shape ``S`` (for
            example ``(T,)`` or ``(T, B)``).
        dtype: floating dtype of the result.

    Returns:
        Shape ``S + (6,)``, the rows of :data:`FEATURES`; e.g. ``(T, B, 6)``.
    """
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(
            f"indices must be integer letter indices; got dtype {indices.dtype}. "
            f"Turn a text into indices with text_to_indices."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= len(LETTERS)):
        raise ValueError(
            f"indices must lie in 0..{len(LETTERS) - 1} (one per letter); got "
            f"values from {indices.min()} to {indices.max()}."
        )
    return FEATURES.astype(dtype)[indices]


def is_vowel(indices: np.ndarray) -> np.ndarray:
    """Boolean array of the same shape as ``indices``: True where the letter is a, i or u."""
    return np.asarray(indices) >= len(
        _CONSONANTS
    )  # LETTERS lists the consonants first


class LetterTask(NamedTuple):
    """Inputs and next-letter targets for Elman's letter task, ready for a network.

    Attributes:
        inputs: ``(T, B, 6)`` float, the features of the letter at step t.
        targets: ``(T, B, 6)`` float, the features of the letter at step t + 1.
        target_letter: ``(T, B)`` int64, the index into :data:`LETTERS` of the
            target letter.
        target_is_vowel: ``(T, B)`` bool, True where the target is a vowel
            (predictable) and False where it is a consonant (only its class is).
    """

    inputs: np.ndarray
    targets: np.ndarray
    target_letter: np.ndarray
    target_is_vowel: np.ndarray


def letter_task(
    n_steps: int,
    rng: int | np.random.Generator,
    n_streams: int = 1,
    dtype: np.dtype | type = np.float64,
) -> LetterTask:
    """Draw ``n_streams`` letter streams and cut them into T next-letter predictions.

    Args:
        n_steps: T, the number of input-target pairs per stream (the streams
            drawn are T + 1 letters long).
        rng: an int seed or a ``numpy.random.Generator``.
        n_streams: B, the number of independent streams.
        dtype: floating dtype of ``inputs`` and ``targets``.

    Returns:
        A :class:`LetterTask`: ``inputs`` and ``targets`` ``(T, B, 6)``,
        ``target_letter`` and ``target_is_vowel`` ``(T, B)``.
    """
    n_steps = check_int("n_steps", n_steps)
    letters = letter_indices(n_steps + 1, rng, _n_columns(n_streams))
    inputs, targets = next_step_pairs(encode_letters(letters, dtype), dtype)
    return LetterTask(inputs, targets, letters[1:], is_vowel(letters[1:]))
