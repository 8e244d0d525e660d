"""Scoring next-step predictions: where the error is, and which predictions are right.

A network that predicts the next element of a stream shows what it has learned
through *where* its error is low. The chapter "Elman's simple recurrent
network" measures the error separately on the steps of each kind (the three
phases of the temporal XOR, the six letters of Elman's letter stream) with
:func:`group_means`, and scores predictions of a grammar's legal next symbols
with :func:`legal_ranked_first`.

Shapes: T time steps, B sequences, C symbols (or output units).
"""

from __future__ import annotations

import numpy as np

from tutor._checks import (
    check_float_array,
    check_int,
    check_int_array,
    check_shape,
)

__all__ = ["group_means", "legal_ranked_first"]


def group_means(
    values: np.ndarray, groups: np.ndarray, n_groups: int | None = None
) -> np.ndarray:
    """The mean of ``values`` over the entries of each group.

    For example, with ``values`` the squared error of every step and ``groups``
    the phase of every step's target, the result is the error per phase.

    Args:
        values: any shape S (for example ``(T, B)``), real numbers.
        groups: shape S, integer labels in ``0 .. n_groups - 1``: entry i of
            ``values`` belongs to group ``groups[i]``.
        n_groups: the number of groups; ``None`` means ``groups.max() + 1``.

    Returns:
        ``(n_groups,)`` float64: entry g is the mean of the values whose label
        is g, and NaN for a group with no entries.

    Example:
        >>> group_means(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 1]))
        array([ 2., 10.])
    """
    values = check_float_array("values", values)
    groups = check_int_array("groups", groups)
    check_shape(
        "groups",
        groups,
        values.shape,
        hint="groups holds one integer label for every entry of values.",
    )
    if groups.size == 0:
        raise ValueError(
            f"values and groups must not be empty; got shape {groups.shape}: "
            "there is nothing to average."
        )
    if groups.min() < 0:
        raise ValueError(
            f"groups must hold labels >= 0; got the label {groups.min()}."
        )
    if n_groups is None:
        n_groups = int(groups.max()) + 1
    else:
        n_groups = check_int("n_groups", n_groups)
        if groups.max() >= n_groups:
            raise ValueError(
                f"groups must hold labels in 0..{n_groups - 1} (n_groups = "
                f"{n_groups}); got the label {groups.max()}."
            )
    sums = np.bincount(
        groups.ravel(),
        weights=values.ravel().astype(np.float64),
        minlength=n_groups,
    )
    counts = np.bincount(groups.ravel(), minlength=n_groups)
    with np.errstate(
        invalid="ignore", divide="ignore"
    ):  # 0 / 0 is the NaN of an empty group
        return sums / counts


def legal_ranked_first(scores: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """At each step, whether every legal symbol outscores every illegal one.

    This is the strict criterion for predicting the legal next symbols of a
    grammar: the prediction is right when some threshold puts all the legal
    symbols above it and all the others below, whatever the threshold is. It
    needs no threshold of its own, and it gives the same answer for logits and
    for the probabilities computed from them.

    Args:
        scores: ``(..., C)``, the network's score for every symbol (for example
            ``(T, B, C)`` logits or probabilities).
        legal: ``(..., C)`` bool, True for the symbols the grammar allows next.

    Returns:
        ``(...)`` bool: ``min(legal scores) > max(illegal scores)``. A step
        where every symbol is legal, or none is (padding), counts as True: leave
        such steps out with a mask.

    Example:
        >>> legal = np.array([True, True, False])
        >>> legal_ranked_first(np.array([0.5, 0.4, 0.1]), legal).item()
        True
        >>> legal_ranked_first(np.array([0.8, 0.1, 0.1]), legal).item()
        False
    """
    scores = check_float_array("scores", scores)
    legal = np.asarray(legal)
    if legal.dtype != bool:
        raise ValueError(
            "legal must be a bool array (True for a legal symbol); "
            f"got dtype {legal.dtype}."
        )
    check_shape(
        "legal",
        legal,
        scores.shape,
        "(..., C)",
        hint="legal marks, for every score, whether that symbol may come next.",
    )
    lowest_legal = np.where(legal, scores, np.inf).min(axis=-1)
    highest_illegal = np.where(legal, -np.inf, scores).max(axis=-1)
    return lowest_legal > highest_illegal
