"""Set up, build and test the book with one command each, on a fresh machine.

    python3 tasks.py book    # set up .venv, then build the book into _build/html
    python3 tasks.py test    # set up .venv (with PyTorch), then run every check

The book command builds both editions: English in _build/html, and the Chinese
edition (中文版), from the same notebooks and translation catalogs in locales/, in
_build/html/zh_CN. Every page links to the same page in the other edition.

While writing a chapter, run its notebook as the test command does, in every
floating-point environment of the portability pass, and see its CPU time:

    python3 tasks.py notebooks book/04_gradients.ipynb --pass all

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

# CPU time of a notebook's kernel (user + system, one BLAS thread). The goal is 60 s a
# notebook and 8 minutes for all; the check fails only past twice the goal, so that a
# slow day on a shared machine cannot fail it while a real regression does.
NOTEBOOK_BUDGET_SECONDS = 2 * 60
ALL_NOTEBOOKS_BUDGET_SECONDS = 2 * 8 * 60

# The portability pass. Training amplifies the last digits in which processors, BLAS
# kernels and NumPy builds differ, so every notebook runs again in other floating-point
# environments and every claim must still hold. Each pass names the environment variables
# it sets before NumPy starts in the notebook's kernel:
# - "avx2": OpenBLAS's Haswell kernel and NumPy's SIMD paths beyond AVX2 switched off, so
#   that a machine with AVX-512 computes like one without (the kind of machine on which
#   chapters 4 and 6 once failed);
# - "no-fma": OpenBLAS's Sandybridge kernel, a matrix product without fused multiply-add.
# On a machine that lacks these features or this BLAS the variables change less or
# nothing; the passes still run.
PASSES = ("native", "avx2", "no-fma")

# The share of the English messages the Chinese edition may leave untranslated or
# outdated (fuzzy) before the test command fails: none, for a release.
UNTRANSLATED_SHARE = 0.0


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> int:
    """Run a command (from the project root, unless told otherwise); return its exit code."""
    print("+ " + " ".join(str(a) for a in args), flush=True)
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env={**os.environ, **ENV, **(env or {})}
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


def pass_environment(name: str) -> dict[str, str]:
    """The environment variables of one portability pass (see PASSES)."""
    if name == "native":
        return {}
    if name == "no-fma":
        return {"OPENBLAS_CORETYPE": "Sandybridge"}
    if name == "avx2":
        # Ask this NumPy which of its dispatched SIMD targets go beyond AVX2: the names
        # differ between NumPy versions, and an unknown name only earns a warning.
        probe = (
            "import numpy as np\n"
            "core = getattr(np, '_core', None) or np.core\n"
            "names = core._multiarray_umath.__cpu_dispatch__\n"
            "print(' '.join(n for n in names if 'AVX512' in n or n == 'X86_V4'))"
        )
        wide = subprocess.run(
            [str(PYTHON), "-c", probe], capture_output=True, text=True, check=True
        ).stdout.strip()
        return {
            "OPENBLAS_CORETYPE": "Haswell",
            **({"NPY_DISABLE_CPU_FEATURES": wide} if wide else {}),
        }
    raise ValueError(f"unknown pass {name!r}; the passes are {', '.join(PASSES)}")


def nbval_command(notebooks: list[str]) -> list[str]:
    """pytest running notebooks top to bottom, with the CPU-time report and budget."""
    return [
        str(PYTHON),
        "-m",
        "pytest",
        "--nbval",
        *notebooks,
        "-p",
        "no:cacheprovider",
        "--nbval-cell-timeout=300",
        f"--nb-time-budget={NOTEBOOK_BUDGET_SECONDS}",
        f"--nb-total-budget={ALL_NOTEBOOKS_BUDGET_SECONDS}",
    ]


def run_notebooks(notebooks: list[str], pass_name: str) -> int:
    """Run notebooks with nbval in one portability pass; 0 when every cell passed."""
    environment = pass_environment(pass_name)
    described = " ".join(f"{k}={v!r}" for k, v in environment.items()) or "as the machine is"
    print(f"--- pass {pass_name}: {described}", flush=True)
    code = run(*nbval_command(notebooks), env=environment)
    if code == NO_TESTS_COLLECTED and not any(Path(ROOT, n).glob("**/*.ipynb") for n in notebooks):
        return 0
    return code


def notebooks(args: argparse.Namespace) -> int:
    """Run the named notebooks (default: all) in one portability pass, or in all of them."""
    if not PYTHON.exists():
        setup(with_tests=True)
    names = args.notebooks or ["book"]
    passes = PASSES if args.pass_name == "all" else (args.pass_name,)
    failed = [p for p in passes if run_notebooks(names, p) != 0]
    print(f"\npasses: {len(passes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def build_reader_book(source: Path = ROOT) -> int:
    """Build every page of the book in ``source``, even when a cell fails; name what failed.

    The reader's build differs from the strict one in one way: a failing cell shows its
    error in its page instead of stopping the build, so one broken cell costs one page,
    not the book. Returns 0 when the build was clean and every cell ran.
    """
    build = source / "_build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    config = build / "reader_config.yml"
    errors = ROOT / "tools" / "book_errors.py"
    if run(PYTHON, errors, "config", source / "_config.yml", config, cwd=source) != 0:
        return 1
    flags = ["--all", "-W", "-n", "--keep-going", "--config", config]
    code = run(BIN / "jupyter-book", "build", ".", *flags, cwd=source)
    failed_cells = run(PYTHON, errors, "report", build / "jupyter_execute", cwd=source)
    # The Chinese edition reuses the notebooks the English build just ran.
    zh_code = run(PYTHON, source / "tools" / "i18n.py", "build", "--config", config, cwd=source)
    index = build / "html" / "index.html"
    zh_index = build / "html" / "zh_CN" / "index.html"
    where = f"Open {index} (English) or {zh_index} (中文) in a browser."
    if code == 0 and failed_cells == 0 and zh_code == 0:
        print(f"\nThe book is built. {where}")
        return 0
    if index.exists():
        print(f"\nThe book is built, with the problems above. {where}")
    return 1


def book(_: argparse.Namespace) -> int:
    setup(with_tests=False)
    return build_reader_book()


def ensure_chromium() -> None:
    """Install Debian's chromium for the rendered-book check, where it is missing and we can.

    The check opens the built pages in a real browser. On a Debian or Ubuntu machine
    where this runs as root (CI), apt-get installs it; elsewhere the check says how.
    """
    if shutil.which("chromium") or os.environ.get("CHROMIUM"):
        return
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")):
        print("chromium is missing: install it (sudo apt-get install chromium) for the check")
        print("that opens the built book in a browser; that check fails without it.")
        return
    apt = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ("apt-get", "install", "-y", "-q", "chromium")
    if run(*install, env=apt) != 0:  # a fresh machine may have no package lists yet
        run("apt-get", "update", "-q", env=apt)
        run(*install, env=apt)


def test(_: argparse.Namespace) -> int:
    setup(with_tests=True)
    ensure_chromium()
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
                "_ext",
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
                "book",
                "benchmarks",
                "tools",
                "_ext",
                "tasks.py",
                "conftest.py",
            ],
        ),
        ("notebooks carry no outputs", [python, "tools/check_notebooks_clean.py", "book"]),
        ("package tests", [python, "-m", "pytest", "tests", "-p", "no:cacheprovider"]),
        *[(f"notebooks run top to bottom (nbval), pass {p}", p) for p in PASSES],
        ("strict book build from clean", None),
        ("Chinese edition: strict build", [python, "tools/i18n.py", "build"]),
        (
            "Chinese edition: every message translated and current",
            [python, "tools/i18n.py", "check", "--max-share", str(UNTRANSLATED_SHARE)],
        ),
        ("built book is offline", [python, "tools/check_offline_html.py", "_build/html"]),
        ("built book renders in Chromium", [python, "tools/check_rendered.py", "_build/html"]),
    ]
    failed = []
    for name, command in steps:
        started = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        if command is None:
            code = build_book()
        elif isinstance(command, str):
            code = run_notebooks(["book"], command)
        else:
            code = run(*command, env={"TUTOR_REQUIRE_TORCH": "1", "TUTOR_REQUIRE_CHROMIUM": "1"})
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
    runner = commands.add_parser(
        "notebooks", help="run notebooks with nbval in a portability pass, with CPU times"
    )
    runner.add_argument("notebooks", nargs="*", help="notebooks or folders (default: book)")
    runner.add_argument(
        "--pass",
        dest="pass_name",
        default="native",
        choices=[*PASSES, "all"],
        help="the floating-point environment (default: native)",
    )
    runner.set_defaults(func=notebooks)
    commands.add_parser("clean", help="remove _build").set_defaults(func=clean)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
