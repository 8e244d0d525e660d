"""LSTM versus simple RNN on the embedded Reber grammar, scored with the strict criterion.

The chapter "Long short-term memory" repeats Experiment 1 of Hochreiter and
Schmidhuber (1997): a network reads embedded Reber strings
(:mod:`tutor.data.reber`) one symbol at a time and must predict, at every step,
the set of symbols the grammar allows next. A string counts as right only when
the prediction is right at *every* one of its steps, and a run is *solved* only
when every training string and every test string is right. At a step, the
prediction is right when every legal symbol gets a higher score than every
illegal one (:func:`tutor.evaluate.legal_ranked_first`).

The network is a recurrent layer (:class:`tutor.lstm.LSTM` or
:class:`tutor.rnn.RNN`) followed by a :class:`tutor.feedforward.Dense` readout
``H -> 7`` and a softmax; it is trained with the cross-entropy of the symbol
that actually came next, every string starting from the zero state.

- :func:`draw_strings` draws the training strings and test strings that are not
  among them, as in the paper.
- :func:`reber_network` builds the two layers; :func:`count_parameters` counts
  their parameters the way the papers do (one bias per unit).
- :func:`length_batches` cuts a set of strings into minibatches of similar length
  (a fresh grouping every epoch), so that little time goes into padding, and
  :func:`select` takes such a minibatch out of a padded batch.
- :func:`reber_loss_and_grads` is the loss of one batch and its gradient, either
  by backpropagation through time or by Elman's one-step procedure;
  :func:`score_strings` applies the strict criterion to a set of strings.
- :func:`train_reber` is the whole experiment for one seed: it draws the data,
  trains epoch by epoch and stops as soon as both sets are entirely right.
  :meth:`ReberRun.row` turns its result into one row of a table.

Shapes: T steps (the longest string of a batch, minus one), B strings, C = 7 symbols.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tutor._cells import (
    RecurrentReadout,
    check_cell,
    count_network_parameters,
    make_layer,
)
from tutor._checks import as_rng, check_int
from tutor.data import reber
from tutor.evaluate import legal_ranked_first
from tutor.feedforward import Dense
from tutor.functional import softmax_cross_entropy
from tutor.lstm import LSTM
from tutor.optim import Adam
from tutor.rnn import RNN

__all__ = [
    "CELLS",
    "GRADIENTS",
    "draw_strings",
    "reber_network",
    "count_parameters",
    "length_batches",
    "select",
    "reber_logits",
    "reber_loss_and_grads",
    "ReberScore",
    "score_strings",
    "ReberRun",
    "train_reber",
]

#: The recurrent layers :func:`reber_network` can build: an LSTM or a simple RNN (tanh).
CELLS = ("lstm", "rnn")

#: How :func:`reber_loss_and_grads` computes the gradient: backpropagation through
#: time, or Elman's one-step procedure.
GRADIENTS = ("full", "one-step")

N_SYMBOLS = len(reber.ALPHABET)


def reber_network(
    cell: str,
    hidden_size: int,
    rng: int | np.random.Generator,
    *,
    forget_bias: float = 3.0,
    dtype: type | np.dtype = np.float64,
) -> tuple[LSTM | RNN, Dense]:
    """A recurrent layer ``7 -> H`` and a dense readout ``H -> 7``, with PyTorch's initialisation.

    Args:
        cell: ``"lstm"`` or ``"rnn"`` (a simple RNN with tanh units).
        hidden_size: H, the number of cells (LSTM) or hidden units (RNN).
        rng: an ``int`` seed or a ``numpy.random.Generator``; the layer's weights are
            drawn first, then the readout's.
        forget_bias: added to the LSTM's forget-gate bias (ignored for the RNN).
        dtype: ``np.float64`` or ``np.float32``.

    Returns:
        ``(layer, readout)``.
    """
    check_cell(cell, CELLS)
    rng = as_rng(rng)
    layer = make_layer(
        cell,
        N_SYMBOLS,
        hidden_size,
        rng=rng,
        gate_bias=forget_bias if cell == "lstm" else None,
        dtype=dtype,
    )
    return layer, Dense(hidden_size, N_SYMBOLS, rng=rng, dtype=dtype)


def count_parameters(layer, readout: Dense) -> int:
    """The number of parameters, counting one bias per unit as the papers do.

    The layers keep two bias vectors, ``bias_ih`` and ``bias_hh`` (PyTorch's
    convention), but only their sum matters, so ``bias_hh`` is not counted.
    An LSTM with H cells and D inputs has ``4 H (D + H + 1)``; a simple RNN
    ``H (D + H + 1)``; the readout ``C (H + 1)``.

    Returns:
        The count, an int.
    """
    return count_network_parameters(layer, readout)


def draw_strings(
    n_train: int, n_test: int, rng: int | np.random.Generator
) -> tuple[list[str], list[str]]:
    """Draw embedded Reber strings for training, and separate ones for testing.

    As in Hochreiter and Schmidhuber (1997): the training strings are drawn at
    random (the same string may occur several times), and so are the test
    strings, except that a string already in the training set is drawn again.
    Test strings are therefore longer on average: the short strings are the
    likely ones, and most of them are already in the training set.

    Args:
        n_train: the number of training strings.
        n_test: the number of test strings.
        rng: an ``int`` seed or a ``numpy.random.Generator``.

    Returns:
        ``(train, test)``, two lists of strings; no test string is in ``train``.
    """
    rng = as_rng(rng)
    train = reber.generate_dataset(n_train, rng, embedded=True)
    seen, test = set(train), []
    while len(test) < n_test:
        string = reber.generate(rng, embedded=True)
        if string not in seen:
            test.append(string)
    return train, test


def length_batches(
    lengths: Sequence[int] | np.ndarray,
    batch_size: int,
    rng: int | np.random.Generator,
) -> list[np.ndarray]:
    """One epoch of minibatches, each holding strings of similar length.

    The strings are sorted by length, with ties broken at random, cut into
    consecutive groups of ``batch_size`` (the last group may be smaller), and
    the groups are shuffled. Every string appears in exactly one group. A new
    call gives a new grouping, so the same strings do not always meet.

    Args:
        lengths: ``(N,)`` ints, the length of every string.
        batch_size: the number of strings per group, at least 1.
        rng: an ``int`` seed or a ``numpy.random.Generator``.

    Returns:
        A list of ``ceil(N / batch_size)`` int arrays of indices into ``lengths``.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or len(lengths) == 0:
        raise ValueError(
            f"lengths must be a non-empty 1-D array; got shape {lengths.shape}."
        )
    check_int("batch_size", batch_size)
    rng = as_rng(rng)
    order = np.lexsort(
        (rng.random(len(lengths)), lengths)
    )  # by length, ties at random
    groups = [
        order[start : start + batch_size]
        for start in range(0, len(order), batch_size)
    ]
    return [groups[i] for i in rng.permutation(len(groups))]


