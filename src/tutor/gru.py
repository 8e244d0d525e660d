"""Gated recurrent units: one step forward and backward, then the sequence layer.

The chapter "Gated recurrent units" derives one step of the GRU (Cho et al.
2014) in PyTorch's form. Two gates and a candidate state are computed from
the input ``x_t`` and the previous hidden state ``h_{t-1}``, each with its own
rows of the weights::

    r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)       # reset gate
    z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)       # update gate
    n_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))  # candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                 # hidden state, output

(``*`` is the element-wise product). The reset gate multiplies the recurrent
part of the candidate *after* its bias ``b_hn`` has been added, so ``b_in``
and ``b_hn`` play different roles; for r and z, as in the other layers, only
the sum of the two biases matters. (Cho et al. apply the reset gate to
``h_{t-1}`` before the product, which gives a slightly different network.)
The update gate z decides how much of the old state to keep: ``z_t = 1``
copies ``h_{t-1}`` unchanged, ``z_t = 0`` replaces it by the candidate.

:func:`gru_step_forward` and :func:`gru_step_backward` are these equations and
their chain rule, line by line. :class:`GRU` runs the same computation over a
whole sequence, arranged for speed; the tests check that it agrees with a loop
over the step functions, with finite differences and with ``torch.nn.GRU``.

Shapes: T time steps, B sequences in a batch, D input features, H hidden
units. The three blocks' weights are stacked in PyTorch's order (r, z, n):
``weight_ih`` is ``(3*H, D)``, ``weight_hh`` is ``(3*H, H)``, and ``bias_ih``
and ``bias_hh`` are ``(3*H,)``; rows ``0:H`` belong to the reset gate,
``H:2*H`` to the update gate and ``2*H:3*H`` to the candidate. Weights copy
to and from ``torch.nn.GRU`` unchanged.
"""

from __future__ import annotations

import numpy as np

from tutor import _recurrent, stacked
from tutor.functional import (
    dsigmoid_from_output,
    dtanh_from_output,
    sigmoid,
    tanh,
)

__all__ = ["gru_step_forward", "gru_step_backward", "GRU"]

GATES = 3  # r, z, n: the blocks of rows in the weights, in PyTorch's order
CACHE_KEYS = ("x", "h_prev", "r", "z", "n", "hn")


