"""Small two-dimensional classification data sets, to watch a network draw a boundary.

The first chapter trains a multilayer perceptron on points in the plane
because its decision boundary can be drawn. The data set here is the XOR
problem in continuous form: four clouds of points around the corners of a
square, labelled 1 where the two coordinates of the corner differ in sign.
No straight line separates the two classes, so a network without a hidden
layer cannot solve it (Minsky and Papert, 1969); one hidden layer can
(Rumelhart, Hinton and Williams, 1986).
"""

from __future__ import annotations

import numpy as np

from tutor._checks import as_rng, check_int

__all__ = ["CORNERS", "xor_clusters"]

#: ``(4, 2)`` float64: the centres of the four clouds, one corner of the square per row.
CORNERS = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
CORNERS.setflags(write=False)


def xor_clusters(
    n_points: int, rng: int | np.random.Generator, spread: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """Draw points around the corners (-1, -1), (-1, 1), (1, -1), (1, 1), labelled by XOR.

    Each point picks a corner uniformly at random and adds Gaussian noise with
    standard deviation ``spread`` to each coordinate. Its label is 1 when the
    two coordinates of its corner have different signs, the XOR of
    ``corner[0] > 0`` and ``corner[1] > 0``, and 0 otherwise. The label is the
    corner's, not the noisy point's, so with a large ``spread`` a few points
    lie on the other side of an axis from their class.

    Args:
        n_points: N, the number of points, >= 1.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        spread: the standard deviation of the noise, >= 0.

    Returns:
        ``(x, y)``: ``x`` of shape ``(N, 2)``, float64, the points; ``y`` of
        shape ``(N,)``, int64, the labels 0 or 1.

    Example:
        >>> x, y = xor_clusters(5, rng=0, spread=0.0)
        >>> bool(np.all(y == (x[:, 0] * x[:, 1] < 0)))
        True
    """
    check_int("n_points", n_points)
    if not np.isfinite(spread) or spread < 0:
        raise ValueError(
            f"spread must be a finite number >= 0; got {spread!r}."
        )
    rng = as_rng(rng)
    corner = rng.integers(0, len(CORNERS), size=n_points)
    x = CORNERS[corner] + spread * rng.standard_normal((n_points, 2))
    y = (CORNERS[corner, 0] * CORNERS[corner, 1] < 0).astype(np.int64)
    return x, y
