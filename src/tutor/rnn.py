"""Elman's simple recurrent network: one step forward and backward, then the sequence layer.

The chapter "Elman's simple recurrent network" derives one step,

    h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),

with ``phi`` = tanh (or the logistic sigmoid of Elman's 1990 paper), and the
chapter "Backpropagation through time" its backward pass. The functions
:func:`rnn_step_forward` and :func:`rnn_step_backward` are those equations
line by line. :class:`RNN` runs the same computation over a whole sequence,
arranged for speed; the tests check that it agrees with a loop over the step
functions, with finite differences and with ``torch.nn.RNN``.

In the book's notation, h_t = phi(W x_t + U h_{t-1} + b) with column vectors:
W is ``weight_ih``, U is ``weight_hh`` and b is ``bias_ih + bias_hh``.

Shapes: T time steps, B sequences in a batch, D input features, H hidden units.
Parameters carry PyTorch's names and shapes, so weights copy to and from
``torch.nn.RNN`` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tutor import _recurrent, stacked
from tutor.functional import (
    dsigmoid_from_output,
    dtanh_from_output,
    sigmoid,
    tanh,
)

__all__ = ["rnn_step_forward", "rnn_step_backward", "RNN"]

# Each nonlinearity with its derivative written in terms of its output,
# since the backward pass keeps the outputs h_t and not the pre-activations.
_NONLINEARITIES: dict[str, tuple[Callable, Callable]] = {
    "tanh": (tanh, dtanh_from_output),
    "sigmoid": (sigmoid, dsigmoid_from_output),
}


def _nonlinearity(name: str) -> tuple[Callable, Callable]:
    if name not in _NONLINEARITIES:
        raise ValueError(
            f"nonlinearity must be 'tanh' or 'sigmoid'; got {name!r}."
        )
    return _NONLINEARITIES[name]


CACHE_KEYS = ("x", "h_prev", "h")


def rnn_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One time step of the Elman RNN: the new hidden state from x and h_prev.

    ``h = phi(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)``.

    Args:
        x: the inputs of this step, ``(B, D)``.
        h_prev: the previous hidden state, ``(B, H)``.
        weight_ih: input-to-hidden weights W, ``(H, D)``.
        weight_hh: hidden-to-hidden (transition) weights U, ``(H, H)``.
        bias_ih: ``(H,)``.
        bias_hh: ``(H,)``. Two biases, as in PyTorch; only their sum matters.
        nonlinearity: ``"tanh"`` or ``"sigmoid"``.

    Returns:
        The new hidden state ``h``, ``(B, H)``, and a dict ``cache`` of what
        :func:`rnn_step_backward` needs: ``"x"``, ``"h_prev"`` and ``"h"``.
    """
    phi, _ = _nonlinearity(nonlinearity)
    x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh = _recurrent.check_step(
        "rnn", x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh
    )
    h = phi(x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh)
    return h, {"x": x, "h_prev": h_prev, "h": h}


