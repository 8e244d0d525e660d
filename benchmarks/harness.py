"""What the benchmark scripts share: thread settings, child processes, interleaved timing.

Each script measures in child processes, one per thread setting: NumPy's BLAS reads its
thread count (``OPENBLAS_NUM_THREADS`` and friends) only once, when NumPy is imported,
so the variables must be set before the process starts. The child prints its results
as JSON lines, which the parent turns into a table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

THREAD_VARIABLES = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_child(script: str, threads: int, options: list[str]) -> list[dict]:
    """Run ``script --child --threads N *options`` with N BLAS threads; its JSON lines."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    env["TUTOR_PROGRESS"] = "0"  # no progress bars in the child's output
    output = subprocess.run(
        [sys.executable, script, "--child", "--threads", str(threads), *options],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return [json.loads(line) for line in output.stdout.splitlines() if line.startswith("{")]


def time_in_alternation(
    run_tutor: Callable[[], object], run_torch: Callable[[], object], rounds: int, warmup: int
) -> dict:
    """Time two functions in alternation, round after round, so that load hits both alike.

    Returns the median time of each in milliseconds (``tutor_ms``, ``torch_ms``), the
    median of the per-round ratios tutor / torch (``ratio``) and their first and third
    quartiles (``ratio_q1_q3``).
    """

    def seconds(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    for _ in range(warmup):  # the first calls allocate memory and fill caches
        run_tutor()
        run_torch()
    times = {"tutor": [], "torch": []}
    for _ in range(rounds):
        times["tutor"].append(seconds(run_tutor))
        times["torch"].append(seconds(run_torch))
    ratios = [a / b for a, b in zip(times["tutor"], times["torch"], strict=True)]
    return {
        "tutor_ms": 1e3 * statistics.median(times["tutor"]),
        "torch_ms": 1e3 * statistics.median(times["torch"]),
        "ratio": statistics.median(ratios),
        "ratio_q1_q3": statistics.quantiles(ratios, n=4)[::2],
    }
