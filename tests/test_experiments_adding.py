"""Tests of tutor.experiments.adding: training on the adding problem, with and without clipping."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.analysis import random_recurrent_matrix
from tutor.data.adding import adding_problem
from tutor.experiments.adding import (
    adding_loss_and_grads,
    adding_network,
    adding_predictions,
    adding_state_gradient_norms,
    adding_test_error,
    length_sweep,
    train_adding,
)
from tutor.feedforward import named_parameters
from tutor.gradcheck import gradcheck
from tutor.optim import SGD, Adam


def test_adding_network_shapes_and_init_scale():
    layer, readout = adding_network(5, rng=0, init_scale=0.1)
    assert layer.params["weight_ih"].shape == (5, 2)
    assert readout.params["weight"].shape == (1, 5)
    for array in named_parameters({"rnn": layer, "readout": readout}).values():
        assert np.abs(array).max() <= 0.1
    with pytest.raises(ValueError, match=r"init_scale.*> 0.*-1\.0"):
        adding_network(5, rng=0, init_scale=-1.0)


@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_adding_loss_and_grads_agree_with_finite_differences(output):
    layer, readout = adding_network(3, rng=1)
    task = adding_problem(6, 10, rng=2)  # lengths differ: the output is read at each end
    assert len(set(task.lengths.tolist())) > 1
    loss, grads = adding_loss_and_grads(layer, readout, task, output)
    grads = {name: g.copy() for name, g in grads.items()}
    params = named_parameters({"rnn": layer, "readout": readout})

    def loss_fn():
        prediction = adding_predictions(layer, readout, task, output)
        return float(np.mean((prediction - task.targets) ** 2))

    assert loss == pytest.approx(loss_fn())
    errors = gradcheck(loss_fn, params, grads)
    assert max(errors.values()) < 1e-6, errors


def test_adding_loss_and_grads_gives_no_gradient_for_an_infinite_loss():
    layer, readout = adding_network(3, rng=1)
    readout.params["weight"][...] = 1e300
    loss, grads = adding_loss_and_grads(layer, readout, adding_problem(4, 6, rng=2))
    assert not np.isfinite(loss) and grads is None


def test_adding_test_error_of_always_one_half_is_the_mean_absolute_deviation():
    layer, readout = adding_network(3, rng=1)
    readout.params["weight"][...] = 0.0
    readout.params["bias"][...] = 0.0  # sigmoid(0) = 0.5 for every sequence
    task = adding_problem(50, 10, rng=3)
    error = adding_test_error(layer, readout, task, "sigmoid")
    assert error == pytest.approx(np.mean(np.abs(task.targets - 0.5)))


def test_state_gradient_norms_end_with_the_readout_gradient_and_start_with_dh0():
    layer, readout = adding_network(4, rng=0)
    task = adding_problem(5, 8, rng=1, same_length=True)
    norms = adding_state_gradient_norms(layer, readout, task, "sigmoid")
    assert norms.shape == (len(task.inputs) + 1,)
    # Entry 0 is the gradient that reaches h_0: the dstate0 of the layer's own backward,
    # seeded by hand with the sigmoid readout's gradient at the last step.
    out, _ = layer.forward(task.inputs)
    p = 1 / (1 + np.exp(-(out[-1] @ readout.params["weight"].T + readout.params["bias"])))
    dz = 2 * (p - task.targets[:, None]) / len(p) * p * (1 - p)  # (B, 1)
    dout = np.zeros_like(out)
    dout[-1] = dz @ readout.params["weight"]
    _, dh0 = layer.backward(dout)
    assert norms[0] == pytest.approx(np.linalg.norm(dh0))
    assert norms[-1] == pytest.approx(np.linalg.norm(dout[-1]))


def test_train_adding_records_every_step_and_is_reproducible():
    def run(clip):
        layer, readout = adding_network(4, rng=0)
        optimizer = Adam(named_parameters({"rnn": layer, "readout": readout}), lr=0.01)
        return train_adding(
            layer, readout, optimizer, 5, 30, seed=1, clip=clip, threshold=0.01, test_size=64
        )

    first, second = run("value"), run("value")
    assert first.diverged_at is None and np.isfinite(first.test_error)
    assert first.losses.shape == first.grad_norms.shape == first.cosines.shape == (30,)
    np.testing.assert_array_equal(first.losses, second.losses)
    assert first.test_error == second.test_error
    # Value clipping at 0.01 cuts entries, so it turns the gradient; the cosine measures it.
    assert np.all(first.cosines <= 1 + 1e-12) and first.cosines.min() < 0.999
    assert np.isnan(run("norm").cosines).all()


def test_train_adding_stops_a_diverging_run():
    layer, readout = adding_network(16, rng=0)
    layer.params["weight_hh"][...] = random_recurrent_matrix(16, 3.0, rng=0)
    optimizer = SGD(named_parameters({"rnn": layer, "readout": readout}), lr=2.0)
    run = train_adding(layer, readout, optimizer, 10, 2000, seed=0)
    assert run.diverged_at is not None and run.diverged_at < 2000
    assert len(run.losses) == run.diverged_at and np.isnan(run.test_error)


def test_train_adding_rejects_an_unknown_clip_or_output():
    layer, readout = adding_network(3, rng=0)
    optimizer = SGD(named_parameters({"rnn": layer, "readout": readout}), lr=0.1)
    with pytest.raises(ValueError, match=r"\bclip\b.*'norm'.*'value'.*'entries'"):
        train_adding(layer, readout, optimizer, 5, 1, seed=0, clip="entries")
    with pytest.raises(ValueError, match=r"\boutput\b.*'linear'.*'sigmoid'.*'tanh'"):
        train_adding(layer, readout, optimizer, 5, 1, seed=0, output="tanh")


def test_length_sweep_shapes():
    sweep = length_sweep([5, 6], [0, 1], n_updates=5, test_size=32)
    assert sweep.errors.shape == (2, 2) and np.isfinite(sweep.errors).all()
    assert set(sweep.runs) == {(0, 5), (0, 6), (1, 5), (1, 6)}
