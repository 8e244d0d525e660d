"""Text for a character-level language model: a shipped English text, a vocabulary, batches.

A character-level language model reads a text one character at a time and, after each
one, predicts the next. This module provides what it needs:

- :func:`load_text`: English text shipped with the package, read from the installed
  files (nothing is downloaded). :data:`TEXT_SOURCES` says where each text comes from
  and under which licence.
- :class:`Vocabulary`: the characters of a text, each given an integer id, with
  :meth:`Vocabulary.encode` (text to ids) and :meth:`Vocabulary.decode` (ids to text).
- :func:`text_batches`: a long stream of ids cut into B parallel streams and then
  into chunks of T steps, in order, so that truncated backpropagation through time can
  carry the hidden state from one chunk to the next.
- :func:`unigram_bits_per_char`: the score of the simplest model, which ignores the
  past and predicts every character with its overall frequency. A recurrent model has
  learned something from the past only if it beats this.

**The shipped text.** ``"python_reference"`` is 191,723 characters (94 distinct, all
printable ASCII plus the newline) of English prose from the *Python Language Reference*
and parts of the *Python Library Reference*, copyright 2001-2023 Python Software
Foundation, used under the PSF License Version 2 (its text is shipped next to the
extract, in ``files/LICENSE-PSF.txt``). It was taken from ``pydoc_data.topics.topics``
of CPython 3.11.7, the help pages that ``help("assert")`` shows, which every Python
installation carries. The changes made: only paragraphs of running prose were kept
(code examples, grammar rules, tables and headings were dropped), repeated paragraphs
were dropped, and typographic quotes and dashes were replaced by ASCII ones. The script
that made it is ``tools/make_text_extract.py`` in the book's repository. Well-known
public-domain novels are not shipped by any common Python package, which is why the
book trains on technical prose that every reader already has.

Ids are ``int64``. Shapes are time-major as everywhere in :mod:`tutor`: a batch of
inputs is ``(T, B)``, the one-hot inputs of a network ``(T, B, K)`` with K the size of
the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import numpy as np

from tutor._checks import check_int

__all__ = [
    "TEXT_SOURCES",
    "load_text",
    "Vocabulary",
    "TextBatches",
    "text_batches",
    "unigram_bits_per_char",
]

#: The origin and licence of each shipped text, keyed by its name. Each entry is a dict
#: of strings with the fields ``title``, ``file`` (in ``tutor/data/files``), ``source``,
#: ``licence``, ``copyright`` and ``changes``. Print it in a notebook to credit the text.
TEXT_SOURCES: dict[str, dict[str, str]] = {
    "python_reference": {
        "title": "The Python Language Reference (prose paragraphs of pydoc_data.topics)",
        "file": "python_reference.txt",
        "source": (
            "pydoc_data.topics.topics of CPython 3.11.7, the plain-text help pages of the "
            "Python Language Reference and parts of the Library Reference "
            "(https://docs.python.org/3.11/reference/)"
        ),
        "licence": (
            "PSF License Version 2 (https://docs.python.org/3/license.html); the licence "
            "text is shipped in tutor/data/files/LICENSE-PSF.txt"
        ),
        "copyright": "Copyright (c) 2001-2023 Python Software Foundation; All Rights Reserved",
        "changes": (
            "only prose paragraphs kept (code examples, grammar rules, tables and headings "
            "dropped); repeated paragraphs dropped; curly quotes, dashes and ellipses "
            "replaced by ASCII characters; made by tools/make_text_extract.py"
        ),
    },
}


def load_text(name: str = "python_reference") -> str:
    """Read a text shipped with the package.

    Args:
        name: a key of :data:`TEXT_SOURCES`.

    Returns:
        The whole text as one string (UTF-8 decoded, ``"\\n"`` line ends).

    Raises:
        ValueError: ``name`` is not a shipped text.

    Example:
        >>> text = load_text()
        >>> len(text), text[:18]
        (191723, 'Assert statements ')
    """
    if name not in TEXT_SOURCES:
        raise ValueError(
            f"name must be one of the shipped texts {sorted(TEXT_SOURCES)}; "
            f"got {name!r}."
        )
    path = resources.files("tutor.data").joinpath(
        "files", TEXT_SOURCES[name]["file"]
    )
    return path.read_text(encoding="utf-8")


class Vocabulary:
    """The characters a model knows, each with an integer id.

    The id of a character is its position in ``chars``. :meth:`from_text` sorts the
    characters by code point, so the same text always gives the same ids.

    Args:
        chars: the characters, each once, in the order of their ids.

    Attributes:
        chars: the characters as one string; ``chars[i]`` has id ``i``.

    Example:
        >>> vocab = Vocabulary.from_text("hello")
        >>> vocab.chars, len(vocab)
        ('ehlo', 4)
        >>> vocab.encode("hole").tolist()
        [1, 3, 2, 0]
        >>> vocab.decode([1, 0, 2, 2, 3])
        'hello'
    """

    def __init__(self, chars: str) -> None:
        if not isinstance(chars, str) or not chars:
            raise ValueError(
                f"chars must be a non-empty string of distinct characters; got {chars!r}."
            )
        if len(set(chars)) != len(chars):
            repeated = sorted({ch for ch in chars if chars.count(ch) > 1})
            raise ValueError(
                f"chars must hold each character once; repeated: {repeated}."
            )
        self.chars = chars
        codes = _code_points(chars)
        order = np.argsort(codes, kind="stable")
        self._sorted_codes = codes[order]  # for a binary search in encode
        self._ids_of_sorted = order.astype(np.int64)
        self._codes = codes  # decode: id -> code point

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The vocabulary of the distinct characters of ``text``, sorted by code point.

        Args:
            text: any non-empty string.

        Returns:
            A :class:`Vocabulary` with ``len(set(text))`` characters.
        """
        if not isinstance(text, str) or not text:
            given = repr(text) if isinstance(text, str) else type(text).__name__
            raise ValueError(f"text must be a non-empty string; got {given}.")
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and char in self.chars

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        shown = self.chars if len(self) <= 40 else self.chars[:37] + "..."
        return f"Vocabulary({len(self)} characters: {shown!r})"

    def encode(self, text: str) -> np.ndarray:
        """Turn a string into the ids of its characters.

        Args:
            text: a string whose characters are all in the vocabulary.

        Returns:
            ``(len(text),)`` int64 ids.

        Raises:
            ValueError: a character is not in the vocabulary; the message names the
                first such character and its position.
        """
        if not isinstance(text, str):
            raise ValueError(
                f"text must be a string; got {type(text).__name__}."
            )
        codes = _code_points(text)
        where = np.searchsorted(self._sorted_codes, codes)
        where = np.minimum(where, len(self._sorted_codes) - 1)
        known = self._sorted_codes[where] == codes
        if not known.all():
            position = int(np.argmin(known))
            unknown = sorted(set(text) - set(self.chars))
            raise ValueError(
                f"text must hold only characters of the vocabulary; got "
                f"{text[position]!r} at position {position} ({len(unknown)} "
                f"unknown characters: {''.join(unknown[:20])!r}). "
                f"Build the vocabulary from the whole text (Vocabulary.from_text), or remove "
                f"those characters first."
            )
        return self._ids_of_sorted[where]

    def decode(self, ids: object) -> str:
        """Turn ids back into a string.

        Args:
            ids: a sequence of integer ids, ``(N,)``, each in ``0 .. len(self) - 1``.

        Returns:
            The string of ``N`` characters.

        Raises:
            ValueError: ``ids`` is not a 1-D array of integers, or an id is out of range.
        """
        ids = np.asarray(ids)
        if ids.size == 0:
            return ""
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                f"ids must be a 1-D sequence of integer ids; got shape {ids.shape} and "
                f"dtype {ids.dtype}."
            )
        if ids.min() < 0 or ids.max() >= len(self):
            raise ValueError(
                f"ids must lie in 0..{len(self) - 1} (the vocabulary has {len(self)} "
                f"characters); got values from {ids.min()} to {ids.max()}."
            )
        return self._codes[ids].astype("<u4").tobytes().decode("utf-32-le")