def gru_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One time step of the GRU: two gates and a candidate, then the new state.

    The sizes are read from the weights, so a step can be tried with weights set
    by hand: for one input and one hidden unit, ``weight_ih`` is a column of
    three numbers, the rows of r, z and n, for example
    ``np.array([[0.5], [-1.0], [2.0]])``. Nested lists of floats are
    accepted; arrays must all have the weights' floating dtype.

    Args:
        x: the inputs of this step, ``(B, D)``.
        h_prev: the previous hidden state, ``(B, H)``.
        weight_ih: input-to-hidden weights of r, z and n, stacked in that order,
            ``(3*H, D)``.
        weight_hh: hidden-to-hidden weights, stacked the same way, ``(3*H, H)``.
        bias_ih: ``(3*H,)``.
        bias_hh: ``(3*H,)``. For r and z only the sum of the two biases matters;
            for n, ``bias_hh`` is inside the reset gate's product and
            ``bias_ih`` is not.

    Returns:
        The new hidden state ``h``, ``(B, H)``, and a dict ``cache`` of what
        :func:`gru_step_backward` needs: the step's inputs ``"x"`` and
        ``"h_prev"``, the gates ``"r"`` and ``"z"`` and the candidate ``"n"``
        after their nonlinearities, and ``"hn"``, the recurrent part of the
        candidate, ``h_prev @ W_hn.T + b_hn``, before the reset gate multiplies
        it; ``(B, H)`` each.
    """
    x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh = _recurrent.check_step(
        "gru", x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh
    )
    gi = x @ weight_ih.T + bias_ih  # (B, 3H): the input's part of r, z and n
    # (B, 3H): the previous state's part, biases included
    gh = h_prev @ weight_hh.T + bias_hh
    # (B, H) each, in PyTorch's order
    gi_r, gi_z, gi_n = np.split(gi, GATES, axis=1)
    gh_r, gh_z, hn = np.split(gh, GATES, axis=1)
    # reset gate: how much of the old state the candidate sees
    r = sigmoid(gi_r + gh_r)
    z = sigmoid(gi_z + gh_z)  # update gate: how much of the old state to keep
    # the candidate, in (-1, 1); r scales the recurrent part
    n = tanh(gi_n + r * hn)
    # a gated mix of the candidate and the old state
    h = (1 - z) * n + z * h_prev
    cache = {"x": x, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn}
    return h, cache


def gru_step_backward(
    dh: np.ndarray,
    cache: dict[str, np.ndarray],
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The backward pass of :func:`gru_step_forward`, by the chain rule.

    Args:
        dh: the gradient of the loss with respect to this step's hidden state h,
            ``(B, H)`` (from the step's output and from the next step).
        cache: the dict returned by :func:`gru_step_forward`.
        weight_ih: ``(3*H, D)``, as in the forward step.
        weight_hh: ``(3*H, H)``.

    Returns:
        The gradients with respect to ``x``, ``(B, D)``, and ``h_prev``,
        ``(B, H)``, and a dict of the parameter gradients
        ``{"weight_ih": (3*H, D), "weight_hh": (3*H, H), "bias_ih": (3*H,),
        "bias_hh": (3*H,)}``, summed over the batch, as the tuple
        ``(dx, dh_prev, grads)``. The two biases get the same gradient in the
        blocks of r and z, but not in the block of n.
    """
    dh, weight_ih, weight_hh = _recurrent.check_step_cache(
        "gru", dh, cache, CACHE_KEYS, weight_ih, weight_hh
    )
    x, h_prev = cache["x"], cache["h_prev"]
    r, z, n, hn = cache["r"], cache["z"], cache["n"], cache["hn"]
    # h = (1 - z) * n + z * h_prev
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    # the direct path to the old state: no weights, only the gate z
    dh_prev = dh * z
    # n = tanh(a_n), with a_n = gi_n + r * hn
    da_n = dn * dtanh_from_output(n)
    dr = da_n * hn
    # hn = h_prev @ W_hn.T + b_hn reaches the loss only through r * hn
    dhn = da_n * r
    # r = sigmoid(a_r) and z = sigmoid(a_z), with a = gi + gh for both
    da_r = dr * dsigmoid_from_output(r)
    da_z = dz * dsigmoid_from_output(z)
    # The gradients of the two parts of the pre-activations,
    # gi = x @ W_ih.T + b_ih and gh = h_prev @ W_hh.T + b_hh: the same for r and
    # z, but r stands between gh_n and n.
    # (B, 3H), the order of the rows
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, dhn], axis=1)
    grads = {
        "weight_ih": dgi.T @ x,  # gi depends on W_ih through x @ W_ih.T
        "weight_hh": dgh.T
        @ h_prev,  # ... and gh on W_hh through h_prev @ W_hh.T
        "bias_ih": dgi.sum(axis=0),
        "bias_hh": dgh.sum(axis=0),
    }
    dx = dgi @ weight_ih  # back through the input weights to the inputs
    dh_prev = dh_prev + dgh @ weight_hh  # ... and through W_hh to h_prev
    return dx, dh_prev, grads


