"""The Reber grammar and the embedded Reber grammar.

Reber (1967) studied how people learn an artificial grammar. His finite-state
grammar became a standard test for recurrent networks: the network reads a
string one symbol at a time and must predict which symbols may come next.
Hochreiter and Schmidhuber (1997, Experiment 1) used the *embedded* version,
whose last-but-one symbol repeats the second one, an arbitrarily long string
earlier; Gers, Schmidhuber and Cummins (2000) fed an endless stream of
embedded strings, with no resets, to motivate the forget gate.

**The grammar.** Seven symbols, ``ALPHABET = "BTSXPVE"``. A string starts with
B in state 0 and ends with E; in between it walks this graph, each arrow
labelled with the symbol it emits::

    state 0:  B -> 1
    state 1:  T -> 2    P -> 3
    state 2:  S -> 2    X -> 4      (the T branch: loop on S, leave on X)
    state 3:  T -> 3    V -> 5      (the P branch: loop on T, leave on V)
    state 4:  X -> 3    S -> 6      (X jumps across to the P branch's loop)
    state 5:  P -> 4    V -> 6      (P jumps back to state 4)
    state 6:  E -> end

Where two arrows leave a state each is taken with probability 1/2. Examples:
``BTXSE``, ``BPVVE``, ``BTSSXXTVVE``, ``BPTVPXTTVVE``. Each symbol leads from a
state to a single next state, so a prefix determines its state and the set of
legal next symbols (:func:`legal_next`).

**The embedded grammar.** ``B``, then T or P, then a full Reber string, then
the *same* T or P again, then ``E``; for example ``BTBPVVETE``. Inside, T and P
appear in both branches, so only a memory of the second symbol predicts the
last-but-one: this is the long-range dependency, and
:func:`outer_target_step` gives the step where it must be predicted.

**Arrays.** A string of length L gives ``T = L - 1`` prediction steps: the
input at step t is symbol t (one-hot, ``(7,)``), the target is symbol t + 1,
and the *legal* set is every symbol the grammar allows there (multi-hot,
``(7,)``). A network "predicts the legal next symbols" when it ranks the
legal ones above the others. Several strings are padded to the longest into
time-major arrays with a mask (:func:`batch`); an endless stream has no
padding (:func:`continual_stream`).

References: A. S. Reber (1967), Implicit learning of artificial grammars,
*Journal of Verbal Learning and Verbal Behavior* 6, 855-863. S. Hochreiter and
J. Schmidhuber (1997), Long short-term memory, *Neural Computation* 9(8).
F. A. Gers, J. Schmidhuber and F. Cummins (2000), Learning to forget:
continual prediction with LSTM, *Neural Computation* 12(10).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tutor._checks import as_rng, check_int

__all__ = [
    "ALPHABET",
    "REBER_TRANSITIONS",
    "generate",
    "generate_dataset",
    "is_valid",
    "legal_next",
    "symbol_indices",
    "encode",
    "next_symbol_targets",
    "outer_target_step",
    "ReberBatch",
    "batch",
    "continual_stream",
]

#: The seven symbols, in the order of the one-hot axis.
ALPHABET = "BTSXPVE"

#: The Reber grammar as ``{state: {symbol: next state}}``; state 0 is the start
#: and state 7, which nothing leaves, is the end (reached by reading E).
REBER_TRANSITIONS: dict[int, dict[str, int]] = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": 7},
    7: {},
}


# --------------------------------------------------------------------------- automata


class _Automaton:
    """A deterministic finite automaton over :data:`ALPHABET`, in two equivalent forms.

    ``transitions`` (a dict of dicts) is what the string functions walk, one
    symbol at a time. The arrays serve the vectorised stream generator, which
    moves many streams one step with a single indexing operation:

    - ``legal``: ``(S, 7)`` bool, the symbols that may leave each state;
    - ``choice_symbol``, ``choice_state``: ``(S, 2)`` int, the two arrows a
      random bit picks between (the same arrow twice where only one leaves);
      here E leads back to the start state instead of the end state, so that
      a stream continues with the next string's B;
    - ``awaits_outer``: ``(S,)`` bool, True in the states where the next
      symbol is the embedded grammar's final T or P.
    """

    def __init__(
        self,
        transitions: dict[int, dict[str, int]],
        awaits_outer: Sequence[int],
    ):
        if sorted(transitions) != list(range(len(transitions))):
            raise ValueError(
                "transitions must number the states 0, 1, ..., S - 1 (they "
                f"index arrays); got the states {sorted(transitions)}."
            )
        self.transitions = transitions
        self.start = 0
        self.end = next(
            state for state, arrows in transitions.items() if not arrows
        )
        n_states = len(transitions)
        self.legal = np.zeros((n_states, len(ALPHABET)), dtype=bool)
        self.choice_symbol = np.zeros((n_states, 2), dtype=np.int64)
        self.choice_state = np.zeros((n_states, 2), dtype=np.int64)
        for state, arrows in transitions.items():
            for symbol in arrows:
                self.legal[state, ALPHABET.index(symbol)] = True
            # The end state has no arrows; a stream never stays there (see below).
            items = list(arrows.items()) or list(
                transitions[self.start].items()
            )
            for bit in (0, 1):
                symbol, target = items[bit % len(items)]
                self.choice_symbol[state, bit] = ALPHABET.index(symbol)
                self.choice_state[state, bit] = (
                    self.start if target == self.end else target
                )
        self.awaits_outer = np.zeros(n_states, dtype=bool)
        self.awaits_outer[list(awaits_outer)] = True


def _build_embedded_transitions() -> tuple[
    dict[int, dict[str, int]], list[int]
]:
    """The embedded grammar: B, T or P, a Reber string, the same T or P, E.

    The automaton holds two copies of the Reber automaton, one entered after
    T and one after P; each copy remembers the branch it belongs to, which is
    exactly the memory a network must learn to keep.
    """
    n_inner = (
        len(REBER_TRANSITIONS) - 1
    )  # the inner end state is replaced, see below
    copy_start = {"T": 2, "P": 2 + n_inner}
    awaits = {"T": 2 + 2 * n_inner, "P": 3 + 2 * n_inner}
    before_end, end = 4 + 2 * n_inner, 5 + 2 * n_inner
    transitions: dict[int, dict[str, int]] = {0: {"B": 1}, 1: dict(copy_start)}
    for branch, offset in copy_start.items():
        for state, arrows in REBER_TRANSITIONS.items():
            if state == n_inner:
                continue  # the inner end: its E leads to the state that awaits T/P instead
            transitions[offset + state] = {
                symbol: awaits[branch] if target == n_inner else offset + target
                for symbol, target in arrows.items()
            }
        transitions[awaits[branch]] = {branch: before_end}
    transitions[before_end] = {"E": end}
    transitions[end] = {}
    return transitions, list(awaits.values())


_REBER = _Automaton(REBER_TRANSITIONS, awaits_outer=[])
_EMBEDDED = _Automaton(*_build_embedded_transitions())


def _automaton(embedded: bool) -> _Automaton:
    return _EMBEDDED if embedded else _REBER


def _grammar_name(embedded: bool) -> str:
    return "embedded Reber" if embedded else "Reber"


# --------------------------------------------------------------------------- strings


def _check_symbols(string: object, name: str = "string") -> str:
    """Return ``string`` if it is a str over :data:`ALPHABET`; else raise ``ValueError``."""
    if not isinstance(string, str):
        raise ValueError(
            f"{name} must be a str such as 'BTXSE'; got {type(string).__name__}."
        )
    for position, symbol in enumerate(string):
        if symbol not in ALPHABET:
            raise ValueError(
                f"unknown symbol {symbol!r} at position {position} of {name} {string!r}; "
                f"the alphabet is {ALPHABET!r} (upper case)."
            )
    return string


def _states(prefix: str, embedded: bool) -> list[int] | None:
    """The states visited while reading ``prefix``: ``len(prefix) + 1`` states, starting at 0.

    Returns None if the grammar does not allow ``prefix`` as the beginning of
    a string. ``prefix`` must already hold only symbols of the alphabet.
    """
    transitions = _automaton(embedded).transitions
    states = [0]
    for symbol in prefix:
        following = transitions[states[-1]].get(symbol)
        if following is None:
            return None
        states.append(following)
    return states


def generate(rng: int | np.random.Generator, embedded: bool = False) -> str:
    """Draw one string of the Reber grammar (or of the embedded grammar).

    Wherever two symbols may follow, each is chosen with probability 1/2, as
    in Reber (1967) and Hochreiter and Schmidhuber (1997).

    Args:
        rng: an int seed or a ``numpy.random.Generator``.
        embedded: draw from the embedded grammar instead.

    Returns:
        The string, e.g. ``"BTSXSE"`` or, embedded, ``"BPBTXSEPE"``.
    """
    rng = as_rng(rng)
    transitions = _automaton(embedded).transitions
    state, symbols = 0, []
    while transitions[state]:
        arrows = list(transitions[state].items())
        symbol, state = (
            arrows[rng.integers(len(arrows))] if len(arrows) > 1 else arrows[0]
        )
        symbols.append(symbol)
    return "".join(symbols)


def generate_dataset(
    n_strings: int, rng: int | np.random.Generator, embedded: bool = False
) -> list[str]:
    """Draw ``n_strings`` strings with :func:`generate` (duplicates allowed, as in the literature).

    Returns:
        A list of ``n_strings`` strs; the same as calling :func:`generate`
        ``n_strings`` times with one Generator.
    """
    check_int("n_strings", n_strings, minimum=0)
    rng = as_rng(rng)
    return [generate(rng, embedded) for _ in range(n_strings)]


def is_valid(string: str, embedded: bool = False) -> bool:
    """True if ``string`` is a complete string of the (embedded) Reber grammar.

    Raises:
        ValueError: if ``string`` holds a symbol outside :data:`ALPHABET`
            (most often a lower-case letter): that is a typo, not a sentence
            the grammar rejects.
    """
    states = _states(_check_symbols(string), embedded)
    return states is not None and states[-1] == _automaton(embedded).end


def legal_next(prefix: str, embedded: bool = False) -> set[str]:
    """The set of symbols that may follow ``prefix`` in the (embedded) Reber grammar.

    ``legal_next("")`` is ``{"B"}``; for a complete string it is the empty set.

    Raises:
        ValueError: if ``prefix`` holds an unknown symbol, or if no string of
            the grammar begins with ``prefix`` (the message names the prefix
            and the first symbol that broke it).
    """
    _check_symbols(prefix, "prefix")
    states = _states(prefix, embedded)
    if states is None:
        valid_part = _longest_valid_prefix(prefix, embedded)
        allowed = sorted(legal_next(valid_part, embedded), key=ALPHABET.index)
        raise ValueError(
            f"prefix {prefix!r} is not the beginning of any {_grammar_name(embedded)} string: "
            f"after {valid_part!r} the symbol {prefix[len(valid_part)]!r} is not allowed "
            f"(allowed: {', '.join(allowed) or 'nothing, the string is complete'})."
        )
    return _symbols_of(_automaton(embedded).legal[states[-1]])


def _longest_valid_prefix(prefix: str, embedded: bool) -> str:
    """The longest beginning of ``prefix`` that the grammar allows."""
    for length in range(len(prefix), -1, -1):
        if _states(prefix[:length], embedded) is not None:
            return prefix[:length]
    return ""  # unreachable: the empty prefix is always allowed


def _symbols_of(multi_hot: np.ndarray) -> set[str]:
    return {ALPHABET[i] for i in np.flatnonzero(multi_hot)}


# --------------------------------------------------------------------------- arrays


def symbol_indices(string: str) -> np.ndarray:
    """``(L,)`` int64: the index in :data:`ALPHABET` of every symbol of ``string``."""
    _check_symbols(string)
    return np.array(
        [ALPHABET.index(symbol) for symbol in string], dtype=np.int64
    )


def encode(string: str, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """One-hot encode a string: ``(L, 7)`` of ``dtype``, row t has a 1 at symbol t's index.

    For many strings of different lengths use :func:`batch`, which pads them.
    """
    return np.eye(len(ALPHABET), dtype=dtype)[symbol_indices(string)]


def _complete_states(
    string: str, embedded: bool, name: str = "string"
) -> list[int]:
    """The ``L + 1`` states visited by a complete string; ``ValueError`` if it is not one."""
    states = _states(_check_symbols(string, name), embedded)
    if states is None or states[-1] != _automaton(embedded).end:
        raise ValueError(
            f"{name} must be a complete {_grammar_name(embedded)} string; "
            f"got {string!r}"
            + ("" if embedded else " (pass embedded=True for an embedded one)")
            + ". Check it with is_valid."
        )
    return states


def next_symbol_targets(
    string: str, embedded: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The targets of next-symbol prediction for one complete string of length L.

    At step t (t = 0 .. L - 2) the input is symbol t and the target is symbol
    t + 1; the final E is never an input.

    Returns:
        ``(next_index, legal)``: ``next_index`` ``(L - 1,)`` int64, the index
        in :data:`ALPHABET` of the actual next symbol; ``legal`` ``(L - 1, 7)``
        bool, the multi-hot set of symbols the grammar allows there
        (``legal[t]`` is :func:`legal_next` of ``string[: t + 1]``).

    Raises:
        ValueError: if ``string`` is not a complete string of the grammar.
    """
    states = _complete_states(string, embedded)
    legal = _automaton(embedded).legal[states[1:-1]]
    return symbol_indices(string)[1:], legal


