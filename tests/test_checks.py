"""The shared input checks in tutor._checks."""

import numpy as np
import pytest

from tutor._checks import check_int


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3)])
def test_check_int_returns_a_python_int(value):
    result = check_int("n", value)
    assert result == 3
    assert type(result) is int


def test_check_int_minimum():
    assert check_int("n", 0, minimum=0) == 0
    assert check_int("n", 5, minimum=5) == 5
    with pytest.raises(ValueError, match=r"\bn\b.*>= 5.*\b4\b"):
        check_int("n", 4, minimum=5)
    with pytest.raises(ValueError, match=r"\bn\b.*>= 0.*-1"):
        check_int("n", -1, minimum=0)
    with pytest.raises(ValueError, match=r"size.*positive int.*\b0\b"):
        check_int("size", 0)


@pytest.mark.parametrize(
    ("value", "given"),
    [(True, r"bool True"), (2.0, r"float 2\.0"), ("3", r"str '3'"), (None, "NoneType")],
)
def test_check_int_refuses_what_is_not_an_int(value, given):
    with pytest.raises(ValueError, match=rf"size.*positive int.*{given}"):
        check_int("size", value)
