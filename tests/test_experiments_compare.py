"""Tests of tutor.experiments.compare: simple RNN, LSTM and GRU at equal parameter count."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.experiments import compare
from tutor.experiments.reber import train_reber
from tutor.feedforward import Dense
from tutor.gru import GRU
from tutor.lstm import LSTM
from tutor.rnn import RNN


@pytest.mark.parametrize("cell", compare.CELLS)
@pytest.mark.parametrize(("D", "H", "n_out"), [(2, 8, 1), (7, 12, 7), (4, 1, 4)])
def test_count_parameters_counts_the_arrays_with_one_bias_per_summed_pair(cell, D, H, n_out):
    layer = compare.make_layer(cell, D, H, rng=0)
    readout = Dense(H, n_out, rng=0)
    stored = sum(a.size for a in layer.params.values()) + sum(
        a.size for a in readout.params.values()
    )
    # bias_hh duplicates bias_ih wherever only the sum matters: everywhere but the GRU's n block.
    duplicated = layer.params["bias_hh"].size - (H if cell == "gru" else 0)
    assert compare.count_parameters(cell, D, H, n_out) == stored - duplicated


def test_count_parameters_gives_the_sizes_of_the_chapter():
    assert compare.count_parameters("lstm", 2, 8, 1) == 361
    assert compare.count_parameters("gru", 2, 9, 1) == 343
    assert compare.count_parameters("rnn", 2, 17, 1) == 358
    assert compare.count_parameters("lstm", 7, 12, 7) == 1051
    assert compare.count_parameters("gru", 7, 14, 7) == 1043
    assert compare.count_parameters("rnn", 7, 26, 7) == 1073


def test_matched_sizes_of_the_tasks():
    assert compare.matched_sizes("adding") == {"rnn": 17, "lstm": 8, "gru": 9}
    assert compare.matched_sizes("reber") == {"rnn": 26, "lstm": 12, "gru": 14}
    assert compare.matched_sizes("recall") == {"rnn": 17, "lstm": 8, "gru": 9}
    assert compare.matched_sizes("reber", lstm_size=16, cells=("lstm",)) == {"lstm": 16}


@pytest.mark.parametrize("cell", compare.CELLS)
@pytest.mark.parametrize("budget", [30, 361, 1051, 5000])
def test_matched_hidden_size_is_the_closest(cell, budget):
    H = compare.matched_hidden_size(cell, budget, 3, 2)
    gap = abs(compare.count_parameters(cell, 3, H, 2) - budget)
    for other in range(1, H + 20):
        assert gap <= abs(compare.count_parameters(cell, 3, other, 2) - budget)


def test_make_layer_builds_each_cell_with_its_remember_bias():
    assert isinstance(compare.make_layer("rnn", 3, 4, rng=0), RNN)
    lstm = compare.make_layer("lstm", 3, 4, rng=0, gate_bias=2.0)
    gru = compare.make_layer("gru", 3, 4, rng=0, gate_bias=2.0)
    assert isinstance(lstm, LSTM) and lstm.forget_bias == 2.0
    assert isinstance(gru, GRU) and gru.update_bias == 2.0
    with pytest.raises(ValueError, match=r"\bcell\b.*'rnn'.*'lstm'.*'gru'.*'lstmm'"):
        compare.make_layer("lstmm", 3, 4, rng=0)
    with pytest.raises(ValueError, match=r"\btask\b.*'adding'.*'reber'.*'recall'.*'copy'"):
        compare.task_shape("copy")


def test_train_until_success_stops_at_the_first_good_score():
    scores = iter([0.1, 0.5, 0.9, 1.0])
    calls = []
    progress = compare.train_until_success(
        lambda: calls.append(1), lambda: next(scores), max_rounds=100, target=0.9, eval_every=10
    )
    assert progress.success and progress.updates == 30 and len(calls) == 30
    np.testing.assert_array_equal(progress.curve, [[10, 0.1], [20, 0.5], [30, 0.9]])
    assert progress.seconds >= 0


def test_train_until_success_counts_updates_per_round_and_scores_the_last_round():
    progress = compare.train_until_success(
        lambda: 16, lambda: 0.5, max_rounds=7, target=1.0, eval_every=3
    )
    assert not progress.success and progress.updates == 7 * 16
    np.testing.assert_array_equal(progress.curve[:, 0], [48, 96, 112])
    with pytest.raises(ValueError, match=r"max_rounds.*positive int.*\b0\b"):
        compare.train_until_success(lambda: None, lambda: 0.0, max_rounds=0, target=1.0)


@pytest.mark.parametrize("task", compare.TASKS)
def test_runs_are_reproducible_and_record_what_they_did(task):
    small = {
        "adding": {"T": 10, "max_updates": 20, "eval_every": 10, "n_eval": 64},
        "reber": {"n_train": 32, "n_test": 16, "max_epochs": 2},
        "recall": {"max_updates": 20, "eval_every": 10, "n_eval": 64},
    }[task]
    run = compare.run_one(task, "gru", 5, seed=3, **small)
    again = compare.run_one(task, "gru", 5, seed=3, **small)
    assert run.task == task and run.cell == "gru" and run.hidden_size == 5 and run.seed == 3
    D, n_out = compare.task_shape(task)
    assert run.n_params == compare.count_parameters("gru", D, 5, n_out)
    assert run.steps == run.curve[-1, 0] and run.score == run.curve[-1, 1]
    assert 0 <= run.score <= 1 and run.seconds_per_step > 0
    np.testing.assert_array_equal(run.curve, again.curve)


def test_run_reber_trains_the_lstm_exactly_as_train_reber():
    # Long enough that the curve leaves zero, so that equal curves mean equal training.
    run = compare.run_reber("lstm", 12, seed=1, n_train=64, n_test=16, max_epochs=20)
    reference = train_reber("lstm", 12, seed=1, n_train=64, n_test=16, max_epochs=20)
    assert run.steps == 20 * 4  # 64 strings in batches of 16, twenty epochs
    assert reference.train_strings.max() > 0.2
    assert run.curve[:, 1].tolist() == reference.train_strings.tolist()


def test_a_simple_rnn_learns_short_delayed_recall_quickly():
    run = compare.run_recall("rnn", 17, seed=0)
    assert run.success and run.steps <= 400 and run.score >= 0.99


def test_settings_are_checked():
    with pytest.raises(ValueError, match=r"settings.*\['max_epochs'\].*'adding'.*'lr'"):
        compare.run_adding("rnn", 4, seed=0, max_epochs=3)
    with pytest.raises(ValueError, match=r"\blr\b.*> 0.*-1\.0"):
        compare.run_recall("rnn", 4, seed=0, lr=-1.0)
    with pytest.raises(ValueError, match=r"max_updates.*positive int.*\b0\b"):
        compare.run_recall("rnn", 4, seed=0, max_updates=0)
    with pytest.raises(ValueError, match=r"\btask\b.*'adding'.*'recall'.*'copying'"):
        compare.run_sweep(tasks=("adding",), settings={"copying": {}})


def test_run_sweep_summarize_and_format_table():
    settings = {"recall": {"max_updates": 10, "eval_every": 5, "n_eval": 32}}
    runs = compare.run_sweep(("recall",), ("rnn", "gru"), seeds=(0, 1), settings=settings)
    assert [(run.cell, run.seed) for run in runs] == [
        ("rnn", 0),
        ("rnn", 1),
        ("gru", 0),
        ("gru", 1),
    ]
    assert [run.hidden_size for run in runs] == [17, 17, 9, 9]
    rows = compare.summarize(runs)
    assert [(row["task"], row["cell"]) for row in rows] == [("recall", "rnn"), ("recall", "gru")]
    assert all(row["runs"] == 2 and 0 <= row["success rate"] <= 1 for row in rows)
    text = compare.format_table(rows)
    assert "recall" in text and "gru" in text and len(text.splitlines()) == 4


def test_summarize_reports_steps_of_successful_runs_only():
    def run(seed, success, steps):
        return compare.Run(
            "adding", "gru", 9, 343, seed, success, steps, 0.001, 0.5, np.zeros((1, 2))
        )

    (row,) = compare.summarize([run(0, True, 300), run(1, False, 1200), run(2, True, 500)])
    assert row["successes"] == 2 and row["median steps"] == 400 and row["max steps"] == 500
    assert row["median updates"] == 500  # of 300, 500 and the failed run's 1200
    (row,) = compare.summarize([run(0, False, 1200)])
    assert np.isnan(row["median steps"]) and row["success rate"] == 0.0
    assert row["median updates"] == 1200  # a failed run counts its whole budget


def test_the_sweep_has_no_command_line_of_its_own():
    # From a shell the sweep runs as ``tutor reproduce compare`` (tests/test_cli.py).
    assert not hasattr(compare, "main")
    runs = compare.run_sweep(("recall",), ("rnn",), seeds=(0,))
    out = compare.format_table(compare.summarize(runs))
    assert "recall" in out and "1/1" in out
