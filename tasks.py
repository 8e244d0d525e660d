"""Set up, build and test the book with one command each, on a fresh machine.

    python3 tasks.py book    # set up .venv, then build the book into _build/html
    python3 tasks.py test    # set up .venv (with PyTorch), then run every check

Only the Python standard library is used here, so this file runs before
anything is installed. Everything goes into a virtual environment in ``.venv``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
BUILD = ROOT / "_build"

# PyTorch is a test-only dependency: the parity tests compare tutor's RNN, LSTM and
# GRU with torch.nn on copied weights. This version has a CPU wheel on the project's
# machines; the tests fail rather than skip when it is missing (TUTOR_REQUIRE_TORCH).
TORCH = "torch==2.13.0"

# Small recurrent models gain nothing from a second BLAS thread and lose a lot when
# the other core is busy (see the calibration notes), so every step runs on one.
ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TUTOR_PROGRESS": "0",  # no progress bars in the built book or the test logs
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

NO_TESTS_COLLECTED = 5  # pytest's exit code when it found nothing to run
NOTEBOOK_BUDGET_SECONDS = 90
ALL_NOTEBOOKS_BUDGET_SECONDS = 12 * 60


def run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    """Run a command from the project root and return its exit code."""
    print("+ " + " ".join(str(a) for a in args), flush=True)
    return subprocess.run(
        [str(a) for a in args], cwd=ROOT, env={**os.environ, **ENV, **(env or {})}
    ).returncode


def setup(with_tests: bool) -> None:
    """Create .venv if needed and install the package (editable) with its extras."""
    if sys.version_info < (3, 10):  # noqa: UP036 - this file runs before the install checks it
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        if run(sys.executable, "-m", "venv", VENV) != 0:
            sys.exit("Could not create the virtual environment in .venv.")
    extras = "book,test" if with_tests else "book"
    packages = ["-e", f".[{extras}]"] + ([TORCH] if with_tests else [])
    if run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip") != 0:
        sys.exit("Could not upgrade pip in .venv.")
    if run(PYTHON, "-m", "pip", "install", "--quiet", *packages) != 0:
        sys.exit("Installing the package and its dependencies failed (see above).")


def build_book() -> int:
    """Build the HTML book strictly and from clean: any warning fails the build."""
    shutil.rmtree(BUILD, ignore_errors=True)
    return run(BIN / "jupyter-book", "build", ".", "--all", "-W", "-n", "--keep-going")


def book(_: argparse.Namespace) -> int:
    setup(with_tests=False)
    code = build_book()
    if code == 0:
        print(f"\nThe book is built. Open {BUILD / 'html' / 'index.html'} in a browser.")
    return code


def test(_: argparse.Namespace) -> int:
    setup(with_tests=True)
    python = str(PYTHON)
    steps = [
        (
            "lint (ruff)",
            [
                python,
                "-m",
                "ruff",
                "check",
                "src",
                "tests",
                "book",
                "benchmarks",
                "tools",
                "tasks.py",
                "conftest.py",
            ],
        ),
        (
            "format (ruff)",
            [
                python,
                "-m",
                "ruff",
                "format",
                "--check",
                "src",
                "tests",
                "benchmarks",
                "tools",
                "tasks.py",
                "conftest.py",
            ],
        ),
        ("notebooks carry no outputs", [python, "tools/check_notebooks_clean.py", "book"]),
        ("package tests", [python, "-m", "pytest", "tests", "-p", "no:cacheprovider"]),
        (
            "notebooks run top to bottom (nbval)",
            [
                python,
                "-m",
                "pytest",
                "--nbval",
                "book",
                "-p",
                "no:cacheprovider",
                "--nbval-cell-timeout=120",
                f"--nb-time-budget={NOTEBOOK_BUDGET_SECONDS}",
                f"--nb-total-budget={ALL_NOTEBOOKS_BUDGET_SECONDS}",
            ],
        ),
        ("strict book build from clean", None),
        ("built book is offline", [python, "tools/check_offline_html.py", "_build/html"]),
    ]
    failed = []
    for name, command in steps:
        started = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        code = build_book() if command is None else run(*command, env={"TUTOR_REQUIRE_TORCH": "1"})
        if code == NO_TESTS_COLLECTED and command and "--nbval" in command:
            code = 0 if not list((ROOT / "book").glob("*.ipynb")) else code
        print(
            f"=== {name}: {'ok' if code == 0 else 'FAILED'} "
            f"({time.perf_counter() - started:.0f} s) ===",
            flush=True,
        )
        if code != 0:
            failed.append(name)
    print()
    print(f"checks: {len(steps) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    return 0


def clean(_: argparse.Namespace) -> int:
    shutil.rmtree(BUILD, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("book", help="set up .venv and build the book").set_defaults(func=book)
    commands.add_parser("test", help="set up .venv and run every check").set_defaults(func=test)
    commands.add_parser("clean", help="remove _build").set_defaults(func=clean)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
