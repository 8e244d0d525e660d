"""The training loop, in full, and a seeded source of minibatches.

Training is always the same few lines: take a batch, compute the loss and its
gradients, optionally clip them, let the optimiser step, record the loss.
:func:`train` is exactly that loop, so the book can show it whole; what
changes from chapter to chapter is the ``loss_and_grads`` function.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from tutor._checks import as_rng, check_int
from tutor.optim import clip_grad_norm

__all__ = [
    "History",
    "train",
    "minibatches",
    "progress_bar",
    "progress_enabled",
]


@dataclass
class History:
    """What :func:`train` records.

    Attributes:
        losses: the training loss of every step, in order.
        grad_norms: the global gradient norm of every step before clipping
            (only when ``train`` clips; empty otherwise).
        evals: ``(step, value)`` pairs from the ``evaluate`` function, where
            ``step`` counts the optimiser steps taken so far.
    """

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    evals: list[tuple[int, object]] = field(default_factory=list)


def train(
    loss_and_grads: Callable[[object], tuple[float, dict[str, np.ndarray]]],
    optimizer,
    batches: Iterable | Callable[[int], object],
    n_updates: int,
    *,
    clip_norm: float | None = None,
    evaluate: Callable[[], object] | None = None,
    eval_every: int = 100,
    progress: bool | None = None,
) -> History:
    """Run ``n_updates`` updates (steps of gradient descent).

    Args:
        loss_and_grads: ``batch -> (loss, grads)``; ``grads`` has the keys of
            the optimiser's params (e.g. ``model.grads`` after
            ``model.backward``).
        optimizer: an object with ``step(grads)``, e.g.
            :class:`tutor.optim.Adam`.
        batches: where batches come from: an iterable (e.g. :func:`minibatches`)
            or a function ``step -> batch``.
        n_updates: the number of updates (optimiser steps).
        clip_norm: if given, clip the gradients' global norm to it before each
            step.
        evaluate: if given, a function of no arguments called every
            ``eval_every`` steps and after the last one; its results go to
            ``History.evals``.
        eval_every: the number of steps between evaluations.
        progress: show a progress bar (``tqdm.auto``: a widget in a
            notebook); None decides with :func:`progress_enabled`.

    Returns:
        A :class:`History` of the run.
    """
    check_int("n_updates", n_updates, minimum=0)
    check_int("eval_every", eval_every)
    next_batch = _batch_function(batches, n_updates)
    history = History()
    bar = progress_bar(range(n_updates), progress, leave=False)
    for step in bar:
        loss, grads = loss_and_grads(next_batch(step))
        if not np.isfinite(loss):
            raise ValueError(
                f"the loss is {loss} at step {step}: training has diverged. "
                f"Lower the learning rate or clip the gradients (clip_norm)."
            )
        if clip_norm is not None:
            history.grad_norms.append(clip_grad_norm(grads, clip_norm))
        optimizer.step(grads)
        history.losses.append(float(loss))
        if (step + 1) % eval_every == 0 or step + 1 == n_updates:
            bar.set_postfix(loss=f"{loss:.4g}")
            if evaluate is not None:
                history.evals.append((step + 1, evaluate()))
    return history


def minibatches(
    arrays: np.ndarray | tuple[np.ndarray, ...],
    batch_size: int,
    rng: int | np.random.Generator,
    axis: int = 0,
) -> Iterator:
    """Yield shuffled minibatches forever, epoch after epoch.

    Each epoch draws a new random order of the examples and yields
    ``n // batch_size`` batches of exactly ``batch_size`` examples; the
    ``n % batch_size`` examples left over wait for a later epoch's order.

    Args:
        arrays: one array, or a tuple of arrays (e.g. ``(x, y)``) whose
            ``axis`` has the same size n (the number of examples).
        batch_size: the number of examples per batch, 1 <= batch_size <= n.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        axis: the example axis: 0 for ``(N, D)`` data, 1 for time-major ``(T, B, D)``.

    Yields:
        The batch: one array, or a tuple like ``arrays``, with ``batch_size``
        entries along ``axis``.
    """
    single = isinstance(arrays, np.ndarray)
    arrays = (arrays,) if single else tuple(np.asarray(a) for a in arrays)
    sizes = [a.shape[axis] if a.ndim > axis else None for a in arrays]
    n = sizes[0]
    if n is None or any(size != n for size in sizes):
        raise ValueError(
            f"arrays must all have the same size along axis {axis} (the "
            f"examples); got shapes {[a.shape for a in arrays]}."
        )
    check_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(
            f"batch_size must be between 1 and the number of examples, {n}; got {batch_size}."
        )
    rng = as_rng(rng)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            index = order[start : start + batch_size]
            batch = tuple(np.take(a, index, axis=axis) for a in arrays)
            yield batch[0] if single else batch


def progress_enabled(progress: bool | None = None) -> bool:
    """Decide whether a training loop shows a progress bar.

    ``True`` or ``False`` decide. ``None`` means: as the environment variable
    ``TUTOR_PROGRESS`` says (``0`` off, ``1`` on); without it, on in a
    Jupyter notebook where ``tqdm.auto`` draws its bars as widgets, and on
    when standard error is a terminal (so off in logs, tests and CI).
    """
    if progress is not None:
        return bool(progress)
    setting = os.environ.get("TUTOR_PROGRESS")
    if setting in ("0", "1"):
        return setting == "1"
    return _notebook_bars() or bool(
        getattr(sys.stderr, "isatty", lambda: False)()
    )


def progress_bar(
    iterable: Iterable, progress: bool | None = None, **options
) -> tqdm:
    """A ``tqdm.auto`` bar over ``iterable``, shown if :func:`progress_enabled`.

    ``options`` go to ``tqdm``. A bar that is not shown is a plain ``tqdm``
    with ``disable=True``, so that ``tqdm.auto`` is not even imported.
    """
    if not progress_enabled(progress):
        return tqdm(iterable, disable=True, **options)
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(iterable, **options)


def _notebook_bars() -> bool:
    """True where ``tqdm.auto`` draws notebook widgets (a Jupyter kernel with
    ``ipywidgets``)."""
    from tqdm.autonotebook import tqdm as chosen

    return chosen is not tqdm


def _batch_function(
    batches: Iterable | Callable[[int], object], n_updates: int
) -> Callable[[int], object]:
    """Turn ``batches`` into a function ``step -> next batch``.

    A function is returned as it is; an iterable is read one batch a step.
    """
    if callable(batches):
        return batches
    iterator = iter(batches)

    def next_batch(step: int) -> object:
        try:
            return next(iterator)
        except StopIteration:
            raise ValueError(
                f"batches must give a batch for each of the n_updates = "
                f"{n_updates} updates; it ran out after {step} batches. Pass "
                f"an endless iterator such as tutor.train.minibatches, or "
                f"n_updates <= {step}."
            ) from None

    return next_batch
