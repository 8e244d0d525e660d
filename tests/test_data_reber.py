"""Tests of the Reber grammar, the embedded grammar and their arrays."""

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.data import reber
from tutor.data.reber import (
    ALPHABET,
    batch,
    continual_stream,
    encode,
    generate,
    generate_dataset,
    is_valid,
    legal_next,
    next_symbol_targets,
    outer_target_step,
    symbol_indices,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)

# An independent description of the same grammar, written as regular expressions from the
# state graph by hand (state 4 = (XT*VP)*(XT*VV|S)E, and so on), to check the automaton.
_AFTER_4 = "(?:XT*VP)*(?:XT*VV|S)"
REBER_REGEX = re.compile(f"B(?:TS*X{_AFTER_4}|PT*V(?:P{_AFTER_4}|V))E")
_INNER = REBER_REGEX.pattern
EMBEDDED_REGEX = re.compile(f"B(?:T{_INNER}T|P{_INNER}P)E")


def regex_valid(string: str, embedded: bool) -> bool:
    return bool((EMBEDDED_REGEX if embedded else REBER_REGEX).fullmatch(string))


# --------------------------------------------------------------------------- the grammar


@pytest.mark.parametrize(
    "string",
    ["BTXSE", "BPVVE", "BTSXSE", "BPTVVE", "BPVPSE", "BTSSXXTVVE", "BPTVPXTTVVE", "BTXXVPSE"],
)
def test_known_valid_reber_strings(string):
    assert is_valid(string)
    assert legal_next(string) == set()


@pytest.mark.parametrize(
    "string",
    [
        "",
        "B",
        "BTXS",  # no E yet
        "BTSE",  # the T branch must leave its loop on X
        "BPVE",  # after V comes P or V
        "BTXXE",
        "BPTXSE",  # the P branch loops on T, not S
        "BTXSEE",
        "TXSE",  # no B
        "BTXSEB",
        "BBTXSE",
    ],
)
def test_known_invalid_reber_strings(string):
    assert not is_valid(string)


@pytest.mark.parametrize("string", ["BTBTXSETE", "BPBPVVEPE", "BTBPTVPXTTVVETE"])
def test_known_valid_embedded_strings(string):
    assert is_valid(string, embedded=True)
    assert not is_valid(string)  # an embedded string is not a plain one


@pytest.mark.parametrize(
    "string",
    [
        "BTBTXSEPE",  # the last-but-one symbol must repeat the second
        "BPBPVVETE",
        "BTXSE",  # a plain string is not embedded
        "BTBTXSET",
        "BTTXSETE",  # the inner string needs its own B
        "BTBTXSTE",  # ... and its own E
    ],
)
def test_known_invalid_embedded_strings(string):
    assert not is_valid(string, embedded=True)


def test_transition_table_is_the_standard_graph():
    arrows = {
        (state, symbol, target)
        for state, out in reber.REBER_TRANSITIONS.items()
        for symbol, target in out.items()
    }
    assert arrows == {
        (0, "B", 1),
        (1, "T", 2),
        (1, "P", 3),
        (2, "S", 2),
        (2, "X", 4),
        (3, "T", 3),
        (3, "V", 5),
        (4, "X", 3),
        (4, "S", 6),
        (5, "P", 4),
        (5, "V", 6),
        (6, "E", 7),
    }


def test_is_valid_agrees_with_regex_on_every_short_string():
    # Every string of length 5 to 7 that starts with B and ends with E: about 20,000.
    valid = []
    for length in range(5, 8):
        for middle in itertools.product(ALPHABET, repeat=length - 2):
            string = "B" + "".join(middle) + "E"
            assert is_valid(string) == regex_valid(string, False), string
            if is_valid(string):
                valid.append(string)
    # The short strings, enumerated by hand from the state graph.
    assert sorted(valid) == sorted(
        ["BTXSE", "BPVVE"]
        + ["BTSXSE", "BPTVVE", "BPVPSE"]
        + ["BTSSXSE", "BTXXVVE", "BPTTVVE", "BPTVPSE"]
    )


def mutations(string: str):
    """Every string one deletion, insertion or substitution away from ``string``."""
    for i in range(len(string) + 1):
        if i < len(string):
            yield string[:i] + string[i + 1 :]
        for symbol in ALPHABET:
            yield string[:i] + symbol + string[i:]
            if i < len(string):
                yield string[:i] + symbol + string[i + 1 :]


@pytest.mark.parametrize("embedded", [False, True])
def test_is_valid_agrees_with_regex_near_generated_strings(embedded):
    for string in generate_dataset(30, 11, embedded):
        for mutated in mutations(string):
            assert is_valid(mutated, embedded) == regex_valid(mutated, embedded), mutated


