"""Tests of tutor.data.text: the shipped text, the vocabulary, the batches, the unigram baseline."""

import math
from importlib import resources

import numpy as np
import pytest

from tutor.data.text import (
    TEXT_SOURCES,
    Vocabulary,
    load_text,
    text_batches,
    unigram_bits_per_char,
)

# The shipped text ------------------------------------------------------------------------


def test_shipped_text_has_its_documented_size_and_alphabet():
    text = load_text()
    assert len(text) == 191_723
    assert text.startswith("Assert statements are a convenient way")
    assert text.endswith("\n") and "\r" not in text
    assert all(ch == "\n" or 32 <= ord(ch) < 127 for ch in text)  # printable ASCII
    assert len(set(text)) == 94
    assert "\n\n\n" not in text  # paragraphs separated by exactly one blank line


def test_text_sources_credit_the_python_reference():
    source = TEXT_SOURCES["python_reference"]
    assert set(source) == {"title", "file", "source", "licence", "copyright", "changes"}
    assert "PSF License" in source["licence"]
    assert "Python Software Foundation" in source["copyright"]
    files = resources.files("tutor.data").joinpath("files")
    assert files.joinpath(source["file"]).is_file()
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in files.joinpath(
        "LICENSE-PSF.txt"
    ).read_text(encoding="utf-8")


def test_every_shipped_file_is_described_in_the_readme():
    files = resources.files("tutor.data").joinpath("files")
    readme = files.joinpath("README.md").read_text(encoding="utf-8")
    for entry in files.iterdir():
        if entry.name != "README.md" and not entry.name.startswith("."):
            assert f"`{entry.name}`" in readme, entry.name
    for word in ("Source", "Licence", "public domain", "Keeling", "PSF"):
        assert word in readme


def test_unknown_text_name_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"name.*\['python_reference'\].*'moby_dick'"):
        load_text("moby_dick")


# Vocabulary ------------------------------------------------------------------------------


def test_vocabulary_is_the_sorted_distinct_characters():
    vocab = Vocabulary.from_text("hello world")
    assert vocab.chars == " dehlorw"
    assert len(vocab) == 8
    assert "h" in vocab and "z" not in vocab and "he" not in vocab
    assert vocab == Vocabulary(" dehlorw") and vocab != Vocabulary("dehlorw ")


def test_encode_gives_positions_and_decode_inverts_it():
    vocab = Vocabulary("cab")  # any order: the id is the position in chars
    ids = vocab.encode("abcab")
    assert ids.dtype == np.int64 and ids.tolist() == [1, 2, 0, 1, 2]
    assert vocab.decode(ids) == "abcab"
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)


def test_round_trip_beyond_ascii_and_on_the_whole_text():
    text = "naïve café – 你好 🙂\n"
    vocab = Vocabulary.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text
    big = load_text()
    big_vocab = Vocabulary.from_text(big)
    assert big_vocab.decode(big_vocab.encode(big)) == big


def test_unknown_character_error_names_it_and_its_position():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(ValueError, match=r"text.*vocabulary.*'z'.*position 2"):
        vocab.encode("abzc")
    with pytest.raises(ValueError, match=r"text.*string.*list"):
        vocab.encode(["a"])


def test_decode_refuses_out_of_range_and_non_integer_ids():
    vocab = Vocabulary("ab")
    with pytest.raises(ValueError, match=r"ids.*0\.\.1.*\b5\b"):
        vocab.decode([0, 5])
    with pytest.raises(ValueError, match=r"ids.*0\.\.1.*-1"):
        vocab.decode([-1])
    with pytest.raises(ValueError, match=r"ids.*integer.*float64"):
        vocab.decode([0.0, 1.0])
    with pytest.raises(ValueError, match=r"ids.*1-D.*\(1, 2\)"):
        vocab.decode([[0, 1]])


def test_vocabulary_refuses_repeated_or_no_characters():
    with pytest.raises(ValueError, match=r"chars.*once.*\['a'\]"):
        Vocabulary("abca")
    with pytest.raises(ValueError, match=r"chars.*non-empty.*''"):
        Vocabulary("")
    with pytest.raises(ValueError, match=r"text.*non-empty.*''"):
        Vocabulary.from_text("")
    with pytest.raises(ValueError, match=r"text.*non-empty.*NoneType"):
        Vocabulary.from_text(None)


# Batches ---------------------------------------------------------------------------------