def rnn_step_backward(
    dh: np.ndarray,
    cache: dict[str, np.ndarray],
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The backward pass of :func:`rnn_step_forward`, by the chain rule.

    Args:
        dh: the gradient of the loss with respect to this step's output h,
            ``(B, H)``.
        cache: the dict returned by :func:`rnn_step_forward`.
        weight_ih: ``(H, D)``, as in the forward step.
        weight_hh: ``(H, H)``.
        nonlinearity: ``"tanh"`` or ``"sigmoid"``, as in the forward step.

    Returns:
        The tuple ``(dx, dh_prev, grads)``: the gradients with respect to ``x``,
        ``(B, D)``, and ``h_prev``, ``(B, H)``, and a dict of the parameter
        gradients ``{"weight_ih": (H, D), "weight_hh": (H, H), "bias_ih": (H,),
        "bias_hh": (H,)}``, summed over the batch.
    """
    _, dphi = _nonlinearity(nonlinearity)
    dh, weight_ih, weight_hh = _recurrent.check_step_cache(
        "rnn", dh, cache, CACHE_KEYS, weight_ih, weight_hh
    )
    x, h_prev, h = cache["x"], cache["h_prev"], cache["h"]
    # through phi (its derivative from its output h): the gradient of the
    # pre-activation a, (B, H)
    da = dh * dphi(h)
    grads = {
        "weight_ih": da.T @ x,  # a depends on W_ih through x_t W_ih^T
        "weight_hh": da.T @ h_prev,  # ... and on W_hh through h_{t-1} W_hh^T
        "bias_ih": da.sum(axis=0),
        "bias_hh": da.sum(axis=0),
    }
    dx = da @ weight_ih  # back through the input weights to the inputs
    dh_prev = da @ weight_hh  # ... and through U to the previous state
    return dx, dh_prev, grads


class RNN:
    """A single-layer Elman RNN over batches of sequences, with a hand-written backward pass.

    ``h_t = phi(x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh)``
    for t = 1..T, from the state h_0 (zeros by default), as in
    :func:`rnn_step_forward`; the output is h_1..h_T. This is
    ``torch.nn.RNN(input_size, hidden_size, nonlinearity)`` with one layer,
    with the same parameter names, shapes and initialisation.

    :class:`~tutor.lstm.LSTM` and :class:`~tutor.gru.GRU` have the same
    interface; what is said here of the arguments, of ``params`` and ``grads``
    and of :meth:`forward` and :meth:`backward` holds for them too.

    Args:
        input_size: D, the number of input features per time step.
        hidden_size: H, the number of hidden units.
        nonlinearity: ``"tanh"`` (as in PyTorch) or ``"sigmoid"`` (as in Elman 1990).
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the initial weights.
        dtype: ``np.float64`` (default; needed for gradient checks) or ``np.float32``.
            Inputs, states and gradients must have this dtype; it is kept throughout.
        batch_first: ``False`` (default) for time-major inputs and outputs,
            ``(T, B, D)`` and ``(T, B, H)``; ``True`` for ``(B, T, D)`` and
            ``(B, T, H)``, as in PyTorch. States are ``(B, H)`` either way.
        num_layers: L, the number of layers stacked, each reading the outputs
            of the one below (:mod:`tutor.stacked`); 1 by default.
        bidirectional: ``True`` adds at each level a second layer that reads
            each sequence backwards; the outputs join both, ``2H`` features.
            With ``num_layers > 1`` or ``bidirectional``, as in PyTorch: the
            parameters are named ``weight_ih_l0``, ..., ``bias_hh_l1_reverse``;
            states are ``(L * dirs, B, H)`` (dirs = 2 if bidirectional, else 1)
            and outputs ``(T, B, dirs * H)``. One layer reading forwards keeps
            the names and shapes below.

    Attributes:
        params: ``{"weight_ih": (G*H, D), "weight_hh": (G*H, H), "bias_ih": (G*H,),
            "bias_hh": (G*H,)}`` with G = 1, drawn from U(-1/sqrt(H), 1/sqrt(H)) in
            that order. Optimisers update these arrays in place.
        grads: the same keys and shapes, overwritten (not accumulated) by :meth:`backward`.
        stack: ``None`` for one layer reading forwards; else the
            :class:`~tutor.stacked.Stack` of single layers that does the work.

    Example:
        >>> layer = RNN(3, 5, rng=0)
        >>> out, h_T = layer.forward(np.ones((7, 2, 3)))  # 7 steps, 2 sequences
        >>> out.shape, h_T.shape
        ((7, 2, 5), (2, 5))
        >>> dx, dh0 = layer.backward(np.ones_like(out))
        >>> dx.shape, dh0.shape, layer.grads["weight_hh"].shape
        ((7, 2, 3), (2, 5), (5, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        *,
        rng: int | np.random.Generator,
        dtype: type | np.dtype = np.float64,
        batch_first: bool = False,
        num_layers: int = 1,
        bidirectional: bool = False,
    ) -> None:
        self.phi, self.dphi = _nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        if stacked.build(
            self,
            RNN,
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            rng=rng,
            dtype=dtype,
            batch_first=batch_first,
            state_parts=1,
            nonlinearity=nonlinearity,
        ):
            return  # layers of single RNNs (tutor.stacked)
        _recurrent.init_layer(
            self, input_size, hidden_size, 1, rng, dtype, batch_first
        )

    def __repr__(self) -> str:
        return _recurrent.layer_repr(self, nonlinearity=self.nonlinearity)

    def forward(
        self,
        x: np.ndarray,
        state: np.ndarray | None = None,
        *,
        ids: bool = False,
        lengths: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run the RNN over a batch of sequences.

        Args:
            x: inputs, ``(T, B, D)``, time-major, in the layer's dtype; with
                ``ids=True``, ``(T, B)`` integer ids in ``0..D-1`` instead.
                ``(B, T, D)`` and ``(B, T)`` if the layer is ``batch_first``.
            state: the initial hidden state h_0, ``(B, H)``; ``None`` means zeros.
            ids: ``True`` when ``x`` holds ids, each standing for the one-hot vector
                of size D with a 1 at that index (characters, words). The result is the
                same as for those vectors, but the input product ``x_t @ W_ih.T`` is
                computed by looking up column ``x_t`` of ``W_ih``, and :meth:`backward`
                returns no input gradient (``dx`` is ``None``).
            lengths: ``None`` when all B sequences have T steps; else the number
                of real steps of each, ``(B,)`` integers from 1 to T, the rest
                being padding (:mod:`tutor.padding`). The outputs after a
                sequence's end are then zeros, its final state is its state at
                its own last step, and :meth:`backward` lets no gradient flow
                from the padding.

        Returns:
            The pair ``(out, h_T)``: all hidden states h_1..h_T, ``(T, B, H)``
            (``(B, T, H)`` if ``batch_first``), and the last, ``(B, H)``. Both are
            read-only views of what :meth:`backward` needs: copy them before changing
            them in place. ``x`` itself is kept by reference (unless ``batch_first``
            makes a time-major copy), so do not change it in place before calling
            :meth:`backward`.

        Raises:
            ValueError: ``x`` or ``state`` has the wrong shape or dtype, or holds NaN or inf.
        """
        if self.stack is not None:
            return self.stack.forward(x, state, ids=ids, lengths=lengths)
        p, H = self.params, self.hidden_size
        x, T, B = _recurrent.start_forward(self, x, ids, 1)
        h0 = _recurrent.check_state("state", state, B, H, self.dtype)
        _recurrent.start_lengths(self, lengths, T, B)

        # states[0] is h_0 and states[t] is h_t: one array, so that out = states[1:]
        # and the previous states states[:-1] needed by backward are both views.
        states = np.empty((T + 1, B, H), dtype=self.dtype)
        states[0] = h0
        bias = p["bias_ih"] + p["bias_hh"]
        _recurrent.project_inputs(x, p["weight_ih"], bias, states[1:], ids)
        # A contiguous copy of W_hh^T: BLAS multiplies by it faster than by the
        # transposed view, and the copy (H x H) is made once, not once per step.
        W_hh_T = np.ascontiguousarray(p["weight_hh"].T)
        for t in range(1, T + 1):  # one (B, H) @ (H, H) product per step
            states[t] = self.phi(states[t] + states[t - 1] @ W_hh_T)

        states.flags.writeable = False  # backward reads them: keep them intact
        self._cache = (x, states)
        return _recurrent.sequence_outputs(self, states)

    def backward(
        self, dout: np.ndarray | None, dstate: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """Backpropagate through the last :meth:`forward` and fill ``grads``.

        Backward may be called several times after one forward (for example with
        different ``dout``); each call uses the values of the last forward.

        Args:
            dout: the gradient of the loss with respect to ``out``,
                ``(T, B, H)`` (``(B, T, H)`` if ``batch_first``); ``None`` means
                zeros (a loss on the last state only, given by ``dstate``).
            dstate: the gradient with respect to the last state h_T, ``(B, H)``,
                coming from beyond the sequence (the next chunk in truncated
                BPTT, or a loss on h_T); ``None`` means zeros. Note that
                ``out[-1]`` is h_T as well, so a loss on both gets
                ``dout[-1] + dstate``.

        Returns:
            The pair ``(dx, dh0)``: the gradients with respect to the inputs,
            ``(T, B, D)`` or ``(B, T, D)`` like ``x`` (``None`` after a forward with
            ``ids=True``: ids have no gradient), and the initial state,
            ``(B, H)``. ``self.grads`` is overwritten in place.

        Raises:
            RuntimeError: no forward pass has been run yet.
            ValueError: ``dout`` or ``dstate`` has the wrong shape or dtype, or
                holds NaN or inf.
        """
        if self.stack is not None:
            return self.stack.backward(dout, dstate)
        (x, states), dout = _recurrent.start_backward(self, dout)
        T, B = x.shape[:2]
        dh = _recurrent.check_state(
            "dstate", dstate, B, self.hidden_size, self.dtype
        )
        dout, dh = _recurrent.gradients_into_steps(self, dout, dh)
        # da[t] becomes the gradient of the pre-activation a_t. It starts as
        # phi'(a_t), for all steps at once (one call on (T, B, H) is faster than
        # T small ones); the loop then multiplies in the gradient reaching h_t,
        # from the output and from step t + 1.
        da = self.dphi(states[1:])
        W_hh = self.params["weight_hh"]
        for t in range(T - 1, -1, -1):
            da[t] *= dout[t] + dh
            dh = da[t] @ W_hh  # on to h_{t-1}
        dx = _recurrent.weight_gradients(self, x, states[:-1], [da])
        return dx, dh