def select(data: reber.ReberBatch, columns: np.ndarray) -> reber.ReberBatch:
    """The strings ``columns`` of a padded batch, with the padding they do not need cut off.

    Args:
        data: a :class:`tutor.data.reber.ReberBatch` of B strings, ``(T, B, ...)``.
        columns: ``(b,)`` int indices into the B strings.

    Returns:
        A :class:`tutor.data.reber.ReberBatch` ``(T', b, ...)``, where T' is the number
        of steps of the longest selected string.
    """
    columns = np.asarray(columns)
    n_steps = int(data.mask[:, columns].sum(axis=0).max())
    return reber.ReberBatch(*(array[:n_steps, columns] for array in data))


def reber_logits(layer, readout: Dense, data: reber.ReberBatch) -> np.ndarray:
    """The readout's scores for every next symbol, ``(T, B, 7)``; every string starts from zero."""
    out, _ = layer.forward(data.x)
    return readout.forward(out)


def reber_loss_and_grads(
    layer, readout: Dense, data: reber.ReberBatch, gradient: str = "full"
) -> tuple[float, dict[str, np.ndarray]]:
    """The mean cross-entropy of the next symbol over the real steps of a batch, and its gradient.

    Padded steps (``data.mask`` False) count for nothing; since they come after
    the end of each string, they do not change the earlier steps either.

    With ``gradient="one-step"`` the gradient is Elman's (1990) training procedure
    instead of backpropagation through time: the previous hidden state is treated
    as one more input (Elman's context units), so the gradient of each step's loss
    reaches the weights through that step alone and never flows back to earlier
    steps. It is computed with the layer's own backward pass, by running every step
    again as a sequence of length one, started from the state the full forward pass
    reached there.

    Args:
        layer: a recurrent layer ``7 -> H``; a :class:`tutor.rnn.RNN` for ``"one-step"``.
        readout: a :class:`tutor.feedforward.Dense` ``H -> 7``.
        data: a :class:`tutor.data.reber.ReberBatch`.
        gradient: ``"full"`` (backpropagation through time) or ``"one-step"``.

    Returns:
        ``(loss, grads)``: a float and ``RecurrentReadout(layer, readout).grads``
        (the layers' own arrays, overwritten by the next call).
    """
    if gradient not in GRADIENTS:
        raise ValueError(
            f"gradient must be 'full' or 'one-step'; got {gradient!r}."
        )
    if gradient == "one-step" and not isinstance(layer, RNN):
        raise ValueError(
            f"gradient='one-step' is Elman's procedure for the simple RNN (tutor.rnn.RNN); "
            f"got {type(layer).__name__}."
        )
    out, _ = layer.forward(data.x)
    logits = readout.forward(out)
    loss, dlogits = softmax_cross_entropy(
        logits, data.next_index, mask=data.mask
    )
    dout = readout.backward(dlogits)  # (T, B, H)
    if gradient == "full":
        layer.backward(dout)
    else:
        T, B, H = out.shape
        previous = np.concatenate(
            [np.zeros((1, B, H), dtype=out.dtype), out[:-1]]
        )
        layer.forward(data.x.reshape(1, T * B, -1), previous.reshape(T * B, H))
        layer.backward(
            dout.reshape(1, T * B, H)
        )  # each step alone: no path to earlier steps
    return loss, RecurrentReadout(layer, readout).grads