def _code_points(text: str) -> np.ndarray:
    """The Unicode code points of ``text``, ``(len(text),)`` uint32."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(
        np.uint32
    )


class TextBatches:
    """A long stream of ids laid out as B parallel streams and read in chunks of T steps.

    Made by :func:`text_batches`; see there for the layout. Iterating over it yields the
    chunks of one pass over the data (an *epoch*) in order; iterate again for another
    epoch. ``len()`` is the number of chunks per epoch.

    Attributes:
        streams: ``(L + 1, B)`` int64; column b is the b-th stream. Row t holds the input
            of step t, and row t + 1 its target.
        seq_len: T, the number of steps in a chunk (the last chunk may be shorter).
    """

    def __init__(self, streams: np.ndarray, seq_len: int) -> None:
        self.streams = streams
        self.seq_len = seq_len

    @property
    def batch_size(self) -> int:
        """B, the number of parallel streams."""
        return self.streams.shape[1]

    @property
    def steps_per_stream(self) -> int:
        """L, the number of input-target pairs in each stream."""
        return self.streams.shape[0] - 1

    def __len__(self) -> int:
        return -(-self.steps_per_stream // self.seq_len)  # ceil(L / T)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, self.steps_per_stream, self.seq_len):
            stop = min(start + self.seq_len, self.steps_per_stream)
            yield self.streams[start:stop], self.streams[start + 1 : stop + 1]


def text_batches(ids: object, batch_size: int, seq_len: int) -> TextBatches:
    """Cut a stream of N ids into B parallel streams, read in order in chunks of T steps.

    The layout: with ``L = (N - 1) // B``, stream b is the b-th contiguous slice of the
    text, ``ids[b * L : (b + 1) * L + 1]`` (consecutive streams share one id: the last
    target of one is the first input of the next). The ``N - 1 - B * L`` ids at the end
    that do not fill a stream are left out. Each stream is then read T steps at a time:
    the chunk that starts at step s has the inputs ``x[t, b] = ids[b * L + s + t]`` and
    the targets ``y[t, b] = ids[b * L + s + t + 1]``, the next character. Chunks come in
    order, so the hidden state at the end of one chunk is the right starting state for
    the next: each stream is read like one long text, and truncated backpropagation
    through time can carry the state across chunks (detached). The last chunk is shorter
    when T does not divide L.

    Args:
        ids: ``(N,)`` integer ids, for example ``vocab.encode(text)``.
        batch_size: B >= 1, the number of parallel streams.
        seq_len: T >= 1, the number of steps per chunk.

    Returns:
        A :class:`TextBatches`; iterate over it for ``(x, y)`` pairs of ``(T, B)`` int64
        arrays (views of one ``(L + 1, B)`` array: do not change them in place).

    Raises:
        ValueError: ``ids`` is not a 1-D integer array, or is too short to give every
            stream at least one step (``N < B + 1``).

    Example:
        >>> batches = text_batches(np.arange(11), batch_size=2, seq_len=3)
        >>> len(batches)
        2
        >>> x, y = next(iter(batches))
        >>> x.T.tolist(), y.T.tolist()
        ([[0, 1, 2], [5, 6, 7]], [[1, 2, 3], [6, 7, 8]])
    """
    ids = _check_ids(ids)
    batch_size = check_int("batch_size", batch_size)
    seq_len = check_int("seq_len", seq_len)
    n = len(ids)
    if n < batch_size + 1:
        raise ValueError(
            f"ids holds {n} ids, too few for {batch_size} streams: each stream needs at "
            f"least 2 (an input and its target). Use a longer text or a smaller batch_size."
        )
    steps = (n - 1) // batch_size  # L
    rows = (
        np.arange(steps + 1)[:, None] + steps * np.arange(batch_size)[None, :]
    )
    return TextBatches(np.ascontiguousarray(ids[rows]), seq_len)


def unigram_bits_per_char(
    ids: object,
    vocab_size: int,
    eval_ids: object | None = None,
    smoothing: float = 1.0,
) -> float:
    """The bits per character of the unigram model: every character predicted by its frequency.

    The model is fitted on ``ids``: the probability of character k is
    ``p_k = (n_k + a) / (N + a * K)``, with ``n_k`` its count among the N ids, K the size
    of the vocabulary and ``a`` the ``smoothing`` (add-one smoothing for ``a = 1``, so that
    a character never seen in ``ids`` still has a probability above zero). Its score on
    ``eval_ids`` is the mean of ``-log2 p_k`` over their characters, the cross-entropy in
    bits per character; with ``eval_ids=None`` and ``smoothing=0`` this is the entropy of
    the character frequencies of ``ids``. A model that uses the past must score below it.

    Args:
        ids: ``(N,)`` integer ids to count (the training text).
        vocab_size: K.
        eval_ids: ``(M,)`` integer ids to score (held-out text); ``None`` scores ``ids``.
        smoothing: a >= 0, added to every count. With 0, a character of ``eval_ids``
            that never occurs in ``ids`` has probability 0 and the result is infinite.

    Returns:
        The bits per character, a float.
    """
    ids = _check_ids(ids, vocab_size)
    eval_ids = (
        ids
        if eval_ids is None
        else _check_ids(eval_ids, vocab_size, "eval_ids")
    )
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a number >= 0; got {smoothing!r}.")
    counts = (
        np.bincount(ids, minlength=vocab_size).astype(np.float64) + smoothing
    )
    with np.errstate(divide="ignore"):
        bits = -np.log2(counts / counts.sum())
    return float(bits[eval_ids].mean())


def _check_ids(
    ids: object, vocab_size: int | None = None, name: str = "ids"
) -> np.ndarray:
    """Return ``ids`` as a non-empty 1-D int64 array (in 0..vocab_size-1 when given)."""
    if isinstance(ids, str):
        shown = ids if len(ids) <= 20 else ids[:20] + "..."
        raise ValueError(
            f"{name} must be integer ids, not a string; got the str {shown!r}. "
            "Encode it with vocab.encode."
        )
    array = np.asarray(ids)
    if (
        array.ndim != 1
        or array.size == 0
        or not np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(
            f"{name} must be a non-empty 1-D array of integer ids, (N,); got shape "
            f"{array.shape} and dtype {array.dtype}."
        )
    if vocab_size is not None:
        vocab_size = check_int("vocab_size", vocab_size)
        if array.min() < 0 or array.max() >= vocab_size:
            raise ValueError(
                f"{name} must lie in 0..{vocab_size - 1}; got values from {array.min()} "
                f"to {array.max()}."
            )
    return array.astype(np.int64, copy=False)
