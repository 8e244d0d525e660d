"""The experiments of the chapter "Backpropagation through time".

Two questions, one function each:

- How do the time and the memory of full BPTT grow with the length T of the
  sequence? :func:`full_bptt_cost` runs :func:`tutor.bptt.full_bptt` at several
  lengths and measures both.
- Which dependencies can truncated BPTT learn? :func:`train_recall` trains a
  simple RNN on the delayed-recall task (:mod:`tutor.data.recall`) with
  :func:`tutor.bptt.truncated_bptt` and returns its accuracy on a fresh stream;
  :func:`truncation_sweep` repeats it for several window lengths and seeds.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tutor._cells import RecurrentReadout
from tutor._checks import check_int
from tutor.bptt import full_bptt, truncated_bptt
from tutor.data.recall import RecallTask, delayed_recall
from tutor.feedforward import Dense
from tutor.functional import softmax_cross_entropy
from tutor.optim import Adam
from tutor.rnn import RNN

__all__ = [
    "BpttCost",
    "full_bptt_cost",
    "masked_cross_entropy",
    "recall_accuracy",
    "RecallRun",
    "train_recall",
    "Sweep",
    "truncation_sweep",
]


class BpttCost(NamedTuple):
    """What :func:`full_bptt_cost` measures, one entry per sequence length.

    Attributes:
        lengths: ``(n,)`` int, the sequence lengths T.
        seconds: ``(n,)`` float, the fastest of the repeated forward + backward passes.
        peak_bytes: ``(n,)`` int, the peak of the memory allocated during one
            forward + backward pass, above what was allocated before it (``tracemalloc``).
        state_bytes: ``(n,)`` int, the bytes of the hidden states h_0..h_T alone,
            ``(T + 1) * B * H * itemsize``: the least the forward pass must keep.
    """

    lengths: np.ndarray
    seconds: np.ndarray
    peak_bytes: np.ndarray
    state_bytes: np.ndarray


def full_bptt_cost(
    lengths: Sequence[int],
    *,
    batch_size: int = 32,
    input_size: int = 4,
    hidden_size: int = 64,
    repeats: int = 3,
    seed: int = 0,
) -> BpttCost:
    """Measure the time and memory of full BPTT on random sequences of several lengths.

    A simple RNN ``D -> H`` with a dense softmax readout ``H -> D`` is run forward
    and backward (:func:`tutor.bptt.full_bptt`) on random one-hot inputs (the target of
    each step is its own symbol: delayed recall with delay 0).
    The memory is measured in a first run under ``tracemalloc``, which sees every
    NumPy array allocated while it runs; the time is the fastest of ``repeats``
    further runs (the one least disturbed by other programs).

    Args:
        lengths: the sequence lengths T to try.
        batch_size: B.
        input_size: D, also the number of output classes.
        hidden_size: H.
        repeats: the number of timed runs per length, >= 1.
        seed: seeds the weights and the data.

    Returns:
        A :class:`BpttCost`.
    """
    check_int("repeats", repeats)
    if tracemalloc.is_tracing():
        raise RuntimeError(
            "full_bptt_cost starts tracemalloc itself: stop it first."
        )
    seconds, peaks, states = [], [], []
    for n_steps in lengths:
        rng = np.random.default_rng(seed)  # the same weights at every length
        layer = RNN(input_size, hidden_size, rng=rng)
        readout = Dense(hidden_size, input_size, rng=rng)
        task = delayed_recall(n_steps, 0, rng, batch_size, input_size)

        def run(layer=layer, readout=readout, task=task) -> None:
            full_bptt(
                layer,
                readout,
                task.inputs,
                task.targets,
                loss_fn=softmax_cross_entropy,
            )

        # Memory first, while the new layers hold no arrays of an earlier run.
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            run()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        peaks.append(peak - before)
        states.append(
            (n_steps + 1) * batch_size * hidden_size * layer.dtype.itemsize
        )
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        seconds.append(min(times))
    return BpttCost(
        np.asarray(lengths, dtype=np.int64),
        np.asarray(seconds),
        np.asarray(peaks, dtype=np.int64),
        np.asarray(states, dtype=np.int64),
    )


def masked_cross_entropy(
    logits: np.ndarray, targets: np.ndarray
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy over the steps that have a target (``targets >= 0``).

    The loss function of the delayed-recall task, in the form
    :func:`tutor.bptt.truncated_bptt` expects: the first ``delay`` steps of a
    stream have the target :data:`tutor.data.recall.IGNORE` (-1) and are left out.
    A window with no target at all (possible at the very start of a stream) has
    loss 0 and gradient 0.

    Args:
        logits: ``(T, B, K)``.
        targets: ``(T, B)`` int, class indices or -1.

    Returns:
        ``(loss, dlogits)``, as :func:`tutor.functional.softmax_cross_entropy`.
    """
    mask = np.asarray(targets) >= 0
    if (
        mask.all()
    ):  # the common case: no mask needed (and checking one costs time)
        return softmax_cross_entropy(logits, targets)
    if not mask.any():
        return 0.0, np.zeros_like(logits)
    return softmax_cross_entropy(logits, targets, mask=mask)


