"""The ``tutor`` command: train a character model, sample from it, reproduce the book's results.

Three subcommands (``tutor --help`` and ``tutor COMMAND --help`` list every option)::

    tutor train-char TEXTFILE [--cell lstm --hidden 128 --seconds 60 --out model.npz]
    tutor sample MODEL.npz [--n 300 --temperature 0.8 --seed 0 --prime "The "]
    tutor reproduce NAME [--seeds 3] [--set KEY=VALUE ...]

``python -m tutor`` is the same command. ``train-char`` trains a
:class:`tutor.charlm.CharLM` on any UTF-8 text file for a time budget and saves it with
:func:`tutor.io.save_model`; ``sample`` loads such a file and prints generated text;
``reproduce`` runs one of the small reproductions of published results listed in
:data:`REPRODUCTIONS` for several seeds and prints a table.

Every mistake (a missing, unreadable, empty or non-UTF-8 file, a bad option, an unknown
name) ends the command with a one-line message on standard error and a non-zero exit
status: 2 for a wrong command line, 1 for anything else. ``tutor --debug ...`` prints
the full traceback before the message.
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from tutor._cells import CELLS
from tutor.experiments import compare
from tutor.train import progress_bar, progress_enabled

__all__ = ["Reproduction", "REPRODUCTIONS", "main"]


class _CommandLineError(Exception):
    """A mistake in how the command was called (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, with no usage block."""

    def error(
        self, message: str
    ) -> None:  # argparse calls this for any bad command line
        raise _CommandLineError(f"{message} (see '{self.prog} --help')")


# ---------------------------------------------------------------------------- reproductions


@dataclass(frozen=True)
class Reproduction:
    """One of the book's reproductions, runnable as ``tutor reproduce NAME``.

    Attributes:
        name: the command-line name.
        summary: one line saying what is reproduced and what to expect.
        run: ``(seed, steps, settings) -> {column: value}``, one row of the table;
            ``steps`` is ``None`` for the default number of training updates.
        settings: the default settings, changed with ``--set KEY=VALUE``.
        choices: ``{key: allowed values}`` for settings that take one of a few words.
    """

    name: str
    summary: str
    run: Callable[[int, int | None, dict], dict[str, float]]
    settings: dict
    choices: dict = field(default_factory=dict)


def _run_delayed_recall(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    from tutor.experiments.bptt import train_recall

    row = {}
    for k in settings["windows"]:
        kwargs = {} if steps is None else {"n_steps": steps * k}
        run = train_recall(settings["delay"], k, seed=seed, **kwargs)
        row[f"accuracy k={k}"] = run.accuracy
    return row


def _run_temporal_xor(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    from tutor.experiments.elman import train_temporal_xor

    run = train_temporal_xor(
        seed,
        hidden_size=settings["hidden"],
        chunk=settings["chunk"],
        n_updates=settings["updates"] if steps is None else steps,
        lr=settings["lr"],
    )
    labels = ("error bit 1", "error bit 2", "error XOR bit")
    return {label: float(e) for label, e in zip(labels, run.errors)}


def _run_adding(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    from tutor.data.adding import (
        adding_accuracy,
        adding_baseline_error,
        adding_problem,
    )
    from tutor.experiments.adding import (
        adding_network,
        adding_predictions,
        length_sweep,
    )

    T, hidden = settings["T"], settings["hidden"]
    sweep = length_sweep(
        [T],
        [seed],
        make_network=lambda s: adding_network(hidden, s, init_scale=0.1),
        lr=settings["lr"],
        n_updates=settings["updates"] if steps is None else steps,
    )
    run = sweep.runs[seed, T]
    test = adding_problem(2560, T, np.random.default_rng([seed, 2]))
    predictions = adding_predictions(run.layer, run.readout, test, "sigmoid")
    return {
        "test MAE": float(sweep.errors[0, 0]),
        "accuracy": adding_accuracy(predictions, test.targets),
        "baseline MAE": adding_baseline_error(T),
    }


def _run_embedded_reber(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    from tutor.experiments.reber import train_reber

    epochs = {} if steps is None else {"max_epochs": steps}
    row = {}
    for cell, hidden in (
        ("lstm", settings["lstm_hidden"]),
        ("rnn", settings["rnn_hidden"]),
    ):
        run = train_reber(cell, hidden, seed=seed, **epochs)
        row[f"{cell} solved"] = float(run.solved)
        row[f"{cell} outer step"] = run.test.outer
    return row


def _run_forget_gate(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    from tutor.experiments.lstm_memory import (
        evaluate_continual_reber,
        train_continual_reber,
    )

    updates = {} if steps is None else {"n_updates": steps}
    row = {}
    for forget_gate, label in (
        (True, "with forget gate"),
        (False, "1997 cell"),
    ):
        run = train_continual_reber(
            forget_gate=forget_gate, seed=seed, **updates
        )
        test = evaluate_continual_reber(
            run.layer,
            run.readout,
            seed=seed + 10_000,
            n_steps=settings["test_steps"],
        )
        row[f"{label}: outer accuracy"] = test.outer_accuracy
        row[f"{label}: final mean |c|"] = float(test.mean_abs_cell[-1])
    return row


def _run_compare(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    task = settings["task"]
    budget = (
        {}
        if steps is None
        else {task: {"max_epochs" if task == "reber" else "max_updates": steps}}
    )
    runs = compare.run_sweep(
        (task,),
        settings["cells"],
        seeds=(seed,),
        gate_bias=settings["gate_bias"],
        settings=budget,
    )
    row = {}
    for run in runs:
        row[f"{run.cell} solved"] = float(run.success)
        row[f"{run.cell} steps"] = float(run.steps)
    return row


def _run_bidirectional(
    seed: int, steps: int | None, settings: dict
) -> dict[str, float]:
    from tutor.experiments import deeper

    updates = {} if steps is None else {"n_updates": steps}
    task = {"steps": settings["T"], "shift": settings["d"]}
    row = {
        "one-way limit": deeper.one_way_limit(4, settings["T"], settings["d"])
    }
    for bidirectional, hidden, label in (
        (False, 18, "one way"),
        (True, 12, "both ways"),
    ):
        run = deeper.direction_run(
            seed, bidirectional, hidden, **task, **updates
        )
        row[f"{label}: accuracy"] = run.accuracy
    return row


#: The reproductions ``tutor reproduce`` knows, by name. Add one by adding an entry.
REPRODUCTIONS: dict[str, Reproduction] = {
    r.name: r
    for r in (
        Reproduction(
            "delayed-recall",
            "truncated BPTT learns a delay d only with windows of k >= d + 1 steps "
            "(simple RNN, 4 symbols; expect k = d near 0.3-0.5, k = d + 1 near 1.0)",
            _run_delayed_recall,
            {"delay": 4, "windows": (4, 5)},
        ),
        Reproduction(
            "temporal-xor",
            "Elman (1990): a 1-8-1 simple RNN predicts the XOR bit of each triplet "
            "(expect squared error near 0 on the XOR bit and near 0.25 on the random bits)",
            _run_temporal_xor,
            {"hidden": 8, "chunk": 30, "updates": 1000, "lr": 0.01},
        ),
        Reproduction(
            "adding",
            "the adding problem with a simple RNN (H = 8, weights U(-0.1, 0.1), Adam, norm "
            "clipping at 1) at length T: learned at T = 10, at the baseline (always 0.5) "
            "from about T = 20 within this budget",
            _run_adding,
            {"T": 10, "hidden": 8, "updates": 3000, "lr": 0.01},
        ),
        Reproduction(
            "embedded-reber",
            "Hochreiter & Schmidhuber (1997), Experiment 1: an LSTM (H = 12) and a simple RNN "
            "(H = 26) of the same size on the embedded Reber grammar, strict criterion "
            "(expect the LSTM to solve it in nearly every seed; the simple RNN less often, "
            "failing on the outer symbol)",
            _run_embedded_reber,
            {"lstm_hidden": 12, "rnn_hidden": 26},
        ),
        Reproduction(
            "forget-gate",
            "Gers, Schmidhuber & Cummins (2000): an LSTM on an endless stream of embedded "
            "Reber strings with no resets (expect the cell with a forget gate to predict the "
            "outer T/P almost always, the 1997 cell about half the time, its cell state "
            "growing with t)",
            _run_forget_gate,
            {"test_steps": 20_000},
        ),
        Reproduction(
            "bidirectional",
            "Schuster & Paliwal (1997) at small scale: the tag at each step is the symbol "
            "d steps later (4 symbols); a one-way GRU (H = 18) cannot beat the limit "
            "((T - d)/4 + d)/T, a bidirectional one (H = 12 per direction, as many "
            "parameters) gets nearly every tag right",
            _run_bidirectional,
            {"T": 16, "d": 2},
        ),
        Reproduction(
            "compare",
            "Chung et al. (2014) at small scale: the simple RNN, the LSTM and the GRU at equal "
            "parameter count on one task (--set task=adding, reber or recall; "
            "--set cells=lstm,gru for some of the cells)",
            _run_compare,
            {
                "task": "adding",
                "cells": compare.CELLS,
                "gate_bias": compare.GATE_BIAS,
            },
            {"task": compare.TASKS, "cells": compare.CELLS},
        ),
    )
}


def _parse_setting(text: str, settings: dict) -> tuple[str, object]:
    """Turn ``KEY=VALUE`` into a setting of the type of its default.

    A tuple default takes comma-separated values of its items' type; a
    boolean takes true/false, yes/no or 1/0 in any case.
    """
    key, sep, value = text.partition("=")
    if not sep or key not in settings:
        raise _CommandLineError(
            f"--set takes KEY=VALUE with KEY one of {', '.join(settings)}; got {text!r}"
        )
    default = settings[key]
    many = isinstance(default, tuple)
    parse, what = _parser_of(default[0] if many else default)
    try:
        if many:
            return key, tuple(parse(part) for part in value.split(","))
        return key, parse(value)
    except ValueError:
        what = f"comma-separated values, each {what}" if many else what
        raise _CommandLineError(
            f"--set {key}= needs {what}; got {value!r}"
        ) from None


def _parser_of(example: object) -> tuple[Callable[[str], object], str]:
    """A function that reads text as a value of the type of ``example``, and
    what it reads, in words."""
    if isinstance(example, bool):
        return _boolean, "true or false (or yes/no, 1/0)"
    kind = type(example)
    return kind, {int: "an int", float: "a number"}.get(kind, kind.__name__)


def _boolean(text: str) -> bool:
    """``True`` for true/yes/1, ``False`` for false/no/0 (any case)."""
    word = text.strip().lower()
    if word in ("true", "yes", "1"):
        return True
    if word in ("false", "no", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _format_table(rows: list[dict], first: str = "seed") -> str:
    """A plain-text table with a header, one line per row and a mean line."""
    columns = [first, *[c for c in rows[0] if c != first]]
    means = {
        c: float(np.mean([r[c] for r in rows])) for c in columns if c != first
    }
    lines = [[first, *columns[1:]]]
    for row in rows:
        lines.append([str(row[first]), *[f"{row[c]:.3f}" for c in columns[1:]]])
    lines.append(["mean", *[f"{means[c]:.3f}" for c in columns[1:]]])
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    text = [
        "  ".join(cell.rjust(w) for cell, w in zip(line, widths))
        for line in lines
    ]
    text.insert(1, "  ".join("-" * w for w in widths))
    text.insert(len(text) - 1, text[1])
    return "\n".join(text)


def _reproduce(args: argparse.Namespace) -> int:
    if args.list or args.name is None:
        for reproduction in REPRODUCTIONS.values():
            print(f"{reproduction.name}: {reproduction.summary}")
        return 0
    if args.name not in REPRODUCTIONS:
        raise _CommandLineError(
            f"unknown reproduction {args.name!r}; choose one of {', '.join(REPRODUCTIONS)}"
        )
    reproduction = REPRODUCTIONS[args.name]
    settings = dict(reproduction.settings)
    for text in args.set:
        key, value = _parse_setting(text, settings)
        allowed = reproduction.choices.get(key)
        given = value if isinstance(value, tuple) else (value,)
        if allowed is not None and not set(given) <= set(allowed):
            raise _CommandLineError(
                f"--set {key}= takes {'values from' if given is value else 'one of'} "
                f"{', '.join(allowed)}; got {value!r}"
            )
        settings[key] = value
    shown = ", ".join(
        f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
        for k, v in settings.items()
    )
    print(f"{reproduction.name}: {reproduction.summary}")
    print(
        f"settings: {shown}; {args.seeds} seeds"
        + (f"; {args.steps} updates" if args.steps else "")
    )
    rows = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in progress_bar(
        seeds, _progress(args), desc=reproduction.name, unit="seed"
    ):
        rows.append(
            {"seed": seed, **reproduction.run(seed, args.steps, settings)}
        )
    print(_format_table(rows))
    return 0


# ---------------------------------------------------------------------------- characters


def _read_text(path: str) -> str:
    """The text of a UTF-8 file, or a ``ValueError``/``OSError`` saying what is wrong."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"cannot read {path}: it is a directory") from None
    except OSError as error:
        raise ValueError(
            f"cannot read {path}: {error.strerror or error}"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} at position "
            f"{error.start}); convert it to UTF-8 first"
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.strip():
        raise ValueError(f"{path} is empty: there is no text to learn from")
    return text


def _train_char(args: argparse.Namespace) -> int:
    from tutor.charlm import CharLM, train_charlm
    from tutor.data.text import Vocabulary, unigram_bits_per_char
    from tutor.io import save_model

    text = _read_text(args.textfile)
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    n_valid = int(len(ids) * args.valid)
    if n_valid and n_valid < 2:
        n_valid = 0
    train_ids, valid_ids = ids[: len(ids) - n_valid], ids[len(ids) - n_valid :]
    needed = args.batch + 1
    if len(train_ids) < needed:
        raise ValueError(
            f"{args.textfile} is too short: {len(train_ids)} characters for training, but "
            f"--batch {args.batch} needs at least {needed} (use a smaller --batch)"
        )
    model = CharLM(
        len(vocab),
        args.hidden,
        args.cell,
        rng=args.seed,
        dtype=np.dtype(args.dtype),
        vocab=vocab,
    )
    budget = (
        f"{args.steps} steps" if args.steps else f"{args.seconds:g} seconds"
    )
    print(
        f"training {'a' if args.cell == 'gru' else 'an'} {args.cell.upper()} character model "
        f"(H = {args.hidden}, "
        f"{sum(p.size for p in model.params.values()):,} parameters) on {len(train_ids):,} "
        f"characters of {args.textfile} ({len(vocab)} distinct) for {budget}"
    )
    history = train_charlm(
        model,
        train_ids,
        batch_size=args.batch,
        seq_len=args.seq_len,
        lr=args.lr,
        n_updates=args.steps,
        seconds=None if args.steps else args.seconds,
        valid_ids=valid_ids if n_valid else None,
        progress=_progress(args),
    )
    last = float(np.mean(history.bits[-50:]))
    unigram = unigram_bits_per_char(
        train_ids, len(vocab), valid_ids if n_valid else None
    )
    results = {
        "steps": len(history.losses),
        "seconds": round(history.seconds[-1], 3),
        "chars_per_second": round(history.chars_per_second),
        "train_bits_per_char": round(last, 4),
        "unigram_bits_per_char": round(unigram, 4),
    }
    print(
        f"{results['steps']} steps in {history.seconds[-1]:.1f} s "
        f"({history.chars_per_second:,.0f} characters/s)"
    )
    print(f"training loss (last 50 steps): {last:.3f} bits per character")
    where = "held-out" if n_valid else "training"
    if n_valid:
        valid = history.valid[-1][2]
        results["valid_bits_per_char"] = round(valid, 4)
        print(
            f"held-out text ({n_valid:,} characters): {valid:.3f} bits per character"
        )
    print(
        f"unigram baseline on the {where} text: {unigram:.3f} bits per character"
    )
    settings = {
        "text": Path(args.textfile).name,
        "seed": args.seed,
        "batch": args.batch,
        "seq_len": args.seq_len,
        "lr": args.lr,
        "blas_threads": _blas_threads(),
    }
    save_model(
        args.out,
        model,
        metadata={"trained_by": "tutor train-char", **settings, **results},
    )
    print(f"saved to {args.out}")
    if args.sample:
        print(f"a sample (temperature 0.8, seed {args.seed}):")
        print(model.sample(args.sample, args.seed, 0.8))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from tutor.charlm import CharLM
    from tutor.io import load_model

    try:
        model = load_model(args.model)
    except FileNotFoundError:
        raise ValueError(f"cannot read {args.model}: no such file") from None
    if not isinstance(model, CharLM):
        raise ValueError(
            f"{args.model} holds a {type(model).__name__}, not a character model (train one "
            f"with 'tutor train-char')"
        )
    if model.vocab is None:
        raise ValueError(
            f"{args.model} has no vocabulary: it cannot turn its output into text"
        )
    unknown = sorted(set(args.prime) - set(model.vocab.chars))
    if unknown:
        raise ValueError(
            f"--prime holds characters the model has never seen: {''.join(unknown)!r}"
        )
    text = model.sample(args.n, args.seed, args.temperature, args.prime)
    sys.stdout.write(args.prime + text + "\n")
    return 0


# ---------------------------------------------------------------------------- the command


def _int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``, or a one-line error naming ``what``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {what}, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_count = _int_at_least(0, "an integer >= 0")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text!r}"
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text}"
        )
    return value


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 0, got {text!r}"
        ) from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in [0, 0.5], got {text!r}"
        ) from None
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(
            f"expected a number in [0, 0.5], got {text}"
        )
    return value


