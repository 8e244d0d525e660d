"""The experiments of the chapter "Recurrent networks in practice: tuning".

The chapter turns the usual practical advice into small measurements. Three of its sweeps
train a character-level language model (:class:`tutor.charlm.CharLM`) and change one
setting at a time around a reference run; one sweep trains it on a tiny text and stops
early. Two functions do that work:

- :func:`charlm_trial` builds a model from a seed, trains it with
  :func:`tutor.charlm.train_charlm` for a number of updates (or of characters read), and
  scores it on held-out text. One call is one point of a sweep.
- :func:`train_with_early_stopping` trains a model epoch by epoch, scores the training
  text and the held-out text after every epoch, keeps a copy of the parameters that scored
  best on the held-out text, stops when they have not improved for ``patience`` epochs,
  and puts the best parameters back.

The other sweeps of the chapter (the forget-gate bias, the clipping threshold) reuse
:func:`tutor.experiments.adding.train_adding`.

Shapes: ids are ``(N,)`` integer arrays, as made by :meth:`tutor.data.text.Vocabulary.encode`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._cells import count_network_parameters
from tutor._checks import check_int
from tutor.charlm import CharLM, bits_per_char, train_charlm
from tutor.data.text import text_batches

__all__ = [
    "count_parameters",
    "CharTrial",
    "charlm_trial",
    "EarlyStoppingRun",
    "train_with_early_stopping",
]


def count_parameters(model: CharLM) -> int:
    """The number of free parameters of a model, the count the chapters use.

    The recurrent layer stores two bias vectors, ``bias_ih`` and ``bias_hh``
    (PyTorch's convention). Where only their sum matters they count as one bias
    per unit, as in the papers: everywhere but the GRU's candidate block, whose
    ``b_hn`` sits inside the reset gate's product. With G blocks (1, 4 or 3),
    K characters and H hidden units the recurrent layer has ``G*H*(K + H + 1)``
    parameters, plus ``H`` for the GRU, and the readout ``K*(H + 1)``: the rule
    of :func:`tutor.experiments.compare.count_parameters`.

    Args:
        model: a :class:`tutor.charlm.CharLM`.

    Returns:
        The count, an int.
    """
    return count_network_parameters(model.layer, model.readout)


class CharTrial(NamedTuple):
    """The record of one :func:`charlm_trial`.

    Attributes:
        valid_bits: the bits per character on the held-out text after training
            (:func:`tutor.charlm.bits_per_char`); ``inf`` if training diverged.
        train_bits: ``(n,)``, the training loss of every update, in bits per character.
        n_updates: the number of updates the run was given.
        n_params: the number of parameters of the model (:func:`count_parameters`).
        seconds: the training time, in seconds of wall-clock time (scoring not included).
        diverged: True if the loss stopped being a finite number, which ended the run.
        model: the trained :class:`tutor.charlm.CharLM`.
    """

    valid_bits: float
    train_bits: np.ndarray
    n_updates: int
    n_params: int
    seconds: float
    diverged: bool
    model: CharLM


def charlm_trial(
    train_ids: object,
    valid_ids: object,
    vocab_size: int,
    *,
    hidden_size: int = 64,
    cell: str = "rnn",
    lr: float = 1e-2,
    seq_len: int = 32,
    batch_size: int = 16,
    n_updates: int | None = None,
    n_chars: int | None = None,
    clip_norm: float | None = 5.0,
    seed: int = 0,
    eval_batch_size: int = 64,
) -> CharTrial:
    """Build a character model, train it for a fixed budget, and score it on held-out text.

    The model is a float32 :class:`tutor.charlm.CharLM` whose weights are drawn from
    ``seed``. Training is :func:`tutor.charlm.train_charlm` (Adam, gradient-norm clipping,
    ``batch_size`` streams read in chunks of ``seq_len`` characters, the state carried from
    chunk to chunk). The budget is either a number of updates, ``n_updates``, or a number of
    characters read, ``n_chars``: then ``n_updates = n_chars // (batch_size * seq_len)``,
    so that runs with different chunk lengths read the same amount of text.

    Args:
        train_ids: ``(N,)`` integer ids of the training text.
        valid_ids: ``(M,)`` integer ids of the held-out text.
        vocab_size: K, the number of characters.
        hidden_size: H.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        lr: Adam's learning rate.
        seq_len: the chunk length T, also the number of steps backpropagated through.
        batch_size: B, the number of parallel streams.
        n_updates: the number of updates; give this or ``n_chars``, not both.
        n_chars: the number of training characters to read.
        clip_norm: the gradient-norm clipping threshold; ``None`` does not clip.
        seed: seeds the initial weights (training itself is not random).
        eval_batch_size: the number of streams used to score ``valid_ids``.

    Returns:
        A :class:`CharTrial`.

    Raises:
        ValueError: neither or both of ``n_updates`` and ``n_chars`` are given, or the
            budget is less than one update.
    """
    if (n_updates is None) == (n_chars is None):
        raise ValueError(
            "give exactly one budget, n_updates (updates) or n_chars "
            f"(characters); got n_updates={n_updates!r} and "
            f"n_chars={n_chars!r}."
        )
    if n_chars is not None:
        n_updates = int(n_chars) // (batch_size * seq_len)
        if n_updates < 1:
            raise ValueError(
                "n_chars must be at least batch_size * seq_len = "
                f"{batch_size * seq_len} (one update); got {n_chars!r}."
            )
    if n_updates < 1:
        raise ValueError(f"n_updates must be at least 1; got {n_updates!r}.")
    model = CharLM(vocab_size, hidden_size, cell, rng=seed, dtype=np.float32)
    n_params = count_parameters(model)
    try:
        history = train_charlm(
            model,
            train_ids,
            batch_size=batch_size,
            seq_len=seq_len,
            lr=lr,
            clip_norm=clip_norm,
            n_updates=n_updates,
            progress=False,
        )
    except ValueError as error:
        if "diverged" not in str(error):
            raise
        no_bits = np.array([])
        return CharTrial(np.inf, no_bits, n_updates, n_params, 0.0, True, model)
    valid_bits = bits_per_char(model, valid_ids, batch_size=eval_batch_size)
    seconds = history.seconds[-1] if history.seconds else 0.0
    return CharTrial(
        valid_bits, history.bits, n_updates, n_params, seconds, False, model
    )


class EarlyStoppingRun(NamedTuple):
    """The record of one :func:`train_with_early_stopping`.

    Attributes:
        train_bits: ``(n_epochs,)``, the bits per character on the training text after
            each epoch.
        valid_bits: ``(n_epochs,)``, the same on the held-out text.
        best_epoch: the epoch (counted from 1) after which ``valid_bits`` was lowest; its
            parameters are the ones the model holds at the end.
        updates_per_epoch: the number of updates in one epoch.
    """

    train_bits: np.ndarray
    valid_bits: np.ndarray
    best_epoch: int
    updates_per_epoch: int


def train_with_early_stopping(
    model: CharLM,
    train_ids: object,
    valid_ids: object,
    *,
    max_epochs: int,
    patience: int | None = None,
    batch_size: int = 8,
    seq_len: int = 25,
    lr: float = 1e-2,
    clip_norm: float | None = 5.0,
    eval_batch_size: int = 64,
) -> EarlyStoppingRun:
    """Train epoch by epoch, keep the parameters that do best on held-out text, restore them.

    One epoch is one pass over the training text with :func:`tutor.charlm.train_charlm`,
    and the optimiser carries on from epoch to epoch, so the updates are exactly those of
    one long call. After every epoch both texts are scored with
    :func:`tutor.charlm.bits_per_char`. When the held-out score is the best so far, a copy
    of every parameter array is kept. Training stops after ``max_epochs`` epochs, or
    earlier when ``patience`` epochs in a row have brought no new best. At the end the kept
    copy is written back into the model, in place.

    Args:
        model: the model to train; changed in place, and left with its best parameters.
        train_ids: ``(N,)`` integer ids of the training text.
        valid_ids: ``(M,)`` integer ids of the held-out text.
        max_epochs: the largest number of epochs, >= 1.
        patience: stop after this many epochs without a new best; ``None`` never stops
            early (all ``max_epochs`` epochs run, and the best parameters are still restored).
        batch_size: B, the number of parallel streams.
        seq_len: T, the chunk length.
        lr: Adam's learning rate.
        clip_norm: the gradient-norm clipping threshold; ``None`` does not clip.
        eval_batch_size: the number of streams used for scoring.

    Returns:
        An :class:`EarlyStoppingRun`.
    """
    check_int("max_epochs", max_epochs)
    if patience is not None:
        check_int("patience", patience)
    updates_per_epoch = len(text_batches(train_ids, batch_size, seq_len))
    train_bits, valid_bits = [], []
    best_bits, best_epoch, best_params = np.inf, 0, None
    optimizer = None
    for epoch in range(1, max_epochs + 1):
        history = train_charlm(
            model,
            train_ids,
            batch_size=batch_size,
            seq_len=seq_len,
            lr=lr,
            clip_norm=clip_norm,
            n_updates=updates_per_epoch,
            optimizer=optimizer,
            progress=False,
        )
        # The next epoch continues with the same Adam state.
        optimizer = history.optimizer
        train_bits.append(
            bits_per_char(model, train_ids, batch_size=eval_batch_size)
        )
        valid_bits.append(
            bits_per_char(model, valid_ids, batch_size=eval_batch_size)
        )
        if best_params is None or valid_bits[-1] < best_bits:
            # A new best: keep a copy.
            best_bits, best_epoch = valid_bits[-1], epoch
            best_params = {name: a.copy() for name, a in model.params.items()}
        elif patience is not None and epoch - best_epoch >= patience:
            break  # no new best for `patience` epochs: stop
    for name, array in model.params.items():
        array[...] = best_params[name]  # put the best parameters back, in place
    train_bits, valid_bits = np.array(train_bits), np.array(valid_bits)
    return EarlyStoppingRun(
        train_bits, valid_bits, best_epoch, updates_per_epoch
    )