@pytest.mark.parametrize(
    "prefix, embedded, expected",
    [
        ("", False, {"B"}),
        ("B", False, {"T", "P"}),
        ("BT", False, {"S", "X"}),
        ("BP", False, {"T", "V"}),
        ("BTX", False, {"X", "S"}),
        ("BPV", False, {"P", "V"}),
        ("BTXS", False, {"E"}),
        ("", True, {"B"}),
        ("B", True, {"T", "P"}),
        ("BT", True, {"B"}),
        ("BTB", True, {"T", "P"}),
        ("BPBTXSE", True, {"P"}),
        ("BTBTXSE", True, {"T"}),
        ("BTBTXSET", True, {"E"}),
        ("BTBTXSETE", True, set()),
    ],
)
def test_legal_next_known_cases(prefix, embedded, expected):
    assert legal_next(prefix, embedded) == expected


# --------------------------------------------------------------------------- generation


@settings(max_examples=20, deadline=None)
@given(seed=seeds, embedded=st.booleans())
def test_generated_strings_are_valid_and_deterministic(seed, embedded):
    strings = generate_dataset(5, seed, embedded)
    assert strings == generate_dataset(5, np.random.default_rng(seed), embedded)
    for string in strings:
        assert is_valid(string, embedded)
        assert regex_valid(string, embedded)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, embedded=st.booleans())
def test_legal_next_agrees_with_generation_and_is_valid(seed, embedded):
    string = generate(seed, embedded)
    for t in range(len(string)):
        prefix = string[:t]
        allowed = legal_next(prefix, embedded)
        assert string[t] in allowed
        for symbol in ALPHABET:
            if symbol in allowed:
                legal_next(prefix + symbol, embedded)  # still a valid prefix: must not raise
            else:
                assert not is_valid(prefix + symbol, embedded)
                named = "".join(rf".*\b{a}\b" for a in ALPHABET if a in allowed)
                match = rf"prefix {re.escape(repr(prefix + symbol))}.*'{symbol}'{named}"
                with pytest.raises(ValueError, match=match):
                    legal_next(prefix + symbol, embedded)
    assert legal_next(string, embedded) == set()


def test_embedded_strings_repeat_their_second_symbol():
    strings = generate_dataset(300, 2, embedded=True)
    for string in strings:
        assert string[1] == string[-2] and string[1] in "TP"
        assert is_valid(string[2:-2])  # the inner string is a plain Reber string
    assert {string[1] for string in strings} == {"T", "P"}


def test_choices_are_fifty_fifty():
    strings = generate_dataset(4000, 3)
    share_t = np.mean([string[1] == "T" for string in strings])
    assert abs(share_t - 0.5) < 0.03
    # The S loop of the T branch: after "BT", S and X are equally likely.
    after_bt = [string[2] for string in strings if string[1] == "T"]
    assert abs(np.mean([symbol == "S" for symbol in after_bt]) - 0.5) < 0.04


def test_generate_accepts_a_generator_and_advances_it():
    rng = np.random.default_rng(0)
    strings = [generate(rng) for _ in range(20)]
    assert len(set(strings)) > 1
    assert generate_dataset(20, 0) == strings
    assert generate_dataset(0, 0) == []


# --------------------------------------------------------------------------- arrays


def test_encode_and_symbol_indices():
    np.testing.assert_array_equal(symbol_indices("BTXSE"), [0, 1, 3, 2, 6])
    x = encode("BTXSE", dtype=np.float32)
    assert x.shape == (5, 7) and x.dtype == np.float32
    np.testing.assert_array_equal(x.argmax(axis=1), [0, 1, 3, 2, 6])
    np.testing.assert_array_equal(x.sum(axis=1), 1)


def test_next_symbol_targets_of_a_known_string():
    next_index, legal = next_symbol_targets("BPVVE")
    np.testing.assert_array_equal(next_index, symbol_indices("PVVE"))
    assert legal.shape == (4, 7) and legal.dtype == bool
    sets = [{ALPHABET[i] for i in np.flatnonzero(row)} for row in legal]
    assert sets == [{"T", "P"}, {"T", "V"}, {"P", "V"}, {"E"}]


@settings(max_examples=20, deadline=None)
@given(seed=seeds, embedded=st.booleans())
def test_targets_agree_with_legal_next(seed, embedded):
    string = generate(seed, embedded)
    next_index, legal = next_symbol_targets(string, embedded)
    assert next_index.shape == (len(string) - 1,)
    for t in range(len(string) - 1):
        assert {ALPHABET[i] for i in np.flatnonzero(legal[t])} == legal_next(
            string[: t + 1], embedded
        )
        assert legal[t, next_index[t]]


def test_outer_target_step():
    string = "BTBPVVETE"
    t = outer_target_step(string)
    assert t == 6 and string[t] == "E" and string[t + 1] == "T"
    _, legal = next_symbol_targets(string, embedded=True)
    assert legal[t].sum() == 1  # a single legal symbol, decided 6 steps earlier
    with pytest.raises(ValueError, match=r"string.*embedded Reber.*'BTXSE'"):
        outer_target_step("BTXSE")


