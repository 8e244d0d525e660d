"""Tests of tutor.experiments.reber: LSTM versus simple RNN on the embedded Reber grammar."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.data import reber
from tutor.experiments.reber import (
    ReberRun,
    count_parameters,
    draw_strings,
    length_batches,
    reber_logits,
    reber_loss_and_grads,
    reber_network,
    score_strings,
    select,
    train_reber,
)
from tutor.feedforward import Dense, named_parameters
from tutor.functional import softmax_cross_entropy
from tutor.gradcheck import gradcheck
from tutor.lstm import LSTM
from tutor.rnn import RNN, rnn_step_forward

STRINGS = ["BTBTXSETE", "BPBPVVEPE", "BTBPTVPSETE", "BPBTSSXXTVVEPE"]


def test_reber_network_builds_the_layers_with_the_forget_bias():
    layer, readout = reber_network("lstm", 5, rng=0, forget_bias=3.0)
    assert isinstance(layer, LSTM) and isinstance(readout, Dense)
    assert layer.params["weight_ih"].shape == (20, 7) and readout.params["weight"].shape == (7, 5)
    plain, _ = reber_network("lstm", 5, rng=0, forget_bias=0.0)
    shift = layer.params["bias_ih"] - plain.params["bias_ih"]
    np.testing.assert_allclose(shift, np.r_[np.zeros(5), np.full(5, 3.0), np.zeros(10)])
    rnn, _ = reber_network("rnn", 4, rng=0)
    assert isinstance(rnn, RNN) and rnn.params["weight_hh"].shape == (4, 4)
    with pytest.raises(ValueError, match=r"\bcell\b.*'lstm'.*'rnn'.*'gru'"):
        reber_network("gru", 4, rng=0)


def test_count_parameters_counts_one_bias_per_unit():
    assert count_parameters(*reber_network("lstm", 12, rng=0)) == 4 * 12 * (7 + 12 + 1) + 7 * 13
    assert count_parameters(*reber_network("lstm", 12, rng=0)) == 1051
    assert count_parameters(*reber_network("rnn", 26, rng=0)) == 1073


def test_draw_strings_keeps_the_test_strings_out_of_the_training_set():
    train, test = draw_strings(64, 32, rng=1)
    assert len(train) == 64 and len(test) == 32
    assert not set(test) & set(train)
    assert all(reber.is_valid(s, embedded=True) for s in train + test)
    assert draw_strings(64, 32, rng=1) == (train, test)


def test_length_batches_partition_the_strings_into_groups_of_similar_length():
    rng = np.random.default_rng(0)
    lengths = rng.integers(9, 30, size=50)
    groups = length_batches(lengths, 8, rng=2)
    assert [len(g) for g in sorted(groups, key=len)] == [2] + [8] * 6
    np.testing.assert_array_equal(np.sort(np.concatenate(groups)), np.arange(50))
    # Sorted by length and cut in order: the groups' length ranges do not overlap.
    ranges = sorted((lengths[g].min(), lengths[g].max()) for g in groups)
    assert all(hi <= lo_next for (_, hi), (lo_next, _) in zip(ranges, ranges[1:]))
    assert [list(g) for g in groups] != [list(g) for g in length_batches(lengths, 8, rng=3)]
    with pytest.raises(ValueError, match=r"batch_size.*positive int.*\b0\b"):
        length_batches(lengths, 0, rng=0)
    with pytest.raises(ValueError, match=r"\blengths\b.*non-empty.*\(0,\)"):
        length_batches([], 4, rng=0)


def test_select_cuts_the_padding_the_selected_strings_do_not_need():
    data = reber.batch(STRINGS, embedded=True)
    part = select(data, np.array([2, 0]))
    expected = reber.batch([STRINGS[2], STRINGS[0]], embedded=True)
    for got, want in zip(part, expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_loss_and_full_gradient_agree_with_finite_differences(cell):
    layer, readout = reber_network(cell, 3, rng=4)
    data = reber.batch(STRINGS, embedded=True)
    loss, grads = reber_loss_and_grads(layer, readout, data)
    grads = {name: g.copy() for name, g in grads.items()}

    def loss_fn():
        logits = reber_logits(layer, readout, data)
        return softmax_cross_entropy(logits, data.next_index, mask=data.mask)[0]

    assert loss == pytest.approx(loss_fn())
    errors = gradcheck(loss_fn, named_parameters({"rnn": layer, "readout": readout}), grads)
    assert max(errors.values()) < 1e-6, errors


def test_one_step_gradient_treats_the_previous_state_as_a_fixed_input():
    layer, readout = reber_network("rnn", 3, rng=5)
    data = reber.batch(STRINGS, embedded=True)
    out, _ = layer.forward(data.x)
    frozen = np.concatenate([np.zeros((1, *out.shape[1:])), out[:-1]])  # h_{t-1}, held fixed
    _, grads = reber_loss_and_grads(layer, readout, data, gradient="one-step")
    grads = {name: g.copy() for name, g in grads.items()}
    p = layer.params

    def loss_fn():  # Elman's view: each step reads the previous state as a constant input
        hidden = np.stack(
            [
                rnn_step_forward(
                    x_t, h, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
                )[0]
                for x_t, h in zip(data.x, frozen)
            ]
        )
        logits = readout.forward(hidden)
        return softmax_cross_entropy(logits, data.next_index, mask=data.mask)[0]

    errors = gradcheck(loss_fn, named_parameters({"rnn": layer, "readout": readout}), grads)
    assert max(errors.values()) < 1e-6, errors
    full = reber_loss_and_grads(layer, readout, data)[1]["rnn.weight_hh"]
    assert not np.allclose(full, grads["rnn.weight_hh"])  # a different gradient from BPTT


def test_loss_and_grads_reject_a_bad_gradient_name_and_one_step_for_the_lstm():
    data = reber.batch(STRINGS, embedded=True)
    with pytest.raises(ValueError, match=r"\bgradient\b.*'full'.*'one-step'.*'two-step'"):
        reber_loss_and_grads(*reber_network("rnn", 3, rng=0), data, gradient="two-step")
    with pytest.raises(ValueError, match=r"gradient='one-step'.*simple RNN.*LSTM"):
        reber_loss_and_grads(*reber_network("lstm", 3, rng=0), data, gradient="one-step")


class _Oracle:
    """A stand-in layer whose output is a fixed array of logits (with an identity readout)."""

    def __init__(self, logits):
        self.logits = logits

    def forward(self, x):
        return self.logits, None


def test_score_strings_applies_the_strict_criterion_string_by_string():
    data = reber.batch(STRINGS, embedded=True)
    identity = Dense(7, 7, rng=0)
    identity.params["weight"][...] = np.eye(7)
    identity.params["bias"][...] = 0.0
    logits = data.legal.astype(float)  # every legal symbol 1, every illegal one 0
    perfect = score_strings(_Oracle(logits), identity, data)
    assert (perfect.strings, perfect.outer, perfect.other, perfect.other_steps) == (1, 1, 1, 1)

    wrong = logits.copy()
    t = reber.outer_target_step(STRINGS[1])
    wrong[t, 1] = 1.0 - wrong[t, 1]  # the outer symbol of string 1 wrong ...
    wrong[2, 3] = 0.0  # ... and one other step of string 3 (no symbol above the others)
    score = score_strings(_Oracle(wrong), identity, data)
    assert score.strings == 0.5 and score.outer == 0.75 and score.other == 0.75
    assert score.other_steps == pytest.approx(1 - 1 / (data.mask & ~data.outer).sum())
    assert not score.right[t, 1] and not score.right[2, 3] and score.right[~data.mask].all()


def test_train_reber_runs_a_short_experiment_and_is_reproducible():
    run = train_reber("lstm", 4, seed=0, n_train=32, n_test=16, max_epochs=2)
    assert isinstance(run, ReberRun)
    assert run.epochs == 2 and not run.solved and len(run.losses) == len(run.train_strings) == 2
    assert run.n_params == count_parameters(run.layer, run.readout)
    assert len(run.train_set) == 32 and len(run.test_set) == 16
    assert set(run.row()) == {
        "solved",
        "epochs",
        "train strings",
        "test strings",
        "test outer step",
        "test other steps",
    }
    again = train_reber("lstm", 4, seed=0, n_train=32, n_test=16, max_epochs=2)
    np.testing.assert_array_equal(run.losses, again.losses)
    one_step = train_reber("rnn", 4, seed=0, gradient="one-step", n_train=16, max_epochs=1)
    assert one_step.gradient == "one-step" and np.isfinite(one_step.losses).all()
    with pytest.raises(ValueError, match=r"max_epochs.*positive int.*\b0\b"):
        train_reber("lstm", 4, seed=0, max_epochs=0)
    with pytest.raises(ValueError, match=r"\bgradient\b.*'full'.*'one-step'.*'truncated'"):
        train_reber("lstm", 4, seed=0, gradient="truncated")
