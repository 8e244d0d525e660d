"""Tests of tutor.seq2seq: the encoder-decoder, with and without attention, and its helpers."""

from __future__ import annotations

import doctest
import functools

import numpy as np
import pytest

from tutor import seq2seq as seq2seq_module
from tutor.data.copy_tasks import copy_task, reverse_task, token_accuracy
from tutor.gradcheck import gradcheck
from tutor.seq2seq import (
    Seq2Seq,
    Seq2SeqScore,
    evaluate_seq2seq,
    score_by_length,
    train_seq2seq,
)

CELLS = ["gru", "lstm", "rnn"]


def randomised(model, seed, scale=0.7):
    """Replace every parameter by normal noise: larger than the initialisation, so that
    every part of the model (the attention's scores included) gets a sizeable gradient."""
    rng = np.random.default_rng(seed)
    for p in model.params.values():
        p[...] = rng.normal(0.0, scale, p.shape)
    return model


def ids(rng, shape, vocab):
    return rng.integers(0, vocab, size=shape)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention", [True, False])
def test_gradcheck_whole_model(cell, attention):
    rng = np.random.default_rng(0)
    model = randomised(
        Seq2Seq(4, 5, 3, attention=attention, cell=cell, attention_size=2, rng=1), seed=2
    )
    src, tgt = ids(rng, (4, 2), 4), ids(rng, (3, 2), 5)
    # Left padding in sequence 0 (attention ignores it) and a target position left out.
    src_mask = np.array([[False, True], [True, True], [True, True], [True, True]])
    tgt_mask = np.array([[True, True], [True, False], [True, True]])
    _, grads = model.loss_and_grads(src, tgt, src_mask, tgt_mask)
    grads = {name: g.copy() for name, g in grads.items()}
    errors = gradcheck(lambda: model.loss(src, tgt, src_mask, tgt_mask), model.params, grads)
    assert max(errors.values()) < 1e-6, errors
    # Every parameter takes part (a wiring mistake often leaves one with a zero gradient).
    assert all(np.abs(g).max() > 1e-4 for g in grads.values())


def test_parameter_names_and_shapes():
    H, A = 6, 4
    model = Seq2Seq(5, 7, H, attention_size=A, rng=0)
    shapes = {name: p.shape for name, p in model.params.items()}
    assert shapes == {
        "encoder.weight_ih": (3 * H, 5),
        "encoder.weight_hh": (3 * H, H),
        "encoder.bias_ih": (3 * H,),
        "encoder.bias_hh": (3 * H,),
        "decoder.weight_ih": (3 * H, 7 + 1 + H),  # previous symbol (or start), context
        "decoder.weight_hh": (3 * H, H),
        "decoder.bias_ih": (3 * H,),
        "decoder.bias_hh": (3 * H,),
        "readout.weight": (7, 2 * H),  # from [s_t, c_t]
        "readout.bias": (7,),
        "attention.weight_enc": (A, H),
        "attention.weight_dec": (A, H),
        "attention.bias": (A,),
        "attention.v": (A,),
    }
    assert {name: g.shape for name, g in model.grads.items()} == shapes
    assert model.params["encoder.weight_ih"] is model.encoder.params["weight_ih"]
    assert model.params["attention.v"] is model.attention["v"]
    plain = Seq2Seq(5, 7, H, attention=False, cell="lstm", rng=0)
    assert plain.attention is None
    assert plain.params["decoder.weight_ih"].shape == (4 * H, 7 + 1)
    assert plain.params["readout.weight"].shape == (7, H)
    assert not any(name.startswith("attention.") for name in plain.params)
    assert "attention=False" in repr(plain) and "cell='lstm'" in repr(plain)


@pytest.mark.parametrize("cell", CELLS)
def test_shapes_weights_and_masks(cell):
    rng = np.random.default_rng(3)
    model = Seq2Seq(6, 4, 5, cell=cell, rng=0)
    S, T, B = 7, 5, 3
    src, tgt = ids(rng, (S, B), 6), ids(rng, (T, B), 4)
    src_mask = np.ones((S, B), dtype=bool)
    src_mask[:3, 1] = False  # sequence 1 is padded at the start
    logits, weights = model.forward(src, tgt, src_mask)
    assert logits.shape == (T, B, 4) and weights.shape == (T, S, B)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    assert (weights[:, :3, 1] == 0.0).all() and (weights[:, 3:, 1] > 0).all()
    predicted, weights = model.predict(src, max_len=9, src_mask=src_mask)
    assert predicted.shape == (9, B) and predicted.dtype == np.int64
    assert predicted.min() >= 0 and predicted.max() < 4
    assert weights.shape == (9, S, B)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    assert (weights[:, :3, 1] == 0.0).all()