def outer_target_step(string: str) -> int:
    """The step whose target is the final T or P of an embedded Reber string: ``L - 3``.

    At that step the input is the inner string's E, and only a memory of the
    string's second symbol predicts the target: this is where the chapters
    measure the long-range error.

    Raises:
        ValueError: if ``string`` is not a complete embedded Reber string.
    """
    _complete_states(string, embedded=True)
    return len(string) - 3


class ReberBatch(NamedTuple):
    """Reber strings as time-major arrays for next-symbol prediction.

    T is the number of steps (the longest string's length minus one for
    :func:`batch`, the stream length for :func:`continual_stream`), B the
    number of strings or streams. At padded steps (``mask`` False) ``x`` is
    all zeros, ``next_index`` is 0 and ``legal`` is all False: multiply every
    per-step loss by ``mask`` before summing.

    Attributes:
        x: ``(T, B, 7)`` float, the one-hot input symbol at step t.
        next_index: ``(T, B)`` int64, the index in :data:`ALPHABET` of the
            next symbol (the target of a softmax cross-entropy).
        legal: ``(T, B, 7)`` bool, the symbols the grammar allows at step
            t + 1 (the target of "predict the legal next symbols").
        mask: ``(T, B)`` bool, True at real steps, False at padding.
        outer: ``(T, B)`` bool, True at the steps whose target is the final
            T or P of an embedded string (always False for plain Reber).
    """

    x: np.ndarray
    next_index: np.ndarray
    legal: np.ndarray
    mask: np.ndarray
    outer: np.ndarray


