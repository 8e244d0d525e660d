"""The experiment of the chapter "Elman's simple recurrent network": temporal XOR.

Elman (1990) fed a small simple RNN a stream of bits in which every third
bit is the XOR of the two before it, and asked it to predict the next bit.
Only the XOR bits can be predicted; the two random bits of each triplet
cannot. :func:`train_temporal_xor` trains a 1-8-1 simple RNN on 32 such
streams with truncated BPTT (:func:`tutor.bptt.truncated_bptt`) and scores
the squared error of each kind of target bit on a fresh stream: near 0 on the
XOR bit, near 0.25 (the error of always answering 0.5) on the random ones.
``tutor reproduce temporal-xor`` runs it for several seeds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tutor._cells import RecurrentReadout
from tutor.bptt import truncated_bptt
from tutor.data.streams import temporal_xor_task
from tutor.evaluate import group_means
from tutor.feedforward import Dense
from tutor.functional import sigmoid, sigmoid_cross_entropy
from tutor.optim import Adam
from tutor.rnn import RNN

__all__ = ["XorRun", "train_temporal_xor"]


class XorRun(NamedTuple):
    """What :func:`train_temporal_xor` returns.

    Attributes:
        layer: the trained :class:`tutor.rnn.RNN`.
        readout: the trained :class:`tutor.feedforward.Dense` readout.
        errors: ``(3,)`` the mean squared error on the test stream of the
            targets in phase 0 and 1 (the random bits) and 2 (the XOR bit).
    """

    layer: RNN
    readout: Dense
    errors: np.ndarray


def train_temporal_xor(
    seed: int,
    *,
    hidden_size: int = 8,
    chunk: int = 30,
    n_updates: int = 1000,
    lr: float = 0.01,
    n_streams: int = 32,
    test_steps: int = 3000,
) -> XorRun:
    """Train a simple RNN to predict the next bit of temporal XOR streams.

    Args:
        seed: seeds the streams and the initial weights.
        hidden_size: H, the hidden units.
        chunk: the window of truncated BPTT, in steps; one update per window.
        n_updates: the number of updates (each stream is
            ``chunk * n_updates`` steps long).
        lr: Adam's learning rate.
        n_streams: B, the streams trained on in parallel.
        test_steps: the length of the fresh test stream; its first ``chunk``
            steps, where the state still settles from zero, are not scored.

    Returns:
        An :class:`XorRun`.
    """
    rng = np.random.default_rng(seed)
    data = temporal_xor_task(chunk * n_updates, rng, n_streams=n_streams)
    layer = RNN(1, hidden_size, rng=rng)
    readout = Dense(hidden_size, 1, rng=rng)
    optimizer = Adam(RecurrentReadout(layer, readout).params, lr=lr)
    truncated_bptt(
        layer,
        readout,
        data.inputs,
        data.targets,
        loss_fn=sigmoid_cross_entropy,
        optimizer=optimizer,
        k1=chunk,
    )
    test = temporal_xor_task(test_steps, rng, n_streams=1)
    out, _ = layer.forward(test.inputs)
    # The squared error of every test step, (T, 1).
    error = ((sigmoid(readout.forward(out)) - test.targets) ** 2)[..., 0]
    errors = group_means(error[chunk:], test.target_phase[chunk:], 3)
    return XorRun(layer, readout, errors)
