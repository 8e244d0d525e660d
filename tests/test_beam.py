"""Tests of tutor.beam: beam search, alone and in the models that generate."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tutor.beam import BeamSearchResult, beam_search
from tutor.charlm import CharLM
from tutor.data.text import Vocabulary
from tutor.functional import log_softmax
from tutor.seq2seq import Seq2Seq

CELLS = ["rnn", "lstm", "gru"]


def table_step(table, V):
    """A model given by hand: ``table[prefix]`` is the distribution of the
    next symbol after the symbols ``prefix`` (uniform if absent). Its state
    is the symbols fed so far, ``(K, t)``, the start symbol first."""

    def step(tokens, state):
        fed = np.concatenate([state, tokens[:, None]], axis=1)
        probs = [table.get(tuple(map(int, row[1:])), [1 / V] * V) for row in fed]
        with np.errstate(divide="ignore"):  # log(0) = -inf: impossible
            return np.log(probs), fed

    return step


def search(table, V, width, max_len, end=None):
    step = table_step(table, V)
    return beam_search(step, np.zeros((1, 0), int), 0, width, max_len, end)


def as_lists(result):
    return [s.tolist() for s in result.sequences]


# --- cases worked out by hand --------------------------------------------


# Two symbols, two steps. p(0) = 0.6, p(1) = 0.4; after 0 both are 0.5;
# after 1, p(0) = 0.9. The four sequences:
#   (0, 0) = 0.6 * 0.5 = 0.30     (0, 1) = 0.6 * 0.5 = 0.30
#   (1, 0) = 0.4 * 0.9 = 0.36     (1, 1) = 0.4 * 0.1 = 0.04
# Greedy takes 0 (0.6 > 0.4), then 0 (a tie, to the lower id): 0.30.
# Width 2 keeps both first symbols and finds the best, (1, 0) = 0.36.
GREEDY_GOES_WRONG = {(): [0.6, 0.4], (0,): [0.5, 0.5], (1,): [0.9, 0.1]}


def test_greedy_picks_the_worse_sequence_and_width_2_the_best():
    greedy = search(GREEDY_GOES_WRONG, 2, width=1, max_len=2)
    assert as_lists(greedy) == [[0, 0]]
    np.testing.assert_allclose(np.exp(greedy.scores), [0.30])
    beam = search(GREEDY_GOES_WRONG, 2, width=2, max_len=2)
    assert as_lists(beam) == [[1, 0], [0, 0]]
    np.testing.assert_allclose(np.exp(beam.scores), [0.36, 0.30])


# Three symbols, three steps: a wider beam is not always better.
#   step 1: p = (0.5, 0.45, 0.05)
#   step 2: after 0: (0.34, 0.33, 0.33); after 1: (0.55, 0.44, 0.01)
#   step 3: after (0, 0): (0.98, 0.01, 0.01); otherwise uniform, 1/3 each.
# Greedy: 0, 0, 0 = 0.5 * 0.34 * 0.98 = 0.1666, the most probable sequence
# (every other one is below 0.5 * 0.34 * 0.01 + ... : at most 0.165 / 3).
# Width 2: keeps 0 and 1, then (1, 0) = 0.2475 and (1, 1) = 0.198, both
# above (0, 0) = 0.17, which drops out; its best at step 3 is
# (1, 0, 0) = 0.2475 / 3 = 0.0825.
# Width 3: keeps (1, 0), (1, 1) and (0, 0) at step 2, and finds 0.1666.
WIDER_IS_WORSE = {
    (): [0.5, 0.45, 0.05],
    (0,): [0.34, 0.33, 0.33],
    (1,): [0.55, 0.44, 0.01],
    (0, 0): [0.98, 0.01, 0.01],
}


def test_a_wider_beam_can_return_a_worse_sequence():
    best = {w: search(WIDER_IS_WORSE, 3, w, 3) for w in (1, 2, 3)}
    assert best[1].sequences[0].tolist() == [0, 0, 0]
    assert best[2].sequences[0].tolist() == [1, 0, 0]
    assert best[3].sequences[0].tolist() == [0, 0, 0]
    np.testing.assert_allclose(
        np.exp([best[w].scores[0] for w in (1, 2, 3)]),
        [0.5 * 0.34 * 0.98, 0.45 * 0.55 / 3, 0.5 * 0.34 * 0.98],
    )


def test_ties_go_to_the_earlier_hypothesis_then_the_lower_symbol():
    # A uniform model: every sequence is equally probable.
    result = search({}, 3, width=4, max_len=2)
    assert as_lists(result) == [[0, 0], [0, 1], [0, 2], [1, 0]]
    np.testing.assert_allclose(result.scores, 2 * np.log(1 / 3))


# With end = 2. p = (0.5, 0.1, 0.4) at step 1; after 0, (0.3, 0.3, 0.4);
# otherwise uniform.
#   width 2: step 1 keeps 0 (0.5) and the finished 2 (0.4). Step 2: 2 stays
#   at 0.4; 0 gives (0, 0) 0.15, (0, 1) 0.15, (0, 2) 0.2. Both kept, (2) and
#   (0, 2), have ended: the search stops after two steps.
#   width 3: step 1 keeps 0, 2, 1. Step 2: (2) 0.4, (0, 2) 0.2, then a tie at
#   0.15 that (0, 0) wins over (0, 1) (lower symbol); (1, *) are 0.1 / 3.
#   Step 3: (0, 0, *) are 0.15 / 3 = 0.05 each, (0, 0, 0) is kept.
WITH_END = {(): [0.5, 0.1, 0.4], (0,): [0.3, 0.3, 0.4]}


def test_a_finished_hypothesis_stops_growing_and_keeps_its_score():
    calls = []
    step = table_step(WITH_END, 3)

    def counting_step(tokens, state):
        calls.append(tokens.tolist())
        return step(tokens, state)

    result = beam_search(counting_step, np.zeros((1, 0), int), 0, 2, 5, end=2)
    assert as_lists(result) == [[2], [0, 2]]
    np.testing.assert_allclose(np.exp(result.scores), [0.4, 0.2])
    assert len(calls) == 2  # all finished: no third step

    result = search(WITH_END, 3, width=3, max_len=3, end=2)
    assert as_lists(result) == [[2], [0, 2], [0, 0, 0]]
    np.testing.assert_allclose(np.exp(result.scores), [0.4, 0.2, 0.05])
    assert result.scores[0] == np.log(0.4)  # exactly: nothing added


def test_without_end_every_sequence_has_max_len_symbols():
    result = search(WITH_END, 3, width=3, max_len=4)
    assert [len(s) for s in result.sequences] == [4, 4, 4]
    assert isinstance(result, BeamSearchResult)
    assert np.all(np.diff(result.scores) <= 0)


def test_the_first_beam_is_smaller_when_there_are_few_symbols():
    # 2 symbols, 1 step, width 5: only 2 hypotheses exist
    result = search(GREEDY_GOES_WRONG, 2, width=5, max_len=1)
    assert as_lists(result) == [[0], [1]]


def test_impossible_symbols_are_never_kept():
    result = search({(): [0.0, 1.0]}, 2, width=2, max_len=1)
    assert as_lists(result) == [[1]]


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0}, r"width must be a positive int; got 0"),
        ({"width": 2.0}, r"width must be a positive int; got float 2\.0"),
        ({"width": True}, r"width must be a positive int; got bool True"),
        ({"max_len": 0}, r"max_len must be a positive int; got 0"),
        ({"max_len": -3}, r"max_len must be a positive int; got -3"),
        ({"end": -1}, r"end must be an int >= 0; got -1"),
        ({"end": 7}, r"end must be a symbol id in 0\.\.2.*got 7"),
        ({"start": 1.5}, r"start must be an int >= 0; got float 1\.5"),
    ],
)
def test_bad_arguments_are_named_with_the_given_value(kwargs, match):
    args = {"start": 0, "width": 2, "max_len": 3, "end": None} | kwargs
    step = table_step({}, 3)
    with pytest.raises(ValueError, match=match):
        beam_search(step, np.zeros((1, 0), int), **args)


@pytest.mark.parametrize(
    ("log_probs", "match"),
    [
        (np.zeros(3), r"log_probs.*\(K, V\) = \(1, \?\).*got shape \(3,\)"),
        (np.zeros((2, 3)), r"log_probs.*\(K, V\) = \(1, \?\).*got shape \(2, 3\)"),
        (np.array([[0.0, np.nan]]), r"log_probs.*NaN"),
        (np.full((1, 3), -np.inf), r"every next symbol log-probability -inf"),
    ],
)
def test_a_bad_step_gets_a_clear_error(log_probs, match):
    with pytest.raises(ValueError, match=match):
        beam_search(lambda tokens, state: (log_probs, state), None, 0, 2, 3)


# --- the models --------------------------------------------------------------


def sharpened(model, seed, scale=1.5):
    """Random weights, larger than at initialisation, so that the models'
    distributions are far from uniform and the beam has choices to make."""
    rng = np.random.default_rng(seed)
    for p in model.params.values():
        p[...] = rng.normal(0.0, scale, p.shape)
    return model


def charlm(cell, seed, K=5):
    return sharpened(CharLM(K, 6, cell, rng=seed), seed)


def seq2seq(cell, seed, attention=True, vocab_out=4):
    model = Seq2Seq(5, vocab_out, 6, cell=cell, attention=attention, rng=seed)
    return sharpened(model, seed)


def charlm_log_prob(model, prime, continuation):
    """log p(continuation | prime), from one teacher-forced forward pass."""
    ids = np.concatenate([prime, continuation])
    logits, _ = model.forward(ids[:-1, None])
    log_p = log_softmax(logits[:, 0])[np.arange(len(ids) - 1), ids[1:]]
    return log_p[len(prime) - 1 :].sum()


def seq2seq_log_prob(model, src, tgt):
    """log p(tgt | src), from one teacher-forced forward pass."""
    logits, _ = model.forward(src[:, None], np.asarray(tgt)[:, None])
    return log_softmax(logits[:, 0])[np.arange(len(tgt)), tgt].sum()


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_charlm_width_1_is_greedy_sampling(cell, seed):
    model = charlm(cell, seed)
    for prime in ([3], [1, 4, 0, 2]):
        greedy = model.sample_ids(12, rng=0, temperature=0, prime_ids=prime)
        result = model.beam_search_ids(prime, 12, width=1)
        np.testing.assert_array_equal(result.sequences[0], greedy)


def test_charlm_beam_search_text():
    vocab = Vocabulary.from_text("abc. ")
    model = sharpened(CharLM(len(vocab), 6, "gru", rng=3, vocab=vocab), 3)
    greedy = model.sample(10, rng=0, temperature=0, prime="ab")
    assert model.beam_search("ab", 10, width=1) == greedy
    text = model.beam_search("ab", 10, width=3, end=".")
    best = model.beam_search_ids(vocab.encode("ab"), 10, 3, vocab.encode(".")[0])
    assert text == vocab.decode(best.sequences[0])
    assert len(text) <= 10 and ("." not in text or text.index(".") == len(text) - 1)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_seq2seq_width_1_is_predict(cell, attention, seed):
    model = seq2seq(cell, seed, attention)
    src = np.random.default_rng(seed).integers(0, 5, (7, 3))
    mask = np.ones(src.shape, bool)
    mask[5:, 1] = False
    ids, _ = model.predict(src, 9, src_mask=mask)
    for b in range(src.shape[1]):
        result = model.beam_search(src[:, b], 9, width=1, src_mask=mask[:, b])
        np.testing.assert_array_equal(result.sequences[0], ids[:, b])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("width", [1, 2, 5])
def test_scores_are_the_log_probabilities_of_the_sequences(cell, width):
    model = charlm(cell, 4)
    prime = np.array([2, 0, 1])
    result = model.beam_search_ids(prime, 6, width, end=3)
    assert len(result.sequences) == width
    for sequence, score in zip(result.sequences, result.scores, strict=True):
        expected = charlm_log_prob(model, prime, sequence)
        np.testing.assert_allclose(score, expected, rtol=1e-12)

    model = seq2seq(cell, 4)
    src = np.array([4, 0, 3, 1, 2])
    result = model.beam_search(src, 6, width, end=0)
    for sequence, score in zip(result.sequences, result.scores, strict=True):
        np.testing.assert_allclose(score, seq2seq_log_prob(model, src, sequence), rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_exhaustive_beam_finds_the_most_probable_sequence(cell, seed):
    # A beam of V ** (L - 1) hypotheses never drops one, so it finds the
    # best of all V ** L sequences, found here by scoring each of them; no
    # narrower beam can beat it. (A wider beam is not always better than a
    # narrower one: see test_a_wider_beam_can_return_a_worse_sequence.)
    # Batches of different sizes may round differently: hence the 1e-12.
    V, L = 4, 3
    everything = np.array(list(itertools.product(range(V), repeat=L)))

    model = seq2seq(cell, seed, vocab_out=V)
    src = np.random.default_rng(seed).integers(0, 5, 6)
    logits, _ = model.forward(np.tile(src[:, None], len(everything)), everything.T)
    log_p = log_softmax(logits)
    totals = np.take_along_axis(log_p, everything.T[..., None], 2).sum(axis=(0, 2))
    exact = model.beam_search(src, L, width=V ** (L - 1))
    assert exact.sequences[0].tolist() == everything[totals.argmax()].tolist()
    np.testing.assert_allclose(exact.scores[0], totals.max(), rtol=1e-12)
    for width in range(1, V ** (L - 1)):
        assert model.beam_search(src, L, width).scores[0] <= exact.scores[0] + 1e-12

    model = charlm(cell, seed, K=V)
    prime = np.array([1, 3])
    totals = [charlm_log_prob(model, prime, s) for s in everything]
    exact = model.beam_search_ids(prime, L, width=V ** (L - 1))
    assert exact.sequences[0].tolist() == everything[np.argmax(totals)].tolist()
    np.testing.assert_allclose(exact.scores[0], max(totals), rtol=1e-12)
    for width in range(1, V ** (L - 1)):
        best = model.beam_search_ids(prime, L, width).scores[0]
        assert best <= exact.scores[0] + 1e-12  # the same, up to rounding


def test_model_errors_name_the_argument():
    model = seq2seq("gru", 0)
    with pytest.raises(ValueError, match=r"src must have 1 axes.*\(S,\).*\(4, 2\)"):
        model.beam_search(np.zeros((4, 2), int), 3, 2)
    with pytest.raises(ValueError, match=r"src_mask must have 1 axes.*\(4, 1\)"):
        model.beam_search(np.zeros(4, int), 3, 2, src_mask=np.ones((4, 1), bool))
    with pytest.raises(ValueError, match=r"width must be a positive int; got 0"):
        model.beam_search(np.zeros(4, int), 3, 0)
    with pytest.raises(ValueError, match=r"end must be a symbol id in 0\.\.3.*got 4"):
        model.beam_search(np.zeros(4, int), 3, 2, end=4)

    model = charlm("lstm", 0)
    with pytest.raises(ValueError, match=r"prime_ids must hold at least one.*\(0,\)"):
        model.beam_search_ids(np.array([], int), 3, 2)
    with pytest.raises(ValueError, match=r"length must be a positive int; got 0"):
        model.beam_search_ids([1], 0, 2)
    with pytest.raises(ValueError, match=r"no vocabulary.*beam_search_ids"):
        model.beam_search("a", 3, 2)
    vocab = Vocabulary.from_text("abcde")
    model = CharLM(5, 4, "gru", rng=0, vocab=vocab)
    with pytest.raises(ValueError, match=r"prime must be a string.*''"):
        model.beam_search("", 3, 2)
    with pytest.raises(ValueError, match=r"end must be one character.*'ab'"):
        model.beam_search("a", 3, 2, end="ab")