def batch(
    strings: Sequence[str],
    embedded: bool = False,
    dtype: np.dtype | type = np.float64,
) -> ReberBatch:
    """Pad complete strings of different lengths into one time-major :class:`ReberBatch`.

    String b occupies steps ``0 .. len(strings[b]) - 2`` of column b; the
    rest of the column is padding. To waste fewer padded steps, group strings
    of similar length into the same batch.

    Args:
        strings: B complete strings of the grammar.
        embedded: whether they are embedded Reber strings.
        dtype: floating dtype of ``x``.

    Returns:
        A :class:`ReberBatch` with ``T = max(len(s) for s in strings) - 1``.
    """
    if isinstance(strings, str):
        raise ValueError(
            f"strings must be a list of strings; got the single str {strings!r}. "
            f"Write batch([{strings!r}])."
        )
    if len(strings) == 0:
        raise ValueError(
            f"strings must hold at least one string; got {strings!r}, empty."
        )
    automaton = _automaton(embedded)
    n_steps = max(len(string) for string in strings) - 1
    shape = (n_steps, len(strings))
    x = np.zeros(shape + (len(ALPHABET),), dtype=dtype)
    next_index = np.zeros(shape, dtype=np.int64)
    legal = np.zeros(shape + (len(ALPHABET),), dtype=bool)
    mask = np.zeros(shape, dtype=bool)
    outer = np.zeros(shape, dtype=bool)
    for column, string in enumerate(strings):
        states = np.array(
            _complete_states(string, embedded, f"strings[{column}]")
        )
        steps = len(string) - 1
        symbols = symbol_indices(string)
        x[np.arange(steps), column, symbols[:-1]] = 1.0
        next_index[:steps, column] = symbols[1:]
        legal[:steps, column] = automaton.legal[states[1:-1]]
        mask[:steps, column] = True
        outer[:steps, column] = automaton.awaits_outer[states[1:-1]]
    return ReberBatch(x, next_index, legal, mask, outer)


