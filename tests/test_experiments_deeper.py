"""Tests of tutor.experiments.deeper: stacking, two directions, padded batches, beam search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tutor._cells import RecurrentReadout, count_network_parameters
from tutor.charlm import CharLM, train_charlm
from tutor.data import reber
from tutor.data.text import Vocabulary
from tutor.experiments import deeper
from tutor.feedforward import Dense
from tutor.functional import log_softmax, softmax_cross_entropy
from tutor.gradcheck import gradcheck
from tutor.gru import GRU

# ------------------------------------------------------------------ tagging data


def test_parity_batch_targets_are_the_parity_of_the_visible_window():
    batch = deeper.parity_batch(16, 3, steps=9, window=4)
    assert batch.x.shape == (9, 16, 2) and batch.x.dtype == np.float64
    assert batch.targets.shape == (9, 16) and batch.targets.dtype == np.int64
    assert batch.mask.dtype == bool
    np.testing.assert_array_equal(batch.x.sum(-1), 1)  # one-hot
    bits = batch.x.argmax(-1)
    for t in range(3, 9):  # the steps with a whole window of visible bits
        np.testing.assert_array_equal(batch.targets[t], bits[t - 3 : t + 1].sum(0) % 2)
    np.testing.assert_array_equal(batch.mask.all(1), [False] * 3 + [True] * 6)
    np.testing.assert_array_equal(batch.mask.any(1), batch.mask.all(1))


def test_tagging_batches_are_deterministic():
    for make in (deeper.parity_batch, deeper.future_tag_batch):
        a, b = make(8, 5), make(8, np.random.default_rng(5))
        c = make(8, 6)
        for field in ("x", "targets", "mask"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert not np.array_equal(a.x, c.x)


def test_future_tag_batch_tags_the_symbol_shift_steps_later():
    batch = deeper.future_tag_batch(10, 0, n_symbols=3, steps=7, shift=2)
    assert batch.x.shape == (7, 10, 3) and batch.targets.shape == (7, 10)
    symbols = batch.x.argmax(-1)
    np.testing.assert_array_equal(batch.targets[:5], symbols[2:])
    np.testing.assert_array_equal(batch.targets[5:], 3)  # the class "none"
    assert batch.mask.all()


def _brute_force_limit(V, T, K):
    """The best causal accuracy: at each step, the most frequent tag given the prefix."""
    right = 0
    for t in range(T):
        groups = {}
        for seq in itertools.product(range(V), repeat=T):
            tag = seq[t + K] if t + K < T else V
            counts = groups.setdefault(seq[: t + 1], {})
            counts[tag] = counts.get(tag, 0) + 1
        right += sum(max(c.values()) for c in groups.values())
    return right / (T * V**T)


@pytest.mark.parametrize(("V", "T", "K"), [(2, 4, 1), (3, 4, 2), (4, 3, 1), (2, 5, 4)])
def test_one_way_limit_is_the_best_causal_accuracy(V, T, K):
    assert deeper.one_way_limit(V, T, K) == pytest.approx(_brute_force_limit(V, T, K))


def test_one_way_limit_of_the_chapter():
    assert deeper.one_way_limit(4, 16, 2) == 0.34375  # (14 / 4 + 2) / 16


def test_bad_task_arguments_are_named():
    with pytest.raises(ValueError, match=r"steps.*window = 4.*steps=3"):
        deeper.parity_batch(2, 0, steps=3, window=4)
    with pytest.raises(ValueError, match=r"shift.*steps = 5.*shift=5"):
        deeper.one_way_limit(4, 5, 5)
    with pytest.raises(ValueError, match=r"shift.*got 0"):
        deeper.future_tag_batch(2, 0, shift=0)
    with pytest.raises(ValueError, match=r"n_symbols.*got 1"):
        deeper.future_tag_batch(2, 0, n_symbols=1)
    with pytest.raises(ValueError, match=r"batch_size.*0"):
        deeper.parity_batch(0, 0)


# -------------------------------------------------------------- tagging networks


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("layers", "bi"), [(1, False), (2, False), (1, True), (3, True)])
def test_count_parameters_counts_the_built_network(cell, layers, bi):
    model = deeper.tagger(cell, 3, 5, 4, num_layers=layers, bidirectional=bi, rng=0)
    expected = count_network_parameters(model.layer, model.readout)
    given = deeper.count_parameters(cell, 3, 5, 4, num_layers=layers, bidirectional=bi)
    assert given == expected


def test_matched_sizes_of_the_chapter():
    assert deeper.count_parameters("gru", 2, 24, 2) == 2018
    assert deeper.count_parameters("gru", 2, 14, 2, num_layers=2) == 1990
    assert deeper.matched_hidden_size(2018, "gru", 2, 2, num_layers=2) == 14
    assert deeper.count_parameters("gru", 4, 12, 5, bidirectional=True) == 1373
    assert deeper.matched_hidden_size(1373, "gru", 4, 5) == 18


def test_tagger_outputs_both_directions_to_the_readout():
    model = deeper.tagger("gru", 4, 6, 5, num_layers=2, bidirectional=True, rng=0)
    batch = deeper.future_tag_batch(3, 0)
    assert deeper.predict_tags(model, batch.x).shape == (16, 3)
    loss, grads = deeper.tagger_loss_and_grads(model, batch)
    assert np.isfinite(loss) and "rnn.weight_hh_l1_reverse" in grads
    assert model.readout.params["weight"].shape == (5, 12)


def test_tagger_gradients_match_finite_differences_with_a_mask():
    model = deeper.tagger("gru", 2, 3, 2, num_layers=2, bidirectional=True, rng=1)
    batch = deeper.parity_batch(2, 0, steps=4, window=2)
    _, grads = deeper.tagger_loss_and_grads(model, batch)
    grads = {k: v.copy() for k, v in grads.items()}

    def loss():
        out, _ = model.layer.forward(batch.x)
        logits = model.readout.forward(out)
        return softmax_cross_entropy(logits, batch.targets, batch.mask)[0]

    errors = gradcheck(loss, model.params, grads)
    assert max(errors.values()) < 1e-6, errors


def test_bidirectional_beats_the_one_way_limit_on_a_small_task():
    options = dict(n_symbols=3, steps=6, shift=1, n_updates=150, n_test=300)
    limit = deeper.one_way_limit(3, 6, 1)  # (5 / 3 + 1) / 6 = 0.444
    both = deeper.direction_run(0, True, 8, **options)
    one = deeper.direction_run(0, False, 8, **options)
    assert both.accuracy > limit + 0.3, (both.accuracy, limit)
    assert one.accuracy < limit + 0.05, (one.accuracy, limit)
    assert both.step_accuracy.shape == (6,) and both.evals[-1] == (150, both.accuracy)


def test_stacking_run_is_deterministic_and_counts_updates_to_target():
    a = deeper.stacking_run(0, 2, 4, n_updates=50, eval_every=25, n_test=50)
    b = deeper.stacking_run(0, 2, 4, n_updates=50, eval_every=25, n_test=50)
    assert a.accuracy == b.accuracy and a.evals == b.evals
    assert [step for step, _ in a.evals] == [25, 50]
    assert np.isnan(a.step_accuracy[:2]).all()  # window 3: two masked steps
    assert a.n_parameters == deeper.count_parameters("gru", 2, 4, 2, num_layers=2)
    reached = [s for s, v in a.evals if v >= 0.99]
    assert a.updates_to_target == (reached[0] if reached else None)


def test_time_per_update_is_positive():
    model = deeper.tagger("gru", 2, 4, 2, rng=0)
    assert deeper.time_per_update(model, deeper.parity_batch(4, 0), repeats=3) > 0
    with pytest.raises(ValueError, match=r"repeats.*0"):
        deeper.time_per_update(model, deeper.parity_batch(4, 0), repeats=0)


# ----------------------------------------------------------------- padded batches


def test_corrupt_changes_one_interior_symbol_and_makes_it_invalid():
    rng = np.random.default_rng(0)
    for _ in range(50):
        string = reber.generate(rng)
        changed = deeper.corrupt(string, rng)
        differ = [i for i, (a, b) in enumerate(zip(string, changed)) if a != b]
        assert len(changed) == len(string) and len(differ) == 1
        assert 0 < differ[0] < len(string) - 1
        assert not reber.is_valid(changed)
    with pytest.raises(ValueError, match=r"string.*'BE'"):
        deeper.corrupt("BE", 0)


def test_reber_classification_set_labels_lengths_and_padding():
    data = deeper.reber_classification_set(60, 4)
    assert data.ids.dtype == np.int64 and data.ids.shape == (data.lengths.max(), 60)
    np.testing.assert_array_equal(data.lengths, [len(s) for s in data.strings])
    np.testing.assert_array_equal(data.labels, [1, 0] * 30)  # every second corrupted
    for b, string in enumerate(data.strings):
        assert reber.is_valid(string) == bool(data.labels[b])
        np.testing.assert_array_equal(data.ids[: len(string), b], reber.symbol_indices(string))
        assert (data.ids[len(string) :, b] == -1).all()
    again = deeper.reber_classification_set(60, np.random.default_rng(4))
    assert again.strings == data.strings


def test_string_batch_pads_to_the_longest_of_the_batch_with_zero_rows():
    data = deeper.reber_classification_set(40, 1)
    index = np.array([3, 0, 7])
    x, lengths, labels = deeper.string_batch(data, index)
    assert x.shape == (lengths.max(), 3, 7)
    np.testing.assert_array_equal(labels, data.labels[index])
    for b, i in enumerate(index):
        np.testing.assert_array_equal(x[: lengths[b], b], reber.encode(data.strings[i]))
        assert (x[lengths[b] :, b] == 0).all()


def _classifier(seed=0, H=5):
    return RecurrentReadout(GRU(7, H, rng=seed), Dense(H, 2, rng=seed))


def test_classifier_reads_each_string_at_its_own_end():
    model = _classifier()
    data = deeper.reber_classification_set(6, 2)
    x, lengths, labels = deeper.string_batch(data, np.arange(6))
    loss, _ = deeper.classifier_loss_and_grads(model, x, lengths, labels)
    alone = []
    for b, string in enumerate(data.strings):  # each string alone, no padding
        _, h = model.layer.forward(reber.encode(string)[:, None])
        alone.append(softmax_cross_entropy(model.readout.forward(h), labels[b : b + 1])[0])
    assert loss == pytest.approx(np.mean(alone), rel=1e-12)
    at_T, _ = deeper.classifier_loss_and_grads(model, x, lengths, labels, at_ends=False)
    assert abs(at_T - loss) > 1e-6  # the padding moves the state at step T


@pytest.mark.parametrize("at_ends", [True, False])
def test_classifier_gradients_match_finite_differences(at_ends):
    model = _classifier(seed=3, H=3)
    data = deeper.reber_classification_set(4, 0)
    x, lengths, labels = deeper.string_batch(data, np.arange(4))
    _, grads = deeper.classifier_loss_and_grads(model, x, lengths, labels, at_ends=at_ends)
    grads = {k: v.copy() for k, v in grads.items()}

    def loss():
        _, h = model.layer.forward(x, lengths=lengths if at_ends else None)
        return softmax_cross_entropy(model.readout.forward(h), labels)[0]

    errors = gradcheck(loss, model.params, grads)
    assert max(errors.values()) < 1e-6, errors


def test_train_classifier_is_deterministic_and_scores_both_readings():
    test = deeper.reber_classification_set(30, 9)
    a = deeper.train_classifier(0, test, hidden_size=4, n_train=40, n_updates=5, batch_size=8)
    b = deeper.train_classifier(0, test, hidden_size=4, n_train=40, n_updates=5, batch_size=8)
    assert a.accuracy_at_ends == b.accuracy_at_ends and a.drift == b.drift
    assert a.accuracy_at_ends == deeper.classification_accuracy(a.model, test)
    assert a.accuracy_at_last_step == deeper.classification_accuracy(a.model, test, at_ends=False)
    assert a.n_parameters == 3 * 4 * (7 + 4 + 1) + 4 + 2 * 5
    assert a.drift > 0


# -------------------------------------------------------------------- beam search

TEXT = "the cat sat on the mat. the dog sat on the log. " * 10


@pytest.fixture(scope="module")
def small_lm():
    vocab = Vocabulary.from_text(TEXT)
    ids = vocab.encode(TEXT)
    model = CharLM(len(vocab), 8, "gru", rng=0, vocab=vocab)
    train_charlm(model, ids, batch_size=4, seq_len=10, n_updates=20, progress=False)
    split = deeper.TextSplit(vocab, ids[:400], ids[400:])
    return model, split


def test_held_out_primes_end_with_a_space(small_lm):
    _, split = small_lm
    primes = deeper.held_out_primes(split, 0, n_primes=5, prime_length=6, room=3)
    assert len(primes) == 5
    for prime in primes:
        text = split.vocab.decode(prime)
        assert len(text) == 7 and text.endswith(" ") and text in TEXT
    again = deeper.held_out_primes(split, 0, n_primes=5, prime_length=6, room=3)
    assert all(np.array_equal(p, q) for p, q in zip(primes, again))
    with pytest.raises(ValueError, match=r"n_primes.*got 1000"):
        deeper.held_out_primes(split, 0, n_primes=1000)


def test_beam_gains_shape_and_width_one_is_greedy(small_lm):
    model, split = small_lm
    primes = deeper.held_out_primes(split, 1, n_primes=4, prime_length=5, room=6)
    result = deeper.beam_gains(model, primes, widths=(1, 3), length=6)
    assert result.log_probs.shape == (4, 2) and result.gains.shape == (4, 2)
    np.testing.assert_array_equal(result.gains[:, 0], 0)
    for prime, found, scores in zip(primes, result.sequences, result.log_probs):
        greedy = model.sample_ids(6, 0, temperature=0, prime_ids=prime)
        np.testing.assert_array_equal(found[0], greedy)
        # the score is the model's log-probability of the continuation
        ids = np.concatenate([prime, found[0]])
        logits, _ = model.forward(ids[:-1, None])
        logp = log_softmax(logits[len(prime) - 1 :, 0])
        assert scores[0] == pytest.approx(logp[np.arange(6), found[0]].sum(), abs=1e-9)
    with pytest.raises(ValueError, match=r"widths.*\(2, 4\)"):
        deeper.beam_gains(model, primes, widths=(2, 4))


def test_greedy_trap_picks_the_largest_loss_where_the_first_symbol_differs():
    vocab = Vocabulary.from_text("abc ")
    seqs = [
        [np.array([1, 1]), np.array([1, 2])],  # same first symbol: not a trap
        [np.array([0, 1]), np.array([2, 2])],  # differs, beam better by 1
        [np.array([0, 0]), np.array([3, 0])],  # differs, beam better by 2
    ]
    log_probs = np.array([[-9.0, -1.0], [-3.0, -2.0], [-4.0, -2.0]])
    primes = [np.array([0]), np.array([1]), np.array([2])]
    result = deeper.BeamGains((1, 8), primes, log_probs, seqs)
    trap = deeper.greedy_trap(result, vocab)
    assert trap == (2, "b", "  ", -4.0, "c ", -2.0)
    worse = deeper.BeamGains((1, 8), primes, -log_probs, seqs)
    assert deeper.greedy_trap(worse, vocab) is None
    with pytest.raises(ValueError, match=r"width.*got 4"):
        deeper.greedy_trap(result, vocab, width=4)
