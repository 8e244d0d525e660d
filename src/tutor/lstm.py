"""Long short-term memory: one step forward and backward, then the sequence layer.

The chapter "Long short-term memory" derives one step of the LSTM in
PyTorch's form (Hochreiter and Schmidhuber 1997, with the forget gate of
Gers, Schmidhuber and Cummins 2000). Four gates are computed from the input
``x_t`` and the previous hidden state ``h_{t-1}``, each with its own rows of
the weights::

    i_t = sigmoid(x_t W_ii^T + h_{t-1} W_hi^T + b_i)  # input gate
    f_t = sigmoid(x_t W_if^T + h_{t-1} W_hf^T + b_f)  # forget gate
    g_t = tanh(x_t W_ig^T + h_{t-1} W_hg^T + b_g)     # cell candidate
    o_t = sigmoid(x_t W_io^T + h_{t-1} W_ho^T + b_o)  # output gate
    c_t = f_t * c_{t-1} + i_t * g_t                   # cell state
    h_t = o_t * tanh(c_t)                             # hidden state, output

(``*`` is the element-wise product). :func:`lstm_step_forward` and
:func:`lstm_step_backward` are these equations and their chain rule, line by
line. :class:`LSTM` runs the same computation over a whole sequence, arranged
for speed; the tests check that it agrees with a loop over the step functions,
with finite differences and with ``torch.nn.LSTM``.

Shapes: T time steps, B sequences in a batch, D input features, H hidden
units. The four gates' weights are stacked in PyTorch's order (i, f, g, o):
``weight_ih`` is ``(4*H, D)``, ``weight_hh`` is ``(4*H, H)``, and ``bias_ih``
and ``bias_hh`` are ``(4*H,)``; rows ``0:H`` belong to the input gate,
``H:2*H`` to the forget gate, ``2*H:3*H`` to the cell candidate and
``3*H:4*H`` to the output gate. Weights copy to and from ``torch.nn.LSTM``
unchanged.
"""

from __future__ import annotations

import numpy as np

from tutor import _recurrent, padding, stacked
from tutor.functional import (
    dsigmoid_from_output,
    dtanh_from_output,
    sigmoid,
    tanh,
)

__all__ = ["lstm_step_forward", "lstm_step_backward", "LSTM"]

GATES = 4  # i, f, g, o: the blocks of rows in the weights, in PyTorch's order
CACHE_KEYS = ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c")


def lstm_step_forward(
    x: np.ndarray,
    state: tuple[np.ndarray, np.ndarray],
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
    forget_gate: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], dict[str, np.ndarray]]:
    """One time step of the LSTM: four gates, then new cell and hidden states.

    Args:
        x: the inputs of this step, ``(B, D)``.
        state: the previous states, the pair ``(h_prev, c_prev)`` of the
            hidden state and the cell state, ``(B, H)`` each.
        weight_ih: input-to-hidden weights of the four gates, stacked
            (i, f, g, o), ``(4*H, D)``.
        weight_hh: hidden-to-hidden weights, stacked the same way, ``(4*H, H)``.
        bias_ih: ``(4*H,)``.
        bias_hh: ``(4*H,)``. Two biases, as in PyTorch; only their sum matters.
        forget_gate: ``False`` gives the original LSTM of 1997, which has no
            forget gate: ``f`` is exactly 1, so ``c = c_prev + i * g``, and the
            forget gate's rows of the weights are not used.

    Returns:
        The new states, the pair ``(h, c)``, ``(B, H)`` each, and a dict
        ``cache`` of what :func:`lstm_step_backward` needs: the step's inputs
        ``"x"``, ``"h_prev"`` and ``"c_prev"``, the four gates ``"i"``,
        ``"f"``, ``"g"`` and ``"o"`` after their nonlinearities, and ``"c"``.
    """
    x, state, weight_ih, weight_hh, bias_ih, bias_hh = _recurrent.check_step(
        "lstm", x, state, weight_ih, weight_hh, bias_ih, bias_hh
    )
    h_prev, c_prev = state
    # (B, 4H), the four gates
    a = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh
    # (B, H) each, in PyTorch's order
    a_i, a_f, a_g, a_o = np.split(a, GATES, axis=1)
    i = sigmoid(a_i)  # input gate: how much of the candidate to write
    # forget gate: how much to keep
    f = sigmoid(a_f) if forget_gate else np.ones_like(c_prev)
    g = tanh(a_g)  # cell candidate: what to write, in (-1, 1)
    o = sigmoid(a_o)  # output gate: how much of the cell to show
    c = f * c_prev + i * g  # the cell state: a gated sum, with no squashing
    h = o * tanh(c)
    cache = {
        "x": x,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "i": i,
        "f": f,
        "g": g,
        "o": o,
        "c": c,
    }
    return (h, c), cache


