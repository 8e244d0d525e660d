"""Input checks shared by every layer, loss and helper in :mod:`tutor`.

A beginner's most common mistakes are wrong shapes (batch-first instead of
time-major, a missing batch axis), wrong dtypes and NaN inputs. NumPy would
either broadcast silently or fail deep inside a matrix product with a message
about ``matmul``. These helpers fail early instead, with a message that names
the argument, the shape that was expected and the shape that was given.

Expected shapes are written as tuples whose entries are either an ``int``
(that exact size) or ``None`` (any size), together with the letters that name
the axes, for example ``check_shape("x", x, (None, None, 3), "(T, B, D)")``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "check_ndim",
    "check_shape",
    "check_float_array",
    "check_finite",
    "check_same_keys",
    "check_int_array",
    "check_int",
    "as_rng",
    "format_shape",
]


def format_shape(
    expected: Sequence[int | None], labels: str | None = None
) -> str:
    """Write an expected shape for a message, e.g. ``(T, B, D) = (?, ?, 3)``."""
    sizes = "(" + ", ".join("?" if n is None else str(n) for n in expected)
    sizes += ",)" if len(expected) == 1 else ")"
    return f"{labels} = {sizes}" if labels else sizes


def check_ndim(
    name: str,
    array: np.ndarray,
    ndim: int,
    labels: str | None = None,
    hint: str = "",
) -> None:
    """Raise ``ValueError`` unless ``array`` has ``ndim`` axes."""
    if np.ndim(array) != ndim:
        what = f"shape {labels}" if labels else f"{ndim} axes"
        message = (
            f"{name} must have {ndim} axes ({what}); got {np.ndim(array)} axes "
            f"with shape {np.shape(array)}."
        )
        raise ValueError(message + (" " + hint if hint else ""))


def check_shape(
    name: str,
    array: np.ndarray,
    expected: Sequence[int | None],
    labels: str | None = None,
    hint: str = "",
) -> None:
    """Raise ``ValueError`` unless ``array.shape`` matches ``expected``.

    ``expected`` holds an ``int`` for an axis whose size is fixed and ``None``
    for an axis of any size. Nothing is reshaped or broadcast.
    """
    shape = np.shape(array)
    matches = len(shape) == len(expected) and all(
        want is None or want == got
        for want, got in zip(expected, shape, strict=False)
    )
    if not matches:
        message = f"{name} must have shape {format_shape(expected, labels)}; got shape {shape}."
        raise ValueError(message + (" " + hint if hint else ""))


def check_float_array(
    name: str, array: object, dtype: np.dtype | type | None = None
) -> np.ndarray:
    """Return ``array`` as a floating NumPy array, or raise ``ValueError``.

    Lists are turned into arrays, but the dtype is never changed behind the
    reader's back: when ``dtype`` is given, a floating array of another dtype
    is an error that says how to convert it.
    """
    result = np.asarray(array)
    if not np.issubdtype(result.dtype, np.floating):
        if np.issubdtype(result.dtype, np.number) or result.dtype == bool:
            want = (
                np.dtype(dtype).name
                if dtype is not None
                else "a floating dtype"
            )
            raise ValueError(
                f"{name} must hold floating-point numbers ({want}); got dtype "
                f"{result.dtype}. Convert it with {name}.astype(np.float64)."
            )
        raise ValueError(
            f"{name} must be a floating-point array; got {type(array).__name__} "
            f"with dtype {result.dtype}."
        )
    if dtype is not None and result.dtype != np.dtype(dtype):
        want = np.dtype(dtype).name
        raise ValueError(
            f"{name} must have dtype {want} (the layer's dtype); got "
            f"{result.dtype.name}. Convert it with {name}.astype(np.{want}) or "
            f"build the layer with dtype=np.{result.dtype.name}."
        )
    return result


def check_int_array(name: str, array: object) -> np.ndarray:
    """Return ``array`` as an integer NumPy array (class indices), or raise ``ValueError``."""
    result = np.asarray(array)
    if not np.issubdtype(result.dtype, np.integer):
        raise ValueError(
            f"{name} must hold integer class indices; got dtype {result.dtype}. "
            f"Targets are indices 0..C-1, not one-hot vectors or floats."
        )
    return result


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an ``int``, or raise ``ValueError`` unless it is an int >= ``minimum``.

    Sizes, counts and budgets all go through this check. ``True`` is refused
    although Python counts it as an int, and so is a float such as ``2.0``:
    nothing is converted behind the reader's back. The message names the
    argument, what it must be and what was given.
    """
    want = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"{name} must be {want}; got {type(value).__name__} {value!r}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be {want}; got {int(value)}.")
    return int(value)


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise ``ValueError`` if ``array`` holds a NaN or an infinity, saying where."""
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        value = np.asarray(array)[where]
        raise ValueError(
            f"{name} holds a non-finite value ({value}) at index {where}; "
            f"{np.size(array) - int(finite.sum())} of {np.size(array)} entries "
            f"are NaN or infinite. Check the data, or lower the learning rate "
            f"if this came from training."
        )


def check_same_keys(name: str, given: dict, expected: dict) -> None:
    """Raise ``ValueError`` unless dict ``given`` has exactly the keys of ``expected``."""
    if set(given) != set(expected):
        missing = sorted(set(expected) - set(given))
        extra = sorted(set(given) - set(expected))
        raise ValueError(
            f"{name} must have the keys {sorted(expected)}; missing {missing}, unexpected {extra}."
        )


def check_time_major_layer(layer: object, function: str) -> None:
    """Refuse a layer built with ``batch_first=True`` where ``x`` is cut in time.

    A function that cuts a sequence into pieces along its first axis needs that
    axis to be time; with a batch-first layer it would silently cut the batch.
    """
    if getattr(layer, "batch_first", False):
        raise ValueError(
            f"{function} cuts x along its first axis, which must be time: it "
            "needs a time-major layer, but this layer was built with "
            "batch_first=True. Build it with batch_first=False and pass x as "
            "(T, B, D)."
        )


def as_rng(
    rng: int | np.random.Generator | None, name: str = "rng"
) -> np.random.Generator:
    """Turn a seed or a Generator into a ``numpy.random.Generator``.

    ``None`` is refused on purpose: every random thing in this package takes a
    seed, so that every figure in the book can be reproduced.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"{name} must be an int seed or a numpy.random.Generator; got "
        f"{type(rng).__name__}. Pass for example {name}=0."
    )
