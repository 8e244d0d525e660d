"""Tests of the ``tutor`` command (tutor.cli), mostly through ``python -m tutor`` in a subprocess.

Every run is tiny (a few updates, a hidden layer of 8) so that the whole file takes seconds.
Error cases are checked both in a subprocess (what a reader sees: one line, no traceback)
and in-process through ``main`` (quicker, for the many variants).
"""

import os
import subprocess
import sys
import types

import numpy as np
import pytest

import tutor.charlm
from tutor import cli
from tutor.charlm import CharLM
from tutor.cli import REPRODUCTIONS, Reproduction, main
from tutor.data.text import Vocabulary
from tutor.experiments import compare
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


def test_train_char_stops_when_the_time_budget_is_spent(text_file, tmp_path, monkeypatch):
    # A fake clock that advances 0.25 s at every reading: each update takes 0.25 s.
    readings = iter(np.arange(0, 1000, 0.25))
    clock = types.SimpleNamespace(perf_counter=lambda: float(next(readings)))
    monkeypatch.setattr(tutor.charlm, "time", clock)
    out = tmp_path / "timed.npz"
    args = ["train-char", str(text_file), "--seconds", "1", "--hidden", "8", "--batch", "4",
            "--seq-len", "10", "--sample", "0", "--out", str(out), "--valid", "0"]  # fmt: skip
    assert main(args) == 0
    metadata = read_header(out)["metadata"]
    assert metadata["steps"] == 4 and metadata["seconds"] == 1.0
    assert load_model(out).hidden_size == 8


def test_train_char_holds_nothing_out_with_valid_0(text_file, tmp_path, capsys):
    out = tmp_path / "m.npz"
    args = ["train-char", str(text_file), "--steps", "2", "--hidden", "4", "--batch", "2",
            "--sample", "0", "--out", str(out), "--valid", "0"]  # fmt: skip
    assert main(args) == 0
    assert "held-out" not in capsys.readouterr().out


def test_training_runs_with_one_blas_thread_even_if_not_asked(text_file, tmp_path):
    # No thread variable set: threadpoolctl limits BLAS inside the command, and the
    # command records the count threadpoolctl reports during training.
    out = tmp_path / "m.npz"
    thread_variables = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    environment = {k: v for k, v in os.environ.items() if k not in thread_variables}
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "train-char", str(text_file), "--steps", "1",
         "--hidden", "4", "--batch", "2", "--sample", "0", "--out", str(out)],
        capture_output=True, text=True, timeout=120, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_header(out)["metadata"]["blas_threads"] == 1


def blas_threads():
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_the_command_runs_with_one_blas_thread_and_restores_the_count(monkeypatch, capsys):
    from threadpoolctl import threadpool_limits

    seen = []

    def record(seed, steps, settings):
        seen.append(blas_threads())
        return {"x": 1.0}

    probe = Reproduction("probe", "records the BLAS threads", record, {})
    monkeypatch.setitem(REPRODUCTIONS, "probe", probe)
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        assert main(["reproduce", "probe", "--seeds", "1"]) == 0
        assert blas_threads() == before
    assert seen == [{1}]
    assert before != {1} or os.cpu_count() == 1  # the limit had something to change


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


@pytest.mark.parametrize(
    "word, expected",
    [("true", True), ("True", True), ("YES", True), ("1", True),
     ("false", False), ("FALSE", False), ("no", False), ("0", False)],
)  # fmt: skip
def test_set_parses_booleans(word, expected):
    assert cli._parse_setting(f"flag={word}", {"flag": True}) == ("flag", expected)
    assert cli._parse_setting(f"flag={word}", {"flag": False}) == ("flag", expected)


@pytest.mark.parametrize("word", ["", "2", "maybe", "on", "Falsch"])
def test_set_refuses_other_booleans_naming_the_key(word):
    with pytest.raises(cli._CommandLineError, match=r"flag=.*true or false") as caught:
        cli._parse_setting(f"flag={word}", {"flag": True})
    assert repr(word) in str(caught.value)


def test_set_parses_tuples_of_the_defaults_type():
    settings = {"windows": (4, 5), "cells": ("rnn", "gru"), "lr": 0.1}
    assert cli._parse_setting("windows=6,7", settings) == ("windows", (6, 7))
    assert cli._parse_setting("cells=lstm", settings) == ("cells", ("lstm",))
    assert cli._parse_setting("lr=0.5", settings) == ("lr", 0.5)


def test_a_boolean_setting_reaches_the_run(monkeypatch, capsys):
    def echo(seed, steps, settings):
        return {"flag": float(settings["flag"])}

    probe = Reproduction("probe", "echoes a flag", echo, {"flag": True})
    monkeypatch.setitem(REPRODUCTIONS, "probe", probe)
    assert main(["reproduce", "probe", "--seeds", "1", "--set", "flag=False"]) == 0
    out = capsys.readouterr().out
    assert "flag=False" in out and out.splitlines()[-1].split() == ["mean", "0.000"]


def test_reproduce_compare_takes_the_cells_and_the_gate_bias():
    assert REPRODUCTIONS["compare"].settings["gate_bias"] == compare.GATE_BIAS
    result = run("reproduce", "compare", "--seeds", 1, "--steps", 20, "--set", "task=recall",
                 "--set", "cells=gru", "--set", "gate_bias=1.5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "cells=gru" in result.stdout and "gate_bias=1.5" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.lstrip().startswith("seed"))
    assert "gru solved" in header and "lstm" not in header and "rnn" not in header


def test_debug_prints_the_traceback_before_the_one_line_error(tmp_path):
    missing = tmp_path / "missing.npz"
    plain = run("sample", missing)
    assert_one_line_error(plain.stderr, plain.returncode, 1)
    for args in (["--debug", "sample", missing], ["sample", missing, "--debug"]):
        result = run(*args)
        assert result.returncode == 1
        assert result.stderr.startswith("Traceback (most recent call last):")
        assert "in _sample" in result.stderr and "ValueError: cannot read" in result.stderr
        assert result.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def test_debug_shows_where_a_bug_happened(monkeypatch, capsys):
    def broken(args):
        return {}["no such key"]

    monkeypatch.setattr(cli, "_sample", broken)
    assert main(["--debug", "sample", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "in broken" in err
    assert err.strip().splitlines()[-1] == "tutor: error: KeyError: 'no such key'"
    assert main(["sample", "x.npz"]) == 1
    assert "Traceback" not in capsys.readouterr().err


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
        (["reproduce", "adding", "--set", "T=ten"], 2, "T= needs an int"),
        (["reproduce", "delayed-recall", "--set", "windows=4,x"], 2, "windows="),
        (["reproduce", "compare", "--set", "cells=lstm,cnn"], 2, "cells="),
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
