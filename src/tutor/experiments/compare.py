"""Simple RNN, LSTM and GRU at equal parameter count, on three tasks, over several seeds.

The chapter "Gated recurrent units" repeats the comparison of Chung et al.
(2014) at small scale: each kind of recurrent layer (a *cell*: ``"rnn"``,
``"lstm"`` or ``"gru"``) is given about the same number of parameters, trained
on the same task with the same recipe for several seeds, and scored on four
things: whether it succeeds, after how many updates, how long one update takes,
and how many parameters it has. The three tasks come from the earlier chapters:

- ``"adding"``: the adding problem with minimal length T = 50
  (:mod:`tutor.data.adding`); a fresh batch every update, mean squared error at
  the last step, Adam with gradient-norm clipping. Success: at least
  ``success_accuracy`` of a fixed set of fresh sequences answered within the
  paper's tolerance 0.04.
- ``"reber"``: the embedded Reber grammar with the strict criterion, trained as in
  :func:`tutor.experiments.reber.train_reber` (256 training and 256 test strings,
  batches grouped by length, at most 150 epochs). Success: every training and
  every test string right.
- ``"recall"``: delayed recall (:mod:`tutor.data.recall`) with a short delay; a
  fresh batch of short sequences every update, cross-entropy at every step that
  has a target. Success: at least ``success_accuracy`` of the targets of a fixed
  set of fresh sequences recalled.

A run stops as soon as it succeeds, so cheap successes cost little. The sizes
are matched by :func:`matched_hidden_size`: the LSTM's size for each task is
fixed (:data:`LSTM_SIZES`) and the other cells get the hidden size whose
parameter count (:func:`count_parameters`) is closest to the LSTM's.

:func:`run_sweep` runs every (task, cell, seed) and :func:`summarize` turns the
runs into one row per task and cell. The chapter runs three seeds; a larger sweep
is one call away, ``run_sweep(seeds=range(10))``, or from a shell, one task at a
time (``--set cells=lstm,gru`` for some of the cells, ``--set gate_bias=1``)::

    tutor reproduce compare --seeds 10 --set task=reber

Shapes: T steps, B sequences, D inputs, H hidden units, O outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import numpy as np

from tutor import _cells
from tutor._checks import check_int
from tutor.data import reber
from tutor.data.adding import adding_accuracy, adding_problem
from tutor.data.recall import delayed_recall
from tutor.experiments.adding import adding_loss_and_grads, adding_predictions
from tutor.experiments.reber import (
    draw_strings,
    length_batches,
    reber_loss_and_grads,
    score_strings,
    select,
)
from tutor.feedforward import Dense
from tutor.functional import softmax_cross_entropy
from tutor.optim import Adam, clip_grad_norm

__all__ = [
    "CELLS",
    "TASKS",
    "GATE_BIAS",
    "LSTM_SIZES",
    "DEFAULTS",
    "task_shape",
    "make_layer",
    "count_parameters",
    "matched_hidden_size",
    "matched_sizes",
    "Run",
    "Progress",
    "train_until_success",
    "run_adding",
    "run_reber",
    "run_recall",
    "run_one",
    "run_sweep",
    "summarize",
    "format_table",
]

#: The recurrent layers compared, a simple (Elman) RNN with tanh units, an LSTM and a GRU.
CELLS = _cells.CELLS

#: The tasks, in the order of the chapter's table.
TASKS = ("adding", "reber", "recall")

#: The gated cells' "remember" bias at initialisation (the forget bias of the LSTM, the
#: update bias of the GRU).
GATE_BIAS = 3.0

#: The LSTM's hidden size for each task; it sets the parameter budget of the other cells.
LSTM_SIZES = {"adding": 8, "reber": 12, "recall": 8}

#: The default settings of each task (any of them can be changed per call).
DEFAULTS: dict[str, dict[str, float | int]] = {
    "adding": {
        "T": 50,
        "lr": 0.01,
        "batch_size": 32,
        "clip_norm": 1.0,
        "max_updates": 1200,
        "eval_every": 100,
        "n_eval": 512,
        "success_accuracy": 0.95,
    },
    "reber": {
        "n_train": 256,
        "n_test": 256,
        "lr": 0.03,
        "batch_size": 16,
        "max_epochs": 150,
    },
    "recall": {
        "delay": 5,
        "n_symbols": 4,
        "n_steps": 15,
        "lr": 0.01,
        "batch_size": 32,
        "clip_norm": 1.0,
        "max_updates": 600,
        "eval_every": 50,
        "n_eval": 512,
        "success_accuracy": 0.99,
    },
}


def task_shape(task: str, n_symbols: int | None = None) -> tuple[int, int]:
    """The number of inputs D and of outputs O of a task's network.

    Args:
        task: one of :data:`TASKS`.
        n_symbols: for ``"recall"``, the alphabet size K (default: the task's default).

    Returns:
        ``(D, O)``: ``(2, 1)`` for the adding problem, ``(7, 7)`` for the Reber grammar,
        ``(K, K)`` for delayed recall.
    """
    _check_choice("task", task, TASKS)
    if task == "adding":
        return 2, 1
    if task == "reber":
        return len(reber.ALPHABET), len(reber.ALPHABET)
    k = int(DEFAULTS["recall"]["n_symbols"] if n_symbols is None else n_symbols)
    return k, k


def make_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    rng: int | np.random.Generator,
    *,
    gate_bias: float = GATE_BIAS,
):
    """Build a recurrent layer of the given kind, with PyTorch's initialisation.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_size: D.
        hidden_size: H.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        gate_bias: the gated cells' "remember" bias at initialisation: the LSTM's
            ``forget_bias`` and the GRU's ``update_bias``, both of which make a unit
            keep its state by default. The simple RNN has no such gate and ignores it.

    Returns:
        A :class:`tutor.rnn.RNN`, :class:`tutor.lstm.LSTM` or :class:`tutor.gru.GRU`.
    """
    _cells.check_cell(cell)
    return _cells.make_layer(
        cell,
        input_size,
        hidden_size,
        rng=rng,
        gate_bias=None if cell == "rnn" else gate_bias,
    )


def count_parameters(
    cell: str, input_size: int, hidden_size: int, output_size: int
) -> int:
    """The number of free parameters of a recurrent layer ``D -> H`` and a readout ``H -> O``.

    The layers store two bias vectors (PyTorch's convention). Where only their sum
    matters, the pair counts as one bias per unit, as in the papers: for the simple
    RNN, for the four blocks of the LSTM, and for the GRU's gates r and z. The GRU's
    candidate keeps both, since the reset gate multiplies ``b_hn`` and not ``b_in``.
    So, with ``G`` blocks, the layer has ``G H (D + H + 1)`` parameters, plus ``H`` for
    the GRU; the readout has ``O (H + 1)``.

    Args:
        cell: ``"rnn"`` (G = 1), ``"lstm"`` (G = 4) or ``"gru"`` (G = 3).
        input_size: D.
        hidden_size: H.
        output_size: O.

    Returns:
        The count, an int.

    Example:
        >>> count_parameters("lstm", 2, 8, 1), count_parameters("gru", 2, 9, 1)
        (361, 343)
    """
    _cells.check_cell(cell)
    check_int("output_size", output_size)
    return _cells.count_parameters(cell, input_size, hidden_size, output_size)


def matched_hidden_size(
    cell: str, n_params: int, input_size: int, output_size: int
) -> int:
    """The hidden size H whose :func:`count_parameters` is closest to ``n_params``.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        n_params: the parameter budget.
        input_size: D.
        output_size: O.

    Returns:
        H >= 1; of two sizes equally close, the smaller.
    """
    n_params = check_int("n_params", n_params)
    best, H = 1, 1
    while True:
        count = count_parameters(cell, input_size, H, output_size)
        if abs(count - n_params) < abs(
            count_parameters(cell, input_size, best, output_size) - n_params
        ):
            best = H
        if count > n_params:
            return best
        H += 1


def matched_sizes(
    task: str, lstm_size: int | None = None, cells: Sequence[str] = CELLS
) -> dict[str, int]:
    """The hidden size of each cell for a task, matched to the LSTM's parameter count.

    Args:
        task: one of :data:`TASKS`.
        lstm_size: the LSTM's H; ``None`` means :data:`LSTM_SIZES` of the task.
        cells: the cells to size.

    Returns:
        ``{cell: H}``.
    """
    D, n_out = task_shape(task)
    lstm_size = (
        LSTM_SIZES[task]
        if lstm_size is None
        else check_int("lstm_size", lstm_size)
    )
    budget = count_parameters("lstm", D, lstm_size, n_out)
    return {cell: matched_hidden_size(cell, budget, D, n_out) for cell in cells}


class Run(NamedTuple):
    """The record of one training run.

    Attributes:
        task: ``"adding"``, ``"reber"`` or ``"recall"``.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        hidden_size: H.
        n_params: :func:`count_parameters` of the network.
        seed: the seed of the weights and the data.
        success: whether the task's success criterion was met within the budget.
        steps: the number of updates after which success was first measured, or the
            number of updates taken when it never was.
        seconds_per_step: the mean wall time of one update (forward, backward, clipping
            and optimiser step; evaluations not included).
        score: the last measured score: the fraction of sequences answered within 0.04
            (adding); the fraction of training strings right, or once all are, the smaller
            of that and the fraction of test strings right (reber); the fraction of
            targets recalled (recall).
        curve: ``(k, 2)``, the pairs (updates so far, score) of every evaluation.
    """

    task: str
    cell: str
    hidden_size: int
    n_params: int
    seed: int
    success: bool
    steps: int
    seconds_per_step: float
    score: float
    curve: np.ndarray


class Progress(NamedTuple):
    """What :func:`train_until_success` returns.

    Attributes:
        success: whether a score reached the target.
        updates: the number of updates made.
        seconds: the wall time spent in ``update`` (not in ``score``).
        curve: ``(k, 2)``, the pairs (updates so far, score) of every evaluation.
    """

    success: bool
    updates: int
    seconds: float
    curve: np.ndarray


def train_until_success(
    update: Callable[[], int | None],
    score: Callable[[], float],
    *,
    max_rounds: int,
    target: float,
    eval_every: int = 1,
) -> Progress:
    """Train in rounds, scoring now and then, until the score hits the target.

    Args:
        update: one round of training, e.g. one update, or one epoch of updates;
            it returns the number of updates it made (``None`` counts as 1).
        score: a function of no arguments that measures the network, e.g. an
            accuracy.
        max_rounds: the budget, in rounds.
        target: success means ``score() >= target``.
        eval_every: the number of rounds between measurements; the score is also
            measured after the last round.

    Returns:
        A :class:`Progress`.
    """
    max_rounds = check_int("max_rounds", max_rounds)
    eval_every = check_int("eval_every", eval_every)
    updates, seconds, curve, success = 0, 0.0, [], False
    for round_ in range(1, max_rounds + 1):
        start = time.perf_counter()
        made = update()
        # only training is timed, not scoring
        seconds += time.perf_counter() - start
        updates += 1 if made is None else made
        if round_ % eval_every == 0 or round_ == max_rounds:
            curve.append((updates, score()))
            if curve[-1][1] >= target:
                success = True
                break
    return Progress(success, updates, seconds, np.array(curve, dtype=float))


def run_adding(
    cell: str,
    hidden_size: int,
    seed: int,
    *,
    gate_bias: float = GATE_BIAS,
    **settings,
) -> Run:
    """Train one network on the adding problem until it succeeds or the budget is spent.

    The seed draws the weights (layer, then readout) and then every training batch;
    the evaluation sequences come from their own seed, ``[seed, 1]``, so that all
    cells with the same seed are scored on the same sequences. The readout is a
    :class:`tutor.feedforward.Dense` ``H -> 1`` followed by a sigmoid.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        hidden_size: H.
        seed: an int.
        gate_bias: as for :func:`make_layer`.
        **settings: any key of ``DEFAULTS["adding"]``: ``T``, ``lr``, ``batch_size``,
            ``clip_norm``, ``max_updates``, ``eval_every``, ``n_eval``, ``success_accuracy``.

    Returns:
        A :class:`Run`.
    """
    s = _settings("adding", settings)
    rng = np.random.default_rng(seed)
    layer = make_layer(cell, 2, hidden_size, rng, gate_bias=gate_bias)
    readout = Dense(hidden_size, 1, rng=rng)
    optimizer = Adam(_cells.RecurrentReadout(layer, readout).params, lr=s["lr"])
    evaluation = adding_problem(
        s["n_eval"], s["T"], np.random.default_rng([seed, 1])
    )

    def update() -> None:
        batch = adding_problem(s["batch_size"], s["T"], rng)
        _, grads = adding_loss_and_grads(layer, readout, batch, "sigmoid")
        clip_grad_norm(grads, s["clip_norm"])
        optimizer.step(grads)

    def score() -> float:
        predictions = adding_predictions(layer, readout, evaluation, "sigmoid")
        return adding_accuracy(predictions, evaluation.targets)

    progress = train_until_success(
        update,
        score,
        max_rounds=s["max_updates"],
        target=s["success_accuracy"],
        eval_every=s["eval_every"],
    )
    return _record("adding", cell, layer, readout, seed, progress)


def run_recall(
    cell: str,
    hidden_size: int,
    seed: int,
    *,
    gate_bias: float = GATE_BIAS,
    **settings,
) -> Run:
    """Train one network on delayed recall until it succeeds or the budget is spent.

    Every update draws ``batch_size`` fresh sequences of ``n_steps`` symbols, each
    read from the zero state; the loss is the cross-entropy of the symbol read
    ``delay`` steps earlier, at every step that has one. The readout is a
    :class:`tutor.feedforward.Dense` ``H -> K`` and a softmax. The seed draws the
    weights and the batches; the evaluation sequences come from ``[seed, 1]``.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        hidden_size: H.
        seed: an int.
        gate_bias: as for :func:`make_layer`.
        **settings: any key of ``DEFAULTS["recall"]``: ``delay``, ``n_symbols``,
            ``n_steps``, ``lr``, ``batch_size``, ``clip_norm``, ``max_updates``,
            ``eval_every``, ``n_eval``, ``success_accuracy``.

    Returns:
        A :class:`Run`.
    """
    s = _settings("recall", settings)
    K = s["n_symbols"]
    rng = np.random.default_rng(seed)
    layer = make_layer(cell, K, hidden_size, rng, gate_bias=gate_bias)
    readout = Dense(hidden_size, K, rng=rng)
    model = _cells.RecurrentReadout(layer, readout)
    optimizer = Adam(model.params, lr=s["lr"])

    def draw(n: int, source) -> object:
        return delayed_recall(
            s["n_steps"], s["delay"], source, n_streams=n, n_symbols=K
        )

    evaluation = draw(s["n_eval"], np.random.default_rng([seed, 1]))

    def update() -> None:
        batch = draw(s["batch_size"], rng)
        out, _ = layer.forward(batch.inputs)
        _, dlogits = softmax_cross_entropy(
            readout.forward(out), batch.targets, mask=batch.mask
        )
        layer.backward(readout.backward(dlogits))
        grads = model.grads
        clip_grad_norm(grads, s["clip_norm"])
        optimizer.step(grads)

    def score() -> float:
        out, _ = layer.forward(evaluation.inputs)
        predicted = readout.forward(out).argmax(axis=-1)
        return float((predicted == evaluation.targets)[evaluation.mask].mean())

    progress = train_until_success(
        update,
        score,
        max_rounds=s["max_updates"],
        target=s["success_accuracy"],
        eval_every=s["eval_every"],
    )
    return _record("recall", cell, layer, readout, seed, progress)


def run_reber(
    cell: str,
    hidden_size: int,
    seed: int,
    *,
    gate_bias: float = GATE_BIAS,
    **settings,
) -> Run:
    """Train one network on the embedded Reber grammar until every string is right.

    The recipe of :func:`tutor.experiments.reber.train_reber`, for any of the three
    cells: the seed draws the training strings, the test strings, the weights and
    then every epoch's batches (strings of similar length, one Adam update per
    batch). After every epoch the training strings are scored with the strict
    criterion (:func:`tutor.experiments.reber.score_strings`), and the test strings
    too once every training string is right; the run stops when every string of both
    sets is right, and otherwise after ``max_epochs`` epochs. For the LSTM and the
    simple RNN the training is the same, number for number, as ``train_reber``'s.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        hidden_size: H.
        seed: an int.
        gate_bias: as for :func:`make_layer`.
        **settings: any key of ``DEFAULTS["reber"]``: ``n_train``, ``n_test``, ``lr``,
            ``batch_size``, ``max_epochs``.

    Returns:
        A :class:`Run`; ``steps`` counts updates (batches), not epochs.
    """
    s = _settings("reber", settings)
    rng = np.random.default_rng(seed)
    train_set, test_set = draw_strings(s["n_train"], s["n_test"], rng)
    train_data = reber.batch(train_set, embedded=True)
    test_data = reber.batch(test_set, embedded=True)
    lengths = np.array([len(string) for string in train_set])
    n_symbols = len(reber.ALPHABET)
    layer = make_layer(cell, n_symbols, hidden_size, rng, gate_bias=gate_bias)
    readout = Dense(hidden_size, n_symbols, rng=rng)
    optimizer = Adam(_cells.RecurrentReadout(layer, readout).params, lr=s["lr"])

    def epoch() -> int:
        batches = length_batches(lengths, s["batch_size"], rng)
        for columns in batches:
            _, grads = reber_loss_and_grads(
                layer, readout, select(train_data, columns)
            )
            optimizer.step(grads)
        return len(batches)

    def score() -> float:
        on_train = score_strings(layer, readout, train_data).strings
        if on_train < 1.0:
            return on_train  # not solved: no need to score the test strings
        return min(on_train, score_strings(layer, readout, test_data).strings)

    progress = train_until_success(
        epoch, score, max_rounds=s["max_epochs"], target=1.0
    )
    return _record("reber", cell, layer, readout, seed, progress)


def run_one(
    task: str,
    cell: str,
    hidden_size: int,
    seed: int,
    *,
    gate_bias: float = GATE_BIAS,
    **settings,
) -> Run:
    """Run one (task, cell, seed): :func:`run_adding`, :func:`run_reber` or :func:`run_recall`."""
    _check_choice("task", task, TASKS)
    runner = {"adding": run_adding, "reber": run_reber, "recall": run_recall}[
        task
    ]
    return runner(cell, hidden_size, seed, gate_bias=gate_bias, **settings)


def run_sweep(
    tasks: Sequence[str] = TASKS,
    cells: Sequence[str] = CELLS,
    seeds: Iterable[int] = (0, 1),
    *,
    lstm_sizes: dict[str, int] | None = None,
    gate_bias: float = GATE_BIAS,
    settings: dict[str, dict] | None = None,
    verbose: bool = False,
) -> list[Run]:
    """Train every cell on every task for every seed, at matched parameter counts.

    Args:
        tasks: a subset of :data:`TASKS`.
        cells: a subset of :data:`CELLS`.
        seeds: the seeds; each seed gives one run per task and cell.
        lstm_sizes: ``{task: H}`` for the LSTM, which fixes the parameter budget of the
            task (:func:`matched_sizes`); tasks left out use :data:`LSTM_SIZES`.
        gate_bias: the gated cells' remember bias (:func:`make_layer`).
        settings: ``{task: {key: value}}``, changes to :data:`DEFAULTS`, e.g.
            ``{"adding": {"max_updates": 3000}}``.
        verbose: print one line per run as it finishes.

    Returns:
        The runs, a list of :class:`Run`, task by task, then cell by cell, then seed by seed.
    """
    seeds = [int(seed) for seed in seeds]
    lstm_sizes = dict(lstm_sizes or {})
    settings = dict(settings or {})
    for name in (*tasks, *lstm_sizes, *settings):
        _check_choice("task", name, TASKS)
    for cell in cells:
        _cells.check_cell(cell)
    runs = []
    for task in tasks:
        sizes = matched_sizes(task, lstm_sizes.get(task), cells)
        for cell in cells:
            for seed in seeds:
                run = run_one(
                    task,
                    cell,
                    sizes[cell],
                    seed,
                    gate_bias=gate_bias,
                    **settings.get(task, {}),
                )
                runs.append(run)
                if verbose:
                    print(_describe(run), flush=True)
    return runs


def summarize(runs: Iterable[Run]) -> list[dict[str, object]]:
    """One row per (task, cell), in the order the runs come.

    Returns:
        A list of dicts with the keys ``task``, ``cell``, ``H``, ``parameters``, ``runs``,
        ``successes``, ``success rate``, ``median steps`` (over the successful runs; NaN
        if none), ``max steps`` (the same, largest), ``median updates`` (over all runs,
        a run that failed counting the whole budget it used, so never NaN) and ``ms per
        step`` (the median over all runs, in milliseconds; it depends on the machine).
    """
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.task, run.cell), []).append(run)
    rows = []
    for (task, cell), group in groups.items():
        steps = [run.steps for run in group if run.success]
        rows.append(
            {
                "task": task,
                "cell": cell,
                "H": group[0].hidden_size,
                "parameters": group[0].n_params,
                "runs": len(group),
                "successes": sum(run.success for run in group),
                "success rate": float(np.mean([run.success for run in group])),
                "median steps": float(np.median(steps))
                if steps
                else float("nan"),
                "max steps": float(max(steps)) if steps else float("nan"),
                # A failed run counts its whole budget: a lower bound on its updates to
                # success, so the median of all runs is defined even when few succeed.
                "median updates": float(
                    np.median([run.steps for run in group])
                ),
                "ms per step": 1000
                * float(np.median([run.seconds_per_step for run in group])),
            }
        )
    return rows


def format_table(rows: Sequence[dict[str, object]]) -> str:
    """The rows of :func:`summarize` as a plain-text table, one line per row."""
    header = (
        f"{'task':<8}{'cell':<6}{'H':>4}{'params':>8}{'solved':>9}"
        f"{'median steps':>14}{'ms/step':>9}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        solved = f"{row['successes']}/{row['runs']}"
        steps = (
            "-"
            if np.isnan(row["median steps"])
            else f"{row['median steps']:.0f}"
        )
        lines.append(
            f"{row['task']:<8}{row['cell']:<6}{row['H']:>4}{row['parameters']:>8}{solved:>9}"
            f"{steps:>14}{row['ms per step']:>9.2f}"
        )
    return "\n".join(lines)


def _record(
    task: str, cell: str, layer, readout: Dense, seed: int, progress: Progress
) -> Run:
    """Turn the result of :func:`train_until_success` into a :class:`Run`."""
    n_out = readout.params["weight"].shape[0]
    return Run(
        task=task,
        cell=cell,
        hidden_size=layer.hidden_size,
        n_params=count_parameters(
            cell, layer.input_size, layer.hidden_size, n_out
        ),
        seed=int(seed),
        success=progress.success,
        steps=progress.updates,
        seconds_per_step=progress.seconds / progress.updates,
        score=float(progress.curve[-1, 1]),
        curve=progress.curve,
    )


def _settings(task: str, given: dict) -> dict:
    unknown = sorted(set(given) - set(DEFAULTS[task]))
    if unknown:
        raise ValueError(
            f"unknown settings {unknown} for the task {task!r}; the settings are "
            f"{sorted(DEFAULTS[task])}."
        )
    settings = {**DEFAULTS[task], **given}
    for key, value in settings.items():
        if key in ("lr", "clip_norm", "success_accuracy"):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{key} must be a number > 0; got {value!r}.")
        elif key != "delay":
            settings[key] = check_int(key, value)
        else:
            settings[key] = int(value)
    return settings


def _check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}."
        )


def _describe(run: Run) -> str:
    outcome = (
        f"solved after {run.steps} updates"
        if run.success
        else f"not solved in {run.steps}"
    )
    return (
        f"{run.task:<7}{run.cell:<5}H={run.hidden_size:<3}seed {run.seed}: {outcome}, "
        f"score {run.score:.3f}, {1000 * run.seconds_per_step:.2f} ms per update"
    )