class ReberScore(NamedTuple):
    """The strict criterion applied to a set of strings (:func:`score_strings`).

    Attributes:
        strings: the fraction of strings right at every step.
        outer: the fraction of strings right at the step whose target is the final
            T or P (the one that depends on the string's second symbol).
        other: the fraction of strings right at every other step.
        other_steps: the fraction of the other steps (all strings together) that are right.
        right: ``(T, B)`` bool, whether each step is right (True at padding).
    """

    strings: float
    outer: float
    other: float
    other_steps: float
    right: np.ndarray


def score_strings(layer, readout: Dense, data: reber.ReberBatch) -> ReberScore:
    """Apply the strict criterion to every step of every string of a batch.

    A step is right when the smallest score of a legal symbol is larger than the
    largest score of an illegal one (:func:`tutor.evaluate.legal_ranked_first`
    on the logits; the softmax keeps the order). A string is right when all its
    steps are.

    Args:
        layer: a recurrent layer ``7 -> H``.
        readout: a :class:`tutor.feedforward.Dense` ``H -> 7``.
        data: a :class:`tutor.data.reber.ReberBatch` of embedded strings.

    Returns:
        A :class:`ReberScore`.
    """
    right = (
        legal_ranked_first(reber_logits(layer, readout, data), data.legal)
        | ~data.mask
    )
    outer_right = (right | ~data.outer).all(axis=0)
    other_right = (right | data.outer).all(axis=0)
    other_steps = data.mask & ~data.outer
    return ReberScore(
        float(right.all(axis=0).mean()),
        float(outer_right.mean()),
        float(other_right.mean()),
        float(right[other_steps].mean()),
        right,
    )


