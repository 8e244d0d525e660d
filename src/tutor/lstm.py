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

from tutor import _recurrent
from tutor._checks import (
    as_rng,
    check_float_array,
    check_same_keys,
    check_shape,
)
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
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
    forget_gate: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One time step of the LSTM: four gates, then new cell and hidden states.

    Args:
        x: the inputs of this step, ``(B, D)``.
        h_prev: the previous hidden state, ``(B, H)``.
        c_prev: the previous cell state, ``(B, H)``.
        weight_ih: input-to-hidden weights of the four gates, stacked
            (i, f, g, o), ``(4*H, D)``.
        weight_hh: hidden-to-hidden weights, stacked the same way, ``(4*H, H)``.
        bias_ih: ``(4*H,)``.
        bias_hh: ``(4*H,)``. Two biases, as in PyTorch; only their sum matters.
        forget_gate: ``False`` gives the original LSTM of 1997, which has no
            forget gate: ``f`` is exactly 1, so ``c = c_prev + i * g``, and the
            forget gate's rows of the weights are not used.

    Returns:
        The tuple ``(h, c, cache)`` of the new hidden state, ``(B, H)``, the new
        cell state, ``(B, H)``, and a dict of what :func:`lstm_step_backward`
        needs, namely the step's inputs ``"x"``, ``"h_prev"`` and ``"c_prev"``,
        the four gates ``"i"``, ``"f"``, ``"g"`` and ``"o"`` after their
        nonlinearities, ``(B, H)`` each, and ``"c"``.
    """
    _check_step(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)
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
    return h, c, cache


def lstm_step_backward(
    dh: np.ndarray,
    dc: np.ndarray,
    cache: dict[str, np.ndarray],
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The backward pass of :func:`lstm_step_forward`, by the chain rule.

    Args:
        dh: the gradient of the loss with respect to this step's hidden state h,
            ``(B, H)``.
        dc: the gradient with respect to this step's cell state c that arrives
            from later steps (through ``c_next = f_next * c + ...``),
            ``(B, H)``; zeros for the last step of a sequence, unless the loss
            depends on the last cell state.
        cache: the dict returned by :func:`lstm_step_forward`.
        weight_ih: ``(4*H, D)``, as in the forward step.
        weight_hh: ``(4*H, H)``.

    Returns:
        The tuple ``(dx, dh_prev, dc_prev, grads)`` of the gradients with
        respect to ``x``, ``(B, D)``, ``h_prev``, ``(B, H)`` and ``c_prev``,
        ``(B, H)``, and a dict of the parameter gradients
        ``{"weight_ih": (4*H, D), "weight_hh": (4*H, H), "bias_ih": (4*H,),
        "bias_hh": (4*H,)}``, summed over the batch. Without a forget gate
        (``f`` is exactly 1) the forget gate's rows of the gradients are exactly
        zero.
    """
    _check_step_cache(cache, dh, dc, weight_ih, weight_hh)
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
    return dx, dh_prev, dc_prev, grads


def _check_step(
    x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh
) -> None:
    """Check that the arguments of one forward step fit together (sizes taken from the weights)."""
    _, _, hidden_size, input_size = _recurrent.check_step_weights(
        weight_ih, weight_hh, GATES, "(i, f, g, o)"
    )
    hint = "A single example needs a batch axis of size one: pass x[None, :]."
    check_shape(
        "x", check_float_array("x", x), (None, input_size), "(B, D)", hint
    )
    for name, state in (("h_prev", h_prev), ("c_prev", c_prev)):
        check_float_array(name, state)
        check_shape(name, state, (np.shape(x)[0], hidden_size), "(B, H)")
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        check_float_array(name, bias)
        check_shape(name, bias, (GATES * hidden_size,), "(4*H,)")


