"""Feedforward networks: a dense (fully connected) layer and a multilayer perceptron.

The first chapter builds these before any recurrence, to show what a network
without memory can and cannot do. The recurrent layers reuse :class:`Dense` as
a readout, and :func:`named_parameters` lets several layers share one optimiser.

Parameters carry PyTorch's names and shapes (``weight`` is ``(out, in)``), so a
row vector ``x`` is mapped to ``x @ weight.T + bias``, as in ``torch.nn.Linear``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor._checks import (
    as_rng,
    check_finite,
    check_float_array,
    check_int,
    check_shape,
)
from tutor.functional import (
    drelu_from_output,
    dsigmoid_from_output,
    dtanh_from_output,
    relu,
    sigmoid,
    tanh,
)

__all__ = ["Dense", "MLP", "named_parameters", "named_gradients", "ACTIVATIONS"]

#: Hidden-layer activations of :class:`MLP`: the function, and its derivative
#: written with the function's output (the output is what the forward pass keeps).
ACTIVATIONS = {
    "tanh": (tanh, dtanh_from_output),
    "sigmoid": (sigmoid, dsigmoid_from_output),
    "relu": (relu, drelu_from_output),
}


class Dense:
    """A fully connected layer y = x W^T + b, applied to the last axis of ``x``.

    Args:
        in_features: D, the size of the last axis of the input.
        out_features: K, the size of the last axis of the output.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        dtype: the floating dtype of the parameters and of every input.

    Attributes:
        params: ``{"weight": (K, D), "bias": (K,)}``, initialised as in PyTorch,
            uniformly in [-1/sqrt(D), 1/sqrt(D)].
        grads: the same keys and shapes; filled (in place) by :meth:`backward`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: int | np.random.Generator | None = None,
        dtype: type = np.float64,
    ):
        check_int("in_features", in_features)
        check_int("out_features", out_features)
        rng = as_rng(rng)
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(
                f"dtype must be a floating dtype such as np.float64 or "
                f"np.float32; got {self.dtype.name}."
            )
        bound = 1.0 / np.sqrt(in_features)
        self.params = {
            "weight": rng.uniform(
                -bound, bound, (out_features, in_features)
            ).astype(dtype),
            "bias": rng.uniform(-bound, bound, out_features).astype(dtype),
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._x = None  # the input of the last forward pass, needed by backward

    @property
    def in_features(self) -> int:
        """D, the number of input features."""
        return self.params["weight"].shape[1]

    @property
    def out_features(self) -> int:
        """K, the number of output features."""
        return self.params["weight"].shape[0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute y = x W^T + b.

        Args:
            x: ``(..., D)``, any number of leading axes (``(B, D)``,
                ``(T, B, D)``, ...).

        Returns:
            The output ``y``, shape ``(..., K)``, with the same leading axes.
        """
        x = check_float_array("x", x, self.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            check_shape(
                "x",
                x,
                (None,) * max(x.ndim - 1, 0) + (self.in_features,),
                "(..., D)",
                hint="The last axis of x holds the features.",
            )
        check_finite("x", x)
        self._x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Backpropagate ``dy`` = dL/dy through the last :meth:`forward`.

        Fills ``self.grads`` with dL/dW (one matrix product over all leading
        axes flattened together) and dL/db.

        Args:
            dy: ``(..., K)``, the shape of the last output.

        Returns:
            The input gradient ``dx``, shape ``(..., D)``, like the last input.
        """
        if self._x is None:
            raise RuntimeError(
                "Dense.backward was called before forward: call "
                "forward(x) first, then backward(dy)."
            )
        x, weight = self._x, self.params["weight"]
        dy = check_float_array("dy", dy, self.dtype)
        check_shape(
            "dy",
            dy,
            x.shape[:-1] + (self.out_features,),
            "(..., K)",
            hint="dy must have the shape of the output of the last forward pass.",
        )
        # (N, K), N = all leading axes
        dy_rows = dy.reshape(-1, self.out_features)
        # dW = dy^T x
        self.grads["weight"][...] = dy_rows.T @ x.reshape(-1, self.in_features)
        # db = sum of dy over rows
        self.grads["bias"][...] = dy_rows.sum(axis=0)
        return dy @ weight  # dx = dy W


class MLP:
    """A multilayer perceptron: dense layers with an activation between them.

    The last layer is linear: its outputs are logits (or regression outputs),
    and the loss applies the softmax or the sigmoid.

    Args:
        sizes: layer widths from input to output, e.g. ``[2, 16, 1]``
            (two inputs, one hidden layer of 16 units, one output).
        activation: the hidden activation, ``"tanh"``, ``"sigmoid"`` or ``"relu"``.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        dtype: the floating dtype of the parameters and inputs.

    Attributes:
        layers: the :class:`Dense` layers, in order.
        params: a flat dict keyed like a PyTorch state dict (``"0.weight"``,
            ``"0.bias"``, ``"1.weight"``, ...) whose arrays are the layers' own
            arrays, so an optimiser that updates them in place updates the layers.
        grads: the same keys, the layers' gradient arrays.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "tanh",
        rng: int | np.random.Generator | None = None,
        dtype: type = np.float64,
    ):
        if len(sizes) < 2:
            raise ValueError(
                f"sizes must list at least an input and an output width, e.g. "
                f"[2, 16, 1]; got {list(sizes)}."
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}."
            )
        rng = as_rng(rng)
        self.activation = activation
        self.phi, self.dphi_from_output = ACTIVATIONS[activation]
        widths = zip(
            sizes[:-1], sizes[1:], strict=True
        )  # (in, out) of each layer
        self.layers = [Dense(n_in, n_out, rng, dtype) for n_in, n_out in widths]
        self._hidden = None  # the hidden activations of the last forward pass

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The layers' own arrays, keyed ``"0.weight"`` ``(sizes[1], sizes[0])`` and so on."""
        return named_parameters(dict(enumerate(self.layers)))

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The layers' gradient arrays, keyed as :attr:`params`."""
        return named_gradients(dict(enumerate(self.layers)))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the network's output.

        Args:
            x: ``(..., sizes[0])``, any leading axes.

        Returns:
            ``(..., sizes[-1])``: logits, before any softmax or sigmoid.
        """
        self._hidden = []
        h = x
        for layer in self.layers[:-1]:
            h = self.phi(layer.forward(h))  # h = phi(h_prev W^T + b)
            self._hidden.append(h)
        return self.layers[-1].forward(h)  # y = h W^T + b, no activation

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Backpropagate ``dy`` = dL/dy; fills every layer's ``grads``.

        For two layers, z = x W1^T + b1, h = phi(z), y = h W2^T + b2, and the
        chain rule gives, from the output back: dW2 = dy^T h, db2 = sum(dy),
        dh = dy W2, dz = dh * phi'(z), dW1 = dz^T x, db1 = sum(dz), dx = dz W1.

        Args:
            dy: ``(..., sizes[-1])``, the shape of the last output.

        Returns:
            The input gradient ``dx``, shape ``(..., sizes[0])``, like the last
            input.
        """
        if self._hidden is None:
            raise RuntimeError(
                "MLP.backward was called before forward: call forward(x) "
                "first, then backward(dy)."
            )
        dh = self.layers[-1].backward(dy)  # dW2, db2; dh = dy W2
        for layer, h in zip(
            reversed(self.layers[:-1]), reversed(self._hidden), strict=True
        ):
            dz = dh * self.dphi_from_output(h)  # dz = dh * phi'(z)
            dh = layer.backward(dz)  # dW1, db1; dx = dz W1
        return dh


def named_parameters(layers: dict) -> dict[str, np.ndarray]:
    """Gather the parameters of several layers into one flat dict.

    Args:
        layers: ``{prefix: layer}``, each layer with a ``params`` dict, e.g.
            ``{"rnn": rnn, "readout": dense}``.

    Returns:
        ``{"prefix.name": array}``, e.g. ``"readout.weight"``. The arrays are the
        layers' own (not copies), so one optimiser can update all the layers.
    """
    return {
        f"{prefix}.{name}": array
        for prefix, layer in layers.items()
        for name, array in layer.params.items()
    }


def named_gradients(layers: dict) -> dict[str, np.ndarray]:
    """Gather the gradients of several layers, keyed as :func:`named_parameters`.

    Call it after the backward passes: a layer may replace its gradient arrays.

    Args:
        layers: ``{prefix: layer}``, each layer with a ``grads`` dict.

    Returns:
        ``{"prefix.name": array}``, the same keys as ``named_parameters(layers)``.
    """
    return {
        f"{prefix}.{name}": array
        for prefix, layer in layers.items()
        for name, array in layer.grads.items()
    }
