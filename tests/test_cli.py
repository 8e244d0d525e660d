"""Tests of the ``tutor`` command (tutor.cli), mostly through ``python -m tutor`` in a subprocess.

Every run is tiny (a few updates, a hidden layer of 8) so that the whole file takes seconds.
Error cases are checked both in a subprocess (what a reader sees: one line, no traceback)
and in-process through ``main`` (quicker, for the many variants).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from tutor.charlm import CharLM
from tutor.cli import REPRODUCTIONS, THREAD_VARIABLES, main
from tutor.data.text import Vocabulary
from tutor.forecast import Forecaster
from tutor.io import load_model, read_header, save_model

TEXT = "the cat sat on the mat. über naïve 🙂\n" * 30


def run(*args, env=None, timeout=120):
    """Run ``python -m tutor ARGS`` single-threaded; return the completed process."""
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tutor", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env={**environment, **(env or {})},
    )


def assert_one_line_error(stderr, code, expected_code=None):
    assert code != 0
    if expected_code is not None:
        assert code == expected_code
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tutor: error: ") and "Traceback" not in stderr


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    """A model trained for a few steps by the command, and the command's output."""
    folder = tmp_path_factory.mktemp("model")
    (folder / "text.txt").write_text(TEXT, encoding="utf-8")
    result = run(
        "train-char", folder / "text.txt", "--steps", 5, "--hidden", 8, "--batch", 4,
        "--seq-len", 10, "--sample", 20, "--out", folder / "model.npz", "--cell", "gru",
    )  # fmt: skip
    return folder / "model.npz", result


# Help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["train-char"], ["sample"], ["reproduce"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: tutor {' '.join(command)}".rstrip())
    assert result.stderr == ""


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("tutor ")


# Training and sampling ---------------------------------------------------------------------


def test_train_char_trains_saves_and_reports(trained_model):
    path, result = trained_model
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar under pytest, no warnings
    assert "5 steps" in result.stdout and f"saved to {path}" in result.stdout
    assert "held-out text" in result.stdout and "unigram baseline" in result.stdout
    model = load_model(path)
    assert isinstance(model, CharLM) and model.cell == "gru" and model.hidden_size == 8
    assert model.vocab.chars == "".join(sorted(set(TEXT)))
    assert model.dtype == np.float32
    metadata = read_header(path)["metadata"]
    assert metadata["steps"] == 5 and metadata["trained_by"] == "tutor train-char"


def test_train_char_for_a_time_budget(text_file, tmp_path):
    out = tmp_path / "timed.npz"
    result = run("train-char", text_file, "--seconds", 1, "--hidden", 8, "--batch", 4,
                 "--seq-len", 10, "--sample", 0, "--out", out, "--valid", 0)  # fmt: skip
    assert result.returncode == 0, result.stderr
    seconds = read_header(out)["metadata"]["seconds"]
    assert 1.0 <= seconds < 10
    assert "held-out" not in result.stdout  # --valid 0: nothing held out


def test_training_runs_with_one_blas_thread_even_if_not_asked(text_file, tmp_path):
    out = tmp_path / "m.npz"
    environment = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "train-char", str(text_file), "--steps", "1",
         "--hidden", "4", "--batch", "2", "--sample", "0", "--out", str(out)],
        capture_output=True, text=True, timeout=120, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_header(out)["metadata"]["blas_threads"] == "1"


def test_sample_prints_prime_and_text_reproducibly(trained_model):
    path, _ = trained_model
    first = run("sample", path, "--n", 40, "--seed", 3, "--prime", "the ")
    second = run("sample", path, "--n", 40, "--seed", 3, "--prime", "the ")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.startswith("the ") and len(first.stdout) == 4 + 40 + 1
    assert set(first.stdout[4:-1]) <= set(TEXT)


def test_sample_in_process_matches_the_model(trained_model, capsys):
    path, _ = trained_model
    assert main(["sample", str(path), "--n", "25", "--seed", "1", "--temperature", "0"]) == 0
    expected = load_model(path).sample(25, rng=1, temperature=0.0)
    assert capsys.readouterr().out == expected + "\n"


