"""The experiments of the chapter "Deeper and in both directions".

Four small experiments, one per section of the chapter:

1. Stacking. Window parity (:func:`parity_batch`): the target at every step
   is the parity of the last few bits. One GRU layer against two stacked
   layers with about the same number of parameters
   (:func:`count_parameters`, :func:`matched_hidden_size`), trained by
   :func:`stacking_run`; :func:`time_per_update` measures what a second
   layer costs.
2. Two directions. The tag at step t is the symbol d steps later
   (:func:`future_tag_batch`). A one-way network cannot know it: its best
   accuracy is :func:`one_way_limit`. A bidirectional network reads it
   (:func:`direction_run`).
3. Padded batches. Valid and corrupted Reber strings of different lengths
   (:func:`reber_classification_set`), classified from the state at each
   string's own end, which ``lengths=`` gives, against the state at step T
   after the padding (:func:`train_classifier`).
4. Beam search. A small character model (:func:`beam_model`) continues
   primes of held-out text (:func:`held_out_primes`); :func:`beam_gains`
   scores greedy decoding and wider beams, and :func:`greedy_trap` finds a
   prime where greedy decoding goes wrong.

The tagging experiments share :func:`tagger`, :func:`tagger_loss_and_grads`
and :func:`train_tagger`. Every random thing takes a seed or a Generator.

Shapes: T steps, B sequences, D inputs, H hidden units per direction,
dirs = 2 for a bidirectional network (else 1), C classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import numpy as np

from tutor._cells import (
    LAYERS,
    RecurrentReadout,
    check_cell,
    count_network_parameters,
)
from tutor._cells import count_parameters as count_layer_parameters
from tutor._checks import as_rng, check_int
from tutor.charlm import CharLM, train_charlm
from tutor.data import reber
from tutor.data.text import Vocabulary, load_text
from tutor.feedforward import Dense
from tutor.functional import softmax_cross_entropy
from tutor.optim import Adam
from tutor.train import train

__all__ = [
    "TaggingBatch",
    "parity_batch",
    "future_tag_batch",
    "one_way_limit",
    "tagger",
    "count_parameters",
    "matched_hidden_size",
    "tagger_loss_and_grads",
    "predict_tags",
    "TaggerRun",
    "train_tagger",
    "stacking_run",
    "direction_run",
    "time_per_update",
    "StringSet",
    "corrupt",
    "reber_classification_set",
    "string_batch",
    "classifier_loss_and_grads",
    "classification_accuracy",
    "state_drift",
    "ClassifierRun",
    "train_classifier",
    "TextSplit",
    "text_split",
    "beam_model",
    "held_out_primes",
    "BeamGains",
    "beam_gains",
    "GreedyTrap",
    "greedy_trap",
]

N_SYMBOLS = len(reber.ALPHABET)  # 7 Reber symbols, one-hot inputs
INTERIOR = "TSXPV"  # the symbols that may stand inside a Reber string


def _one_hot(ids: np.ndarray, n: int) -> np.ndarray:
    """``(..., n)`` float64 one-hot rows of ``ids``; an id of -1 gives zeros."""
    return (ids[..., None] == np.arange(n)).astype(np.float64)


def _streams(seed: int, n: int) -> list[np.random.Generator]:
    """``n`` independent Generators from one seed.

    The weights and the batches come from separate streams, so that two
    networks built from the same seed see the same batches.
    """
    check_int("seed", seed, minimum=0)
    return [
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)
    ]


# ----------------------------------------------------------- tagging tasks


class TaggingBatch(NamedTuple):
    """A batch of sequences with one class target per step.

    Attributes:
        x: ``(T, B, D)`` float64, one-hot inputs.
        targets: ``(T, B)`` int64 classes.
        mask: ``(T, B)`` bool: the steps the loss and the accuracy count.
    """

    x: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


def parity_batch(
    batch_size: int,
    rng: int | np.random.Generator,
    *,
    steps: int = 20,
    window: int = 3,
) -> TaggingBatch:
    """Window parity: the target at step t is the XOR of the last M bits.

    ``y[t] = x[t] XOR x[t-1] XOR ... XOR x[t-M+1]``, with M = ``window``. The
    parity must be computed anew at every step from the bits held in memory:
    a nonlinear function that a second layer could compute from the first
    layer's memory. Chance is 0.5.

    Args:
        batch_size: B.
        rng: an ``int`` seed or a Generator.
        steps: T, at least ``window``.
        window: M, at least 1.

    Returns:
        A :class:`TaggingBatch`: x ``(T, B, 2)`` (bit 0 or 1, one-hot),
        targets ``(T, B)`` in {0, 1}, and a mask that leaves out the first
        M - 1 steps, whose windows reach back before the sequence.
    """
    B, M = check_int("batch_size", batch_size), check_int("window", window)
    T = check_int("steps", steps)
    if T < M:
        raise ValueError(
            f"steps must be at least window = {M}, so that some step has a "
            f"whole window of bits; got steps={T}."
        )
    rng = as_rng(rng)
    # M - 1 bits before the sequence give every step a window; the network
    # never sees them, so those steps are masked out.
    bits = rng.integers(0, 2, size=(T + M - 1, B))
    windows = np.lib.stride_tricks.sliding_window_view(bits, M, axis=0)
    targets = (windows.sum(axis=-1) % 2).astype(np.int64)  # (T, B)
    mask = np.zeros((T, B), dtype=bool)
    mask[M - 1 :] = True
    return TaggingBatch(_one_hot(bits[M - 1 :], 2), targets, mask)


def future_tag_batch(
    batch_size: int,
    rng: int | np.random.Generator,
    *,
    n_symbols: int = 4,
    steps: int = 16,
    shift: int = 2,
) -> TaggingBatch:
    """Tag every step with the symbol d steps later: ``y[t] = x[t+d]``.

    Symbols are drawn uniformly from K = ``n_symbols``. The last d steps
    have no symbol d steps later; their tag is an extra class K, "none".

    Args:
        batch_size: B.
        rng: an ``int`` seed or a Generator.
        n_symbols: K, at least 2.
        steps: T.
        shift: d, between 1 and T - 1.

    Returns:
        A :class:`TaggingBatch`: x ``(T, B, K)`` one-hot, targets ``(T, B)``
        in 0..K (K is "none"), and a mask that counts every step.
    """
    B = check_int("batch_size", batch_size)
    K = check_int("n_symbols", n_symbols)
    T, d = _check_shift(steps, shift)
    if K < 2:
        raise ValueError(f"n_symbols must be at least 2; got {K}.")
    symbols = as_rng(rng).integers(0, K, size=(T, B))
    targets = np.full((T, B), K, dtype=np.int64)  # "none" ...
    targets[: T - d] = symbols[d:]  # ... except where a future symbol exists
    return TaggingBatch(_one_hot(symbols, K), targets, np.ones((T, B), bool))


def _check_shift(steps: object, shift: object) -> tuple[int, int]:
    T = check_int("steps", steps)
    d = check_int("shift", shift)  # d = 0 would tag the present
    if d >= T:
        raise ValueError(
            f"shift must be below steps = {T} (some step must have a symbol "
            f"shift steps later); got shift={d}."
        )
    return T, d


def one_way_limit(n_symbols: int, steps: int, shift: int) -> float:
    """The best accuracy of a one-way (causal) net on :func:`future_tag_batch`.

    At step t < T - d the tag ``x[t+d]`` is independent of ``x[0..t]``, so no
    causal predictor is right more often than 1/K there. The last d steps
    are all "none", and a network can count steps, so they can all be right::

        limit = ((T - d) / K + d) / T.

    Args:
        n_symbols: K.
        steps: T.
        shift: d, between 1 and T - 1.
    """
    K = check_int("n_symbols", n_symbols)
    T, d = _check_shift(steps, shift)
    return ((T - d) / K + d) / T


# ------------------------------------------------------- tagging networks


def tagger(
    cell: str,
    input_size: int,
    hidden_size: int,
    n_classes: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    rng: int | np.random.Generator,
) -> RecurrentReadout:
    """A recurrent network (stacked, bidirectional or not) and a Dense readout.

    The readout reads the top level's output at every step, ``dirs * H``
    features (both directions joined), and gives C logits.

    Returns:
        A :class:`~tutor._cells.RecurrentReadout`: ``model.layer`` is the
        recurrent layer ``D -> dirs * H``, ``model.readout`` the Dense
        ``dirs * H -> C``.
    """
    rng = as_rng(rng)
    layer = LAYERS[check_cell(cell)](
        input_size,
        hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        rng=rng,
    )
    dirs = 2 if bidirectional else 1
    return RecurrentReadout(
        layer, Dense(dirs * hidden_size, n_classes, rng=rng)
    )


def count_parameters(
    cell: str,
    input_size: int,
    hidden_size: int,
    n_classes: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
) -> int:
    """The parameters of :func:`tagger`, by the book's rule (one bias per unit).

    Level 0 reads D inputs, every level above reads the ``dirs * H`` outputs
    below it; each direction has its own weights. The readout has
    ``C (dirs H + 1)``. Equals
    ``count_network_parameters(model.layer, model.readout)`` of the model.
    """
    num_layers = check_int("num_layers", num_layers)
    dirs = 2 if bidirectional else 1
    total = 0
    for level in range(num_layers):
        size = input_size if level == 0 else dirs * hidden_size
        total += dirs * count_layer_parameters(cell, size, hidden_size)
    return total + n_classes * (dirs * hidden_size + 1)


def matched_hidden_size(
    budget: int,
    cell: str,
    input_size: int,
    n_classes: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
) -> int:
    """The H whose :func:`count_parameters` is closest to ``budget``.

    Ties go to the smaller H.
    """
    budget = check_int("budget", budget)
    best, size = None, 1
    while True:
        count = count_parameters(
            cell,
            input_size,
            size,
            n_classes,
            num_layers=num_layers,
            bidirectional=bidirectional,
        )
        if best is None or abs(count - budget) < best[0]:
            best = (abs(count - budget), size)
        if count >= budget:  # counts grow with H: no closer H above
            return best[1]
        size += 1


def tagger_loss_and_grads(
    model: RecurrentReadout, batch: TaggingBatch
) -> tuple[float, dict[str, np.ndarray]]:
    """The mean cross-entropy over the masked steps, and the gradients.

    Args:
        model: a :func:`tagger`.
        batch: a :class:`TaggingBatch`; x ``(T, B, D)``, targets ``(T, B)``.

    Returns:
        ``(loss, model.grads)``.
    """
    out, _ = model.layer.forward(batch.x)  # (T, B, dirs * H)
    logits = model.readout.forward(out)  # (T, B, C)
    loss, dlogits = softmax_cross_entropy(logits, batch.targets, batch.mask)
    model.layer.backward(model.readout.backward(dlogits))
    return loss, model.grads


def predict_tags(model: RecurrentReadout, x: np.ndarray) -> np.ndarray:
    """``(T, B)`` int64: the most probable class at each step of ``x``.

    Args:
        model: a :func:`tagger`.
        x: ``(T, B, D)``.
    """
    out, _ = model.layer.forward(x)
    return model.readout.forward(out).argmax(axis=-1)


class TaggerRun(NamedTuple):
    """One training run of a tagger.

    Attributes:
        accuracy: the share of the test set's masked steps tagged right at
            the end.
        updates_to_target: the first evaluation step at which the accuracy
            reached ``target``, or ``None``.
        evals: ``(step, accuracy)`` every ``eval_every`` updates.
        step_accuracy: ``(T,)`` the accuracy at each step at the end, NaN at
            masked steps.
        n_parameters: :func:`count_parameters` of the model.
        seconds: CPU time of the run (``time.process_time``), evaluations
            included.
    """

    accuracy: float
    updates_to_target: int | None
    evals: list[tuple[int, float]]
    step_accuracy: np.ndarray
    n_parameters: int
    seconds: float


def train_tagger(
    model: RecurrentReadout,
    make_batch: Callable[[np.random.Generator], TaggingBatch],
    test: TaggingBatch,
    *,
    n_updates: int,
    rng: int | np.random.Generator,
    lr: float = 0.01,
    clip_norm: float = 1.0,
    eval_every: int | None = None,
    target: float = 0.99,
) -> TaggerRun:
    """Train with Adam on a fresh batch every update; score on ``test``.

    Args:
        model: a :func:`tagger`; trained in place.
        make_batch: ``rng -> TaggingBatch``, e.g.
            ``functools.partial(parity_batch, 32)``.
        test: the fixed test batch.
        n_updates: the number of updates.
        rng: the stream of training batches.
        lr: Adam's learning rate.
        clip_norm: the largest global gradient norm.
        eval_every: test every so many updates (``None``: only at the end).
        target: the accuracy for ``updates_to_target``.
    """
    n_updates = check_int("n_updates", n_updates)
    rng = as_rng(rng)
    start = time.process_time()

    def accuracy() -> float:
        right = predict_tags(model, test.x) == test.targets
        return float(right[test.mask].mean())

    history = train(
        lambda batch: tagger_loss_and_grads(model, batch),
        Adam(model.params, lr=lr),
        lambda step: make_batch(rng),
        n_updates,
        clip_norm=clip_norm,
        evaluate=accuracy,
        eval_every=eval_every or n_updates,
        progress=False,
    )
    right = (predict_tags(model, test.x) == test.targets) & test.mask
    counted = test.mask.sum(axis=1)  # (T,): masked steps count nowhere
    per_step = np.full(len(counted), np.nan)
    np.divide(right.sum(axis=1), counted, out=per_step, where=counted > 0)
    reached = [step for step, value in history.evals if value >= target]
    return TaggerRun(
        accuracy=history.evals[-1][1],
        updates_to_target=reached[0] if reached else None,
        evals=history.evals,
        step_accuracy=per_step,
        n_parameters=count_network_parameters(model.layer, model.readout),
        seconds=time.process_time() - start,
    )


def stacking_run(
    seed: int,
    num_layers: int,
    hidden_size: int,
    *,
    cell: str = "gru",
    window: int = 3,
    steps: int = 20,
    batch_size: int = 32,
    n_updates: int = 200,
    eval_every: int = 25,
    n_test: int = 1000,
    test_seed: int = 999,
) -> TaggerRun:
    """Experiment 1 for one seed: a stack of ``num_layers`` on window parity.

    The chapter compares 1 layer of H = 24 (2018 parameters) with 2 layers of
    H = 14 (1990), Adam lr 0.01, clipping at 1, and counts the updates until
    99 % of the test steps are right (tested every 25 updates).
    """
    weights, data = _streams(seed, 2)
    model = tagger(cell, 2, hidden_size, 2, num_layers=num_layers, rng=weights)
    test = parity_batch(n_test, test_seed, steps=steps, window=window)
    batches = partial(parity_batch, batch_size, steps=steps, window=window)
    return train_tagger(
        model,
        batches,
        test,
        n_updates=n_updates,
        rng=data,
        eval_every=eval_every,
    )


def direction_run(
    seed: int,
    bidirectional: bool,
    hidden_size: int,
    *,
    cell: str = "gru",
    n_symbols: int = 4,
    steps: int = 16,
    shift: int = 2,
    batch_size: int = 32,
    n_updates: int = 300,
    n_test: int = 1000,
    test_seed: int = 999,
) -> TaggerRun:
    """Experiment 2 for one seed: one way or both on :func:`future_tag_batch`.

    The chapter compares a one-way GRU of H = 18 (1355 parameters) with a
    bidirectional one of H = 12 per direction (1373), 300 updates. The
    run's ``step_accuracy`` shows the two kinds of steps: the future ones
    (``[:T - d]``) and the "none" ones (``[T - d:]``).
    """
    weights, data = _streams(seed, 2)
    model = tagger(
        cell,
        n_symbols,
        hidden_size,
        n_symbols + 1,
        bidirectional=bidirectional,
        rng=weights,
    )
    options = dict(n_symbols=n_symbols, steps=steps, shift=shift)
    test = future_tag_batch(n_test, test_seed, **options)
    batches = partial(future_tag_batch, batch_size, **options)
    return train_tagger(model, batches, test, n_updates=n_updates, rng=data)


def time_per_update(
    model: RecurrentReadout, batch: TaggingBatch, repeats: int = 100
) -> float:
    """CPU seconds of one forward and backward pass (``time.process_time``).

    The mean over ``repeats`` calls of :func:`tagger_loss_and_grads` on
    ``batch``. A measurement of this machine, to report, not to assert.
    """
    repeats = check_int("repeats", repeats)
    tagger_loss_and_grads(model, batch)  # warm up
    start = time.process_time()
    for _ in range(repeats):
        tagger_loss_and_grads(model, batch)
    return (time.process_time() - start) / repeats


# ---------------------------------------------- padded batches (Reber strings)


class StringSet(NamedTuple):
    """Reber strings of different lengths, padded into one array.

    Attributes:
        strings: the N strings.
        ids: ``(T, N)`` int64 indices in :data:`tutor.data.reber.ALPHABET`,
            T the longest length; -1 after each string's end (padding).
        lengths: ``(N,)`` int64.
        labels: ``(N,)`` int64: 1 for a valid string, 0 for an invalid one.
    """

    strings: list[str]
    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray


def corrupt(string: str, rng: int | np.random.Generator) -> str:
    """Replace one interior symbol of ``string`` so that it is no longer valid.

    The position (not the first or last) and the new symbol (one of T, S, X,
    P, V) are drawn until :func:`tutor.data.reber.is_valid` says no. The
    first and last symbols stay B and E: only the inside gives it away.
    """
    if len(string) < 3:
        raise ValueError(
            f"string must have at least 3 symbols (one inside B...E); got "
            f"{string!r}."
        )
    rng = as_rng(rng)
    while True:
        i = rng.integers(1, len(string) - 1)
        changed = (
            string[:i] + INTERIOR[rng.integers(len(INTERIOR))] + string[i + 1 :]
        )
        if not reber.is_valid(changed):
            return changed


def reber_classification_set(
    n_strings: int, rng: int | np.random.Generator
) -> StringSet:
    """Half valid Reber strings, half corrupted ones (every second string).

    Strings come from :func:`tutor.data.reber.generate` (lengths 5 and up,
    median 7); every second one goes through :func:`corrupt`. Labels come
    from :func:`tutor.data.reber.is_valid`.
    """
    n = check_int("n_strings", n_strings)
    rng = as_rng(rng)
    strings = []
    for k in range(n):
        string = reber.generate(rng)
        strings.append(corrupt(string, rng) if k % 2 else string)
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    ids = np.full((lengths.max(), n), -1, dtype=np.int64)
    for b, string in enumerate(strings):
        ids[: lengths[b], b] = reber.symbol_indices(string)
    labels = np.array([reber.is_valid(s) for s in strings], dtype=np.int64)
    return StringSet(strings, ids, lengths, labels)


def string_batch(
    data: StringSet, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Some strings of ``data``, one-hot and padded to the longest of them.

    Args:
        data: a :class:`StringSet`.
        index: ``(B,)`` positions of the strings in ``data``.

    Returns:
        ``(x, lengths, labels)``: x ``(T, B, 7)`` with zero rows after each
        string's end (T = the longest of the B), lengths and labels ``(B,)``.
    """
    lengths = data.lengths[index]
    ids = data.ids[: lengths.max(), index]
    return _one_hot(ids, N_SYMBOLS), lengths, data.labels[index]