def recall_accuracy(layer, readout, task: RecallTask) -> float:
    """The fraction of steps with a target where the network's most likely symbol is right.

    The network reads the whole stream from the zero state; the first ``delay``
    steps (``task.mask`` False) are not counted.

    Args:
        layer: a recurrent layer ``K -> H``.
        readout: a :class:`tutor.feedforward.Dense` ``H -> K``.
        task: a :class:`tutor.data.recall.RecallTask`.

    Returns:
        The accuracy, a float in [0, 1]; guessing scores about 1 / K.
    """
    out, _ = layer.forward(task.inputs)
    guesses = readout.forward(out).argmax(axis=-1)  # (T, B)
    return float((guesses == task.targets)[task.mask].mean())


class RecallRun(NamedTuple):
    """The result of :func:`train_recall`.

    Attributes:
        accuracy: the accuracy on a fresh test stream (:func:`recall_accuracy`).
        losses: ``(n_updates,)``, the training loss of every update.
        layer: the trained :class:`tutor.rnn.RNN`.
        readout: the trained :class:`tutor.feedforward.Dense`.
    """

    accuracy: float
    losses: np.ndarray
    layer: RNN
    readout: Dense


def train_recall(
    delay: int,
    k1: int,
    k2: int | None = None,
    *,
    seed: int,
    n_symbols: int = 4,
    hidden_size: int = 32,
    n_streams: int = 64,
    n_steps: int = 4000,
    lr: float = 3e-3,
    test_steps: int = 2000,
) -> RecallRun:
    """Train an RNN on delayed recall with truncated BPTT(k1, k2), then test it.

    The network is an RNN ``K -> H`` (tanh) with a dense softmax readout
    ``H -> K``, trained with Adam on one pass over ``n_streams`` parallel
    streams of ``n_steps`` steps: an update every k1 steps, backpropagating
    through the last k2 steps (:func:`tutor.bptt.truncated_bptt`). It is then
    tested on a fresh stream of ``test_steps`` steps read from the zero state.

    Args:
        delay: d, the delay of the task.
        k1: steps between updates.
        k2: steps in each backpropagation window (k2 - 1 recurrent transitions);
            ``None`` means k1.
        seed: seeds the data, the weights and the test stream.
        n_symbols: K.
        hidden_size: H.
        n_streams: B, the number of training streams.
        n_steps: the length of each training stream.
        lr: Adam's learning rate.
        test_steps: the length of the test stream.

    Returns:
        A :class:`RecallRun`.
    """
    rng = np.random.default_rng(seed)
    data = delayed_recall(n_steps, delay, rng, n_streams, n_symbols)
    layer = RNN(n_symbols, hidden_size, rng=rng)
    readout = Dense(hidden_size, n_symbols, rng=rng)
    optimizer = Adam(RecurrentReadout(layer, readout).params, lr=lr)
    losses = truncated_bptt(
        layer,
        readout,
        data.inputs,
        data.targets,
        loss_fn=masked_cross_entropy,
        optimizer=optimizer,
        k1=k1,
        k2=k2,
    )
    test = delayed_recall(test_steps, delay, rng, 1, n_symbols)
    return RecallRun(
        recall_accuracy(layer, readout, test), losses, layer, readout
    )


class Sweep(NamedTuple):
    """The result of :func:`truncation_sweep`.

    Attributes:
        window_lengths: ``(n_k,)`` int, the values of k tried.
        seeds: ``(n_seeds,)`` int, the seeds.
        accuracy: ``(n_seeds, n_k)``, the test accuracy of every run.
        losses: ``{(seed, k): losses}``, the training loss of every update of every run.
    """

    window_lengths: np.ndarray
    seeds: np.ndarray
    accuracy: np.ndarray
    losses: dict[tuple[int, int], np.ndarray]


def truncation_sweep(
    delay: int, window_lengths: Sequence[int], seeds: Sequence[int], **kwargs
) -> Sweep:
    """Run :func:`train_recall` with k1 = k2 = k for every k and every seed.

    Args:
        delay: d.
        window_lengths: the values of k to try.
        seeds: one run per seed and k.
        **kwargs: passed on to :func:`train_recall`.

    Returns:
        A :class:`Sweep`.
    """
    accuracy = np.zeros((len(seeds), len(window_lengths)))
    losses = {}
    for i, seed in enumerate(seeds):
        for j, k in enumerate(window_lengths):
            run = train_recall(delay, k, seed=seed, **kwargs)
            accuracy[i, j] = run.accuracy
            losses[int(seed), int(k)] = run.losses
    return Sweep(
        np.asarray(window_lengths), np.asarray(seeds), accuracy, losses
    )