@pytest.mark.parametrize("attention", [True, False])
def test_greedy_decoding_agrees_with_teacher_forcing_on_its_own_output(attention):
    # Feeding the greedy answer back as the target must reproduce the same choices, the same
    # attention weights, and logits whose argmax is the answer.
    rng = np.random.default_rng(4)
    model = randomised(Seq2Seq(5, 6, 8, attention=attention, rng=0), seed=5, scale=0.5)
    src = ids(rng, (6, 4), 5)
    predicted, weights = model.predict(src, max_len=7)
    logits, forced_weights = model.forward(src, predicted)
    np.testing.assert_array_equal(logits.argmax(axis=-1), predicted)
    if attention:
        np.testing.assert_allclose(forced_weights, weights, rtol=1e-12)
    else:
        assert weights is None and forced_weights is None


def test_without_attention_the_decoder_only_sees_the_last_state():
    # Two sources that end in the same encoder state give the same output without attention.
    model = Seq2Seq(3, 3, 4, attention=False, cell="rnn", rng=0)
    model.params["encoder.weight_hh"][...] = 0.0  # the state forgets everything but the last
    src = np.array([[0, 1], [2, 0], [1, 1]])  # both end in symbol 1
    tgt = np.zeros((4, 2), dtype=int)
    logits, weights = model.forward(src, tgt)
    assert weights is None
    np.testing.assert_allclose(logits[:, 0], logits[:, 1], rtol=1e-13)
    with_attention = Seq2Seq(3, 3, 4, attention=True, cell="rnn", rng=0)
    with_attention.params["encoder.weight_hh"][...] = 0.0
    logits, _ = with_attention.forward(src, tgt)
    assert not np.allclose(logits[:, 0], logits[:, 1])  # attention reads the other positions


def test_float32_stays_float32():
    rng = np.random.default_rng(6)
    model = Seq2Seq(4, 4, 5, cell="lstm", rng=0, dtype=np.float32)
    src = ids(rng, (5, 2), 4)
    loss, grads = model.loss_and_grads(src, src)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in model.params.values())
    _, weights = model.predict(src, 3)
    assert weights.dtype == np.float32


def test_backward_overwrites_grads_and_loss_matches():
    rng = np.random.default_rng(7)
    model = Seq2Seq(4, 4, 5, rng=0)
    src, tgt = ids(rng, (5, 3), 4), ids(rng, (4, 3), 4)
    loss, grads = model.loss_and_grads(src, tgt)
    first = {name: g.copy() for name, g in grads.items()}
    loss2, grads2 = model.loss_and_grads(src, tgt)
    assert grads2 is model.grads and loss2 == loss == model.loss(src, tgt)
    for name, g in grads2.items():
        np.testing.assert_array_equal(g, first[name])
    # Uniform logits would give log(4); a fresh model is close to that.
    assert abs(loss - np.log(4)) < 0.3


def test_seeded_construction_and_training():
    def run():
        model = Seq2Seq(4, 4, 6, rng=3)
        task = functools.partial(copy_task, length=(2, 4), vocab_size=4)
        test = copy_task(8, 3, 4, rng=0)
        history = train_seq2seq(
            model,
            task,
            5,
            batch_size=4,
            rng=9,
            evaluate=lambda: evaluate_seq2seq(model, *test).token_accuracy,
            eval_every=2,
        )
        assert [step for step, _ in history.evals] == [2, 4, 5]
        return model, history.losses + [value for _, value in history.evals]

    (m1, l1), (m2, l2) = run(), run()
    assert l1 == l2 and len(l1) == 8
    for name in m1.params:
        np.testing.assert_array_equal(m1.params[name], m2.params[name])
    assert not np.array_equal(
        m1.params["encoder.weight_ih"], Seq2Seq(4, 4, 6, rng=4).params["encoder.weight_ih"]
    )


def test_training_learns_a_short_copy():
    # A tiny copy task: the loss must fall well below chance, log(4), in a few hundred steps.
    model = Seq2Seq(4, 4, 16, attention_size=8, rng=0)
    task = functools.partial(copy_task, length=3, vocab_size=4)
    history = train_seq2seq(model, task, 150, batch_size=16, lr=0.02, rng=1)
    assert np.mean(history.losses[:5]) > 1.2
    assert np.mean(history.losses[-10:]) < 0.3
    score = evaluate_seq2seq(model, *copy_task(100, 3, 4, rng=2))
    assert isinstance(score, Seq2SeqScore)
    assert score.token_accuracy > 0.9 and score.position_accuracy.shape == (3,)
    assert 0.0 <= score.exact_match <= score.token_accuracy


def test_evaluate_and_score_by_length():
    model = Seq2Seq(5, 5, 4, rng=0)
    batch = reverse_task(20, 6, 5, rng=1)
    score = evaluate_seq2seq(model, batch.src, batch.tgt)
    predicted, _ = model.predict(batch.src, 6)
    assert score.token_accuracy == token_accuracy(predicted, batch.tgt)
    np.testing.assert_allclose(score.position_accuracy.mean(), score.token_accuracy)
    with pytest.raises(ValueError, match=r"\btgt\b.*\(T, B\).*B = 20.*\(6, 3\)"):
        evaluate_seq2seq(model, batch.src, batch.tgt[:, :3])
    scores = score_by_length(
        model, functools.partial(reverse_task, vocab_size=5), [2, 7], n=10, rng=0
    )
    assert [s.position_accuracy.shape for s in scores] == [(2,), (7,)]
    again = score_by_length(
        model, functools.partial(reverse_task, vocab_size=5), [2, 7], n=10, rng=0
    )
    assert [s.token_accuracy for s in scores] == [s.token_accuracy for s in again]


