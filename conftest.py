"""Project-wide pytest settings: a per-notebook execution-time report with a budget.

``pytest --nbval book/ --nb-time-budget=90 --nb-total-budget=720`` prints how
long each notebook took (kernel start and every cell) and fails the run when a
notebook, or all of them together, took longer than the budget. A beginner
should wait seconds, not minutes; this keeps the chapters honest about it.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("notebook timing")
    group.addoption(
        "--nb-time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail when one notebook takes longer than SECONDS in total",
    )
    group.addoption(
        "--nb-total-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail when all notebooks together take longer than SECONDS",
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def _over_budget(config: pytest.Config) -> list[str]:
    per_notebook = config.getoption("--nb-time-budget")
    total = config.getoption("--nb-total-budget")
    over = []
    if per_notebook is not None:
        over += [
            f"{path} took {seconds:.1f} s, over the budget of {per_notebook:.0f} s"
            for path, seconds in _notebook_seconds.items()
            if seconds > per_notebook
        ]
    all_seconds = sum(_notebook_seconds.values())
    if total is not None and all_seconds > total:
        over.append(f"all notebooks took {all_seconds:.1f} s, over the budget of {total:.0f} s")
    return over


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _notebook_seconds and _over_budget(session.config) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook execution times")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):8.1f} s  in all")
    for line in _over_budget(config):
        terminalreporter.write_line("OVER BUDGET: " + line, red=True)