def test_batch_shapes_padding_and_masks():
    strings = ["BTXSE", "BTSSXXTVVE", "BPVVE"]
    data = batch(strings)
    assert data.x.shape == (9, 3, 7) and data.x.dtype == np.float64
    assert data.next_index.shape == data.mask.shape == data.outer.shape == (9, 3)
    assert data.legal.shape == (9, 3, 7) and data.legal.dtype == bool
    np.testing.assert_array_equal(data.mask.sum(axis=0), [4, 9, 4])
    for b, string in enumerate(strings):
        steps = len(string) - 1
        np.testing.assert_array_equal(data.x[:steps, b], encode(string)[:-1])
        next_index, legal = next_symbol_targets(string)
        np.testing.assert_array_equal(data.next_index[:steps, b], next_index)
        np.testing.assert_array_equal(data.legal[:steps, b], legal)
        # Padding: nothing in x, no legal symbol, index 0, mask False.
        assert not data.x[steps:, b].any() and not data.legal[steps:, b].any()
        assert not data.next_index[steps:, b].any() and not data.mask[steps:, b].any()
    assert not data.outer.any()
    assert batch(strings, dtype=np.float32).x.dtype == np.float32


def test_batch_marks_the_outer_step_of_embedded_strings():
    strings = generate_dataset(16, 4, embedded=True)
    data = batch(strings, embedded=True)
    np.testing.assert_array_equal(data.outer.sum(axis=0), 1)
    for b, string in enumerate(strings):
        t = outer_target_step(string)
        assert data.outer[t, b]
        assert ALPHABET[data.next_index[t, b]] == string[1]
        assert data.legal[t, b].sum() == 1


def test_continual_stream_concatenates_valid_strings():
    data = continual_stream(600, 9, n_streams=3)
    assert data.x.shape == data.legal.shape == (600, 3, 7)
    assert data.next_index.shape == data.mask.shape == data.outer.shape == (600, 3)
    assert data.mask.all()
    for b in range(3):
        symbols = "".join(ALPHABET[i] for i in data.x[:, b].argmax(axis=1))
        np.testing.assert_array_equal(data.next_index[:-1, b], data.x[1:, b].argmax(axis=1))
        assert symbols.startswith("B")
        # Cut the stream after every E: every complete piece is an embedded string.
        pieces = re.findall(r"B.*?E.*?E", symbols)
        assert "".join(pieces) == symbols[: len("".join(pieces))]
        assert len(pieces) > 10
        for piece in pieces:
            assert is_valid(piece, embedded=True)
        # Legal sets and outer flags agree with the string functions, step by step.
        start = 0
        for piece in pieces:
            next_index, legal = next_symbol_targets(piece, embedded=True)
            steps = slice(start, start + len(piece) - 1)
            np.testing.assert_array_equal(data.legal[steps, b], legal)
            assert data.outer[start + outer_target_step(piece), b]
            assert data.outer[steps, b].sum() == 1
            # At the step whose input is the E, the target is the next string's B.
            after_e = start + len(piece) - 1
            assert np.flatnonzero(data.legal[after_e, b]).tolist() == [ALPHABET.index("B")]
            start += len(piece)


def test_continual_stream_plain_reber_and_determinism():
    data = continual_stream(300, 1, n_streams=2, embedded=False)
    assert not data.outer.any()
    again = continual_stream(300, np.random.default_rng(1), n_streams=2, embedded=False)
    for a, b in zip(data, again):
        np.testing.assert_array_equal(a, b)
    symbols = "".join(ALPHABET[i] for i in data.x[:, 0].argmax(axis=1))
    for piece in re.findall(r"B.*?E", symbols):
        assert is_valid(piece)


def test_continual_stream_is_fast():
    import time

    start = time.perf_counter()
    continual_stream(10_000, 0, n_streams=32)
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("function", [is_valid, legal_next, symbol_indices, encode])
def test_unknown_symbols_are_named(function):
    with pytest.raises(ValueError, match=r"'x'.*position 2.*'BTxSE'.*'BTSXPVE'"):
        function("BTxSE")
    with pytest.raises(ValueError, match=r"'A'.*position 1.*'BAE'.*'BTSXPVE'"):
        function("BAE")


def test_bad_inputs_have_helpful_messages():
    with pytest.raises(ValueError, match=r"prefix 'BTSSP'.*'P'.*\bS\b.*\bX\b"):
        legal_next("BTSSP")
    with pytest.raises(ValueError, match=r"string.*\bstr\b.*list"):
        is_valid(["B", "T"])
    with pytest.raises(ValueError, match=r"string.*complete Reber.*'BTXS'"):
        next_symbol_targets("BTXS")
    with pytest.raises(ValueError, match=r"strings\[1\].*Reber.*'BTBTXSETE'.*embedded=True"):
        batch(["BTXSE", "BTBTXSETE"])
    with pytest.raises(ValueError, match=r"'x'.*position 1.*strings\[0\] 'BxE'"):
        batch(["BxE"])
    with pytest.raises(ValueError, match=r"strings.*list of strings.*single str 'BTXSE'"):
        batch("BTXSE")
    with pytest.raises(ValueError, match=r"strings.*\[\].*empty"):
        batch([])
    with pytest.raises(ValueError, match=r"n_steps.*(positive|>= 1|at least 1).*\b0\b"):
        continual_stream(0, 0)
    with pytest.raises(ValueError, match=r"rng.*int seed.*Generator.*NoneType"):
        generate(None)


def test_module_exports_exist():
    for name in reber.__all__:
        assert hasattr(reber, name)