def test_docstring_example():
    failures, tried = doctest.testmod(seq2seq_module, verbose=False)
    assert tried > 0 and failures == 0


# --- input checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vocab_in": 0}, r"vocab_in.*positive int.*\b0\b"),
        ({"vocab_out": 2.5}, r"vocab_out.*positive int.*2\.5"),
        ({"hidden_size": True}, r"hidden_size.*positive int.*\bTrue\b"),
        ({"cell": "transformer"}, r"\bcell\b.*'rnn', 'lstm', 'gru'.*'transformer'"),
        ({"attention": "yes"}, r"\battention\b.*True or False.*'yes'"),
        ({"attention_size": 0}, r"attention_size.*positive int.*\b0\b"),
        ({"dtype": np.int32}, r"\bdtype\b.*float64.*float32.*int32"),
        ({"rng": None}, r"\brng\b.*int seed.*Generator.*NoneType"),
    ],
)
def test_construction_errors(kwargs, match):
    args = {"vocab_in": 3, "vocab_out": 3, "hidden_size": 4, "rng": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        Seq2Seq(**args)


@pytest.mark.parametrize(
    ("src", "tgt", "match"),
    [
        (np.zeros((4, 2)), np.zeros((3, 2), dtype=int), r"\bsrc\b.*integer.*float64"),
        (
            np.zeros(4, dtype=int),
            np.zeros((3, 2), dtype=int),
            r"\bsrc\b.*2 axes.*\(S, B\).*\(4,\)",
        ),
        (
            np.zeros((4, 2), dtype=int),
            np.zeros((3, 2, 1), dtype=int),
            r"\btgt\b.*2 axes.*\(T, B\).*\(3, 2, 1\)",
        ),
        (
            np.full((4, 2), 3),
            np.zeros((3, 2), dtype=int),
            r"\bsrc\b.*0\.\.2.*vocab_in = 3.*from 3 to 3",
        ),
        (
            np.zeros((4, 2), dtype=int),
            np.full((3, 2), -1),
            r"\btgt\b.*0\.\.4.*vocab_out = 5.*from -1 to -1",
        ),
        (
            np.zeros((4, 2), dtype=int),
            np.zeros((3, 4), dtype=int),
            r"\btgt\b.*\(T, B\).*B = 2.*\(3, 4\)",
        ),
        (
            np.zeros((0, 2), dtype=int),
            np.zeros((3, 2), dtype=int),
            r"\bsrc\b.*at least one position.*\(0, 2\)",
        ),
    ],
)
def test_bad_ids(src, tgt, match):
    model = Seq2Seq(3, 5, 4, rng=0)
    with pytest.raises(ValueError, match=match):
        model.loss_and_grads(src, tgt)


def test_bad_masks_and_calls():
    model = Seq2Seq(3, 3, 4, rng=0)
    src = np.zeros((4, 2), dtype=int)
    with pytest.raises(ValueError, match=r"mask.*\(S, B\) = \(4, 2\).*\(2, 4\)"):
        model.forward(src, src, src_mask=np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"mask.*no position.*sequence 1"):
        model.predict(src, 3, src_mask=np.array([[True, False]] * 4))
    with pytest.raises(ValueError, match=r"max_len.*positive int.*\b0\b"):
        model.predict(src, 0)
    with pytest.raises(RuntimeError, match=r"Seq2Seq\.backward.*forward\(src, tgt\)"):
        Seq2Seq(3, 3, 4, rng=0).backward(np.zeros((4, 2, 3)))
    logits, _ = model.forward(src, src)
    model.predict(src, 2)  # replaces what backward needs
    with pytest.raises(ValueError, match=r"mask.*bool.*float64"):
        Seq2Seq(3, 3, 4, attention=False, rng=0).predict(src, 2, src_mask=np.ones((4, 2)))
    with pytest.raises(RuntimeError, match=r"Seq2Seq\.backward.*forward\(src, tgt\).*predict"):
        model.backward(np.zeros_like(logits))
    logits, _ = model.forward(src, src)
    with pytest.raises(
        ValueError, match=r"dlogits.*\(T, B, vocab_out\) = \(4, 2, 3\).*\(4, 2, 5\)"
    ):
        model.backward(np.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match=r"batch_size.*positive int.*\b0\b"):
        train_seq2seq(
            model, functools.partial(copy_task, length=3, vocab_size=3), 1, batch_size=0, rng=0
        )
