"""Tests of Elman's stream tasks: temporal XOR and the letter sequences."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.data import streams
from tutor.data.streams import (
    EXPANSION,
    FEATURE_NAMES,
    FEATURES,
    LETTERS,
    encode_letters,
    is_vowel,
    letter_indices,
    letter_task,
    letters_to_text,
    next_step_pairs,
    temporal_xor,
    temporal_xor_task,
    text_to_indices,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


# --------------------------------------------------------------------------- temporal XOR


def assert_xor_at_phase_two(bits: np.ndarray, phase: np.ndarray) -> None:
    """Every bit of phase 2 is the XOR of the two bits before it, which have phases 0 and 1."""
    for t in np.flatnonzero(phase == 2):
        if t >= 2:
            assert phase[t - 2] == 0 and phase[t - 1] == 1
            assert bits[t] == bits[t - 2] ^ bits[t - 1]


def test_xor_single_stream_shapes_and_phase():
    bits, phase = temporal_xor(10, rng=0)
    assert bits.shape == phase.shape == (10,)
    assert set(np.unique(bits)) <= {0, 1}
    np.testing.assert_array_equal(phase, np.arange(10) % 3)
    assert_xor_at_phase_two(bits, phase)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, n_steps=st.integers(1, 40), n_streams=st.integers(1, 5), offset=st.booleans())
def test_xor_triplet_invariant(seed, n_steps, n_streams, offset):
    bits, phase = temporal_xor(n_steps, seed, n_streams, random_offset=offset)
    assert bits.shape == phase.shape == (n_steps, n_streams)
    for b in range(n_streams):
        assert_xor_at_phase_two(bits[:, b], phase[:, b])
        # The phase advances by one (mod 3) at every step.
        np.testing.assert_array_equal(phase[:, b], (phase[0, b] + np.arange(n_steps)) % 3)
    if not offset:
        assert (phase[0] == 0).all()


def test_xor_is_deterministic_and_seeds_differ():
    first = temporal_xor(300, 7, 4, random_offset=True)
    again = temporal_xor(300, np.random.default_rng(7), 4, random_offset=True)
    other = temporal_xor(300, 8, 4, random_offset=True)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_xor_random_offset_uses_every_phase():
    _, phase = temporal_xor(5, 0, n_streams=200, random_offset=True)
    assert set(phase[0]) == {0, 1, 2}


def test_xor_streams_are_independent_and_random_bits_balanced():
    bits, phase = temporal_xor(30_000, 3, n_streams=2)
    assert not np.array_equal(bits[:, 0], bits[:, 1])
    for p in range(3):
        assert abs(bits[phase == p].mean() - 0.5) < 0.02


def test_xor_task_targets_are_next_bits():
    task = temporal_xor_task(50, 1, n_streams=3, random_offset=True)
    assert task.inputs.shape == task.targets.shape == (50, 3, 1)
    assert task.inputs.dtype == np.float64
    assert task.target_phase.shape == (50, 3)
    np.testing.assert_array_equal(task.targets[:-1], task.inputs[1:])
    bits, phase = temporal_xor(51, 1, 3, random_offset=True)
    np.testing.assert_array_equal(task.targets[..., 0], bits[1:])
    np.testing.assert_array_equal(task.target_phase, phase[1:])


def test_next_step_pairs_shapes():
    x, y = next_step_pairs(np.arange(5))
    assert x.shape == y.shape == (4, 1, 1)
    np.testing.assert_array_equal(x[:, 0, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(y[:, 0, 0], [1, 2, 3, 4])
    x, y = next_step_pairs(np.zeros((6, 2)), dtype=np.float32)
    assert x.shape == (5, 2, 1) and x.dtype == np.float32
    x, y = next_step_pairs(np.zeros((6, 2, 3)))
    assert x.shape == y.shape == (5, 2, 3)


@pytest.mark.parametrize("bad", [np.zeros(1), np.zeros((1, 3)), np.zeros((2, 2, 2, 2)), 3.0])
def test_next_step_pairs_refuses_bad_shapes(bad):
    shape = re.escape(str(np.shape(bad)))
    with pytest.raises(ValueError, match=rf"stream.*(2 time steps|\(T, B, D\)).*{shape}"):
        next_step_pairs(bad)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_steps": 0, "rng": 0}, r"n_steps.*(positive|>= 1|at least 1).*\b0\b"),
        ({"n_steps": 2.5, "rng": 0}, r"n_steps.*\bint\b.*2\.5"),
        ({"n_steps": 5, "rng": 0, "n_streams": 0}, r"n_streams.*(positive|>= 1|at least 1).*\b0\b"),
        ({"n_steps": 5, "rng": None}, r"rng.*int seed.*Generator.*NoneType"),
    ],
)
def test_xor_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        temporal_xor(**kwargs)


# --------------------------------------------------------------------------- letters


def test_feature_table_is_elman_table_1():
    table = {letter: FEATURES[i].astype(int).tolist() for i, letter in enumerate(LETTERS)}
    assert table == {
        "b": [1, 0, 1, 0, 0, 1],
        "d": [1, 0, 1, 1, 0, 1],
        "g": [1, 0, 1, 0, 1, 1],
        "a": [0, 1, 0, 0, 1, 1],
        "i": [0, 1, 0, 1, 0, 1],
        "u": [0, 1, 0, 1, 1, 1],
    }
    assert FEATURES.shape == (6, 6) and len(FEATURE_NAMES) == 6
    assert not FEATURES.flags.writeable


def test_feature_table_is_phonetically_consistent():
    column = {name: FEATURES[:, i] for i, name in enumerate(FEATURE_NAMES)}
    consonant = np.array([letter in "bdg" for letter in LETTERS])
    np.testing.assert_array_equal(column["consonant"], consonant)
    np.testing.assert_array_equal(column["vowel"], ~consonant)
    np.testing.assert_array_equal(column["interrupted"], consonant)  # vowels are not
    assert (column["voiced"] == 1).all()
    # b, d and g differ only in the High and Back bits.
    consonant_rows = FEATURES[consonant]
    differing = np.flatnonzero((consonant_rows != consonant_rows[0]).any(axis=0))
    assert [FEATURE_NAMES[i] for i in differing] == ["high", "back"]
    assert len({tuple(row) for row in FEATURES}) == 6  # every letter is distinct


def test_expansion_rules():
    assert EXPANSION == {"b": "ba", "d": "dii", "g": "guuu"}


def split_into_words(text: str) -> list[str]:
    """Cut a letter stream before every consonant."""
    words, current = [], ""
    for letter in text:
        if letter in "bdg" and current:
            words.append(current)
            current = ""
        current += letter
    return words + [current]


@settings(max_examples=25, deadline=None)
@given(seed=seeds, n_letters=st.integers(1, 60), n_streams=st.integers(1, 4))
def test_letter_stream_follows_the_expansion_rules(seed, n_letters, n_streams):
    letters = letter_indices(n_letters, seed, n_streams)
    assert letters.shape == (n_letters, n_streams)
    for text in letters_to_text(letters):
        assert len(text) == n_letters and text[0] in "bdg"
        words = split_into_words(text)
        for word in words[:-1]:
            assert word == EXPANSION[word[0]]
        assert EXPANSION[words[-1][0]].startswith(words[-1])  # the last word may be cut


def test_letter_stream_is_deterministic_and_uses_every_consonant():
    first = letter_indices(3000, 5, 2)
    np.testing.assert_array_equal(first, letter_indices(3000, np.random.default_rng(5), 2))
    assert not np.array_equal(first, letter_indices(3000, 6, 2))
    words = split_into_words(letters_to_text(first[:, 0]))[:-1]
    counts = np.array([sum(word[0] == c for word in words) for c in "bdg"])
    assert (abs(counts / counts.sum() - 1 / 3) < 0.05).all()


def test_text_round_trip_and_encoding():
    indices = text_to_indices("badiiguuu")
    assert indices.dtype == np.int64 and indices.shape == (9,)
    assert letters_to_text(indices) == "badiiguuu"
    encoded = encode_letters(indices)
    assert encoded.shape == (9, 6)
    np.testing.assert_array_equal(encoded[0], [1, 0, 1, 0, 0, 1])  # b
    np.testing.assert_array_equal(encoded[-1], [0, 1, 0, 1, 1, 1])  # u
    assert encode_letters(np.zeros((4, 3), dtype=int), np.float32).shape == (4, 3, 6)
    np.testing.assert_array_equal(is_vowel(indices), [c in "aiu" for c in "badiiguuu"])


def test_letter_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"'x'.*position 2.*'baxa'.*\bb, d, g, a, i, u\b"):
        text_to_indices("baxa")
    with pytest.raises(ValueError, match=r"'B'.*position 0.*'Ba'.*lower case"):
        text_to_indices("Ba")
    with pytest.raises(ValueError, match=r"indices.*integer.*float64"):
        encode_letters(np.zeros(3))
    with pytest.raises(ValueError, match=r"indices.*0\.\.5.*\b2 to 6\b"):
        encode_letters(np.array([2, 6]))
    with pytest.raises(ValueError, match=r"indices.*0\.\.5.*-1 to 1\b"):
        letters_to_text(np.array([1, -1]))
    with pytest.raises(ValueError, match=r"n_letters.*(positive|>= 1|at least 1).*\b0\b"):
        letter_indices(0, 0)


def test_letter_task_targets_and_vowel_labels():
    task = letter_task(40, 2, n_streams=3)
    assert task.inputs.shape == task.targets.shape == (40, 3, 6)
    assert task.target_letter.shape == task.target_is_vowel.shape == (40, 3)
    np.testing.assert_array_equal(task.targets[:-1], task.inputs[1:])
    np.testing.assert_array_equal(task.targets, FEATURES[task.target_letter])
    np.testing.assert_array_equal(task.target_is_vowel, task.targets[..., 1] == 1)
    assert task.target_is_vowel.any() and not task.target_is_vowel.all()


def test_letter_task_vowel_targets_follow_from_the_input():
    """The property Elman's network learns: a vowel target is fixed by the current letter."""
    task = letter_task(2000, 4, n_streams=2)
    current = task.inputs.reshape(-1, 6)
    target = task.targets.reshape(-1, 6)
    vowel_target = task.target_is_vowel.reshape(-1)
    # Whenever the target is a vowel, the current letter alone decides which vowel:
    # b -> a, d -> i, i -> i, g -> u, u -> u.
    for row in np.unique(current, axis=0):
        same = (current == row).all(axis=1) & vowel_target
        if same.any():
            assert len(np.unique(target[same], axis=0)) == 1


def test_module_exports_exist():
    for name in streams.__all__:
        assert hasattr(streams, name)
