"""Tests of tutor.experiments.tuning: one point of a sweep, and early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.charlm import CharLM, bits_per_char, train_charlm
from tutor.data.text import Vocabulary
from tutor.experiments import compare
from tutor.experiments.tuning import charlm_trial, count_parameters, train_with_early_stopping

TEXT = "the cat sat on the mat. the dog sat on the log. " * 8
VOCAB = Vocabulary.from_text(TEXT)
IDS = VOCAB.encode(TEXT)
TRAIN, VALID = IDS[:300], IDS[300:]


@pytest.mark.parametrize(("cell", "blocks"), [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_count_parameters_counts_one_bias_per_unit(cell, blocks):
    # The book's rule: G H (K + H + 1), plus H for the GRU, plus K (H + 1).
    K, H = len(VOCAB), 5
    model = CharLM(K, H, cell, rng=0)
    gru_extra = H if cell == "gru" else 0
    assert count_parameters(model) == blocks * H * (K + H + 1) + gru_extra + K * (H + 1)
    assert count_parameters(model) == compare.count_parameters(cell, K, H, K)


def test_charlm_trial_is_deterministic_and_scores_the_held_out_text():
    a = charlm_trial(TRAIN, VALID, len(VOCAB), hidden_size=8, n_updates=5, seq_len=10, batch_size=4)
    b = charlm_trial(TRAIN, VALID, len(VOCAB), hidden_size=8, n_updates=5, seq_len=10, batch_size=4)
    assert a.valid_bits == b.valid_bits and not a.diverged
    assert a.train_bits.shape == (5,) and a.n_updates == 5
    assert a.n_params == count_parameters(a.model)
    assert a.valid_bits == pytest.approx(bits_per_char(a.model, VALID, batch_size=64))


def test_charlm_trial_budget_in_characters():
    trial = charlm_trial(
        TRAIN, VALID, len(VOCAB), hidden_size=4, n_chars=95, seq_len=5, batch_size=4
    )
    assert trial.n_updates == 95 // 20 == len(trial.train_bits)
    with pytest.raises(ValueError, match=r"n_updates.*n_chars.*n_updates=3.*n_chars=100"):
        charlm_trial(TRAIN, VALID, len(VOCAB), n_updates=3, n_chars=100)
    with pytest.raises(ValueError, match=r"n_updates.*n_chars.*n_updates=None.*n_chars=None"):
        charlm_trial(TRAIN, VALID, len(VOCAB))
    with pytest.raises(ValueError, match=r"n_chars.*seq_len = 20.*got 10\b"):
        charlm_trial(TRAIN, VALID, len(VOCAB), n_chars=10, seq_len=5, batch_size=4)
    with pytest.raises(ValueError, match=r"n_updates.*at least 1.*got 0\b"):
        charlm_trial(TRAIN, VALID, len(VOCAB), n_updates=0)


def test_early_stopping_restores_the_best_parameters():
    model = CharLM(len(VOCAB), 8, "rnn", rng=1, dtype=np.float32)
    run = train_with_early_stopping(
        model, TRAIN, VALID, max_epochs=6, batch_size=4, seq_len=10, lr=0.05
    )
    assert run.train_bits.shape == run.valid_bits.shape == (6,)
    assert run.best_epoch == int(np.argmin(run.valid_bits)) + 1
    assert bits_per_char(model, VALID, batch_size=64) == pytest.approx(run.valid_bits.min())
    assert run.updates_per_epoch == 300 // 4 // 10 + 1  # L = 74 steps per stream, chunks of 10


def test_early_stopping_epochs_match_one_long_run():
    # The optimiser carries on across epochs, so the epochs are the updates of one long call,
    # and the restored parameters are those after `best_epoch` epochs of that call.
    a = CharLM(len(VOCAB), 5, "rnn", rng=2)
    run = train_with_early_stopping(a, TRAIN, VALID, max_epochs=4, batch_size=4, seq_len=10)
    for epochs in (run.best_epoch, len(run.valid_bits)):
        b = CharLM(len(VOCAB), 5, "rnn", rng=2)
        n_updates = epochs * run.updates_per_epoch
        train_charlm(
            b, TRAIN, batch_size=4, seq_len=10, lr=1e-2, n_updates=n_updates, progress=False
        )
        score = bits_per_char(b, VALID, batch_size=64)
        assert score == pytest.approx(run.valid_bits[epochs - 1], rel=1e-12)
    b = CharLM(len(VOCAB), 5, "rnn", rng=2)
    n_updates = run.best_epoch * run.updates_per_epoch
    train_charlm(b, TRAIN, batch_size=4, seq_len=10, lr=1e-2, n_updates=n_updates, progress=False)
    for name, value in a.params.items():
        np.testing.assert_allclose(value, b.params[name], rtol=1e-12, atol=1e-12)


def test_early_stopping_stops_after_patience_epochs():
    # A huge learning rate makes the held-out score worse after the first epoch.
    model = CharLM(len(VOCAB), 8, "rnn", rng=0)
    run = train_with_early_stopping(
        model, TRAIN, VALID, max_epochs=50, patience=2, batch_size=4, seq_len=10, lr=3.0
    )
    assert len(run.valid_bits) == run.best_epoch + 2 < 50
    with pytest.raises(ValueError, match=r"max_epochs.*positive int.*\b0\b"):
        train_with_early_stopping(model, TRAIN, VALID, max_epochs=0)