class GRU:
    """A single-layer GRU over batches of sequences, with a hand-written backward pass.

    For t = 1..T, from the state h_0 (zeros by default), each step computes the
    reset gate r, the update gate z, the candidate n and the hidden state
    ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``, as in :func:`gru_step_forward`;
    the output is h_1..h_T. This is ``torch.nn.GRU(input_size, hidden_size)``
    with one layer, with the same parameter names, shapes, gate order, formula
    and initialisation. Its interface is that of :class:`~tutor.rnn.RNN`.

    Args:
        input_size: D, the number of input features per time step.
        hidden_size: H, the number of hidden units.
        rng, dtype, batch_first, num_layers, bidirectional: as for
            :class:`~tutor.rnn.RNN`.
        update_bias: added to the update gate's block of ``bias_ih`` (rows ``H:2*H``)
            after the random initialisation. A positive value makes z start near 1, so
            each unit keeps its old state by default (``sigmoid(3) = 0.95``) and gradients
            flow back over more steps from the start of training: the role the forget
            bias plays in the LSTM. It is a starting point, not a guarantee: the best
            value depends on the task and is tuned like any other setting (the chapter
            "Gated recurrent units" tries it on the adding problem).

    Attributes:
        params: as for :class:`~tutor.rnn.RNN` with G = 3 blocks of rows (r, z, n),
            then adjusted for ``update_bias``.
        grads: the same keys and shapes, overwritten by :meth:`backward`.

    Example:
        >>> layer = GRU(3, 5, rng=0, batch_first=True)
        >>> out, h_T = layer.forward(np.ones((2, 7, 3)))  # 2 sequences, 7 steps
        >>> dx, dh0 = layer.backward(np.ones_like(out))
        >>> out.shape, dx.shape, dh0.shape, layer.grads["weight_hh"].shape
        ((2, 7, 5), (2, 7, 3), (2, 5), (15, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        rng: int | np.random.Generator,
        dtype: type | np.dtype = np.float64,
        update_bias: float = 0.0,
        batch_first: bool = False,
        num_layers: int = 1,
        bidirectional: bool = False,
    ) -> None:
        self.update_bias = _recurrent.check_number("update_bias", update_bias)
        if stacked.build(
            self,
            GRU,
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            rng=rng,
            dtype=dtype,
            batch_first=batch_first,
            state_parts=1,
            update_bias=update_bias,
        ):
            return  # layers of single GRUs (tutor.stacked)
        _recurrent.init_layer(
            self, input_size, hidden_size, GATES, rng, dtype, batch_first
        )
        H = self.hidden_size
        self.params["bias_ih"][H : 2 * H] += self.dtype.type(self.update_bias)

    def __repr__(self) -> str:
        return _recurrent.layer_repr(self, update_bias=self.update_bias)

    def forward(
        self,
        x: np.ndarray,
        state: np.ndarray | None = None,
        *,
        ids: bool = False,
        lengths: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run the GRU over a batch of sequences; see :meth:`tutor.rnn.RNN.forward`.

        Args:
            x: inputs, ``(T, B, D)``, or ``(T, B)`` ids with ``ids=True``
                (``(B, T, ...)`` if ``batch_first``).
            state: the initial hidden state h_0, ``(B, H)``; ``None`` means zeros.
            ids: ``True`` when ``x`` holds ids of one-hot vectors.
            lengths: ``None``, or the ``(B,)`` lengths of padded sequences.

        Returns:
            ``(out, h_T)``: h_1..h_T, ``(T, B, H)`` (``(B, T, H)`` if
            ``batch_first``), and the last, ``(B, H)``, both read-only.

        Raises:
            ValueError: ``x`` or ``state`` has the wrong shape or dtype, or holds
                NaN or inf.
        """
        if self.stack is not None:
            return self.stack.forward(x, state, ids=ids, lengths=lengths)
        p, H = self.params, self.hidden_size
        x, T, B = _recurrent.start_forward(self, x, ids, GATES)
        h0 = _recurrent.check_state("state", state, B, H, self.dtype)
        _recurrent.start_lengths(self, lengths, T, B)

        # What backward needs, and nothing more: gates[:, t] = [r, z, n] of step
        # t + 1, hn[t] = h_t @ W_hn.T + b_hn (which r multiplies), and the hidden
        # states with h_0 in row 0. The gates are stored block by block,
        # (3, T, B, H), so that each is a contiguous (B, H) array at each step:
        # NumPy works on those several times faster than on column slices.
        gates = np.empty((GATES, T, B, H), dtype=self.dtype)
        hn = np.empty((T, B, H), dtype=self.dtype)
        states = np.empty((T + 1, B, H), dtype=self.dtype)
        states[0] = h0
        # The input parts, with both biases of r and z but only b_in of n: b_hn
        # goes inside the reset gate's product, with the recurrent part.
        bias = p["bias_ih"].copy()
        bias[: 2 * H] += p["bias_hh"][: 2 * H]
        for k in range(GATES):
            rows = slice(k * H, (k + 1) * H)
            _recurrent.project_inputs(
                x, p["weight_ih"][rows], bias[rows], gates[k], ids
            )
        # W_hh[k] = W_h{r,z,n}^T, (H, H), contiguous for BLAS.
        W_hh = np.ascontiguousarray(
            p["weight_hh"].reshape(GATES, H, H).swapaxes(1, 2)
        )
        b_hn = p["bias_hh"][2 * H :]
        gh = np.empty((GATES, B, H), dtype=self.dtype)
        for t in range(T):  # one (B, H) @ (H, H) product per block and step
            np.matmul(states[t], W_hh, out=gh)  # (3, B, H): the recurrent parts
            rz = gates[:2, t]  # (2, B, H): the pre-activations of r and z ...
            rz += gh[:2]
            # ... made into r and z, with sigmoid(a) = (1 + tanh(a / 2)) / 2
            rz *= 0.5
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            r, z, n = gates[:, t]
            np.add(gh[2], b_hn, out=hn[t])
            n += r * hn[t]
            np.tanh(n, out=n)
            h = states[
                t + 1
            ]  # h = (1 - z) * n + z * h_prev = n + z * (h_prev - n)
            np.subtract(states[t], n, out=h)
            h *= z
            h += n

        for array in (gates, hn, states):
            array.flags.writeable = (
                False  # backward reads them: keep them intact
            )
        self._cache = (x, gates, hn, states)
        return _recurrent.sequence_outputs(self, states)

    def backward(
        self, dout: np.ndarray | None, dstate: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """Backpropagate through the last :meth:`forward`; see :meth:`tutor.rnn.RNN.backward`.

        Args:
            dout: the gradient of the loss with respect to ``out``, ``(T, B, H)``
                (``(B, T, H)`` if ``batch_first``); ``None`` means zeros.
            dstate: the gradient with respect to the last state h_T, ``(B, H)``;
                ``None`` means zeros.

        Returns:
            ``(dx, dh0)``: the gradients with respect to the inputs, like ``x``
            (``None`` for ids), and to the initial state, ``(B, H)``.
            ``self.grads`` is overwritten in place.

        Raises:
            RuntimeError: no forward pass has been run yet.
            ValueError: ``dout`` or ``dstate`` has the wrong shape or dtype, or
                holds NaN or inf.
        """
        if self.stack is not None:
            return self.stack.backward(dout, dstate)
        (x, gates, hn, states), dout = _recurrent.start_backward(self, dout)
        T, B = x.shape[:2]
        H = self.hidden_size
        dh = _recurrent.check_state("dstate", dstate, B, H, self.dtype)
        dout, dh = _recurrent.gradients_into_steps(self, dout, dh)
        # gru_step_backward, step by step. dgh[:, t] holds the gradients of the
        # recurrent parts of the pre-activations (h_prev @ W_hh.T + b_hh) of r, z
        # and n, block by block like the gates; da_n[t] that of n's input part.
        # For r and z the input part's gradient is that of the recurrent part.
        dgh = np.empty((GATES, T, B, H), dtype=self.dtype)
        da_n = np.empty((T, B, H), dtype=self.dtype)
        W_hh = self.params["weight_hh"].reshape(GATES, H, H)
        # The loop writes into (B, H) buffers in place (out=, +=, *=) instead of
        # allocating new arrays at every step: about a tenth faster
        # (benchmarks/README.md). Each line's equation is in its comment.
        dh = dh.copy()  # from beyond the last step
        keep = np.empty((B, H), dtype=self.dtype)  # 1 - z
        factor = np.empty((B, H), dtype=self.dtype)
        back = np.empty((GATES, B, H), dtype=self.dtype)
        for t in range(T - 1, -1, -1):
            r, z, n = gates[:, t]
            dh += dout[t]  # h_t feeds the output and step t + 1
            # h = (1 - z) * n + z * h_prev, n = tanh(a_n), a_n = gi_n + r * hn
            np.subtract(1.0, z, out=keep)
            np.multiply(n, n, out=factor)
            np.subtract(1.0, factor, out=factor)
            factor *= keep
            np.multiply(dh, factor, out=da_n[t])  # da_n = dh (1 - z) (1 - n^2)
            np.multiply(da_n[t], r, out=dgh[2, t])  # dhn = da_n * r
            np.subtract(1.0, r, out=factor)
            factor *= hn[t]
            # r = sigmoid(a_r): da_r = da_n * hn * r * (1 - r)
            np.multiply(dgh[2, t], factor, out=dgh[0, t])
            np.subtract(states[t], n, out=factor)
            factor *= z
            factor *= keep
            # z = sigmoid(a_z): da_z = dh * (h_prev - n) * z * (1 - z)
            np.multiply(dh, factor, out=dgh[1, t])
            # on to h_prev: through each block's recurrent weights, and directly
            # (dh_prev = sum of dgh @ W_hh + dh * z)
            np.matmul(dgh[:, t], W_hh, out=back)
            dh *= z
            dh += back.sum(axis=0)
        dx = _recurrent.weight_gradients(
            self, x, states[:-1], [dgh[0], dgh[1], da_n], dgh
        )
        return dx, dh