# Reproductions -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REPRODUCTIONS))
def test_reproduce_prints_a_table(name):
    # Tiny budgets: this checks the command, not the results.
    settings = {
        "delayed-recall": ["--set", "windows=2,3", "--set", "delay=2"],
        "compare": ["--set", "task=recall"],
        "forget-gate": ["--set", "test_steps=200"],
    }.get(name, [])
    steps = 2 if name == "embedded-reber" else 20  # epochs for the Reber runs
    result = run("reproduce", name, "--seeds", 2, "--steps", steps, *settings)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{name}: ")
    table = lines[lines.index(next(line for line in lines if line.lstrip().startswith("seed"))) :]
    assert [line.split()[0] for line in table if not line.startswith("-")] == [
        "seed",
        "0",
        "1",
        "mean",
    ]
    assert result.stderr == ""


def test_reproduce_shows_a_progress_bar_when_asked():
    result = run("reproduce", "adding", "--seeds", 1, "--steps", 5, env={"TUTOR_PROGRESS": "1"})
    assert result.returncode == 0 and "adding" in result.stderr and "seed" in result.stderr


def test_reproduce_list(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: " in out for name in REPRODUCTIONS)


# Errors: one line on stderr, a non-zero exit status, never a traceback ---------------------


def test_errors_end_to_end(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    cases = [
        (["train-char", tmp_path / "missing.txt"], 1, "no such file"),
        (["train-char", bad], 1, "not UTF-8"),
        (["train-char", bad, "--hidden", "0"], 2, "--hidden"),
        (["reproduce", "no-such-thing"], 2, "unknown reproduction"),
        ([], 2, "required"),
    ]
    for args, code, message in cases:
        result = run(*args)
        assert_one_line_error(result.stderr, result.returncode, code)
        assert message in result.stderr and result.stdout == ""


def error_cases(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text("  \n\n ")
    (tmp_path / "short.txt").write_text("abc")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)))
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    forecaster = save_model(tmp_path / "forecaster.npz", Forecaster(3, rng=0))
    no_vocab = save_model(tmp_path / "novocab.npz", CharLM(5, 3, rng=0))
    with_vocab = save_model(
        tmp_path / "lm.npz", CharLM(3, 4, "rnn", rng=0, vocab=Vocabulary("abc"))
    )
    t = str(tmp_path)
    return [
        (["train-char", f"{t}/missing.txt"], 1, "no such file"),
        (["train-char", t], 1, "directory"),
        (["train-char", f"{t}/empty.txt"], 1, "empty"),
        (["train-char", f"{t}/blank.txt"], 1, "empty"),
        (["train-char", f"{t}/binary.bin"], 1, "not UTF-8"),
        (["train-char", f"{t}/short.txt", "--valid", "0"], 1, "too short"),
        (["train-char", f"{t}/text.txt", "--cell", "cnn"], 2, "invalid choice"),
        (["train-char", f"{t}/text.txt", "--seconds", "-1"], 2, "--seconds"),
        (["train-char", f"{t}/text.txt", "--seconds", "abc"], 2, "--seconds"),
        (["train-char", f"{t}/text.txt", "--valid", "0.9"], 2, "--valid"),
        (["train-char", f"{t}/text.txt", "--bogus"], 2, "unrecognized"),
        (["train-char"], 2, "TEXTFILE"),
        (["sample", f"{t}/missing.npz"], 1, "no such file"),
        (["sample", f"{t}/text.txt"], 1, "not a tutor model file"),
        (["sample", str(forecaster)], 1, "not a character model"),
        (["sample", str(no_vocab)], 1, "no vocabulary"),
        (["sample", str(with_vocab), "--prime", "xyz"], 1, "never seen"),
        (["sample", str(with_vocab), "--temperature", "-1"], 2, "--temperature"),
        (["sample", str(with_vocab), "--n", "many"], 2, "--n"),
        (["reproduce", "nope"], 2, "unknown reproduction"),
        (["reproduce", "adding", "--set", "Q=3"], 2, "KEY one of"),
        (["reproduce", "adding", "--set", "T=ten"], 2, "needs int"),
        (["reproduce", "adding", "--seeds", "0"], 2, "--seeds"),
        (["reproduce", "compare", "--set", "task=copying", "--steps", "1"], 2, "task="),
        (["frobnicate"], 2, "invalid choice"),
    ]


def test_errors_in_process(tmp_path, capsys):
    for args, code, message in error_cases(tmp_path):
        assert main(args) == code, args
        captured = capsys.readouterr()
        assert_one_line_error(captured.err, code)
        assert message in captured.err, (args, captured.err)
        assert captured.out == "", args