def classifier_loss_and_grads(
    model: RecurrentReadout,
    x: np.ndarray,
    lengths: np.ndarray,
    labels: np.ndarray,
    *,
    at_ends: bool = True,
) -> tuple[float, dict[str, np.ndarray]]:
    """Classify each sequence from one state; the loss and the gradients.

    With ``at_ends``, ``forward(x, lengths=lengths)`` returns as final state
    each sequence's state at its own last step. Without, the final state is
    the one at step T, after the padding: the mistake the chapter measures.

    Args:
        model: a one-way recurrent layer ``D -> H`` and a readout ``H -> C``.
        x: ``(T, B, D)``; lengths, labels: ``(B,)``.

    Returns:
        ``(loss, model.grads)``.
    """
    _, h = model.layer.forward(x, lengths=lengths if at_ends else None)
    loss, dlogits = softmax_cross_entropy(model.readout.forward(h), labels)
    # All the gradient enters through the final state (B, H); with lengths
    # the layer sends it to each sequence's own last step.
    model.layer.backward(None, model.readout.backward(dlogits))
    return loss, model.grads


def _final_states(
    model: RecurrentReadout, data: StringSet, batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(h_end, h_T, padded)`` of every string, in batches of ``batch_size``.

    h_end ``(N, H)``: the state at each string's own end (``lengths=``);
    h_T ``(N, H)``: the state at step T of its batch (no ``lengths``);
    padded ``(N,)``: the string is shorter than its batch's longest.
    """
    ends, lasts, padded = [], [], []
    for start in range(0, len(data.labels), batch_size):
        index = np.arange(start, min(start + batch_size, len(data.labels)))
        x, lengths, _ = string_batch(data, index)
        ends.append(model.layer.forward(x, lengths=lengths)[1])
        lasts.append(model.layer.forward(x)[1])
        padded.append(lengths < x.shape[0])
    return np.concatenate(ends), np.concatenate(lasts), np.concatenate(padded)


def classification_accuracy(
    model: RecurrentReadout,
    data: StringSet,
    *,
    at_ends: bool = True,
    batch_size: int = 50,
) -> float:
    """The share of strings classified right, from the state at each end or T.

    The strings are read in batches of ``batch_size`` in their order, each
    batch padded to its longest string.
    """
    batch_size = check_int("batch_size", batch_size)
    h_end, h_T, _ = _final_states(model, data, batch_size)
    logits = model.readout.forward(h_end if at_ends else h_T)
    return float((logits.argmax(axis=-1) == data.labels).mean())


def state_drift(
    model: RecurrentReadout, data: StringSet, batch_size: int = 50
) -> float:
    """The median relative move of the state over the padding.

    ``|h_T - h_end| / |h_end|`` per string, ``h_end`` its state at its own
    end and ``h_T`` the state at step T of its batch. The median is over
    the strings that are padded in their batch (shorter than its longest).
    """
    h_end, h_T, padded = _final_states(model, data, batch_size)
    moved = np.linalg.norm(h_T - h_end, axis=1) / np.linalg.norm(h_end, axis=1)
    return float(np.median(moved[padded]))


class ClassifierRun(NamedTuple):
    """One trained Reber classifier, scored on the test strings.

    Attributes:
        model: the trained network.
        accuracy_at_ends: reading each string's state at its own end.
        accuracy_at_last_step: the same network reading the state at step T
            of each test batch, after the padding.
        drift: :func:`state_drift` on the test strings.
        n_parameters: by the book's rule.
        seconds: CPU time of training (``time.process_time``).
    """

    model: RecurrentReadout
    accuracy_at_ends: float
    accuracy_at_last_step: float
    drift: float
    n_parameters: int
    seconds: float


def train_classifier(
    seed: int,
    test: StringSet,
    *,
    at_ends: bool = True,
    cell: str = "gru",
    hidden_size: int = 16,
    n_train: int = 2000,
    n_updates: int = 400,
    batch_size: int = 32,
    lr: float = 0.01,
    clip_norm: float = 1.0,
) -> ClassifierRun:
    """Experiment 3 for one seed: classify valid and corrupted Reber strings.

    Draws ``n_train`` strings (:func:`reber_classification_set`); each update
    takes ``batch_size`` of them at random, whatever their lengths, padded
    to the longest. The loss reads the state at each string's end
    (``at_ends``) or at step T (the mistake, trained in). Both readings are
    then scored on ``test``.
    """
    weights, data = _streams(seed, 2)
    layer = LAYERS[check_cell(cell)](N_SYMBOLS, hidden_size, rng=weights)
    model = RecurrentReadout(layer, Dense(hidden_size, 2, rng=weights))
    strings = reber_classification_set(n_train, data)
    start = time.process_time()
    train(
        lambda index: classifier_loss_and_grads(
            model, *string_batch(strings, index), at_ends=at_ends
        ),
        Adam(model.params, lr=lr),
        lambda step: data.integers(0, n_train, batch_size),
        n_updates,
        clip_norm=clip_norm,
        progress=False,
    )
    seconds = time.process_time() - start
    return ClassifierRun(
        model=model,
        accuracy_at_ends=classification_accuracy(model, test),
        accuracy_at_last_step=classification_accuracy(
            model, test, at_ends=False
        ),
        drift=state_drift(model, test),
        n_parameters=count_network_parameters(layer, model.readout),
        seconds=seconds,
    )


# ------------------------------------------------------------ beam search


class TextSplit(NamedTuple):
    """A shipped text as ids: nine tenths to train, the last tenth held out."""

    vocab: Vocabulary
    train_ids: np.ndarray
    valid_ids: np.ndarray


def text_split(name: str = "python_reference") -> TextSplit:
    """The split of chapter "Text" (:func:`tutor.data.text.load_text`)."""
    text = load_text(name)
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    n_valid = len(ids) // 10
    return TextSplit(vocab, ids[:-n_valid], ids[-n_valid:])


def beam_model(
    seed: int,
    text: TextSplit,
    *,
    cell: str = "lstm",
    hidden_size: int = 64,
    n_updates: int = 300,
    batch_size: int = 16,
    seq_len: int = 25,
    lr: float = 0.02,
) -> CharLM:
    """A small float32 :class:`tutor.charlm.CharLM` trained on ``train_ids``.

    Short training on purpose: a model that is still unsure gives beam
    search something to find.
    """
    model = CharLM(
        len(text.vocab),
        hidden_size,
        cell,
        rng=seed,
        dtype=np.float32,
        vocab=text.vocab,
    )
    train_charlm(
        model,
        text.train_ids,
        batch_size=batch_size,
        seq_len=seq_len,
        lr=lr,
        n_updates=n_updates,
        progress=False,
    )
    return model


def held_out_primes(
    text: TextSplit,
    rng: int | np.random.Generator,
    *,
    n_primes: int = 20,
    prime_length: int = 20,
    room: int = 20,
) -> list[np.ndarray]:
    """``n_primes`` primes from the held-out text, each ending with a space.

    Each prime is ``prime_length`` characters followed by a space (so
    ``prime_length + 1`` ids), at a random place of ``text.valid_ids`` with
    at least ``room`` characters after it; no place is drawn twice.
    """
    n = check_int("n_primes", n_primes)
    P = check_int("prime_length", prime_length)
    room = check_int("room", room, minimum=0)
    space = int(text.vocab.encode(" ")[0])
    ends = P + np.flatnonzero(
        text.valid_ids[P : len(text.valid_ids) - room] == space
    )
    if len(ends) < n:
        raise ValueError(
            f"n_primes must be at most {len(ends)}, the places in the held-out "
            f"text where a prime can end; got {n}."
        )
    chosen = as_rng(rng).choice(ends, n, replace=False)
    return [text.valid_ids[end - P : end + 1] for end in chosen]


class BeamGains(NamedTuple):
    """Greedy decoding and wider beams on the same primes.

    Attributes:
        widths: the beam widths, 1 (greedy) among them.
        primes: the ``(P_i,)`` id arrays decoded from.
        log_probs: ``(n_primes, n_widths)`` the log-probability (nats) of the
            best continuation each width found, given the prime.
        sequences: ``sequences[i][j]``, the ids of that continuation.
    """

    widths: tuple[int, ...]
    primes: list[np.ndarray]
    log_probs: np.ndarray
    sequences: list[list[np.ndarray]]

    @property
    def gains(self) -> np.ndarray:
        """``(n_primes, n_widths)``: log_probs minus greedy's, per prime."""
        greedy = self.widths.index(1)
        return self.log_probs - self.log_probs[:, greedy : greedy + 1]


def beam_gains(
    model: CharLM,
    primes: Sequence[np.ndarray],
    widths: Sequence[int] = (1, 2, 4, 8),
    length: int = 20,
) -> BeamGains:
    """Decode ``length`` ids after every prime with every width; the scores.

    No end symbol: every continuation has ``length`` ids, so their
    log-probabilities compare directly.
    """
    widths = tuple(check_int("widths[i]", w) for w in widths)
    if 1 not in widths:
        raise ValueError(
            f"widths must include 1, greedy decoding, which the gains are "
            f"measured against; got widths={widths}."
        )
    if len(primes) == 0:
        raise ValueError("primes must hold at least one prime; got none.")
    log_probs = np.zeros((len(primes), len(widths)))
    sequences = []
    for i, prime in enumerate(primes):
        found = [model.beam_search_ids(prime, length, w) for w in widths]
        log_probs[i] = [result.scores[0] for result in found]
        sequences.append([result.sequences[0] for result in found])
    return BeamGains(widths, list(primes), log_probs, sequences)


class GreedyTrap(NamedTuple):
    """A prime where greedy decoding's first choice leads to a worse sequence.

    Attributes:
        index: the prime's position in ``BeamGains.primes``.
        prime: the prime, as text.
        greedy: greedy decoding's continuation.
        greedy_log_prob: its log-probability (nats).
        beam: the continuation of the beam.
        beam_log_prob: its log-probability (nats).
    """

    index: int
    prime: str
    greedy: str
    greedy_log_prob: float
    beam: str
    beam_log_prob: float


def greedy_trap(
    result: BeamGains, vocab: Vocabulary, width: int = 8
) -> GreedyTrap | None:
    """The prime where greedy decoding loses most to beam search of ``width``.

    Only primes where greedy's first character differs from the beam's
    count: greedy took the single most probable next character, the beam
    kept others and found a continuation whose total is higher. Returns
    ``None`` when no prime shows it.
    """
    if width not in result.widths:
        raise ValueError(
            f"width must be one of the widths searched, {result.widths}; "
            f"got {width}."
        )
    g, b = result.widths.index(1), result.widths.index(width)
    first_differs = np.array(
        [found[g][0] != found[b][0] for found in result.sequences]
    )
    loss = result.log_probs[:, b] - result.log_probs[:, g]  # >= 0 if better
    loss[~first_differs] = 0
    i = int(np.argmax(loss))
    if loss[i] <= 0:
        return None
    found, scores = result.sequences[i], result.log_probs[i]
    return GreedyTrap(
        i,
        vocab.decode(result.primes[i]),
        vocab.decode(found[g]),
        float(scores[g]),
        vocab.decode(found[b]),
        float(scores[b]),
    )