class ReberRun(NamedTuple):
    """The record of one :func:`train_reber` run.

    Attributes:
        cell: ``"lstm"`` or ``"rnn"``.
        hidden_size: H.
        seed: the seed of the data, the weights and the batches.
        gradient: ``"full"`` or ``"one-step"`` (see :func:`reber_loss_and_grads`).
        n_params: :func:`count_parameters` of the network.
        solved: every training and every test string right after some epoch.
        epochs: the number of epochs trained (the epoch that solved it, if any).
        losses: ``(epochs,)``, the mean training loss of each epoch.
        train_strings: ``(epochs,)``, the fraction of training strings right after each epoch.
        test: the :class:`ReberScore` on the test strings at the end.
        train_set: the training strings.
        test_set: the test strings.
        layer: the trained recurrent layer.
        readout: the trained readout.
    """

    cell: str
    hidden_size: int
    seed: int
    gradient: str
    n_params: int
    solved: bool
    epochs: int
    losses: np.ndarray
    train_strings: np.ndarray
    test: ReberScore
    train_set: list[str]
    test_set: list[str]
    layer: object
    readout: Dense

    def row(self) -> dict[str, float]:
        """The run as one row of a table: ``{column: number}``."""
        return {
            "solved": float(self.solved),
            "epochs": float(self.epochs),
            "train strings": float(self.train_strings[-1]),
            "test strings": self.test.strings,
            "test outer step": self.test.outer,
            "test other steps": self.test.other,
        }


def train_reber(
    cell: str,
    hidden_size: int,
    *,
    seed: int,
    gradient: str = "full",
    n_train: int = 256,
    n_test: int = 256,
    lr: float = 0.03,
    batch_size: int = 16,
    max_epochs: int = 150,
    forget_bias: float = 3.0,
    dtype: type | np.dtype = np.float64,
) -> ReberRun:
    """Train a network on embedded Reber strings until all are right or give up.

    The seed draws the training and test strings (:func:`draw_strings`), then
    the network's weights. Each epoch visits every training string once, in
    batches of similar length (:func:`length_batches`), with one Adam update per
    batch. After each epoch the training strings are scored
    (:func:`score_strings`), and when every one of them is right, the test
    strings too; training stops as soon as every string of both sets is right,
    and otherwise after ``max_epochs``.

    Args:
        cell: ``"lstm"`` or ``"rnn"``.
        hidden_size: H.
        seed: an int.
        gradient: ``"full"`` (backpropagation through time) or ``"one-step"``
            (Elman's procedure, simple RNN only; see
            :func:`reber_loss_and_grads`).
        n_train: the number of training strings.
        n_test: the number of test strings.
        lr: Adam's learning rate.
        batch_size: strings per update.
        max_epochs: the most epochs to train.
        forget_bias: the LSTM's forget-gate bias at initialisation.
        dtype: ``np.float64`` or ``np.float32``.

    Returns:
        A :class:`ReberRun`.
    """
    check_int("max_epochs", max_epochs)
    if gradient not in GRADIENTS:
        raise ValueError(
            f"gradient must be 'full' or 'one-step'; got {gradient!r}."
        )
    rng = np.random.default_rng(seed)
    train_set, test_set = draw_strings(n_train, n_test, rng)
    train_data = reber.batch(train_set, embedded=True, dtype=dtype)
    test_data = reber.batch(test_set, embedded=True, dtype=dtype)
    lengths = np.array([len(string) for string in train_set])
    layer, readout = reber_network(
        cell, hidden_size, rng, forget_bias=forget_bias, dtype=dtype
    )
    optimizer = Adam(RecurrentReadout(layer, readout).params, lr=lr)

    losses, train_strings = [], []
    solved = False
    for _ in range(max_epochs):
        epoch_losses = []
        for columns in length_batches(lengths, batch_size, rng):
            batch = select(train_data, columns)
            loss, grads = reber_loss_and_grads(layer, readout, batch, gradient)
            optimizer.step(grads)
            epoch_losses.append(loss)
        losses.append(np.mean(epoch_losses))
        train_strings.append(score_strings(layer, readout, train_data).strings)
        if (
            train_strings[-1] == 1.0
            and score_strings(layer, readout, test_data).strings == 1.0
        ):
            solved = (
                True  # every training string and every test string is right
            )
            break
    return ReberRun(
        cell=cell,
        hidden_size=int(hidden_size),
        seed=int(seed),
        gradient=gradient,
        n_params=count_parameters(layer, readout),
        solved=solved,
        epochs=len(losses),
        losses=np.array(losses),
        train_strings=np.array(train_strings),
        test=score_strings(layer, readout, test_data),
        train_set=train_set,
        test_set=test_set,
        layer=layer,
        readout=readout,
    )
