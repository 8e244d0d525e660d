"""Tests of tutor.charlm: the character language model, its training loops and sampling."""

import math

import numpy as np
import pytest

from tutor.charlm import (
    CharLM,
    _minchar_loss_and_grads_stacked,
    bits_per_char,
    minchar_init,
    minchar_loss_and_grads,
    minchar_to_charlm,
    train_charlm,
    train_minchar,
    train_minchar_seeds,
)
from tutor.data.text import Vocabulary, text_batches, unigram_bits_per_char
from tutor.functional import softmax_cross_entropy
from tutor.gradcheck import gradcheck, numerical_gradients, relative_error

CELLS = ["rnn", "lstm", "gru"]
TINY_TEXT = "the cat sat on the mat. " * 40


def random_ids(rng, shape, k):
    return rng.integers(0, k, size=shape)


def random_state(model, rng, batch):
    h = rng.normal(0, 0.5, (batch, model.hidden_size))
    if model.cell == "lstm":
        return (h, rng.normal(0, 0.5, (batch, model.hidden_size)))
    return h


@pytest.mark.parametrize("cell", CELLS)
def test_loss_and_grads_match_finite_differences(cell):
    rng = np.random.default_rng(0)
    K, H, T, B = 5, 4, 4, 3
    model = CharLM(K, H, cell, rng=1)
    x, y = random_ids(rng, (T, B), K), random_ids(rng, (T, B), K)
    state = random_state(model, rng, B)  # a state carried in from an earlier chunk
    _, grads, _ = model.loss_and_grads(x, y, state)
    grads = {name: g.copy() for name, g in grads.items()}

    def loss():
        return softmax_cross_entropy(model.forward(x, state)[0], y)[0]

    errors = gradcheck(loss, model.params, grads)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", CELLS)
def test_carried_state_continues_the_sequence_and_is_detached(cell):
    rng = np.random.default_rng(0)
    model = CharLM(6, 5, cell, rng=2)
    ids = random_ids(rng, (10, 2), 6)
    whole, _ = model.forward(ids)
    _, _, state = model.loss_and_grads(ids[:4], ids[1:5])
    second, _ = model.forward(ids[4:], state)
    np.testing.assert_allclose(second, whole[4:], rtol=1e-12, atol=1e-12)
    arrays = state if isinstance(state, tuple) else (state,)
    for array in arrays:
        assert array.flags.writeable and array.flags.owndata  # a copy, not a view of a cache


def test_loss_is_mean_cross_entropy_in_nats_and_bits_per_char_agrees():
    vocab = Vocabulary.from_text(TINY_TEXT)
    ids = vocab.encode(TINY_TEXT)
    model = CharLM(len(vocab), 8, "gru", rng=0, vocab=vocab)
    loss, _, _ = model.loss_and_grads(ids[:-1, None], ids[1:, None])
    assert 0.5 * math.log(len(vocab)) < loss < 2 * math.log(len(vocab))  # untrained: near log K
    assert bits_per_char(model, ids, batch_size=1, seq_len=37) == pytest.approx(loss / math.log(2))


def test_sampling_is_determined_by_the_seed():
    vocab = Vocabulary.from_text(TINY_TEXT)
    model = CharLM(len(vocab), 8, "lstm", rng=0, vocab=vocab)
    a = model.sample(60, rng=7, prime="the ")
    assert isinstance(a, str) and len(a) == 60 and set(a) <= set(vocab.chars)
    assert model.sample(60, rng=7, prime="the ") == a
    assert model.sample(60, rng=np.random.default_rng(7), prime="the ") == a
    assert model.sample(60, rng=8, prime="the ") != a
    assert model.sample(0, rng=7) == ""


@pytest.mark.parametrize("cell", CELLS)
def test_temperature_near_zero_picks_the_most_likely_character(cell):
    rng = np.random.default_rng(3)
    model = CharLM(7, 6, cell, rng=4)
    for p in model.params.values():
        p[...] = rng.normal(0, 1.0, p.shape)  # confident predictions, far from uniform
    prime = np.array([1, 2, 3])
    greedy = model.sample_ids(25, rng=0, temperature=0.0, prime_ids=prime)
    # Greedy by hand: step the model one character at a time and take the argmax.
    logits, state = model.forward(prime[:, None])
    expected = []
    for _ in range(25):
        expected.append(int(np.argmax(logits[-1, 0])))
        logits, state = model.forward(np.array([[expected[-1]]]), state)
    assert greedy.tolist() == expected
    for seed in range(3):
        cold = model.sample_ids(25, rng=seed, temperature=1e-6, prime_ids=prime)
        assert cold.tolist() == expected