def _progress(args: argparse.Namespace) -> bool:
    return False if args.no_progress else progress_enabled(None)


def _blas_threads() -> int | None:
    """The number of threads BLAS uses now (None if no BLAS is found)."""
    counts = [
        pool["num_threads"]
        for pool in threadpool_info()
        if pool["user_api"] == "blas"
    ]
    return max(counts, default=None)


def _build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tutor`` command, with its three subcommands."""
    from tutor import __version__

    parser = _Parser(
        prog="tutor",
        description="The command line of the book 'Recurrent neural networks from the ground up'.",
    )
    parser.add_argument(
        "--version", action="version", version=f"tutor {__version__}"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="after an error, print the full traceback (for a bug report)",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser
    )
    commands.required = True

    train = commands.add_parser(
        "train-char",
        help="train a character-level language model on a UTF-8 text file and save it",
        description="Train a character-level language model (tutor.charlm.CharLM) on any "
        "UTF-8 text file for a time budget, report bits per character on the last tenth of "
        "the text (held out), and save the model to an .npz file.",
    )
    train.add_argument("textfile", metavar="TEXTFILE", help="a UTF-8 text file")
    train.add_argument(
        "--cell",
        choices=CELLS,
        default="lstm",
        help="default: lstm",
    )
    train.add_argument(
        "--hidden",
        type=_positive_int,
        default=128,
        help="hidden units (default 128)",
    )
    train.add_argument(
        "--seconds",
        type=_positive_float,
        default=60.0,
        help="training time budget (default 60)",
    )
    train.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help="train for this many updates instead",
    )
    train.add_argument(
        "--seq-len",
        type=_positive_int,
        default=50,
        help="characters per chunk (default 50)",
    )
    train.add_argument(
        "--batch",
        type=_positive_int,
        default=32,
        help="parallel streams (default 32)",
    )
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=1e-2,
        help="Adam's learning rate (default 0.01)",
    )
    train.add_argument(
        "--seed", type=_count, default=0, help="seed of the initial weights"
    )
    train.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="default: float32",
    )
    train.add_argument(
        "--valid",
        type=_fraction,
        default=0.1,
        help="fraction of the text held out (default 0.1)",
    )
    train.add_argument(
        "--out", default="model.npz", help="where to save (default model.npz)"
    )
    train.add_argument(
        "--sample",
        type=_count,
        default=200,
        help="characters to print after training (0: none)",
    )
    train.add_argument(
        "--no-progress", action="store_true", help="no progress bar"
    )
    train.set_defaults(run=_train_char)

    sample = commands.add_parser(
        "sample",
        help="print text generated by a saved character model",
        description="Load a character model saved by 'tutor train-char' and print the "
        "prime followed by generated text.",
    )
    sample.add_argument(
        "model", metavar="MODEL", help="an .npz file saved by train-char"
    )
    sample.add_argument(
        "--n",
        type=_count,
        default=300,
        help="characters to generate (default 300)",
    )
    sample.add_argument(
        "--temperature",
        type=_temperature,
        default=0.8,
        help="below 1 safer, above 1 wilder, 0 always the likeliest character (default 0.8)",
    )
    sample.add_argument(
        "--seed", type=_count, default=0, help="seed of the random draws"
    )
    sample.add_argument(
        "--prime", default="", help="text the model reads before generating"
    )
    sample.set_defaults(run=_sample, no_progress=True)

    names = ", ".join(REPRODUCTIONS)
    reproduce = commands.add_parser(
        "reproduce",
        help="reproduce one of the book's results over several seeds",
        description=f"Run one of the book's reproductions ({names}) for several seeds and "
        f"print a table. 'tutor reproduce --list' says what each one shows.",
    )
    reproduce.add_argument(
        "name", metavar="NAME", nargs="?", help=f"one of: {names}"
    )
    reproduce.add_argument(
        "--list", action="store_true", help="list the reproductions"
    )
    reproduce.add_argument(
        "--seeds",
        type=_positive_int,
        default=3,
        help="number of seeds (default 3)",
    )
    reproduce.add_argument(
        "--first-seed",
        type=_count,
        default=0,
        help="the first seed (default 0)",
    )
    reproduce.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help="training updates per run (fewer: faster)",
    )
    reproduce.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a setting, e.g. --set T=20 for adding, --set windows=6,7 --set delay=6",
    )
    reproduce.add_argument(
        "--no-progress", action="store_true", help="no progress bar"
    )
    reproduce.set_defaults(run=_reproduce)
    for command in (train, sample, reproduce):  # also after the command's name
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="after an error, print the full traceback",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tutor`` command with ``argv`` (default: the process's arguments).

    Every command runs with one BLAS thread (``threadpoolctl``): the models
    here are small, a second thread gains nothing and, when another program
    keeps the other cores busy, makes training many times slower.

    Returns:
        The exit status, 0 on success, 1 after an error in the work, 2 after a mistake
        in the command line. Errors are printed as one line on standard error;
        with ``--debug``, the full traceback comes before it.
    """
    debug = False
    try:
        args = _build_parser().parse_args(argv)
        debug = args.debug
        with threadpool_limits(1):
            return args.run(args)
    except _CommandLineError as error:
        _report(error)
        return 2
    except KeyboardInterrupt:
        _report("interrupted", debug)
        return 130
    except (ValueError, OSError, RuntimeError) as error:
        _report(error, debug)
        return 1
    except Exception as error:  # a bug: say what kind of error it was
        _report(f"{type(error).__name__}: {error}", debug)
        return 1


def _report(message: object, debug: bool = False) -> None:
    """Print the error as one line on stderr, after its traceback if ``debug``."""
    if debug:
        traceback.print_exc()
    text = " ".join(str(message).split()) or "failed"
    print(f"tutor: error: {text}", file=sys.stderr)
