"""Optimisers and gradient clipping.

An optimiser holds a dict of parameter arrays (for example ``layer.params``,
or :func:`tutor.feedforward.named_parameters` of several layers) and changes
those arrays in place in ``step(grads)``, so the layers see the new values
without being told. The update rules follow PyTorch's ``torch.optim.SGD`` and
``torch.optim.Adam`` (without weight decay).
"""

from __future__ import annotations

import numpy as np

from tutor._checks import check_same_keys

__all__ = ["SGD", "Adam", "clip_grad_norm", "clip_grad_value", "global_norm"]


class SGD:
    """Stochastic gradient descent, with optional (heavy-ball) momentum.

    With momentum mu, each step does v = mu v + g, then p = p - lr v
    (PyTorch's convention); with mu = 0 this is p = p - lr g.

    Args:
        params: ``{name: array}``, floating arrays updated in place by :meth:`step`.
        lr: the learning rate, > 0.
        momentum: mu, in [0, 1).
    """

    def __init__(
        self, params: dict[str, np.ndarray], lr: float, momentum: float = 0.0
    ):
        _check_params(params)
        _check_hyper("lr", lr, low=0.0, low_open=True)
        _check_hyper("momentum", momentum, low=0.0, high=1.0)
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """Update every parameter in place.

        Args:
            grads: ``{name: array}``, the keys and shapes of ``params``.
        """
        _check_grads(grads, self.params, self.lr)
        for name, p in self.params.items():
            v = self.velocity[name]
            v *= self.momentum
            v += grads[name]  # v = mu v + g
            p -= self.lr * v  # p = p - lr v


class Adam:
    """Adam (Kingma and Ba, 2015): a step per parameter scaled by its gradient history.

    Each step, for every entry: m = b1 m + (1 - b1) g and v = b2 v + (1 - b2) g^2
    (running means of the gradient and of its square), corrected for their
    start at zero by m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t); then
    p = p - lr m_hat / (sqrt(v_hat) + eps).

    Args:
        params: ``{name: array}``, floating arrays updated in place by :meth:`step`.
        lr: the learning rate, > 0.
        betas: (b1, b2), each in [0, 1).
        eps: a small number that keeps the division finite.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        _check_params(params)
        _check_hyper("lr", lr, low=0.0, low_open=True)
        _check_hyper("betas[0]", betas[0], low=0.0, high=1.0)
        _check_hyper("betas[1]", betas[1], low=0.0, high=1.0)
        _check_hyper("eps", eps, low=0.0)
        self.params, self.lr, self.betas, self.eps = (
            params,
            lr,
            tuple(betas),
            eps,
        )
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}
        self.t = 0  # the number of steps taken

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """Update every parameter in place.

        Args:
            grads: ``{name: array}``, the keys and shapes of ``params``.
        """
        _check_grads(grads, self.params, self.lr)
        b1, b2 = self.betas
        self.t += 1
        for name, p in self.params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= b1
            m += (1 - b1) * g  # m = b1 m + (1 - b1) g
            v *= b2
            v += (1 - b2) * g * g  # v = b2 v + (1 - b2) g^2
            m_hat = m / (1 - b1**self.t)
            v_hat = v / (1 - b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """The L2 norm of all gradient entries together, as if in one long vector.

    Args:
        grads: ``{name: array}``, any shapes.

    Returns:
        sqrt(sum of the squares of every entry), a float.
    """
    # Summing squares in float64 keeps float32 gradients of size ~1e20 from overflowing.
    return float(
        np.sqrt(
            sum(np.sum(np.square(g, dtype=np.float64)) for g in grads.values())
        )
    )


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale all gradients together if their global norm exceeds ``max_norm``.

    Every array is multiplied by the same factor max_norm / norm, so the
    gradient keeps its direction and only its length shrinks (Pascanu et al.,
    2013). Arrays are changed in place. A non-finite norm leaves the gradients
    unchanged (rescaling would turn them into NaN); the optimiser's step then
    reports them.

    Args:
        grads: ``{name: array}``, floating arrays, any shapes.
        max_norm: the largest allowed global norm, > 0.

    Returns:
        The global norm before clipping (useful to plot).
    """
    _check_hyper("max_norm", max_norm, low=0.0, low_open=True)
    norm = global_norm(grads)
    if np.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm


def clip_grad_value(grads: dict[str, np.ndarray], clip_value: float) -> float:
    """Clip every gradient entry to [-clip_value, clip_value], in place.

    Unlike :func:`clip_grad_norm`, this changes the gradient's direction: only
    the entries that are too large are cut back.

    Args:
        grads: ``{name: array}``, floating arrays, any shapes.
        clip_value: the largest allowed absolute value of an entry, > 0.

    Returns:
        The global norm before clipping.
    """
    _check_hyper("clip_value", clip_value, low=0.0, low_open=True)
    norm = global_norm(grads)
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
    return norm


def _check_params(params: dict[str, np.ndarray]) -> None:
    """Raise ``ValueError`` unless ``params`` maps names to floating NumPy arrays."""
    if not isinstance(params, dict) or not params:
        given = "{}" if isinstance(params, dict) else type(params).__name__
        raise ValueError(
            f"params must be a non-empty dict {{name: array}}, e.g. layer.params; "
            f"got {given}."
        )
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or not np.issubdtype(
            p.dtype, np.floating
        ):
            what = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
            raise ValueError(
                f"params[{name!r}] must be a floating NumPy array (the optimiser "
                f"changes it in place); got {what}."
            )


def _check_grads(
    grads: dict[str, np.ndarray], params: dict[str, np.ndarray], lr: float
) -> None:
    """Raise ``ValueError`` unless ``grads`` matches ``params`` and is finite."""
    check_same_keys("grads", grads, params)
    for name, p in params.items():
        g = np.asarray(grads[name])
        if g.shape != p.shape:
            raise ValueError(
                f"grads[{name!r}] must have the shape of params[{name!r}], "
                f"{p.shape}; got {g.shape}."
            )
        finite = np.isfinite(g)
        if not finite.all():
            raise ValueError(
                f"grads[{name!r}] must be finite; got {g.size - finite.sum()} "
                f"NaN or infinite values of {g.size}: training has diverged. "
                f"Lower the learning rate (now {lr}) or clip the gradients "
                f"(clip_grad_norm), and check the inputs for NaN."
            )


def _check_hyper(
    name: str,
    value: float,
    low: float,
    high: float | None = None,
    low_open: bool = False,
) -> None:
    """Raise ``ValueError`` unless low <= value (< if ``low_open``) and value < high."""
    ok = np.isfinite(value) and (value > low if low_open else value >= low)
    ok = ok and (high is None or value < high)
    if not ok:
        bounds = f"{'(' if low_open else '['}{low}, {'inf' if high is None else high})"
        raise ValueError(f"{name} must be in {bounds}; got {value}.")
