"""Project-wide pytest settings: a per-notebook CPU-time report with a budget.

``pytest --nbval book/ --nb-time-budget=120 --nb-total-budget=960`` prints, for
each notebook, the CPU time its kernel used (user + system, kernel start and
every cell) next to the wall time, and fails the run when a notebook, or all of
them together, used more CPU time than the budget.

The budget is on CPU time, not wall time: on a shared machine the wall time of
the same notebook swings by half from one run to the next, while the CPU time
the work needs stays put. Each kernel is a child process of pytest, so the CPU
time it used is read with ``getrusage(RUSAGE_CHILDREN)`` once nbval has stopped
it and the operating system has added it to the children's total.
"""

from __future__ import annotations

import resource
from collections import defaultdict

import pytest

_cpu_seconds: dict[str, float] = defaultdict(float)
_wall_seconds: dict[str, float] = defaultdict(float)
_children_cpu_at_start: dict[str, float] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("notebook timing")
    group.addoption(
        "--nb-time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail when one notebook's kernel uses more than SECONDS of CPU time",
    )
    group.addoption(
        "--nb-total-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail when all notebooks' kernels together use more than SECONDS of CPU time",
    )


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _notebook_of(item: pytest.Item | None) -> str | None:
    if item is None:
        return None
    path = item.nodeid.split("::")[0]
    return path if path.endswith(".ipynb") else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    # The first cell's setup starts the notebook's kernel: read the clock before it.
    notebook = _notebook_of(item)
    if notebook is not None and notebook not in _children_cpu_at_start:
        _children_cpu_at_start[notebook] = _children_cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    # The last cell's teardown stops the kernel: read the clock after it.
    yield
    notebook = _notebook_of(item)
    if notebook is not None and _notebook_of(nextitem) != notebook:
        _cpu_seconds[notebook] = _children_cpu_seconds() - _children_cpu_at_start[notebook]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    notebook = report.nodeid.split("::")[0]
    if notebook.endswith(".ipynb"):
        _wall_seconds[notebook] += report.duration


def _over_budget(config: pytest.Config) -> list[str]:
    per_notebook = config.getoption("--nb-time-budget")
    total = config.getoption("--nb-total-budget")
    over = []
    if per_notebook is not None:
        over += [
            f"{path} used {seconds:.1f} s of CPU time, over the budget of {per_notebook:.0f} s"
            for path, seconds in _cpu_seconds.items()
            if seconds > per_notebook
        ]
    all_seconds = sum(_cpu_seconds.values())
    if total is not None and all_seconds > total:
        over.append(
            f"all notebooks used {all_seconds:.1f} s of CPU time, over the budget of {total:.0f} s"
        )
    return over


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _cpu_seconds and _over_budget(session.config) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _cpu_seconds:
        return
    terminalreporter.section("notebook execution times (kernel CPU time, then wall time)")
    for path in sorted(_cpu_seconds):
        terminalreporter.write_line(
            f"{_cpu_seconds[path]:8.1f} s CPU {_wall_seconds[path]:8.1f} s wall  {path}"
        )
    terminalreporter.write_line(
        f"{sum(_cpu_seconds.values()):8.1f} s CPU {sum(_wall_seconds.values()):8.1f} s wall  in all"
    )
    for line in _over_budget(config):
        terminalreporter.write_line("OVER BUDGET: " + line, red=True)
