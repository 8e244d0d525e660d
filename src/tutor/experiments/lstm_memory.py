"""The experiments of the chapter "LSTM in action: long delays and learning to forget".

Two reproductions, each a few functions that the chapter calls and shows:

- **Long delays: the adding problem** (Hochreiter and Schmidhuber 1997, Experiment 4;
  :mod:`tutor.data.adding`). :func:`adding_network` builds a simple RNN or an LSTM with a
  dense readout; :func:`train_adding_until_solved` trains it with Adam and norm clipping
  until the training loss says the task is solved (or a budget runs out), then counts the
  wrong answers on fresh test sequences. :func:`answer_input_gradients` measures how
  strongly the answer depends on the input of each earlier step, which is what the forget
  gate's starting bias changes.
- **Learning to forget: a continual stream** (Gers, Schmidhuber and Cummins 2000).
  Embedded Reber strings follow each other with no reset of the state
  (:func:`tutor.data.reber.continual_stream`). :func:`train_continual_reber` trains an
  LSTM with or without a forget gate by truncated BPTT on such streams;
  :func:`evaluate_continual_reber` runs it over a long fresh stream, scores the hard
  predictions and records how large the cell state grows; :func:`lstm_trace` runs the
  step function of the chapter "Long short-term memory" and keeps every gate's value.

Shapes: T time steps, B sequences (or streams), D input features, H hidden units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._cells import (
    RecurrentReadout,
    check_cell,
    count_network_parameters,
    make_layer,
)
from tutor._checks import as_rng, check_int, check_ndim
from tutor.bptt import truncated_bptt
from tutor.data.adding import TOLERANCE, adding_problem
from tutor.data.reber import ALPHABET, continual_stream
from tutor.experiments.adding import adding_loss_and_grads, adding_predictions
from tutor.feedforward import Dense
from tutor.functional import softmax_cross_entropy
from tutor.lstm import LSTM, lstm_step_forward
from tutor.optim import Adam, clip_grad_norm
from tutor.rnn import RNN

__all__ = [
    "CELLS",
    "adding_network",
    "count_weights",
    "AddingTraining",
    "train_adding_until_solved",
    "answer_input_gradients",
    "ContinualTraining",
    "train_continual_reber",
    "ContinualTest",
    "evaluate_continual_reber",
    "checkpoint_steps",
    "lstm_trace",
]

#: The recurrent layers :func:`adding_network` can build.
CELLS = ("rnn", "lstm")


# ------------------------------------------------------------------- the adding problem


def adding_network(
    cell: str,
    hidden_size: int,
    rng: int | np.random.Generator,
    forget_bias: float = 0.0,
    dtype: type | np.dtype = np.float64,
) -> tuple[RNN | LSTM, Dense]:
    """A recurrent layer ``2 -> H`` and a dense readout ``H -> 1`` for the adding problem.

    Both layers keep PyTorch's initialisation. The layer's weights are drawn first,
    then the readout's, from the same generator.

    Args:
        cell: ``"rnn"`` (a tanh :class:`tutor.rnn.RNN`) or ``"lstm"``
            (a :class:`tutor.lstm.LSTM`).
        hidden_size: H.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        forget_bias: for the LSTM, added to the forget gate's bias (see
            :class:`tutor.lstm.LSTM`); must be 0 for the RNN, which has no forget gate.
        dtype: ``np.float64`` or ``np.float32`` (faster), for both layers.

    Returns:
        ``(layer, readout)``.
    """
    check_cell(cell, CELLS)
    if cell == "rnn" and forget_bias != 0:
        raise ValueError(
            f"forget_bias={forget_bias!r} needs cell='lstm': a simple RNN has no forget gate."
        )
    rng = as_rng(rng)
    layer = make_layer(
        cell,
        2,
        hidden_size,
        rng=rng,
        gate_bias=forget_bias if cell == "lstm" else None,
        dtype=dtype,
    )
    return layer, Dense(hidden_size, 1, rng=rng, dtype=dtype)


def count_weights(*layers) -> int:
    """The number of numbers that training adjusts, counting each pair of biases once.

    The recurrent layers keep two biases, ``bias_ih`` and ``bias_hh``, as PyTorch
    does, but only their sum enters the computation; counted once, the total is the
    number of free parameters of the network (PyTorch's count is larger by the
    length of ``bias_hh``).

    Args:
        *layers: layers with a ``params`` dict (recurrent layers,
            :class:`tutor.feedforward.Dense`).

    Returns:
        The count, an ``int``.
    """
    return count_network_parameters(*layers)


class AddingTraining(NamedTuple):
    """The record of one :func:`train_adding_until_solved` run.

    Attributes:
        losses: ``(n,)``, the training loss (mean squared error) of every update taken.
        solved_at: the number of updates after which the stopping rule held, or ``None``
            when the budget ran out first (then ``n`` is the budget).
        test_error: the mean absolute error on the test sequences.
        test_wrong: how many test sequences were answered wrong, that is with an absolute
            error of at least 0.04 (:data:`tutor.data.adding.TOLERANCE`).
        test_size: the number of test sequences.
        layer: the trained recurrent layer.
        readout: the trained readout.
    """

    losses: np.ndarray
    solved_at: int | None
    test_error: float
    test_wrong: int
    test_size: int
    layer: object
    readout: Dense


def train_adding_until_solved(
    layer,
    readout: Dense,
    T: int,
    *,
    seed: int,
    max_updates: int = 4000,
    lr: float = 0.01,
    batch_size: int = 32,
    clip_norm: float = 1.0,
    target_loss: float = 1e-4,
    window: int = 100,
    output: str = "linear",
    test_size: int = 2560,
) -> AddingTraining:
    """Train on the adding problem until the recent loss is small, then test.

    Every update draws a fresh batch of sequences with minimal length T,
    computes the mean squared error and its gradient
    (:func:`tutor.experiments.adding.adding_loss_and_grads`), clips the
    gradient's global norm and lets Adam step. After every ``window`` updates
    the run stops if the mean training loss over those updates is below
    ``target_loss``: the default, 1e-4, is a typical error of 0.01, four times
    smaller than the 0.04 that counts as wrong. Training batches come from
    ``numpy.random.default_rng(seed)`` and the test sequences from
    ``default_rng([seed, 1])``, as in
    :func:`tutor.experiments.adding.train_adding`; both are drawn in the
    readout's dtype.

    Args:
        layer: a recurrent layer with 2 inputs (changed in place).
        readout: a :class:`tutor.feedforward.Dense` ``H -> 1`` (changed in
            place).
        T: the minimal sequence length.
        seed: seeds the training batches and, separately, the test sequences.
        max_updates: the budget: the largest number of updates.
        lr: Adam's learning rate.
        batch_size: B, sequences per update.
        clip_norm: the largest global norm of the gradient.
        target_loss: the stopping rule's threshold on the mean training loss.
        window: the number of updates between checks, and averaged by each
            check.
        output: ``"linear"`` or ``"sigmoid"`` readout.
        test_size: the number of test sequences.

    Returns:
        An :class:`AddingTraining`.
    """
    check_int("max_updates", max_updates)
    check_int("window", window)
    if not np.isfinite(target_loss) or target_loss <= 0:
        raise ValueError(
            f"target_loss must be a number > 0; got {target_loss!r}."
        )
    rng = np.random.default_rng(seed)
    optimizer = Adam(RecurrentReadout(layer, readout).params, lr=lr)
    losses = []
    solved_at = None
    for update in range(1, max_updates + 1):
        task = adding_problem(batch_size, T, rng, dtype=readout.dtype)
        loss, grads = adding_loss_and_grads(layer, readout, task, output)
        if grads is None:
            raise ValueError(
                f"the loss is {loss} after {update - 1} updates: "
                "training diverged."
            )
        clip_grad_norm(grads, clip_norm)
        optimizer.step(grads)
        losses.append(loss)
        if update % window == 0 and np.mean(losses[-window:]) < target_loss:
            solved_at = update
            break
    test = adding_problem(
        test_size, T, np.random.default_rng([seed, 1]), dtype=readout.dtype
    )
    errors = np.abs(
        adding_predictions(layer, readout, test, output) - test.targets
    )
    return AddingTraining(
        losses=np.array(losses),
        solved_at=solved_at,
        test_error=float(errors.mean()),
        test_wrong=int(np.sum(errors >= TOLERANCE)),
        test_size=test_size,
        layer=layer,
        readout=readout,
    )


def answer_input_gradients(layer, readout: Dense, x: np.ndarray) -> np.ndarray:
    """How strongly the answer at the last step depends on the input of each step.

    The answer is the linear readout ``y = V h_T + b_y`` of the last hidden state. Its
    gradient with respect to the input ``x_t`` of every step is computed exactly, by one
    backward pass of the layer with ``dL/dh_T = V`` (as if the loss were the answer
    itself). A value near 0 at step t means that the input of step t barely moves the
    answer, so that training gets almost no signal to make the answer depend on it.

    Args:
        layer: a recurrent layer ``D -> H``; its ``grads`` are overwritten.
        readout: a :class:`tutor.feedforward.Dense` ``H -> 1``.
        x: inputs, ``(T, B, D)``; the answer is read at the last step of every sequence
            (draw the adding problem with ``same_length=True``).

    Returns:
        ``(T,)``: entry t is the mean over the B sequences of the Euclidean norm of
        ``dy/dx_t``, a vector of D numbers, for the steps t = 1..T in order.
    """
    if readout.out_features != 1:
        raise ValueError(
            f"readout must have one output; got {readout.out_features}."
        )
    out, _ = layer.forward(x)
    dout = np.zeros_like(out)
    dout[-1] = readout.params["weight"][
        0
    ]  # dy/dh_T = V, the same for every sequence
    dx, _ = layer.backward(dout)  # (T, B, D)
    return np.linalg.norm(dx, axis=-1).mean(axis=1)


# ------------------------------------------------------- the continual embedded Reber stream


class ContinualTraining(NamedTuple):
    """The result of :func:`train_continual_reber`.

    Attributes:
        losses: ``(n_updates,)``, the cross-entropy of every update (one chunk each).
        layer: the trained :class:`tutor.lstm.LSTM`.
        readout: the trained :class:`tutor.feedforward.Dense` ``H -> 7``.
    """

    losses: np.ndarray
    layer: LSTM
    readout: Dense


def train_continual_reber(
    *,
    forget_gate: bool,
    seed: int,
    hidden_size: int = 16,
    n_streams: int = 32,
    chunk: int = 40,
    n_updates: int = 600,
    lr: float = 0.01,
    clip_norm: float = 1.0,
    forget_bias: float = 1.0,
) -> ContinualTraining:
    """Train an LSTM to predict next symbols in endless embedded Reber streams.

    The streams (:func:`tutor.data.reber.continual_stream`) are cut into chunks
    of ``chunk`` steps; each chunk is one update of truncated BPTT
    (:func:`tutor.bptt.truncated_bptt`): the state (h, c) is carried from chunk
    to chunk and never reset, the gradient stops at the chunk's start. The loss
    is the softmax cross-entropy of the next symbol, with Adam and norm
    clipping.

    Args:
        forget_gate: ``True`` for the LSTM with a forget gate
            (Gers et al. 2000), ``False`` for the LSTM of 1997, whose cells
            never forget (``c_t = c_{t-1} + i_t * g_t``).
        seed: seeds the streams and the initial weights.
        hidden_size: H.
        n_streams: B, streams trained side by side.
        chunk: steps per update.
        n_updates: the number of updates; each stream is ``chunk * n_updates``
            steps long.
        lr: Adam's learning rate.
        clip_norm: the largest global norm of the gradient.
        forget_bias: added to the forget gate's bias at the start (ignored
            without a forget gate, which has no bias).

    Returns:
        A :class:`ContinualTraining`.
    """
    rng = np.random.default_rng(seed)
    stream = continual_stream(chunk * n_updates, rng, n_streams)
    layer = LSTM(
        len(ALPHABET),
        hidden_size,
        rng=rng,
        forget_bias=forget_bias if forget_gate else 0.0,
        forget_gate=forget_gate,
    )
    readout = Dense(hidden_size, len(ALPHABET), rng=rng)
    optimizer = Adam(RecurrentReadout(layer, readout).params, lr=lr)
    losses = truncated_bptt(
        layer,
        readout,
        stream.x,
        stream.next_index,
        loss_fn=softmax_cross_entropy,
        optimizer=optimizer,
        k1=chunk,
        clip_norm=clip_norm,
    )
    return ContinualTraining(losses, layer, readout)


def checkpoint_steps(n_steps: int, n_points: int = 60) -> np.ndarray:
    """About ``n_points`` step counts from 1 to ``n_steps``, evenly spaced on a log scale.

    Args:
        n_steps: the last step count, >= 1.
        n_points: how many to aim for (fewer come out where rounding merges them).

    Returns:
        ``(K,)`` int64, increasing, starting at 1 and ending at ``n_steps``.

    Example:
        >>> checkpoint_steps(1000, 4).tolist()
        [1, 10, 100, 1000]
    """
    check_int("n_steps", n_steps)
    points = np.geomspace(1, n_steps, max(int(n_points), 2))
    return np.unique(np.round(points).astype(np.int64))


class ContinualTest(NamedTuple):
    """What :func:`evaluate_continual_reber` measures on a fresh stream.

    Attributes:
        outer_accuracy: the fraction of the steps whose target is an embedded string's
            final T or P where the most likely symbol is the right one. Only a memory of
            the string's second symbol gets these right.
        legal_accuracy: the fraction of all steps where the most likely symbol is one the
            grammar allows next.
        steps: ``(K,)`` int, step counts t from 1 to T (:func:`checkpoint_steps`).
        mean_abs_cell: ``(K,)``, the mean of ``abs(c_t)`` over the cells and the streams,
            after step t.
    """

    outer_accuracy: float
    legal_accuracy: float
    steps: np.ndarray
    mean_abs_cell: np.ndarray


def evaluate_continual_reber(
    layer: LSTM,
    readout: Dense,
    *,
    seed: int,
    n_streams: int = 8,
    n_steps: int = 20_000,
    n_points: int = 60,
) -> ContinualTest:
    """Run a trained network over fresh endless streams, from the zero state, with no reset.

    The stream is read in pieces that end at the :func:`checkpoint_steps`; the state
    is handed from piece to piece, so this is one unbroken run, and the state after
    each piece is where the size of the cell state is measured.

    Args:
        layer: a trained :class:`tutor.lstm.LSTM` ``7 -> H``.
        readout: its :class:`tutor.feedforward.Dense` ``H -> 7``.
        seed: seeds the test streams.
        n_streams: B.
        n_steps: T, the length of each stream.
        n_points: about how many checkpoints to measure the cell state at.

    Returns:
        A :class:`ContinualTest`.
    """
    stream = continual_stream(n_steps, np.random.default_rng(seed), n_streams)
    steps = checkpoint_steps(n_steps, n_points)
    state, start = None, 0
    guesses = np.empty((n_steps, n_streams), dtype=np.int64)
    mean_abs_cell = np.empty(len(steps))
    for k, stop in enumerate(steps):
        out, state = layer.forward(stream.x[start:stop], state)
        guesses[start:stop] = readout.forward(out).argmax(axis=-1)
        mean_abs_cell[k] = np.abs(state[1]).mean()
        start = stop
    right = guesses == stream.next_index
    legal = np.take_along_axis(stream.legal, guesses[..., None], axis=-1)[
        ..., 0
    ]
    return ContinualTest(
        outer_accuracy=float(right[stream.outer].mean()),
        legal_accuracy=float(legal.mean()),
        steps=steps,
        mean_abs_cell=mean_abs_cell,
    )


def lstm_trace(layer: LSTM, x: np.ndarray, state=None) -> dict[str, np.ndarray]:
    """Run an LSTM one step at a time with :func:`tutor.lstm.lstm_step_forward`, keeping everything.

    Slower than ``layer.forward`` but it returns what the layer keeps to itself: the
    value of every gate at every step. Meant for short stretches of input that a figure
    looks at closely.

    Args:
        layer: a :class:`tutor.lstm.LSTM` (with or without a forget gate).
        x: inputs, ``(T, B, D)``.
        state: the initial state ``(h_0, c_0)``; ``None`` means zeros.

    Returns:
        ``{"i": ..., "f": ..., "g": ..., "o": ..., "c": ..., "h": ...}``, each ``(T, B, H)``:
        the gates after their nonlinearities, the cell states and the hidden states of
        steps 1..T. ``h`` equals the ``out`` of ``layer.forward(x, state)``.
    """
    check_ndim("x", x, 3, "(T, B, D)")
    T, B, _ = x.shape
    H = layer.hidden_size
    h, c = (None, None) if state is None else state
    h = np.zeros((B, H), dtype=layer.dtype) if h is None else h
    c = np.zeros((B, H), dtype=layer.dtype) if c is None else c
    p = layer.params
    trace = {name: np.empty((T, B, H), dtype=layer.dtype) for name in "ifgoch"}
    weights = p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
    for t in range(T):
        (h, c), cache = lstm_step_forward(
            x[t], (h, c), *weights, forget_gate=layer.forget_gate
        )
        for name in "ifgoc":
            trace[name][t] = cache[name]
        trace["h"][t] = h
    return trace