def lstm_step_backward(
    dstate: tuple[np.ndarray, np.ndarray],
    cache: dict[str, np.ndarray],
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], dict[str, np.ndarray]]:
    """The backward pass of :func:`lstm_step_forward`, by the chain rule.

    Args:
        dstate: the gradients of the loss with respect to this step's states,
            the pair ``(dh, dc)``, ``(B, H)`` each. ``dh`` comes from the
            step's output and from the next step; ``dc`` only from the next
            step (through ``c_next = f_next * c + ...``), so it is zeros for
            the last step of a sequence, unless the loss depends on the last
            cell state.
        cache: the dict returned by :func:`lstm_step_forward`.
        weight_ih: ``(4*H, D)``, as in the forward step.
        weight_hh: ``(4*H, H)``.

    Returns:
        The tuple ``(dx, (dh_prev, dc_prev), grads)`` of the gradients with
        respect to ``x``, ``(B, D)``, and to the previous states, ``(B, H)``
        each, and a dict of the parameter gradients
        ``{"weight_ih": (4*H, D), "weight_hh": (4*H, H), "bias_ih": (4*H,),
        "bias_hh": (4*H,)}``, summed over the batch. Without a forget gate
        (``f`` is exactly 1) the forget gate's rows of the gradients are exactly
        zero.
    """
    (dh, dc), weight_ih, weight_hh = _recurrent.check_step_cache(
        "lstm", dstate, cache, CACHE_KEYS, weight_ih, weight_hh
    )
    x, h_prev, c_prev = cache["x"], cache["h_prev"], cache["c_prev"]
    i, f, g, o, c = cache["i"], cache["f"], cache["g"], cache["o"], cache["c"]
    tanh_c = tanh(c)
    # h = o * tanh(c): h reaches the loss through both factors.
    do = dh * tanh_c
    # c reaches the loss directly and through h
    dc = dc + dh * o * dtanh_from_output(tanh_c)
    # c = f * c_prev + i * g
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    # the cell-state path: no weights and no squashing, only the gate f
    dc_prev = dc * f
    # Back through each gate's nonlinearity, written with its output, to the
    # pre-activations.
    da = np.concatenate(
        [
            di * dsigmoid_from_output(i),
            df * dsigmoid_from_output(f),  # exactly 0 when f is pinned to 1
            dg * dtanh_from_output(g),
            do * dsigmoid_from_output(o),
        ],
        axis=1,
    )  # (B, 4H), the same order as the rows of the weights
    grads = {
        "weight_ih": da.T @ x,  # a depends on W_ih through x W_ih^T
        "weight_hh": da.T @ h_prev,  # ... and on W_hh through h_prev W_hh^T
        "bias_ih": da.sum(axis=0),
        "bias_hh": da.sum(axis=0),
    }
    dx = da @ weight_ih  # back through the input weights to the inputs
    dh_prev = da @ weight_hh  # ... and through the recurrent weights to h_prev
    return dx, (dh_prev, dc_prev), grads


def _check_state_pair(
    name: str, state: object, batch_size: int, hidden_size: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Return the pair ``(h, c)`` of ``(B, H)`` arrays in ``state``; ``None`` stands for zeros.

    ``state`` itself may be ``None`` (both zeros), or a tuple or list of two entries, each
    ``None`` or a ``(B, H)`` array of the layer's dtype.
    """
    if state is None:
        state = (None, None)
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        if isinstance(state, np.ndarray):
            given = f"an array of shape {state.shape}"
        elif isinstance(state, (tuple, list)):
            given = f"a {type(state).__name__} of {len(state)} entries"
        else:
            given = f"a {type(state).__name__}"
        raise ValueError(
            f"{name} must be a pair (h, c) of (B, H) = ({batch_size}, {hidden_size}) arrays, or "
            f"None; got {given}. An LSTM carries two states, the hidden state h and the cell "
            f"state c, as forward returns them: out, (h, c) = layer.forward(x). Either entry "
            f"may be None for zeros, e.g. {name}=(h, None)."
        )
    h = _recurrent.check_state(
        f"{name}[0]", state[0], batch_size, hidden_size, dtype
    )
    c = _recurrent.check_state(
        f"{name}[1]", state[1], batch_size, hidden_size, dtype
    )
    return h, c


def _split_gates(
    a: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views of the four gate blocks (i, f, g, o) along the last axis of ``a`` (size 4*H)."""
    H = a.shape[-1] // GATES
    return a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]