def continual_stream(
    n_steps: int,
    rng: int | np.random.Generator,
    n_streams: int = 1,
    embedded: bool = True,
    dtype: np.dtype | type = np.float64,
) -> ReberBatch:
    """Endless streams of strings concatenated with no reset, as in Gers et al. (2000).

    Each stream starts with a B and, after every E, continues with the next
    string's B. Step t's target is the stream's symbol t + 1, so the step
    whose input is an E has the target B (legal set ``{B}``): a network must
    learn where one string ends and the next begins.

    All streams move forward together, one step per loop iteration, with the
    random choices drawn in one block beforehand: the automaton's arrays turn
    every step into a few indexing operations on B states at once, which is
    what makes 32 streams of tens of thousands of steps take a fraction of a
    second.

    Args:
        n_steps: T, the number of steps per stream.
        rng: an int seed or a ``numpy.random.Generator``.
        n_streams: B, the number of independent streams.
        embedded: concatenate embedded Reber strings (the default, the task
            of Gers et al.) or plain Reber strings.
        dtype: floating dtype of ``x``.

    Returns:
        A :class:`ReberBatch` of shape ``(T, B, ...)`` whose ``mask`` is all
        True; ``outer`` marks the steps whose target is an embedded string's
        final T or P.
    """
    check_int("n_steps", n_steps)
    check_int("n_streams", n_streams)
    automaton = _automaton(embedded)
    choices = as_rng(rng).integers(0, 2, size=(n_steps + 1, n_streams))
    symbols, states = _walk_streams(automaton, choices)
    x = np.eye(len(ALPHABET), dtype=dtype)[symbols[:-1]]
    # states[t] is the state after symbol t, so it holds the legal set of step t's target;
    # after an E it is the start state, whose only legal symbol is the next string's B.
    after_input = states[:-1]
    return ReberBatch(
        x=x,
        next_index=symbols[1:],
        legal=automaton.legal[after_input],
        mask=np.ones((n_steps, n_streams), dtype=bool),
        outer=automaton.awaits_outer[after_input],
    )


def _walk_streams(
    automaton: _Automaton, choices: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Walk B streams through the automaton, one random bit per stream and step.

    Args:
        choices: ``(N, B)`` int, 0 or 1: which arrow each stream takes at each step.

    Returns:
        ``(symbols, states)``, both ``(N, B)`` int64: the symbol emitted at
        each step, and the state reached after emitting it.
    """
    symbols = np.empty(choices.shape, dtype=np.int64)
    states = np.empty(choices.shape, dtype=np.int64)
    state = np.zeros(choices.shape[1], dtype=np.int64)
    for t, bit in enumerate(choices):
        symbols[t] = automaton.choice_symbol[state, bit]
        state = automaton.choice_state[state, bit]
        states[t] = state
    return symbols, states
