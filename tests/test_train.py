"""Tests of tutor.train: the training loop, minibatches and the progress-bar switch."""

import io
import itertools
import sys

import numpy as np
import pytest

from tutor.feedforward import MLP
from tutor.functional import mse, softmax_cross_entropy
from tutor.optim import SGD, Adam
from tutor.train import History, minibatches, progress_bar, progress_enabled, train

pytestmark = pytest.mark.filterwarnings("error")


def xor_data(rng, n_per_corner=25):
    """Four noisy clusters at the corners of a square; class 1 where x0 * x1 > 0."""
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    x = corners.repeat(n_per_corner, axis=0) + rng.normal(0, 0.2, (4 * n_per_corner, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def fit_xor(seed, n_updates=100, **kwargs):
    """Train an MLP on XOR-like data with minibatches; everything random comes from ``seed``."""
    rng = np.random.default_rng(seed)
    x, y = xor_data(rng)
    model = MLP([2, 16, 2], "tanh", rng=rng)

    def loss_and_grads(batch):
        xb, yb = batch
        loss, dlogits = softmax_cross_entropy(model.forward(xb), yb)
        model.backward(dlogits)
        return loss, model.grads

    def accuracy():
        return float(np.mean(model.forward(x).argmax(axis=1) == y))

    optimizer = Adam(model.params, lr=0.05)
    batches = minibatches((x, y), batch_size=20, rng=rng)
    return train(loss_and_grads, optimizer, batches, n_updates, evaluate=accuracy, **kwargs)


def linear_regression(lr=0.1):
    """A one-parameter regression y = 3 x, as (loss_and_grads, optimizer, params)."""
    x = np.linspace(-1, 1, 20)[:, None]
    params = {"w": np.zeros(1)}

    def loss_and_grads(batch):
        loss, dpred = mse(x * params["w"], 3 * x)
        return loss, {"w": np.array([np.sum(dpred * x)])}

    return loss_and_grads, SGD(params, lr=lr), params


def test_an_mlp_learns_xor_with_train_and_minibatches():
    history = fit_xor(seed=0, n_updates=150)
    assert len(history.losses) == 150
    assert np.mean(history.losses[:5]) > 0.5
    assert np.mean(history.losses[-10:]) < 0.05
    assert history.evals[-1] == (150, 1.0)


def test_same_seed_gives_the_same_loss_history():
    first, second, other = (
        fit_xor(seed=3, n_updates=30),
        fit_xor(seed=3, n_updates=30),
        fit_xor(seed=4, n_updates=30),
    )
    assert first.losses == second.losses
    assert first.evals == second.evals
    assert first.losses != other.losses


def test_evaluate_runs_every_eval_every_steps_and_after_the_last():
    calls = itertools.count()
    loss_and_grads, optimizer, _ = linear_regression()
    history = train(
        loss_and_grads,
        optimizer,
        lambda step: None,
        25,
        evaluate=lambda: next(calls),
        eval_every=10,
    )
    assert history.evals == [(10, 0), (20, 1), (25, 2)]
    assert history.grad_norms == []


def test_batches_may_be_a_function_of_the_step():
    seen = []

    def loss_and_grads(batch):
        seen.append(batch)
        return 0.0, {"w": np.zeros(1)}

    train(loss_and_grads, SGD({"w": np.zeros(1)}, lr=0.1), lambda step: step * 10, 4)
    assert seen == [0, 10, 20, 30]


def test_train_with_clipping_records_the_norms_before_clipping():
    loss_and_grads, optimizer, params = linear_regression(lr=0.5)
    history = train(loss_and_grads, optimizer, itertools.repeat(None), 3, clip_norm=0.1)
    # The first gradient is d/dw mean((w x - 3 x)^2) at w = 0: -6 mean(x^2).
    x = np.linspace(-1, 1, 20)
    assert history.grad_norms[0] == pytest.approx(6 * np.mean(x**2))
    assert len(history.grad_norms) == 3
    assert params["w"][0] == pytest.approx(3 * 0.5 * 0.1)  # three clipped steps of lr * 0.1


def test_training_that_diverges_says_to_lower_the_learning_rate():
    loss_and_grads, optimizer, _ = linear_regression(lr=100.0)
    with pytest.raises(ValueError, match=r"(loss is (inf|nan)|holds NaN).*diverged.*learning rate"):
        with np.errstate(over="ignore", invalid="ignore"):
            train(loss_and_grads, optimizer, itertools.repeat(None), 500)


def test_batches_that_run_out_are_reported():
    loss_and_grads, optimizer, _ = linear_regression()
    with pytest.raises(
        ValueError, match=r"batches.*n_updates = 5.*after 3 batches.*endless iterator"
    ):
        train(loss_and_grads, optimizer, [None] * 3, 5)


def test_bad_step_counts():
    loss_and_grads, optimizer, _ = linear_regression()
    with pytest.raises(ValueError, match=r"n_updates.*>= 0.*-1"):
        train(loss_and_grads, optimizer, itertools.repeat(None), -1)
    with pytest.raises(ValueError, match=r"n_updates.*\bint\b.*float 2\.0"):
        train(loss_and_grads, optimizer, itertools.repeat(None), 2.0)
    with pytest.raises(ValueError, match=r"eval_every.*positive int.*\b0\b"):
        train(loss_and_grads, optimizer, itertools.repeat(None), 5, eval_every=0)


def test_history_starts_empty():
    assert History() == History(losses=[], grad_norms=[], evals=[])


# --- minibatches -------------------------------------------------------------------------


def test_minibatches_cover_every_example_once_per_epoch():
    x, y = np.arange(12.0)[:, None], np.arange(12)
    batches = minibatches((x, y), batch_size=4, rng=0)
    for _ in range(3):  # three epochs
        epoch = [next(batches) for _ in range(3)]
        assert all(xb.shape == (4, 1) and yb.shape == (4,) for xb, yb in epoch)
        assert all(np.array_equal(xb[:, 0], yb) for xb, yb in epoch)  # rows stay paired
        assert sorted(np.concatenate([yb for _, yb in epoch])) == list(range(12))


def test_minibatches_shuffle_differently_each_epoch_and_reproducibly():
    first = [next(b) for b in [minibatches(np.arange(10), 10, rng=1)] * 2]
    again = [next(b) for b in [minibatches(np.arange(10), 10, rng=1)] * 2]
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_array_equal(first, again)


def test_minibatches_drop_the_remainder_of_each_epoch():
    batches = minibatches(np.arange(10), 4, rng=0)
    epoch = [next(batches) for _ in range(2)]
    assert len(set(np.concatenate(epoch))) == 8
    assert all(b.shape == (4,) for b in epoch)


def test_minibatches_along_the_batch_axis_of_time_major_sequences():
    x = np.random.default_rng(0).normal(size=(7, 6, 3))  # (T, B, D)
    y = np.random.default_rng(1).integers(0, 5, (7, 6))  # (T, B)
    xb, yb = next(minibatches((x, y), 2, rng=0, axis=1))
    assert xb.shape == (7, 2, 3) and yb.shape == (7, 2)
    columns = [np.flatnonzero((x[0] == xb[0, j]).all(axis=1))[0] for j in range(2)]
    np.testing.assert_array_equal(yb, y[:, columns])


def test_minibatches_errors():
    with pytest.raises(ValueError, match=r"arrays.*same size along axis 0.*\(5, 2\), \(4,\)"):
        next(minibatches((np.zeros((5, 2)), np.zeros(4)), 2, rng=0))
    with pytest.raises(ValueError, match=r"batch_size.*between 1 and.*examples, 5.*\b6\b"):
        next(minibatches(np.zeros(5), 6, rng=0))
    with pytest.raises(ValueError, match=r"batch_size.*positive.*float 2\.0"):
        next(minibatches(np.zeros(5), 2.0, rng=0))
    with pytest.raises(ValueError, match=r"\brng\b.*int seed.*Generator.*NoneType"):
        next(minibatches(np.zeros(5), 2, rng=None))


# --- progress bar ------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def interactive(monkeypatch):
    """Look like a terminal session: stderr a terminal, no TUTOR_PROGRESS.

    pytest sets sys.stderr again after fixtures run, so each test calls the
    returned function first thing.
    """

    def enter():
        monkeypatch.setattr(sys, "stderr", FakeTerminal())
        monkeypatch.delenv("TUTOR_PROGRESS", raising=False)
        return monkeypatch

    return enter


def test_progress_is_on_in_a_terminal(interactive):
    interactive()
    assert progress_enabled() is True


def test_progress_is_off_when_stderr_is_no_terminal(interactive):
    interactive().setattr(sys, "stderr", io.StringIO())
    assert progress_enabled() is False


def test_progress_is_on_where_tqdm_auto_draws_notebook_widgets(interactive):
    import tqdm.autonotebook
    import tqdm.notebook

    monkeypatch = interactive()
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a kernel's stderr is no terminal
    monkeypatch.setattr(tqdm.autonotebook, "tqdm", tqdm.notebook.tqdm)
    assert progress_enabled() is True
    monkeypatch.setenv("TUTOR_PROGRESS", "0")
    assert progress_enabled() is False


@pytest.mark.parametrize("value, expected", [("0", False), ("1", True)])
def test_progress_follows_tutor_progress(interactive, value, expected):
    monkeypatch = interactive()
    monkeypatch.setenv("TUTOR_PROGRESS", value)
    assert progress_enabled() is expected
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled() is expected


def test_progress_argument_overrides_everything(interactive):
    interactive().setenv("TUTOR_PROGRESS", "0")
    assert progress_enabled(True) is True
    assert progress_enabled(False) is False


def test_a_bar_that_is_not_shown_draws_nothing(capsys):
    bar = progress_bar(range(3), False, desc="quiet")
    assert list(bar) == [0, 1, 2] and bar.disable
    assert capsys.readouterr().err == ""


def test_train_draws_a_progress_bar_when_asked(capsys):
    loss_and_grads, optimizer, _ = linear_regression()
    train(loss_and_grads, optimizer, itertools.repeat(None), 20, eval_every=5, progress=True)
    drawn = capsys.readouterr().err
    assert "/20 [" in drawn and "loss=" in drawn
    train(loss_and_grads, optimizer, itertools.repeat(None), 20, progress=None)
    assert capsys.readouterr().err == ""