def test_high_temperature_flattens_the_distribution():
    model = CharLM(4, 3, "rnn", rng=0)
    model.readout.params["bias"][...] = [5.0, 0.0, 0.0, 0.0]  # the zero state prefers id 0
    model.readout.params["weight"][...] = 0.0
    cold = model.sample_ids(400, rng=1, temperature=0.5)
    hot = model.sample_ids(400, rng=1, temperature=100.0)
    assert (cold == 0).mean() > 0.95
    assert 0.15 < (hot == 0).mean() < 0.4  # near uniform: 1/4


def test_training_lowers_the_loss_on_a_tiny_text():
    vocab = Vocabulary.from_text(TINY_TEXT)
    ids = vocab.encode(TINY_TEXT)
    model = CharLM(len(vocab), 24, "lstm", rng=0, vocab=vocab)
    before = bits_per_char(model, ids)
    history = train_charlm(model, ids, batch_size=4, seq_len=20, lr=1e-2, n_updates=120)
    after = bits_per_char(model, ids)
    assert len(history.losses) == 120 and len(history.seconds) == 120
    assert history.chars[-1] == sum(chunk_sizes(ids, 4, 20, 120))
    assert np.all(np.diff(history.seconds) >= 0) and history.chars_per_second > 0
    assert after < before - 1.5
    assert after < unigram_bits_per_char(ids, len(vocab)) - 1.0  # it uses the past
    assert np.mean(history.bits[-10:]) < np.mean(history.bits[:10]) - 1.5


def chunk_sizes(ids, batch, seq_len, steps):
    """The number of characters read by each of ``steps`` updates, epoch after epoch."""
    sizes = [x.size for x, _ in text_batches(ids, batch, seq_len)]
    return [sizes[i % len(sizes)] for i in range(steps)]


def test_training_for_a_time_budget_stops_after_it_and_scores_held_out_text():
    vocab = Vocabulary.from_text(TINY_TEXT)
    ids = vocab.encode(TINY_TEXT)
    model = CharLM(len(vocab), 8, "rnn", rng=0, dtype=np.float32, vocab=vocab)
    history = train_charlm(
        model, ids[:800], seconds=0.3, valid_ids=ids[800:], eval_every=5, batch_size=4
    )
    assert 0.3 <= history.seconds[-1] < 5
    assert model.params["rnn.weight_hh"].dtype == np.float32
    steps = len(history.losses)
    assert [v[0] for v in history.valid] == [*range(5, steps + 1, 5)] + (
        [steps] if steps % 5 else []
    )
    assert all(np.isfinite(v[2]) for v in history.valid)


def test_training_continues_with_the_returned_optimizer():
    ids = Vocabulary.from_text(TINY_TEXT).encode(TINY_TEXT)
    model = CharLM(int(ids.max()) + 1, 6, "gru", rng=0)
    first = train_charlm(model, ids, batch_size=2, seq_len=10, n_updates=3)
    second = train_charlm(
        model, ids, batch_size=2, seq_len=10, n_updates=3, optimizer=first.optimizer
    )
    assert second.optimizer is first.optimizer and first.optimizer.t == 6  # one Adam, 6 steps


def test_training_needs_a_budget():
    ids = np.arange(50) % 5
    with pytest.raises(ValueError, match=r"n_updates.*seconds"):
        train_charlm(CharLM(5, 3, "rnn", rng=0), ids)


def test_min_char_rnn_step_matches_the_batched_model():
    rng = np.random.default_rng(0)
    K, H, T = 6, 5, 9
    params = minchar_init(K, H, rng=1)
    for p in params.values():
        p[...] = rng.normal(0, 0.5, p.shape)
    ids = random_ids(rng, T + 1, K)
    h0 = rng.normal(0, 0.5, H)
    loss, grads, h = minchar_loss_and_grads(params, ids[:-1].tolist(), ids[1:].tolist(), h0)
    model = minchar_to_charlm(params)
    mean_loss, model_grads, state = model.loss_and_grads(ids[:-1, None], ids[1:, None], h0[None])
    assert loss / T == pytest.approx(mean_loss, rel=1e-12)  # min-char-rnn sums over steps
    np.testing.assert_allclose(h, state[0], rtol=1e-12)
    pairs = {
        "Wxh": "rnn.weight_ih",
        "Whh": "rnn.weight_hh",
        "bh": "rnn.bias_ih",
        "Why": "readout.weight",
        "by": "readout.bias",
    }
    for name, other in pairs.items():
        np.testing.assert_allclose(grads[name], T * model_grads[other], rtol=1e-10, atol=1e-12)


