"""Tests of tutor.experiments.lstm_memory: the adding problem at long lags, the continual stream."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from tutor.data.adding import adding_problem
from tutor.experiments import lstm_memory
from tutor.experiments.adding import adding_predictions
from tutor.experiments.lstm_memory import (
    adding_network,
    answer_input_gradients,
    checkpoint_steps,
    count_weights,
    evaluate_continual_reber,
    lstm_trace,
    train_adding_until_solved,
    train_continual_reber,
)
from tutor.feedforward import Dense
from tutor.lstm import LSTM
from tutor.rnn import RNN


def test_adding_network_builds_either_layer_with_a_one_output_readout():
    layer, readout = adding_network("lstm", 4, rng=0, forget_bias=3.0)
    assert isinstance(layer, LSTM) and layer.forget_bias == 3.0
    assert readout.params["weight"].shape == (1, 4)
    layer, readout = adding_network("rnn", 5, rng=0)
    assert isinstance(layer, RNN) and readout.params["weight"].shape == (1, 5)
    with pytest.raises(ValueError, match=r"\bcell\b.*'rnn'.*'lstm'.*'gru'"):
        adding_network("gru", 4, rng=0)
    with pytest.raises(ValueError, match=r"forget_bias=1\.0.*cell='lstm'"):
        adding_network("rnn", 4, rng=0, forget_bias=1.0)


def test_count_weights_counts_the_two_biases_once():
    lstm, readout = adding_network("lstm", 16, rng=0)
    assert count_weights(lstm, readout) == 4 * 16 * (2 + 16 + 1) + 16 + 1  # 1233
    rnn, readout = adding_network("rnn", 33, rng=0)
    assert count_weights(rnn, readout) == 33 * (2 + 33 + 1) + 33 + 1  # 1222


def test_train_adding_until_solved_runs_the_budget_and_counts_wrong_answers():
    layer, readout = adding_network("lstm", 3, rng=0, forget_bias=1.0)
    run = train_adding_until_solved(layer, readout, 6, seed=1, max_updates=7, test_size=50)
    assert run.losses.shape == (7,) and run.solved_at is None
    # The counts are those of the returned network on the test sequences of the seed.
    test = adding_problem(50, 6, np.random.default_rng([1, 1]))
    errors = np.abs(adding_predictions(run.layer, run.readout, test) - test.targets)
    assert run.test_wrong == int(np.sum(errors >= 0.04)) and run.test_size == 50
    assert run.test_error == pytest.approx(errors.mean())


def test_train_adding_until_solved_stops_when_the_window_loss_is_below_target():
    layer, readout = adding_network("rnn", 3, rng=0)
    run = train_adding_until_solved(
        layer, readout, 6, seed=1, max_updates=50, window=5, target_loss=10.0, test_size=10
    )
    assert run.solved_at == 5 and run.losses.shape == (5,)
    with pytest.raises(ValueError, match=r"\bwindow\b.*positive int.*\b0\b"):
        train_adding_until_solved(layer, readout, 6, seed=1, window=0)
    with pytest.raises(ValueError, match=r"target_loss.*> 0.*0\.0"):
        train_adding_until_solved(layer, readout, 6, seed=1, target_loss=0.0)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_answer_input_gradients_agree_with_finite_differences(cell):
    layer, readout = adding_network(cell, 3, rng=2, forget_bias=1.0 if cell == "lstm" else 0.0)
    x = adding_problem(4, 6, rng=3, same_length=True).inputs
    norms = answer_input_gradients(layer, readout, x)
    assert norms.shape == (len(x),)

    def answers(inputs):
        out, _ = layer.forward(inputs)
        return readout.forward(out[-1])[:, 0]  # (B,): one answer per sequence

    eps = 1e-6
    for t in (0, 3, len(x) - 1):
        grad = np.zeros(x.shape[1:])  # (B, D): dy_b/dx_{t,b}
        for d in range(x.shape[2]):
            step = np.zeros_like(x)
            step[t, :, d] = eps
            grad[:, d] = (answers(x + step) - answers(x - step)) / (2 * eps)
        assert norms[t] == pytest.approx(np.linalg.norm(grad, axis=1).mean(), rel=1e-6)


def test_answer_input_gradients_needs_a_single_output():
    layer = RNN(2, 3, rng=0)
    with pytest.raises(ValueError, match=r"readout.*one output.*\b2\b"):
        answer_input_gradients(layer, Dense(3, 2, rng=0), np.zeros((4, 1, 2)))


@pytest.mark.parametrize("forget_gate", [True, False])
def test_train_continual_reber_trains_the_cell_it_is_asked_for(forget_gate):
    run = train_continual_reber(
        forget_gate=forget_gate, seed=0, hidden_size=4, n_streams=3, chunk=10, n_updates=3
    )
    assert run.losses.shape == (3,) and np.all(np.isfinite(run.losses))
    assert run.layer.forget_gate is forget_gate
    assert run.readout.params["weight"].shape == (7, 4)
    forget_rows = run.layer.params["bias_ih"][4:8]
    if forget_gate:
        assert np.all(forget_rows > 0.4)  # forget bias 1 on top of U(-0.5, 0.5)
    else:
        assert np.all(forget_rows == 0.0)


def test_checkpoint_steps_are_log_spaced_from_one_to_the_end():
    assert checkpoint_steps(1000, 4).tolist() == [1, 10, 100, 1000]
    steps = checkpoint_steps(20_000)
    assert steps[0] == 1 and steps[-1] == 20_000 and np.all(np.diff(steps) > 0)
    with pytest.raises(ValueError, match=r"n_steps.*positive int.*\b0\b"):
        checkpoint_steps(0)


def test_evaluate_continual_reber_matches_one_unbroken_forward_pass():
    from tutor.data.reber import continual_stream

    layer, readout = LSTM(7, 5, rng=0), Dense(5, 7, rng=1)
    test = evaluate_continual_reber(layer, readout, seed=3, n_streams=2, n_steps=300)
    stream = continual_stream(300, np.random.default_rng(3), 2)
    out, (_, c) = layer.forward(stream.x)
    guesses = readout.forward(out).argmax(axis=-1)
    right = guesses == stream.next_index
    assert test.outer_accuracy == pytest.approx(right[stream.outer].mean())
    legal = np.take_along_axis(stream.legal, guesses[..., None], axis=-1)
    assert test.legal_accuracy == pytest.approx(legal.mean())
    assert test.steps[-1] == 300 and test.mean_abs_cell.shape == test.steps.shape
    assert test.mean_abs_cell[-1] == pytest.approx(np.abs(c).mean())


@pytest.mark.parametrize("forget_gate", [True, False])
def test_lstm_trace_agrees_with_the_layer(forget_gate):
    layer = LSTM(3, 4, rng=0, forget_gate=forget_gate)
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    state = (np.full((2, 4), 0.1), np.full((2, 4), -0.2))
    trace = lstm_trace(layer, x, state)
    out, (h, c) = layer.forward(x, state)
    np.testing.assert_allclose(trace["h"], out, atol=1e-12)
    np.testing.assert_allclose(trace["c"][-1], c, atol=1e-12)
    if not forget_gate:  # the cell of 1997 only adds: c_t = c_{t-1} + i_t * g_t
        assert np.all(trace["f"] == 1.0)
        previous = np.concatenate([state[1][None], trace["c"][:-1]])
        np.testing.assert_allclose(trace["c"] - previous, trace["i"] * trace["g"], atol=1e-12)


def test_the_examples_in_the_docstrings_run():
    failures, tried = doctest.testmod(lstm_memory, verbose=False)
    assert tried > 0 and failures == 0