def _check_step_cache(cache, dh, dc, weight_ih, weight_hh) -> None:
    """Check the arguments of one backward step against the cache of the forward step."""
    if not isinstance(cache, dict):
        raise ValueError(
            f"cache must be the dict returned by lstm_step_forward; got {type(cache).__name__}."
        )
    check_same_keys("cache", cache, dict.fromkeys(CACHE_KEYS))
    _, _, hidden_size, input_size = _recurrent.check_step_weights(
        weight_ih, weight_hh, GATES, "(i, f, g, o)"
    )
    batch_size = np.shape(cache["x"])[0]
    check_shape("cache['x']", cache["x"], (batch_size, input_size), "(B, D)")
    for name in CACHE_KEYS[1:]:
        check_shape(
            f"cache[{name!r}]", cache[name], (batch_size, hidden_size), "(B, H)"
        )
    for name, grad in (("dh", dh), ("dc", dc)):
        check_float_array(name, grad)
        check_shape(name, grad, (batch_size, hidden_size), "(B, H)")


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

    For t = 1..T, starting from the given state (h_0, c_0) (zeros by default), each step
    computes the gates i, f, g, o, the cell state ``c_t = f_t * c_{t-1} + i_t * g_t`` and
    the hidden state ``h_t = o_t * tanh(c_t)``, as in :func:`lstm_step_forward`; the output
    is the sequence h_1..h_T. This is ``torch.nn.LSTM(input_size, hidden_size)`` with one
    layer, with the same parameter names, shapes, gate order and initialisation.

    Args:
        input_size: D, the number of input features per time step.
        hidden_size: H, the number of hidden units (and of memory cells).
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the initial weights.
        dtype: ``np.float64`` (default; needed for gradient checks) or ``np.float32``.
            Inputs, states and gradients must have this dtype; it is kept throughout.
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
        batch_first: ``False`` (default) for time-major inputs and outputs,
            ``(T, B, D)`` and ``(T, B, H)``; ``True`` for ``(B, T, D)`` and
            ``(B, T, H)``, as in PyTorch. States are ``(B, H)`` either way.

    Attributes:
        params: ``{"weight_ih": (4*H, D), "weight_hh": (4*H, H), "bias_ih": (4*H,),
            "bias_hh": (4*H,)}``, drawn from U(-1/sqrt(H), 1/sqrt(H)) in that order, then
            adjusted for ``forget_bias`` and ``forget_gate``. Optimisers update these arrays
            in place.
        grads: the same keys and shapes, overwritten (not accumulated) by :meth:`backward`.

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
    ) -> None:
        _recurrent.check_sizes(input_size, hidden_size)
        self.batch_first = _recurrent.check_bool("batch_first", batch_first)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.dtype = _recurrent.check_dtype(dtype)
        if (
            isinstance(forget_bias, (bool, np.bool_))
            or not isinstance(
                forget_bias, (int, float, np.integer, np.floating)
            )
            or not np.isfinite(forget_bias)
        ):
            raise ValueError(
                f"forget_bias must be a finite number; got {forget_bias!r}."
            )
        if not forget_gate and forget_bias != 0:
            raise ValueError(
                f"forget_bias={forget_bias!r} has no effect with forget_gate=False: without a "
                f"forget gate nothing reads that bias. Leave forget_bias at 0."
            )
        self.forget_gate = _recurrent.check_bool("forget_gate", forget_gate)
        self.forget_bias = float(forget_bias)
        rng = as_rng(rng)
        H = self.hidden_size
        self.params = _recurrent.init_params(
            rng, self.input_size, H, GATES, self.dtype
        )
        self.params["bias_ih"][H : 2 * H] += self.dtype.type(self.forget_bias)
        if not self.forget_gate:
            for value in self.params.values():
                value[H : 2 * H] = 0.0
        self.grads = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        self._cache = None

    def __repr__(self) -> str:
        return (
            f"LSTM(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"forget_bias={self.forget_bias!r}, forget_gate={self.forget_gate}, "
            f"dtype=np.{self.dtype.name}"
            + (", batch_first=True)" if self.batch_first else ")")
        )

    def forward(
        self,
        x: np.ndarray,
        state: tuple[np.ndarray | None, np.ndarray | None] | None = None,
        *,
        one_hot: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Run the LSTM over a batch of sequences.

        Args:
            x: inputs, ``(T, B, D)``, time-major, in the layer's dtype; with
                ``one_hot=True``, ``(T, B)`` integer ids in ``0..D-1`` instead.
                ``(B, T, D)`` and ``(B, T)`` if the layer is ``batch_first``.
            state: the initial state, the pair ``(h_0, c_0)`` of ``(B, H)`` arrays; ``None``
                means zeros, and so does ``None`` in place of either array.
            one_hot: ``True`` when ``x`` holds ids, each standing for the one-hot vector
                of size D with a 1 at that index (characters, words). The result is the
                same as for those vectors, but the input product ``x_t @ W_ih.T`` is
                computed by looking up column ``x_t`` of ``W_ih``, and :meth:`backward`
                returns no input gradient (``dx`` is ``None``).

        Returns:
            The pair ``(out, (h_T, c_T))`` of all hidden states h_1..h_T, ``(T, B, H)``
            (``(B, T, H)`` if ``batch_first``), and the last hidden and cell states,
            ``(B, H)`` each. They are read-only views of what :meth:`backward` needs:
            copy them before changing them in place. ``x`` itself is kept by reference
            (unless ``batch_first`` makes a time-major copy), so do not change it in
            place before calling :meth:`backward`.

        Raises:
            ValueError: ``x`` or ``state`` has the wrong shape or dtype, ``state`` is not a
                pair, or an input holds NaN or inf.
        """
        p = self.params
        _recurrent.check_params(
            p, self.input_size, self.hidden_size, GATES, self.dtype
        )
        # x checked in the layer's layout, and from here on time-major
        x = _recurrent.check_layer_input(self, x, one_hot)
        (T, B), D = x.shape[:2], self.input_size
        H = self.hidden_size
        h0, c0 = _check_state_pair("state", state, B, H, self.dtype)

        # What backward needs, and nothing more: the gates after their nonlinearities,
        # gates[t] = [i, f, g, o] of step t + 1, and the cell and hidden states, with c_0 and
        # h_0 in row 0, so that out = states[1:] and the previous states are views, not copies.
        gates = np.empty((T, B, GATES * H), dtype=self.dtype)
        cells = np.empty((T + 1, B, H), dtype=self.dtype)
        states = np.empty((T + 1, B, H), dtype=self.dtype)
        cells[0], states[0] = c0, h0

        # One call of tanh computes all four gates, since sigmoid(a) = (1 + tanh(a / 2)) / 2:
        # the rows of i, f and o in copies of the weights are halved (exact in floating
        # point), and after the tanh, gate = scale * tanh + (1 - scale) is (1 + tanh) / 2 for
        # i, f, o (scale 1/2) and tanh for g (scale 1). Without a forget gate, f gets scale 0
        # and zero rows, so f = 1 exactly, whatever the parameters hold in those rows.
        scale = np.full(GATES * H, 0.5, dtype=self.dtype)
        scale[2 * H : 3 * H] = 1.0
        if not self.forget_gate:
            scale[H : 2 * H] = 0.0
        W_ih = p["weight_ih"] * scale[:, None]
        # W_hh^T contiguous: BLAS multiplies by it faster than by a transposed view.
        W_hh_T = np.ascontiguousarray((p["weight_hh"] * scale[:, None]).T)
        bias = (p["bias_ih"] + p["bias_hh"]) * scale
        if (
            not self.forget_gate
        ):  # zeros, not 0 * value: a NaN there must not leak into f
            W_ih[H : 2 * H], W_hh_T[:, H : 2 * H], bias[H : 2 * H] = (
                0.0,
                0.0,
                0.0,
            )
        shift = 1.0 - scale
        # The input part of every pre-activation, for all T steps in one matrix product.
        if one_hot:  # a one-hot x_t picks out column x_t of W_ih: a lookup, not a product
            table = (
                W_ih.T + bias
            )  # (D, 4H): row k is the input part for id k, bias included
            # The ids were checked, so mode="clip" changes none; it spares take a buffered copy.
            np.take(table, x, axis=0, out=gates, mode="clip")
        else:
            np.matmul(
                x.reshape(T * B, D), W_ih.T, out=gates.reshape(T * B, GATES * H)
            )
            gates += bias
        recurrent = np.empty((B, GATES * H), dtype=self.dtype)
        written = np.empty((B, H), dtype=self.dtype)
        for t in range(
            T
        ):  # the recurrence: one (B, H) @ (H, 4H) product per step
            a = gates[
                t
            ]  # (B, 4H), the halved pre-activations, turned into the gates in place
            np.matmul(states[t], W_hh_T, out=recurrent)
            a += recurrent
            np.tanh(a, out=a)
            a *= scale
            a += shift  # now a = [i, f, g, o]
            i, f, g, o = _split_gates(a)
            c, h = cells[t + 1], states[t + 1]
            np.multiply(f, cells[t], out=c)  # c = f * c_prev + i * g
            np.multiply(i, g, out=written)
            c += written
            np.tanh(c, out=h)  # h = o * tanh(c)
            h *= o

        for array in (gates, cells, states):
            array.flags.writeable = (
                False  # backward reads these; protect them from the caller
            )
        self._cache = (x, gates, cells, states)
        if self.batch_first:
            return states[1:].swapaxes(0, 1), (states[T], cells[T])
        return states[1:], (states[T], cells[T])

    def backward(
        self,
        dout: np.ndarray | None,
        dstate: tuple[np.ndarray | None, np.ndarray | None] | None = None,
    ) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray]]:
        """Backpropagate through the sequence of the last :meth:`forward` and fill ``grads``.

        Backward may be called several times after one forward (for example with
        different ``dout``); each call uses the values of the last forward.

        Args:
            dout: the gradient of the loss with respect to ``out``, ``(T, B, H)``
                (``(B, T, H)`` if ``batch_first``); ``None`` means zeros (a loss on the
                last state only, given by ``dstate``).
            dstate: the gradients with respect to the last state, the pair
                ``(dh_T, dc_T)`` of ``(B, H)`` arrays, coming from beyond the sequence (the
                next chunk in truncated BPTT, or a loss on the last state); ``None`` means
                zeros, and so does ``None`` in place of either array. Note that ``out[-1]``
                is h_T as well, so a loss on both gets ``dout[-1] + dh_T``.

        Returns:
            The pair ``(dx, (dh0, dc0))`` of the gradients with respect to the inputs,
            ``(T, B, D)`` or ``(B, T, D)`` like ``x`` (``None`` after a forward with
            ``one_hot=True``: ids have no gradient), and to the initial hidden and cell
            states, ``(B, H)`` each.
            ``self.grads`` is overwritten in place.

        Raises:
            RuntimeError: no forward pass has been run yet.
            ValueError: ``dout`` or ``dstate`` has the wrong shape or dtype, ``dstate`` is
                not a pair, or a gradient holds NaN or inf.
        """
        _recurrent.require_cache(self._cache, "LSTM")
        x, gates, cells, states = self._cache
        one_hot = x.ndim == 2  # (T, B) ids from forward(..., one_hot=True)
        (T, B), D = x.shape[:2], self.input_size
        H = self.hidden_size
        dout = _recurrent.check_dout(
            dout, T, B, H, self.dtype, batch_first=self.batch_first
        )
        dh_T, dc_T = _check_state_pair("dstate", dstate, B, H, self.dtype)
        p, grads = self.params, self.grads

        # da[t] becomes the gradient of the loss with respect to the pre-activations of the
        # four gates at step t. tanh(c) is recomputed here, for all steps in one call, rather
        # than kept from the forward pass: that saves T * B * H numbers of memory.
        da = np.empty_like(gates)
        tanh_c = np.tanh(cells[1:])
        dh, dc = (
            np.empty((B, H), dtype=self.dtype),
            np.empty((B, H), dtype=self.dtype),
        )
        dh_next, dc_next = dh_T.copy(), dc_T.copy()  # from beyond the last step
        factor = np.empty((B, GATES * H), dtype=self.dtype)
        # The derivatives of the nonlinearities from their outputs are s * (1 - s) for the
        # sigmoid of i, f, o and (1 + g) * (1 - g) = 1 - g**2 for the tanh of g: for all four
        # at once, (gate + plus) * (1 - gate), with plus 0 for i, f, o and 1 for g.
        plus = np.zeros(GATES * H, dtype=self.dtype)
        plus[2 * H : 3 * H] = 1.0
        W_hh = p["weight_hh"]
        for t in range(T - 1, -1, -1):
            i, f, g, o = _split_gates(gates[t])
            np.add(
                dout[t], dh_next, out=dh
            )  # h_t feeds the output and step t + 1
            # c_t feeds step t + 1 (through f_{t+1}) and h_t = o_t * tanh(c_t), so
            # dc = dc_next + dh * o * (1 - tanh(c_t)**2).
            np.multiply(tanh_c[t], tanh_c[t], out=dc)
            np.subtract(1.0, dc, out=dc)
            dc *= o
            dc *= dh
            dc += dc_next
            # Each gate's derivative from its output, (gate + plus) * (1 - gate) ...
            np.subtract(1.0, gates[t], out=da[t])
            np.add(gates[t], plus, out=factor)
            da[t] *= factor
            # ... times what the gate multiplies: c = f * c_prev + i * g and h = o * tanh(c).
            factor_i, factor_f, factor_g, factor_o = _split_gates(factor)
            np.multiply(dc, g, out=factor_i)
            np.multiply(dc, cells[t], out=factor_f)
            np.multiply(dc, i, out=factor_g)
            np.multiply(dh, tanh_c[t], out=factor_o)
            da[t] *= factor
            np.multiply(
                dc, f, out=dc_next
            )  # the cell-state path: dc_prev = dc * f
            np.matmul(
                da[t], W_hh, out=dh_next
            )  # and back through the recurrent weights

        # The weights are shared by all steps, so their gradients are sums over t; with the
        # steps stacked as rows, each sum is one large matrix product instead of T small ones.
        da_rows = da.reshape(T * B, GATES * H)
        if one_hot:
            x_rows = _recurrent.one_hot_rows(x, D, self.dtype)
        else:
            x_rows = x.reshape(T * B, D)
        np.matmul(da_rows.T, x_rows, out=grads["weight_ih"])
        np.matmul(
            da_rows.T, states[:-1].reshape(T * B, H), out=grads["weight_hh"]
        )
        da_rows.sum(axis=0, out=grads["bias_ih"])
        grads["bias_hh"][...] = grads["bias_ih"]
        if one_hot:  # ids have no gradient
            return None, (dh_next, dc_next)
        dx = (da_rows @ p["weight_ih"]).reshape(T, B, D)
        if self.batch_first:
            dx = dx.swapaxes(0, 1)  # back to (B, T, D), like x
        return dx, (dh_next, dc_next)