def test_min_char_rnn_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    params = minchar_init(5, 4, rng=2)
    for p in params.values():
        p[...] = rng.normal(0, 0.5, p.shape)
    inputs, targets = [0, 3, 3, 1, 4], [3, 3, 1, 4, 2]
    h0 = rng.normal(0, 0.5, 4)
    _, grads, _ = minchar_loss_and_grads(params, inputs, targets, h0)
    numeric = numerical_gradients(
        lambda: minchar_loss_and_grads(params, inputs, targets, h0)[0], params
    )
    for name in params:
        assert relative_error(grads[name], numeric[name]) < 1e-6, name


def test_min_char_rnn_training_lowers_the_loss_and_returns_a_char_lm():
    vocab = Vocabulary.from_text(TINY_TEXT)
    ids = vocab.encode(TINY_TEXT)
    model, history = train_minchar(
        ids, len(vocab), hidden_size=32, n_updates=300, valid_ids=ids[:200], vocab=vocab
    )
    assert isinstance(model, CharLM) and model.cell == "rnn" and model.vocab == vocab
    assert len(history.losses) == 300 and history.chars[-1] == 300 * 25
    assert np.mean(history.bits[-20:]) < np.mean(history.bits[:20]) - 1.0
    assert history.valid[0][2] == pytest.approx(bits_per_char(model, ids[:200]))
    assert len(model.sample(20, rng=0)) == 20


def test_stacked_min_char_rnn_computes_each_network_like_the_single_one():
    rng = np.random.default_rng(3)
    K, H, S = 6, 5, 3
    nets = [minchar_init(K, H, rng=seed) for seed in range(S)]
    for net in nets:
        for p in net.values():
            p[...] = rng.normal(0, 0.5, p.shape)  # larger weights than at the start
    stacked = {name: np.stack([net[name] for net in nets]) for name in nets[0]}
    inputs, targets = rng.integers(0, K, 7).tolist(), rng.integers(0, K, 7).tolist()
    h0 = rng.normal(0, 0.5, (S, H))
    loss, grads, h = _minchar_loss_and_grads_stacked(stacked, inputs, targets, h0)
    assert loss.shape == (S,) and h.shape == (S, H)
    for s, net in enumerate(nets):
        loss_s, grads_s, h_s = minchar_loss_and_grads(net, inputs, targets, h0[s])
        assert loss[s] == pytest.approx(loss_s, rel=1e-12)
        np.testing.assert_allclose(h[s], h_s, rtol=1e-12, atol=1e-14)
        for name in net:
            np.testing.assert_allclose(grads[name][s], grads_s[name], rtol=1e-10, atol=1e-13)


def test_min_char_rnn_over_seeds_starts_and_trains_like_single_runs():
    vocab = Vocabulary.from_text(TINY_TEXT)
    ids = vocab.encode(TINY_TEXT)
    runs = train_minchar_seeds(
        ids, len(vocab), (4, 7), hidden_size=16, n_updates=5, valid_ids=ids[:100], vocab=vocab
    )
    assert len(runs) == 2
    for seed, (model, history) in zip((4, 7), runs):
        single, single_history = train_minchar(
            ids, len(vocab), hidden_size=16, n_updates=5, rng=seed, progress=False
        )
        # A few updates: rounding has not yet had time to grow.
        np.testing.assert_allclose(history.losses, single_history.losses, rtol=1e-9)
        for name in single.params:
            np.testing.assert_allclose(model.params[name], single.params[name], atol=1e-9)
        assert history.chars == single_history.chars and model.vocab == vocab
        assert history.valid[0][2] == pytest.approx(bits_per_char(model, ids[:100]))
    with pytest.raises(ValueError, match=r"seeds.*at least one"):
        train_minchar_seeds(ids, len(vocab), (), n_updates=5)


