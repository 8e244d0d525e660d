"""Shared fixtures for the package tests.

``torch`` is a test-only dependency, used to check the layers against
``torch.nn``. Without it the parity tests are skipped, unless the environment
variable ``TUTOR_REQUIRE_TORCH=1`` is set (CI sets it): then a missing torch
fails them, so that a broken install cannot pass for a green run.

Chromium (Debian's ``chromium`` package) is a test-only tool in the same way:
the check of the rendered book opens pages in it. Its tests are skipped without
it, unless ``TUTOR_REQUIRE_CHROMIUM=1`` is set (the test command sets it).
"""

from __future__ import annotations

import os
import shutil

import pytest

TORCH_HINT = "pip install torch==2.13.0 to run the parity tests against torch.nn"


@pytest.fixture(scope="session")
def torch():
    """The ``torch`` module, single-threaded, for the parity tests (skip or fail without it)."""
    if os.environ.get("TUTOR_REQUIRE_TORCH") != "1":
        torch = pytest.importorskip("torch", reason=f"torch is not installed; {TORCH_HINT}")
    else:
        try:
            import torch
        except ImportError as error:
            message = f"TUTOR_REQUIRE_TORCH=1 but torch cannot be imported ({error}); {TORCH_HINT}."
            raise pytest.fail.Exception(message, pytrace=False) from None
    torch.set_num_threads(1)  # small products: a second thread only adds overhead
    return torch


CHROMIUM_HINT = "install Debian's chromium package (apt-get install chromium)"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a Chromium binary, for the rendered-book check (skip or fail without it)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("TUTOR_REQUIRE_CHROMIUM") == "1":
        message = f"TUTOR_REQUIRE_CHROMIUM=1 but no chromium is on the PATH; {CHROMIUM_HINT}."
        raise pytest.fail.Exception(message, pytrace=False)
    pytest.skip(f"chromium is not installed; {CHROMIUM_HINT}")