def test_stream_b_is_the_b_th_contiguous_slice():
    ids = np.arange(23)  # N = 23, B = 4: L = 22 // 4 = 5 steps per stream
    batches = text_batches(ids, batch_size=4, seq_len=2)
    assert batches.steps_per_stream == 5 and batches.batch_size == 4
    assert batches.streams.shape == (6, 4)
    for b in range(4):
        assert batches.streams[:, b].tolist() == list(range(5 * b, 5 * b + 6))


def test_chunks_come_in_order_with_targets_one_step_ahead():
    ids = np.arange(1000) % 97
    batches = text_batches(ids, batch_size=8, seq_len=30)
    chunks = list(batches)
    assert len(chunks) == len(batches) == math.ceil((999 // 8) / 30)
    assert [x.shape for x, _ in chunks[:-1]] == [(30, 8)] * (len(chunks) - 1)
    assert chunks[-1][0].shape == (999 // 8 - 30 * (len(chunks) - 1), 8)  # the shorter last one
    # Stitched back together, the chunks of each stream are the stream itself: nothing is
    # skipped or repeated, so the state at the end of one chunk belongs before the next.
    inputs = np.concatenate([x for x, _ in chunks])
    targets = np.concatenate([y for _, y in chunks])
    L = 999 // 8
    for b in range(8):
        assert inputs[:, b].tolist() == ids[b * L : (b + 1) * L].tolist()
        assert targets[:, b].tolist() == ids[b * L + 1 : (b + 1) * L + 1].tolist()
    for (_, y), (x_next, _) in zip(chunks, chunks[1:]):
        np.testing.assert_array_equal(x_next[0], y[-1])
    assert all(x.dtype == np.int64 for x, _ in chunks)


def test_batches_can_be_iterated_again_for_another_epoch():
    batches = text_batches(np.arange(50), batch_size=2, seq_len=7)
    first = [x.copy() for x, _ in batches]
    second = [x for x, _ in batches]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_text_batches_refuse_bad_input():
    with pytest.raises(ValueError, match=r"ids.*4 ids.*4 streams.*at least 2"):
        text_batches(np.arange(4), batch_size=4, seq_len=2)
    with pytest.raises(ValueError, match=r"ids.*integer.*float64"):
        text_batches(np.arange(10.0), batch_size=2, seq_len=2)
    with pytest.raises(ValueError, match=r"ids.*integer.*str 'hello'"):
        text_batches("hello", batch_size=2, seq_len=2)
    with pytest.raises(ValueError, match=r"seq_len.*(positive|>= 1|at least 1).*\b0\b"):
        text_batches(np.arange(10), batch_size=2, seq_len=0)
    with pytest.raises(ValueError, match=r"batch_size.*(positive|>= 1|at least 1).*True"):
        text_batches(np.arange(10), batch_size=True, seq_len=2)


# Unigram baseline ------------------------------------------------------------------------


def test_unigram_bits_of_uniform_characters_is_log2_k():
    ids = np.tile(np.arange(8), 10)
    assert unigram_bits_per_char(ids, 8, smoothing=0) == pytest.approx(3.0)
    assert unigram_bits_per_char(ids, 8) == pytest.approx(3.0)  # smoothing keeps it uniform


def test_unigram_bits_is_the_entropy_of_the_frequencies():
    ids = np.array([0, 0, 0, 1])  # p = 3/4, 1/4
    entropy = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert unigram_bits_per_char(ids, 2, smoothing=0) == pytest.approx(entropy)


def test_unigram_bits_on_held_out_ids_with_and_without_smoothing():
    train, held_out = np.array([0, 0, 1, 1]), np.array([2])
    assert unigram_bits_per_char(train, 3, held_out, smoothing=0) == math.inf
    # Add-one: p(2) = (0 + 1) / (4 + 3)
    assert unigram_bits_per_char(train, 3, held_out) == pytest.approx(math.log2(7))
    with pytest.raises(ValueError, match=r"eval_ids.*0\.\.2.*\b3\b"):
        unigram_bits_per_char(train, 3, np.array([3]))


def test_unigram_baseline_of_the_shipped_text():
    text = load_text()
    vocab = Vocabulary.from_text(text)
    bits = unigram_bits_per_char(vocab.encode(text), len(vocab), smoothing=0)
    assert 4.5 < bits < 4.7  # far below log2(94) = 6.55: some characters are far more common