def test_bad_arguments_are_refused_with_clear_messages():
    with pytest.raises(ValueError, match=r"\bcell\b.*'rnn'.*'lstm'.*'gru'.*'transformer'"):
        CharLM(5, 3, "transformer", rng=0)
    with pytest.raises(ValueError, match=r"gate_bias=1\.0.*cell='rnn'.*no gates"):
        CharLM(5, 3, "rnn", rng=0, gate_bias=1.0)
    with pytest.raises(ValueError, match=r"vocab\b.*\b3\b.*vocab_size.*\b5\b"):
        CharLM(5, 3, rng=0, vocab=Vocabulary("abc"))
    model = CharLM(5, 3, "gru", rng=0)
    with pytest.raises(ValueError, match=r"x_ids.*integer.*float64"):
        model.forward(np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"x_ids.*0\.\.4.*\b5\b"):
        model.forward(np.array([[5]]))
    with pytest.raises(ValueError, match=r"x_ids.*\(T, B\).*\(2,\)"):
        model.forward(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"y_ids.*x_ids.*\(1, 2\).*\(1, 1\)"):
        model.loss_and_grads(np.array([[1, 2]]), np.array([[1]]))
    with pytest.raises(ValueError, match=r"no vocabulary.*vocab="):
        model.sample(5, rng=0)
    with pytest.raises(ValueError, match=r"temperature.*>= 0.*-1\.0"):
        model.sample_ids(5, rng=0, temperature=-1.0)


def test_gate_bias_reaches_the_layers_gate():
    lstm = CharLM(4, 3, "lstm", rng=0)
    plain = CharLM(4, 3, "lstm", rng=0, gate_bias=0.0)
    gap = lstm.params["rnn.bias_ih"] - plain.params["rnn.bias_ih"]
    np.testing.assert_allclose(gap, np.repeat([0.0, 1.0, 0.0, 0.0], 3))
    gru = CharLM(4, 3, "gru", rng=0, gate_bias=2.0)
    gru0 = CharLM(4, 3, "gru", rng=0)
    gap = gru.params["rnn.bias_ih"] - gru0.params["rnn.bias_ih"]
    np.testing.assert_allclose(gap, np.repeat([0.0, 2.0, 0.0], 3))


def test_draw_with_temperature_follows_the_softmax():
    from tutor.charlm import draw_with_temperature

    logits = np.array([0.0, np.log(3.0)])  # probabilities 1/4 and 3/4 at temperature 1
    assert draw_with_temperature(logits, 1.0, 0.2) == 0
    assert draw_with_temperature(logits, 1.0, 0.3) == 1
    assert draw_with_temperature(logits, 0.0, 0.0) == 1  # temperature 0: the argmax
    draws = [draw_with_temperature(logits, 1.0, u) for u in np.linspace(0, 1, 1000, endpoint=False)]
    assert abs(np.mean(draws) - 0.75) < 0.01
    hot = [draw_with_temperature(logits, 100.0, u) for u in np.linspace(0, 1, 1000, endpoint=False)]
    assert abs(np.mean(hot) - 0.5) < 0.02  # a high temperature flattens the distribution


def _loss_and_grads_through_one_hot_vectors(model, x, y, state):
    """CharLM.loss_and_grads written the long way: one-hot vectors into the layer."""
    out, _ = model.layer.forward(model.one_hot(x), state)
    loss, dlogits = softmax_cross_entropy(model.readout.forward(out), y)
    model.layer.backward(model.readout.backward(dlogits))
    return loss, {name: g.copy() for name, g in model.grads.items()}


@pytest.mark.parametrize("cell", CELLS)
def test_ids_path_gives_the_loss_and_gradients_of_one_hot_vectors(cell):
    # The model hands its ids to the layer (ids=True: a lookup of W_ih's columns, no
    # input gradient); the result must be that of the one-hot vectors.
    rng = np.random.default_rng(4)
    K, H, T, B = 9, 6, 7, 4
    model = CharLM(K, H, cell, rng=5)
    x, y = random_ids(rng, (T, B), K), random_ids(rng, (T, B), K)
    state = random_state(model, rng, B)
    loss_v, grads_v = _loss_and_grads_through_one_hot_vectors(model, x, y, state)
    loss, grads, _ = model.loss_and_grads(x, y, state)
    assert abs(loss - loss_v) <= 1e-12
    assert set(grads) == set(grads_v)
    for name, g in grads.items():
        np.testing.assert_allclose(g, grads_v[name], rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_ids_path_gradients_match_finite_differences_of_one_hot_vectors(cell):
    rng = np.random.default_rng(6)
    K, H, T, B = 5, 4, 4, 3
    model = CharLM(K, H, cell, rng=7)
    x, y = random_ids(rng, (T, B), K), random_ids(rng, (T, B), K)
    state = random_state(model, rng, B)
    _, grads, _ = model.loss_and_grads(x, y, state)
    grads = {name: g.copy() for name, g in grads.items()}

    def loss():  # the loss through one-hot vectors, not through the ids path
        out, _ = model.layer.forward(model.one_hot(x), state)
        return softmax_cross_entropy(model.readout.forward(out), y)[0]

    errors = gradcheck(loss, model.params, grads)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-6, errors
