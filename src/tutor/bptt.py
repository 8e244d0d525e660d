"""Backpropagation through time: on one sequence, and truncated over long streams.

Full BPTT (:func:`full_bptt`) unrolls the network over the whole sequence
and backpropagates through every step: exact, but its time and memory grow
with the length T. On a long stream, truncated BPTT (Williams and Peng 1990;
Sutskever 2013, section 2.8) trains in windows instead: every k1 steps it
backpropagates through the last k2 steps (k2 >= k1) and updates the weights.
The hidden state is carried from window to window, so the network still
*sees* the whole past, but no gradient flows back across a window's first
step: dependencies longer than k2 steps cannot be learned from the gradient.

:func:`truncated_bptt` works for any recurrent layer with the package's
interface (``out, state = layer.forward(x, state)`` and
``dx, dstate0 = layer.backward(dout)``; the state may be an array or, for the
LSTM, a tuple) with a :class:`tutor.feedforward.Dense` readout.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tutor._cells import RecurrentReadout
from tutor._checks import check_int, check_ndim, check_time_major_layer
from tutor.optim import clip_grad_norm

__all__ = ["full_bptt", "bptt_windows", "truncated_bptt"]

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def full_bptt(
    layer,
    readout,
    x: np.ndarray,
    targets: np.ndarray,
    *,
    loss_fn: LossFn,
    state=None,
) -> tuple[float, dict[str, np.ndarray]]:
    """A batch's loss and its gradient, by backpropagation through all T steps.

    Args:
        layer: a recurrent layer (:class:`tutor.rnn.RNN`, ...).
        readout: a :class:`tutor.feedforward.Dense` layer, ``H -> O``, applied
            at every step.
        x: inputs, ``(T, B, D)``.
        targets: ``(T, B)`` class indices or ``(T, B, O)`` real values, as
            ``loss_fn`` expects.
        loss_fn: ``(outputs (T, B, O), targets) -> (loss, doutputs)``, for
            example :func:`tutor.functional.softmax_cross_entropy` or
            :func:`tutor.functional.mse`.
        state: the initial state of ``layer``; ``None`` means zeros.

    Returns:
        ``(loss, grads)``: the loss (a float) and copies of the gradients of all
        parameters, keyed ``"rnn.weight_ih"``, ..., ``"readout.weight"``,
        ``"readout.bias"``.
    """
    out, _ = layer.forward(x, state)
    loss, dy = loss_fn(readout.forward(out), targets)
    layer.backward(readout.backward(dy))
    grads = RecurrentReadout(layer, readout).grads
    return loss, {name: g.copy() for name, g in grads.items()}


def bptt_windows(
    n_steps: int, k1: int, k2: int | None = None
) -> list[tuple[int, int, int]]:
    """The windows of truncated BPTT over a stream of ``n_steps`` steps.

    Every k1 steps there is one update. It backpropagates through the steps
    ``start .. stop-1`` and counts the loss on the last k1 of them, ``first .. stop-1``;
    ``first - start = k2 - k1`` steps before them carry gradient but no loss.
    Near the beginning of the stream a window is shorter (``start`` cannot be
    negative), and so is the last one when k1 does not divide ``n_steps``.

    Args:
        n_steps: N, the length of the stream.
        k1: the number of steps between updates, >= 1.
        k2: the number of steps backpropagated through, >= k1; ``None`` means k1.

    Returns:
        A list of ``(start, first, stop)``, one per update.

    Example:
        >>> bptt_windows(10, 4)
        [(0, 0, 4), (4, 4, 8), (8, 8, 10)]
        >>> bptt_windows(8, 2, 5)
        [(0, 0, 2), (0, 2, 4), (1, 4, 6), (3, 6, 8)]
    """
    k2 = k1 if k2 is None else k2
    for name, value in (("n_steps", n_steps), ("k1", k1), ("k2", k2)):
        check_int(name, value)
    if k2 < k1:
        raise ValueError(
            f"k2 (steps backpropagated through, {k2}) must be at least k1 (steps between "
            f"updates, {k1}): otherwise some losses would get no gradient at all."
        )
    return [
        (max(0, first + k1 - k2), first, min(first + k1, n_steps))
        for first in range(0, n_steps, k1)
    ]


def truncated_bptt(
    layer,
    readout,
    x: np.ndarray,
    targets: np.ndarray,
    *,
    loss_fn: LossFn,
    optimizer,
    k1: int,
    k2: int | None = None,
    clip_norm: float | None = None,
    state=None,
) -> np.ndarray:
    """Train ``layer`` and ``readout`` on a stream with truncated BPTT(k1, k2).

    Every k1 steps: run the layer forward over the last k2 steps, starting from
    the state saved at the window's start; compute the loss on the last k1 of
    them; backpropagate through all k2 steps (and no further); update. With
    k1 = k2 the windows are back to back and the state at the end of one is the
    start of the next. With k2 > k1 the windows overlap: before each window the
    saved state is moved forward to the window's start by a forward pass (with
    the current weights, no backward). Either way the state is carried along the
    whole stream but detached: no gradient crosses a window's start.

    Nothing here is random: the result depends only on the arguments.

    Args:
        layer: a recurrent layer (:class:`tutor.rnn.RNN`, ...), ``D -> H``.
        readout: a :class:`tutor.feedforward.Dense`, ``H -> O``, applied at
            every step.
        x: the stream, ``(N, B, D)``: B parallel streams of N steps, time-major.
        targets: ``(N, B)`` class indices or ``(N, B, O)`` real values.
        loss_fn: ``(outputs, targets) -> (loss, doutputs)``, with outputs
            ``(k1, B, O)`` and targets ``(k1, B, ...)``, for example
            :func:`tutor.functional.softmax_cross_entropy` or
            :func:`tutor.functional.mse`.
        optimizer: an optimiser from :mod:`tutor.optim` built on
            ``RecurrentReadout(layer, readout).params``; it gets
            the gradients under the same names.
        k1: steps between updates (and steps with a loss per update), >= 1.
        k2: steps backpropagated through, >= k1; ``None`` means k1 (chunked
            training).
        clip_norm: if given, the gradients are rescaled to at most this global
            norm before each update (:func:`tutor.optim.clip_grad_norm`).
        state: the initial state of ``layer``; ``None`` means zeros.

    Returns:
        The loss of every update, in order, shape ``(ceil(N / k1),)``.
    """
    check_time_major_layer(layer, "truncated_bptt")
    check_ndim(
        "x",
        x,
        3,
        "(N, B, D)",
        "The stream is time-major: N steps of B parallel streams.",
    )
    if np.shape(targets)[:2] != np.shape(x)[:2]:
        raise ValueError(
            f"targets must start with the (N, B) = {np.shape(x)[:2]} axes of "
            "x, one target per step of each stream; "
            f"got shape {np.shape(targets)}."
        )
    model = RecurrentReadout(layer, readout)
    history = []
    saved_at, saved = (
        0,
        state,
    )  # the state before step `saved_at`, with no gradient attached
    for start, first, stop in bptt_windows(len(x), k1, k2):
        # k2 > k1: move the saved state up to this window's start
        if saved_at < start:
            _, saved = layer.forward(x[saved_at:start], saved)
            saved_at = start
        out, last = layer.forward(x[start:stop], saved)
        # The loss counts the last k1 steps only; the k2 - k1 steps before them
        # get gradient through the recurrence but no loss of their own.
        loss, dy = loss_fn(
            readout.forward(out[first - start :]), targets[first:stop]
        )
        dout = np.zeros_like(out)
        dout[first - start :] = readout.backward(dy)
        # no dstate: the gradient stops at the window's start
        layer.backward(dout)
        grads = model.grads
        if clip_norm is not None:
            clip_grad_norm(grads, clip_norm)
        optimizer.step(grads)
        history.append(loss)
        # back-to-back windows: the next one starts at `stop`
        if k2 is None or k2 == k1:
            saved_at, saved = stop, last
    return np.array(history)