class LSTM:
    """A single-layer LSTM over batches of sequences, with a hand-written backward pass.

    For t = 1..T, from the state (h_0, c_0) (zeros by default), each step computes
    the gates i, f, g, o, the cell state ``c_t = f_t * c_{t-1} + i_t * g_t`` and the
    hidden state ``h_t = o_t * tanh(c_t)``, as in :func:`lstm_step_forward`; the
    output is h_1..h_T. This is ``torch.nn.LSTM(input_size, hidden_size)`` with one
    layer, with the same parameter names, shapes, gate order and initialisation.
    Its interface is that of :class:`~tutor.rnn.RNN`, with the pair ``(h, c)``
    wherever the RNN has the state ``h``.

    Args:
        input_size: D, the number of input features per time step.
        hidden_size: H, the number of hidden units (and of memory cells).
        rng, dtype, batch_first, num_layers, bidirectional: as for
            :class:`~tutor.rnn.RNN`.
        forget_bias: added to the forget gate's block of ``bias_ih`` (rows ``H:2*H``) after
            the random initialisation. Jozefowicz, Zaremba and Sutskever (2015) advise 1: the
            forget gate then starts near ``sigmoid(1) = 0.73`` instead of 0.5, so the cells
            keep what they hold by default and gradients flow back over more steps from the
            start of training. It is a starting point that often helps, not a guarantee: the
            best value depends on the task and is tuned like any other setting.
        forget_gate: ``False`` builds the original LSTM of Hochreiter and Schmidhuber (1997),
            which has no forget gate: ``c_t = c_{t-1} + i_t * g_t``, the "constant error
            carousel". The forget gate is then pinned to exactly 1, not just driven near 1
            by a large bias: the forget gate's rows of the four parameters are set to zero,
            the forward pass does not use them, and their gradients are exactly zero, so an
            optimiser leaves them at zero. The parameters keep PyTorch's shapes.

    Attributes:
        params: as for :class:`~tutor.rnn.RNN` with G = 4 blocks of rows (i, f, g, o),
            then adjusted for ``forget_bias`` and ``forget_gate``.
        grads: the same keys and shapes, overwritten by :meth:`backward`.

    Example:
        >>> layer = LSTM(3, 5, rng=0)
        >>> out, (h_T, c_T) = layer.forward(np.ones((7, 2, 3)))  # 7 steps, 2 sequences
        >>> out.shape, h_T.shape, c_T.shape
        ((7, 2, 5), (2, 5), (2, 5))
        >>> dx, (dh0, dc0) = layer.backward(np.ones_like(out))
        >>> dx.shape, dh0.shape, dc0.shape, layer.grads["weight_hh"].shape
        ((7, 2, 3), (2, 5), (2, 5), (20, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        rng: int | np.random.Generator,
        dtype: type | np.dtype = np.float64,
        forget_bias: float = 0.0,
        forget_gate: bool = True,
        batch_first: bool = False,
        num_layers: int = 1,
        bidirectional: bool = False,
    ) -> None:
        self.forget_bias = _recurrent.check_number("forget_bias", forget_bias)
        if not forget_gate and forget_bias != 0:
            raise ValueError(
                f"forget_bias={forget_bias!r} has no effect with forget_gate=False: "
                f"without a forget gate nothing reads that bias. Leave forget_bias at 0."
            )
        self.forget_gate = _recurrent.check_bool("forget_gate", forget_gate)
        if stacked.build(
            self,
            LSTM,
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            rng=rng,
            dtype=dtype,
            batch_first=batch_first,
            state_parts=2,
            forget_bias=forget_bias,
            forget_gate=forget_gate,
        ):
            return  # layers of single LSTMs (tutor.stacked)
        _recurrent.init_layer(
            self, input_size, hidden_size, GATES, rng, dtype, batch_first
        )
        H = self.hidden_size
        self.params["bias_ih"][H : 2 * H] += self.dtype.type(self.forget_bias)
        if not self.forget_gate:
            for value in self.params.values():
                value[H : 2 * H] = 0.0

    def __repr__(self) -> str:
        return _recurrent.layer_repr(
            self, forget_bias=self.forget_bias, forget_gate=self.forget_gate
        )

    def forward(
        self,
        x: np.ndarray,
        state: tuple[np.ndarray | None, np.ndarray | None] | None = None,
        *,
        ids: bool = False,
        lengths: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Run the LSTM over a batch of sequences; see :meth:`tutor.rnn.RNN.forward`.

        Args:
            x: inputs, ``(T, B, D)``, or ``(T, B)`` ids with ``ids=True``
                (``(B, T, ...)`` if ``batch_first``).
            state: the initial state, the pair ``(h_0, c_0)`` of ``(B, H)`` arrays;
                ``None`` means zeros, and so does ``None`` in place of either array.
            ids: ``True`` when ``x`` holds ids of one-hot vectors.
            lengths: ``None``, or the ``(B,)`` lengths of padded sequences; the
                final pair is then taken at each sequence's last step.

        Returns:
            The pair ``(out, (h_T, c_T))``: h_1..h_T, ``(T, B, H)`` (``(B, T, H)``
            if ``batch_first``), and the last hidden and cell states, ``(B, H)``
            each, all read-only.

        Raises:
            ValueError: ``x`` or ``state`` has the wrong shape or dtype, ``state``
                is not a pair, or an input holds NaN or inf.
        """
        if self.stack is not None:
            return self.stack.forward(x, state, ids=ids, lengths=lengths)
        p, H = self.params, self.hidden_size
        x, T, B = _recurrent.start_forward(self, x, ids, GATES)
        h0, c0 = _check_state_pair("state", state, B, H, self.dtype)
        _recurrent.start_lengths(self, lengths, T, B)

        # What backward needs, and nothing more: gates[t] = [i, f, g, o] of step
        # t + 1, after their nonlinearities, and the cell and hidden states with
        # c_0 and h_0 in row 0, so that out = states[1:] and the previous states
        # are views, not copies.
        gates = np.empty((T, B, GATES * H), dtype=self.dtype)
        cells = np.empty((T + 1, B, H), dtype=self.dtype)
        states = np.empty((T + 1, B, H), dtype=self.dtype)
        cells[0], states[0] = c0, h0
        # One tanh call for all four gates: with sigmoid(a) = (1 + tanh(a / 2)) / 2,
        # the gates are scale * tanh(scale * a) + 1 - scale, with scale 1/2 for
        # i, f and o and 1 for g (and 0 for f without a forget gate: f = 1). The
        # inner scale goes into copies of the weights (halving is exact), so the
        # loop does not multiply by it; W_hh^T is stored contiguous, which BLAS
        # multiplies by faster than a transposed view.
        scale = np.full(GATES * H, 0.5, dtype=self.dtype)
        scale[2 * H : 3 * H] = 1.0
        scale[H : 2 * H] = 0.5 if self.forget_gate else 0.0
        shift = 1.0 - scale
        W_ih = p["weight_ih"] * scale[:, None]
        W_hh_T = np.ascontiguousarray((p["weight_hh"] * scale[:, None]).T)
        bias = (p["bias_ih"] + p["bias_hh"]) * scale
        if (
            not self.forget_gate
        ):  # zeros, not 0 * value: a NaN must stay out of f
            W_ih[H : 2 * H], W_hh_T[:, H : 2 * H], bias[H : 2 * H] = 0, 0, 0
        _recurrent.project_inputs(x, W_ih, bias, gates, ids)
        # Buffers written in place at every step (out=), not allocated anew.
        recurrent = np.empty((B, GATES * H), dtype=self.dtype)
        written = np.empty((B, H), dtype=self.dtype)
        for t in range(T):  # one (B, H) @ (H, 4H) product per step
            a = gates[t]  # (B, 4H): the pre-activations, made into the gates
            np.matmul(states[t], W_hh_T, out=recurrent)
            a += recurrent
            np.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = _split_gates(a)
            c, h = cells[t + 1], states[t + 1]
            np.multiply(f, cells[t], out=c)  # c = f * c_prev + i * g
            np.multiply(i, g, out=written)
            c += written
            np.tanh(c, out=h)  # h = o * tanh(c)
            h *= o

        for array in (gates, cells, states):
            # backward reads them: keep them intact
            array.flags.writeable = False
        self._cache = (x, gates, cells, states)
        out, h_last = _recurrent.sequence_outputs(self, states)
        if self._lengths is None:
            return out, (h_last, cells[T])
        c_last = padding.at_ends(cells, self._lengths)
        c_last.flags.writeable = False
        return out, (h_last, c_last)

    def backward(
        self,
        dout: np.ndarray | None,
        dstate: tuple[np.ndarray | None, np.ndarray | None] | None = None,
    ) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray]]:
        """Backpropagate through the last :meth:`forward`; see :meth:`tutor.rnn.RNN.backward`.

        Args:
            dout: the gradient of the loss with respect to ``out``, ``(T, B, H)``
                (``(B, T, H)`` if ``batch_first``); ``None`` means zeros.
            dstate: the gradients with respect to the last state, the pair
                ``(dh_T, dc_T)`` of ``(B, H)`` arrays; ``None`` means zeros, and so
                does ``None`` in place of either array.

        Returns:
            The pair ``(dx, (dh0, dc0))``: the gradients with respect to the inputs,
            like ``x`` (``None`` for ids), and to the initial hidden and cell states,
            ``(B, H)`` each. ``self.grads`` is overwritten in place.

        Raises:
            RuntimeError: no forward pass has been run yet.
            ValueError: ``dout`` or ``dstate`` has the wrong shape or dtype, ``dstate``
                is not a pair, or a gradient holds NaN or inf.
        """
        if self.stack is not None:
            return self.stack.backward(dout, dstate)
        (x, gates, cells, states), dout = _recurrent.start_backward(self, dout)
        T, B = x.shape[:2]
        H = self.hidden_size
        dh, dc = _check_state_pair("dstate", dstate, B, H, self.dtype)
        dout, dh = _recurrent.gradients_into_steps(self, dout, dh)
        # With lengths, dc_T reaches each sequence's cell state at its last
        # step: dc_at[t] is added on the way back, as dout[t] is to dh.
        dc_at = None
        if self._lengths is not None:
            dc_at = padding.put_at_ends(dc, T, self._lengths)
            dc = np.zeros_like(dc)
        # tanh(c_t) is recomputed rather than kept by forward: less memory.
        tanh_c = np.tanh(cells[1:])
        # The gates' derivatives from their outputs, s * (1 - s) for the sigmoids
        # i, f, o and (1 + g) * (1 - g) = 1 - g**2 for g, are (gate + plus) *
        # (1 - gate) with plus 0 for i, f, o and 1 for g: one row for all four.
        plus = np.zeros(GATES * H, dtype=self.dtype)
        plus[2 * H : 3 * H] = 1.0
        W_hh = self.params["weight_hh"]
        # da[t] becomes the gradient of the pre-activations of step t's gates.
        da = np.empty_like(gates)
        # The loop writes into (B, H) and (B, 4H) buffers in place (out=, +=,
        # *=) instead of allocating new arrays at every step: a fifth faster
        # (benchmarks/README.md). Each line's equation is in its comment.
        dh, dc = dh.copy(), dc.copy()  # from beyond the last step
        through_h = np.empty((B, H), dtype=self.dtype)
        factor = np.empty((B, GATES * H), dtype=self.dtype)
        by_i, by_f, by_g, by_o = _split_gates(factor)
        for t in range(T - 1, -1, -1):
            i, f, g, o = _split_gates(gates[t])
            dh += dout[t]  # h_t feeds the output and step t + 1
            if dc_at is not None:
                dc += dc_at[t]
            np.multiply(tanh_c[t], tanh_c[t], out=through_h)
            np.subtract(1.0, through_h, out=through_h)
            through_h *= o
            through_h *= dh
            dc += through_h  # dc = dc_next + dh * o * (1 - tanh(c)**2)
            np.add(gates[t], plus, out=factor)
            np.subtract(1.0, gates[t], out=da[t])
            da[t] *= factor  # each gate's derivative ...
            np.multiply(dc, g, out=by_i)  # ... times di = dc * g,
            np.multiply(dc, cells[t], out=by_f)  # df = dc * c_prev,
            np.multiply(dc, i, out=by_g)  # dg = dc * i
            np.multiply(dh, tanh_c[t], out=by_o)  # and do = dh * tanh(c)
            da[t] *= factor
            dc *= f  # dc_prev = dc * f: on to c_{t-1} ...
            np.matmul(da[t], W_hh, out=dh)  # ... and dh_prev = da @ W_hh
        dx = _recurrent.weight_gradients(self, x, states[:-1], [da])
        return dx, (dh, dc)
