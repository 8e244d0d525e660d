"""Training a recurrent network on the adding problem, with or without gradient clipping.

The chapter "Vanishing and exploding gradients" runs two experiments on the
adding problem (:mod:`tutor.data.adding`), and the chapters on gated networks
repeat them with their own layers:

- An exploding gradient: a simple RNN whose transition matrix is large, trained
  with plain SGD, blows up without clipping and trains with it.
  :func:`train_adding` runs one such training, stops a run when its loss or its
  gradient is no longer a finite number, and records the gradient's norm and
  how much clipping turned its direction.
- A vanishing gradient: a small network learns the task for short sequences and
  stays at the baseline for long ones. :func:`length_sweep` trains one network
  per length and seed and returns their test errors.

The network is any recurrent layer with the interface of :class:`tutor.rnn.RNN`
(``forward`` and ``backward``, ``params`` and ``grads``), followed by a
:class:`tutor.feedforward.Dense` readout ``H -> 1`` applied to the hidden
state at the last step of each sequence, and optionally a sigmoid. The loss is
the mean squared error against the target ``0.5 + (X1 + X2) / 4``.

Shapes: L steps (the longest sequence in a batch), B sequences, H hidden units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from tutor._cells import RecurrentReadout
from tutor._checks import as_rng
from tutor.analysis import gradient_cosine, state_gradient_norms
from tutor.data.adding import (
    AddingTask,
    adding_problem,
    last_outputs,
    last_outputs_backward,
)
from tutor.feedforward import Dense
from tutor.functional import mse, sigmoid
from tutor.optim import Adam, clip_grad_norm, clip_grad_value, global_norm
from tutor.rnn import RNN

__all__ = [
    "OUTPUTS",
    "CLIPPING",
    "adding_network",
    "adding_predictions",
    "adding_loss_and_grads",
    "adding_state_gradient_norms",
    "adding_test_error",
    "AddingRun",
    "train_adding",
    "LengthSweep",
    "length_sweep",
]

#: The two kinds of readout output, ``"linear"`` (any number) and ``"sigmoid"`` (in (0, 1)).
OUTPUTS = ("linear", "sigmoid")

#: The ways in which :func:`train_adding` can clip, ``None``, ``"norm"`` and ``"value"``.
CLIPPING = (None, "norm", "value")


def adding_network(
    hidden_size: int,
    rng: int | np.random.Generator,
    init_scale: float | None = None,
) -> tuple[RNN, Dense]:
    """A simple RNN ``2 -> H`` (tanh) and a dense readout ``H -> 1`` for the adding problem.

    Args:
        hidden_size: H.
        rng: an ``int`` seed or a ``numpy.random.Generator``; the RNN's weights are
            drawn first, then the readout's.
        init_scale: if given, every weight and bias of both layers is drawn from
            ``U(-init_scale, init_scale)`` (Hochreiter and Schmidhuber use 0.1);
            ``None`` keeps PyTorch's initialisation.

    Returns:
        ``(layer, readout)``: a :class:`tutor.rnn.RNN` and a :class:`tutor.feedforward.Dense`.
    """
    rng = as_rng(rng)
    layer = RNN(2, hidden_size, rng=rng)
    readout = Dense(hidden_size, 1, rng=rng)
    if init_scale is not None:
        if not np.isfinite(init_scale) or init_scale <= 0:
            raise ValueError(
                f"init_scale must be a number > 0 or None; got {init_scale!r}."
            )
        for array in RecurrentReadout(layer, readout).params.values():
            array[...] = rng.uniform(-init_scale, init_scale, size=array.shape)
    return layer, readout


def adding_predictions(
    layer, readout: Dense, task: AddingTask, output: str = "linear"
):
    """The network's answer at the last step of every sequence.

    Args:
        layer: a recurrent layer with 2 inputs and H hidden units.
        readout: a :class:`tutor.feedforward.Dense` ``H -> 1``.
        task: a batch of the adding problem (:func:`tutor.data.adding.adding_problem`).
        output: ``"linear"`` or ``"sigmoid"``.

    Returns:
        The predictions, ``(B,)``.
    """
    _check_output(output)
    out, _ = layer.forward(task.inputs)
    z = readout.forward(last_outputs(out, task.lengths))[:, 0]
    return sigmoid(z) if output == "sigmoid" else z


def adding_loss_and_grads(
    layer, readout: Dense, task: AddingTask, output: str = "linear"
) -> tuple[float, dict[str, np.ndarray] | None]:
    """The mean squared error on one batch, and its gradient with respect to every weight.

    Forward: the layer reads the whole batch, the readout maps the hidden state
    at each sequence's last step to one number (squashed by a sigmoid when
    ``output`` is ``"sigmoid"``), and the loss is the mean of
    ``(prediction - target) ** 2``. Backward: the readout, then the layer, with
    the gradient put back at each sequence's last step.

    When the loss is not a finite number (a diverging run: the numbers grew past
    what a float can hold), there is no gradient to follow: the result is
    ``(loss, None)`` and nothing is backpropagated. Overflow on the way there is
    expected and not reported as a warning.

    Args:
        layer: a recurrent layer with 2 inputs and H hidden units.
        readout: a :class:`tutor.feedforward.Dense` ``H -> 1``.
        task: a batch of the adding problem.
        output: ``"linear"`` or ``"sigmoid"``.

    Returns:
        ``(loss, grads)``: a float, and ``{"rnn.weight_hh": ..., "readout.weight": ...}``,
        the arrays of ``RecurrentReadout(layer, readout).grads``
        (the layers' own arrays, overwritten by the next call), or ``None``.
    """
    loss, dout = _loss_and_dout(layer, readout, task, output)
    if dout is None:
        return loss, None
    layer.backward(dout)
    return loss, RecurrentReadout(layer, readout).grads


def adding_state_gradient_norms(
    layer, readout: Dense, task: AddingTask, output: str = "linear"
) -> np.ndarray:
    """How much of the loss's gradient reaches each step: ``norm(dL/dh_t)`` for t = 0..L.

    The loss is the mean squared error of :func:`adding_loss_and_grads` on
    ``task``; the norms come from :func:`tutor.analysis.state_gradient_norms`.
    With ``same_length=True`` batches every sequence ends at step L, so entry t
    is the gradient that has travelled ``L - t`` steps back from the output.

    Args:
        layer, readout, task, output: as for :func:`adding_loss_and_grads`.

    Returns:
        ``(L + 1,)``: entry t is the norm over the batch of ``dL/dh_t``
        (``h_0`` is the initial state).

    Raises:
        ValueError: the loss is not finite.
    """
    loss, dout = _loss_and_dout(layer, readout, task, output)
    if dout is None:
        raise ValueError(
            f"the loss is {loss}: there is no gradient to measure."
        )
    return state_gradient_norms(layer, task.inputs, dout)


def _loss_and_dout(
    layer, readout: Dense, task: AddingTask, output: str
) -> tuple[float, np.ndarray | None]:
    """The loss and its gradient with respect to the layer's output ``(L, B, H)``, or None."""
    _check_output(output)
    with np.errstate(over="ignore", invalid="ignore"):
        out, _ = layer.forward(task.inputs)
        last = last_outputs(out, task.lengths)  # (B, H)
        if not np.isfinite(last).all():
            return float("nan"), None
        z = readout.forward(last)  # (B, 1)
        prediction = sigmoid(z) if output == "sigmoid" else z
        loss, dprediction = mse(prediction, task.targets[:, None])
    if not np.isfinite(loss):
        return loss, None
    dz = (
        dprediction * prediction * (1 - prediction)
        if output == "sigmoid"
        else dprediction
    )
    dlast = readout.backward(dz)  # (B, H)
    return loss, last_outputs_backward(dlast, task.lengths, len(out))


def adding_test_error(
    layer, readout: Dense, task: AddingTask, output: str = "linear"
) -> float:
    """The mean absolute error ``mean(abs(prediction - target))`` on a batch.

    Always answering 0.5 scores :func:`tutor.data.adding.adding_baseline_error`
    (0.1625 for T >= 10) on average.

    Args:
        layer, readout, task, output: as for :func:`adding_predictions`.

    Returns:
        The error, a float (NaN when the network's output is not finite).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        prediction = adding_predictions(layer, readout, task, output)
        return float(np.mean(np.abs(prediction - task.targets)))


class AddingRun(NamedTuple):
    """The record of one :func:`train_adding` run.

    Attributes:
        losses: ``(n,)``, the training loss of each update taken (n = ``n_updates``,
            or fewer when the run diverged).
        grad_norms: ``(n,)``, the global norm of the gradient before clipping.
        cosines: ``(n,)``, for ``clip="value"``, the cosine between the gradient
            before and after clipping (1 when the clipping kept its direction);
            NaN for the other kinds of clipping (norm clipping keeps the direction
            by construction).
        diverged_at: the step at which the loss or the gradient stopped being a
            finite number, so that the run had to stop; ``None`` if it never did.
        test_error: the mean absolute error on fresh test sequences after
            training (:func:`adding_test_error`); NaN for a diverged run.
        layer: the trained recurrent layer.
        readout: the trained readout.
    """

    losses: np.ndarray
    grad_norms: np.ndarray
    cosines: np.ndarray
    diverged_at: int | None
    test_error: float
    layer: object
    readout: Dense


def train_adding(
    layer,
    readout: Dense,
    optimizer,
    T: int,
    n_updates: int,
    *,
    seed: int,
    batch_size: int = 32,
    output: str = "linear",
    clip: str | None = None,
    threshold: float = 1.0,
    test_size: int = 2560,
) -> AddingRun:
    """Train a network on the adding problem of minimal length T, then test it.

    Each step draws a fresh batch, computes the loss and the gradient
    (:func:`adding_loss_and_grads`), clips the gradient by its global norm
    (:func:`tutor.optim.clip_grad_norm`), by value
    (:func:`tutor.optim.clip_grad_value`) or not at all, and lets the optimiser
    step. A run whose loss or gradient is no longer finite stops there, and
    ``diverged_at`` says when. The test sequences come from their own seed, so
    runs with the same ``seed`` are tested on the same sequences.

    Args:
        layer: a recurrent layer with 2 inputs (changed in place by training).
        readout: a :class:`tutor.feedforward.Dense` ``H -> 1``.
        optimizer: built on
            ``RecurrentReadout(layer, readout).params``, e.g.
            :class:`tutor.optim.SGD`.
        T: the minimal sequence length of the task.
        n_updates: the number of updates.
        seed: seeds the training batches and, separately, the test sequences.
        batch_size: B.
        output: ``"linear"`` or ``"sigmoid"``.
        clip: ``None``, ``"norm"`` or ``"value"``.
        threshold: the clipping threshold: the largest global norm, or the
            largest absolute value of one entry.
        test_size: the number of test sequences.

    Returns:
        An :class:`AddingRun`.
    """
    _check_output(output)
    if clip not in CLIPPING:
        raise ValueError(f"clip must be None, 'norm' or 'value'; got {clip!r}.")
    rng = np.random.default_rng(seed)
    losses, grad_norms, cosines = [], [], []
    diverged_at = None
    for step in range(n_updates):
        task = adding_problem(batch_size, T, rng)
        loss, grads = adding_loss_and_grads(layer, readout, task, output)
        # a huge gradient's squared norm may overflow
        with np.errstate(over="ignore"):
            norm = global_norm(grads) if grads is not None else np.nan
        if not np.isfinite(norm):
            diverged_at = step  # no finite gradient to follow: the run is over
            break
        cosine = np.nan
        if clip == "norm":
            clip_grad_norm(grads, threshold)  # shorter, same direction
        elif clip == "value":
            raw = {name: g.copy() for name, g in grads.items()}
            # each entry cut to [-threshold, threshold]
            clip_grad_value(grads, threshold)
            cosine = gradient_cosine(raw, grads)  # 1 if the direction was kept
        optimizer.step(grads)
        losses.append(loss)
        grad_norms.append(norm)
        cosines.append(cosine)
    test_error = np.nan
    if diverged_at is None:
        test = adding_problem(test_size, T, np.random.default_rng([seed, 1]))
        test_error = adding_test_error(layer, readout, test, output)
    return AddingRun(
        np.array(losses),
        np.array(grad_norms),
        np.array(cosines),
        diverged_at,
        test_error,
        layer,
        readout,
    )


class LengthSweep(NamedTuple):
    """The result of :func:`length_sweep`.

    Attributes:
        lengths: ``(n_T,)`` int, the minimal lengths T tried.
        seeds: ``(n_seeds,)`` int, the seeds.
        errors: ``(n_seeds, n_T)``, the test mean absolute error of every run.
        runs: ``{(seed, T): AddingRun}``, every run, with its trained network.
    """

    lengths: np.ndarray
    seeds: np.ndarray
    errors: np.ndarray
    runs: dict[tuple[int, int], AddingRun]


def length_sweep(
    lengths: Sequence[int],
    seeds: Sequence[int],
    *,
    make_network: Callable[[int], tuple[object, Dense]] | None = None,
    lr: float = 0.01,
    n_updates: int = 3000,
    clip_norm: float | None = 1.0,
    output: str = "sigmoid",
    **kwargs,
) -> LengthSweep:
    """Train one network per length T and seed with Adam, and test each.

    Args:
        lengths: the minimal lengths T.
        seeds: one run per seed and T; the seed builds the network and draws the data.
        make_network: ``seed -> (layer, readout)``; ``None`` means a simple RNN with
            H = 8 and every weight drawn from ``U(-0.1, 0.1)``
            (``adding_network(8, seed, init_scale=0.1)``).
        lr: Adam's learning rate.
        n_updates: the number of updates of each run.
        clip_norm: the global-norm clipping threshold; ``None`` for no clipping.
        output: ``"linear"`` or ``"sigmoid"``.
        **kwargs: passed on to :func:`train_adding` (``batch_size``, ``test_size``).

    Returns:
        A :class:`LengthSweep`.
    """
    if make_network is None:

        def make_network(seed: int) -> tuple[RNN, Dense]:
            return adding_network(8, seed, init_scale=0.1)

    clip = None if clip_norm is None else "norm"
    threshold = 1.0 if clip_norm is None else clip_norm
    errors = np.zeros((len(seeds), len(lengths)))
    runs = {}
    for i, seed in enumerate(seeds):
        for j, T in enumerate(lengths):
            layer, readout = make_network(seed)
            optimizer = Adam(RecurrentReadout(layer, readout).params, lr=lr)
            run = train_adding(
                layer,
                readout,
                optimizer,
                T,
                n_updates,
                seed=seed,
                output=output,
                clip=clip,
                threshold=threshold,
                **kwargs,
            )
            errors[i, j] = run.test_error
            runs[int(seed), int(T)] = run
    return LengthSweep(np.asarray(lengths), np.asarray(seeds), errors, runs)


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise ValueError(
            f"output must be 'linear' or 'sigmoid'; got {output!r}."
        )
