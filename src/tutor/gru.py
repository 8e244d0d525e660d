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
    ``np.array([[0.5], [-1.0], [2.0]])``. Arrays in any floating dtype, or
    nested lists of floats, are accepted.

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
    x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh = _check_step(
        x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh
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
    weight_ih, weight_hh = _check_step_cache(cache, dh, weight_ih, weight_hh)
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


def _check_step(
    x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh
) -> tuple[np.ndarray, ...]:
    """Check that the arguments of one forward step fit together; return them as arrays."""
    weight_ih, weight_hh, hidden_size, input_size = (
        _recurrent.check_step_weights(weight_ih, weight_hh, GATES, "(r, z, n)")
    )
    hint = "A single example needs a batch axis of size one: pass x[None, :]."
    x = check_float_array("x", x)
    check_shape("x", x, (None, input_size), "(B, D)", hint)
    h_prev = check_float_array("h_prev", h_prev)
    check_shape("h_prev", h_prev, (x.shape[0], hidden_size), "(B, H)")
    biases = []
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        bias = check_float_array(name, bias)
        check_shape(name, bias, (GATES * hidden_size,), "(3*H,)")
        biases.append(bias)
    return x, h_prev, weight_ih, weight_hh, *biases


def _check_step_cache(
    cache, dh, weight_ih, weight_hh
) -> tuple[np.ndarray, np.ndarray]:
    """Check the arguments of one backward step against the cache of the forward step."""
    if not isinstance(cache, dict):
        raise ValueError(
            f"cache must be the dict returned by gru_step_forward; got {type(cache).__name__}."
        )
    check_same_keys("cache", cache, dict.fromkeys(CACHE_KEYS))
    weight_ih, weight_hh, hidden_size, input_size = (
        _recurrent.check_step_weights(weight_ih, weight_hh, GATES, "(r, z, n)")
    )
    batch_size = np.shape(cache["x"])[0]
    check_shape("cache['x']", cache["x"], (batch_size, input_size), "(B, D)")
    for name in CACHE_KEYS[1:]:
        check_shape(
            f"cache[{name!r}]", cache[name], (batch_size, hidden_size), "(B, H)"
        )
    check_float_array("dh", dh)
    check_shape("dh", dh, (batch_size, hidden_size), "(B, H)")
    return weight_ih, weight_hh


class GRU:
    """A single-layer GRU over batches of sequences, with a hand-written backward pass.

    For t = 1..T, starting from the given state h_0 (zeros by default), each step
    computes the reset gate r, the update gate z, the candidate n and the hidden state
    ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``, as in :func:`gru_step_forward`; the
    output is the sequence h_1..h_T. This is ``torch.nn.GRU(input_size, hidden_size)``
    with one layer, with the same parameter names, shapes, gate order, formula and
    initialisation.

    Args:
        input_size: D, the number of input features per time step.
        hidden_size: H, the number of hidden units.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the initial weights.
        dtype: ``np.float64`` (default; needed for gradient checks) or ``np.float32``.
            Inputs, states and gradients must have this dtype; it is kept throughout.
        update_bias: added to the update gate's block of ``bias_ih`` (rows ``H:2*H``)
            after the random initialisation. A positive value makes z start near 1, so
            each unit keeps its old state by default (``sigmoid(3) = 0.95``) and gradients
            flow back over more steps from the start of training: the role the forget
            bias plays in the LSTM. In the book's runs on the adding problem with T = 50,
            small GRUs with ``update_bias=3`` learned the task and the same GRUs with 0
            stayed at chance. It is a starting point, not a guarantee: the best value
            depends on the task and is tuned like any other setting.
        batch_first: ``False`` (default) for time-major inputs and outputs,
            ``(T, B, D)`` and ``(T, B, H)``; ``True`` for ``(B, T, D)`` and
            ``(B, T, H)``, as in PyTorch. States are ``(B, H)`` either way.

    Attributes:
        params: ``{"weight_ih": (3*H, D), "weight_hh": (3*H, H), "bias_ih": (3*H,),
            "bias_hh": (3*H,)}``, drawn from U(-1/sqrt(H), 1/sqrt(H)) in that order, then
            adjusted for ``update_bias``. Optimisers update these arrays in place.
        grads: the same keys and shapes, overwritten (not accumulated) by :meth:`backward`.

    Example:
        >>> layer = GRU(3, 5, rng=0)
        >>> out, h_T = layer.forward(np.ones((7, 2, 3)))  # 7 steps, 2 sequences
        >>> out.shape, h_T.shape
        ((7, 2, 5), (2, 5))
        >>> dx, dh0 = layer.backward(np.ones_like(out))
        >>> dx.shape, dh0.shape, layer.grads["weight_hh"].shape
        ((7, 2, 3), (2, 5), (15, 5))
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
    ) -> None:
        _recurrent.check_sizes(input_size, hidden_size)
        self.batch_first = _recurrent.check_bool("batch_first", batch_first)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.dtype = _recurrent.check_dtype(dtype)
        if (
            isinstance(update_bias, (bool, np.bool_))
            or not isinstance(
                update_bias, (int, float, np.integer, np.floating)
            )
            or not np.isfinite(update_bias)
        ):
            raise ValueError(
                f"update_bias must be a finite number; got {update_bias!r}."
            )
        self.update_bias = float(update_bias)
        rng = as_rng(rng)
        H = self.hidden_size
        self.params = _recurrent.init_params(
            rng, self.input_size, H, GATES, self.dtype
        )
        self.params["bias_ih"][H : 2 * H] += self.dtype.type(self.update_bias)
        self.grads = {
            name: np.zeros_like(value) for name, value in self.params.items()
        }
        self._cache = None
        # For the sequence layer: sigmoid(a) = (1 + tanh(a / 2)) / 2, so one call of tanh
        # computes both gates r and z once their pre-activations are halved. `_halve` scales
        # the rows of r and z (multiplying by 0.5 is exact in floating point, so the halved
        # pre-activations are exactly half the true ones) and leaves the rows of n alone.
        self._halve = np.where(np.arange(GATES * H) < 2 * H, 0.5, 1.0).astype(
            self.dtype
        )

    def __repr__(self) -> str:
        return (
            f"GRU(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"update_bias={self.update_bias!r}, dtype=np.{self.dtype.name}"
            + (", batch_first=True)" if self.batch_first else ")")
        )

    def forward(
        self,
        x: np.ndarray,
        state: np.ndarray | None = None,
        *,
        one_hot: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run the GRU over a batch of sequences.

        Args:
            x: inputs, ``(T, B, D)``, time-major, in the layer's dtype; with
                ``one_hot=True``, ``(T, B)`` integer ids in ``0..D-1`` instead.
                ``(B, T, D)`` and ``(B, T)`` if the layer is ``batch_first``.
            state: the initial hidden state h_0, ``(B, H)``; ``None`` means zeros.
            one_hot: ``True`` when ``x`` holds ids, each standing for the one-hot vector
                of size D with a 1 at that index (characters, words). The result is the
                same as for those vectors, but the input product ``x_t @ W_ih.T`` is
                computed by looking up column ``x_t`` of ``W_ih``, and :meth:`backward`
                returns no input gradient (``dx`` is ``None``).

        Returns:
            All hidden states h_1..h_T, ``(T, B, H)`` (``(B, T, H)`` if ``batch_first``),
            and the last one, ``(B, H)``, as the pair ``(out, h_T)``. Both are read-only
            views of what :meth:`backward` needs: copy them before changing them in
            place. ``x`` itself is kept by reference (unless ``batch_first`` makes a
            time-major copy), so do not change it in place before calling
            :meth:`backward`.

        Raises:
            ValueError: ``x`` or ``state`` has the wrong shape or dtype, or holds NaN or inf.
        """
        p = self.params
        _recurrent.check_params(
            p, self.input_size, self.hidden_size, GATES, self.dtype
        )
        # x checked in the layer's layout, and from here on time-major
        x = _recurrent.check_layer_input(self, x, one_hot)
        (T, B), D = x.shape[:2], self.input_size
        H = self.hidden_size
        h0 = _recurrent.check_state("state", state, B, H, self.dtype)

        # What backward needs, and nothing more: gates[:, t] = [r, z, n] of step t + 1 after
        # their nonlinearities, hn[t] = h_t @ W_hn.T + b_hn (which r multiplies), and the
        # hidden states with h_0 in row 0, so that out = states[1:] and the previous states
        # states[:-1] are both views, not copies. The gates are stored block by block,
        # (3, T, B, H), so that each gate of each step is one contiguous (B, H) array: NumPy
        # works on those several times faster than on a (B, H) slice of a (B, 3H) array.
        gates = np.empty((GATES, T, B, H), dtype=self.dtype)
        hn = np.empty((T, B, H), dtype=self.dtype)
        states = np.empty((T + 1, B, H), dtype=self.dtype)
        states[0] = h0

        # The weights as three blocks, transposed for the products below, with the blocks of
        # r and z halved (see __init__): W_ih[k] is (D, H) and W_hh[k] is (H, H) for block k.
        # Both are made contiguous: BLAS multiplies by them faster than by transposed views.
        halve = self._halve[:, None]
        W_ih = (p["weight_ih"] * halve).reshape(GATES, H, D).transpose(0, 2, 1)
        W_hh = (p["weight_hh"] * halve).reshape(GATES, H, H).transpose(0, 2, 1)
        W_ih, W_hh = np.ascontiguousarray(W_ih), np.ascontiguousarray(W_hh)
        # Both biases of r and z go in before the loop; of n's, only b_in: b_hn is added to
        # the recurrent part, inside the reset gate's product.
        bias = p["bias_ih"] * self._halve
        bias[: 2 * H] += p["bias_hh"][: 2 * H] * self._halve[: 2 * H]
        b_hn = p["bias_hh"][2 * H :]
        # The input part of every pre-activation, for all T steps: one product per block.
        if (
            one_hot
        ):  # a one-hot x_t picks out row x_t of each (D, H) block: a lookup
            # The ids were checked, so mode="clip" changes none; it spares take a buffered copy.
            np.take(W_ih, x, axis=1, out=gates, mode="clip")
        else:
            np.matmul(
                x.reshape(T * B, D), W_ih, out=gates.reshape(GATES, T * B, H)
            )
        gates += bias.reshape(GATES, 1, 1, H)
        recurrent = np.empty((GATES, B, H), dtype=self.dtype)
        reset_hn = np.empty((B, H), dtype=self.dtype)
        for t in range(
            T
        ):  # the recurrence: one (B, H) @ (H, H) product per block and step
            np.matmul(states[t], W_hh, out=recurrent)
            rz = gates[
                :2, t
            ]  # (2, B, H): the halved pre-activations of r and z ...
            rz += recurrent[:2]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5  # ... and now r and z
            r, z, n = gates[0, t], gates[1, t], gates[2, t]
            np.add(recurrent[2], b_hn, out=hn[t])
            np.multiply(r, hn[t], out=reset_hn)
            n += reset_hn  # n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
            np.tanh(n, out=n)
            h = states[t + 1]
            np.subtract(states[t], n, out=h)  # h = (1 - z) * n + z * h_prev
            h *= z  # = n + z * (h_prev - n)
            h += n

        for array in (gates, hn, states):
            array.flags.writeable = (
                False  # backward reads these; protect them from the caller
            )
        self._cache = (x, gates, hn, states)
        if self.batch_first:
            return states[1:].swapaxes(0, 1), states[T]
        return states[1:], states[T]

    def backward(
        self, dout: np.ndarray | None, dstate: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """Backpropagate through the sequence of the last :meth:`forward` and fill ``grads``.

        Args:
            dout: the gradient of the loss with respect to ``out``, ``(T, B, H)``
                (``(B, T, H)`` if ``batch_first``); ``None`` means zeros (a loss on the
                last state only, given by ``dstate``).
            dstate: the gradient with respect to the last state h_T, ``(B, H)``, coming
                from beyond the sequence (the next chunk in truncated BPTT, or a loss on
                h_T); ``None`` means zeros. Note that ``out[-1]`` is h_T as well, so a
                loss on both gets ``dout[-1] + dstate``.

        Returns:
            The gradients with respect to the inputs, ``(T, B, D)`` or ``(B, T, D)``
            like ``x`` (``None`` after a forward with ``one_hot=True``: ids have no
            gradient), and to the initial state, ``(B, H)``, as the pair ``(dx, dh0)``.
            ``self.grads`` is overwritten in place.

        Backward may be called several times after one forward (for example with
        different ``dout``); each call uses the values of the last forward.

        Raises:
            RuntimeError: no forward pass has been run yet.
            ValueError: ``dout`` or ``dstate`` has the wrong shape or dtype, or holds NaN or inf.
        """
        _recurrent.require_cache(self._cache, "GRU")
        x, gates, hn, states = self._cache
        one_hot = x.ndim == 2  # (T, B) ids from forward(..., one_hot=True)
        (T, B), D = x.shape[:2], self.input_size
        H = self.hidden_size
        dout = _recurrent.check_dout(
            dout, T, B, H, self.dtype, batch_first=self.batch_first
        )
        dh_T = _recurrent.check_state("dstate", dstate, B, H, self.dtype)
        p, grads = self.params, self.grads
        # The loop is gru_step_backward, line by line, with every array written in place:
        # dgh[:, t] = [da_r, da_z, dhn] of step t + 1, the gradients of the three recurrent
        # parts of the pre-activations (gh = h_prev @ W_hh.T + b_hh), block by block like the
        # gates, and da_n[t], the gradient of n's input part; for r and z the input part gets
        # the same gradient as the recurrent part. Kept for the weight gradients after the loop.
        dgh = np.empty((GATES, T, B, H), dtype=self.dtype)
        da_n = np.empty((T, B, H), dtype=self.dtype)
        dh = np.empty((B, H), dtype=self.dtype)  # the gradient reaching h_t
        one_minus_z = np.empty((B, H), dtype=self.dtype)
        factor = np.empty((B, H), dtype=self.dtype)
        back = np.empty((GATES, B, H), dtype=self.dtype)
        dh_next = dh_T.copy()  # from beyond the last step
        W_hh = p["weight_hh"].reshape(
            GATES, H, H
        )  # the (H, H) blocks of r, z and n
        for t in range(T - 1, -1, -1):
            r, z, n, h_prev = gates[0, t], gates[1, t], gates[2, t], states[t]
            np.add(
                dout[t], dh_next, out=dh
            )  # h_t feeds the output and step t + 1
            np.subtract(1.0, z, out=one_minus_z)
            # h = (1 - z) * n + z * h_prev, and n = tanh(a_n): da_n = dh * (1 - z) * (1 - n**2)
            np.multiply(n, n, out=factor)
            np.subtract(1.0, factor, out=factor)
            factor *= one_minus_z
            np.multiply(dh, factor, out=da_n[t])
            # a_n = gi_n + r * hn: on to hn (dhn = da_n * r) and to r (dr = da_n * hn)
            np.multiply(da_n[t], r, out=dgh[2, t])
            np.subtract(
                1.0, r, out=factor
            )  # da_r = dr * r * (1 - r) = dhn * hn * (1 - r)
            factor *= hn[t]
            np.multiply(dgh[2, t], factor, out=dgh[0, t])
            np.subtract(
                h_prev, n, out=factor
            )  # da_z = dh * (h_prev - n) * z * (1 - z)
            factor *= z
            factor *= one_minus_z
            np.multiply(dh, factor, out=dgh[1, t])
            # Back to h_prev: through each block's recurrent weights, and directly (dh * z).
            np.matmul(dgh[:, t], W_hh, out=back)
            back.sum(axis=0, out=dh_next)
            np.multiply(dh, z, out=factor)
            dh_next += factor

        # The weights are shared by all steps, so their gradients are sums over t; with the
        # steps stacked as rows, each sum is one large matrix product per block instead of T
        # small ones. grads[name][...] = ... overwrites the arrays in place.
        if one_hot:
            x_rows = _recurrent.one_hot_rows(x, D, self.dtype)
        else:
            x_rows = x.reshape(T * B, D)
        dgh_rows = dgh.reshape(GATES, T * B, H)
        da_n = da_n.reshape(T * B, H)
        dW_hh = np.matmul(
            dgh_rows.transpose(0, 2, 1), states[:-1].reshape(T * B, H)
        )
        grads["weight_hh"][...] = dW_hh.reshape(GATES * H, H)
        dW_ih_rz = np.matmul(
            dgh_rows[:2].transpose(0, 2, 1), x_rows
        )  # (2, H, D): r and z
        grads["weight_ih"][: 2 * H] = dW_ih_rz.reshape(2 * H, D)
        grads["weight_ih"][2 * H :] = (
            da_n.T @ x_rows
        )  # and n, from its own gradient
        grads["bias_hh"][...] = dgh_rows.sum(axis=1).reshape(GATES * H)
        grads["bias_ih"][: 2 * H] = grads["bias_hh"][: 2 * H]
        grads["bias_ih"][2 * H :] = da_n.sum(axis=0)
        if one_hot:
            return None, dh_next
        W_ih = p["weight_ih"]
        dx = (
            da_n @ W_ih[2 * H :]
        )  # back through the input weights, block by block
        dx += dgh_rows[0] @ W_ih[:H]
        dx += dgh_rows[1] @ W_ih[H : 2 * H]
        dx = dx.reshape(T, B, D)
        if self.batch_first:
            dx = dx.swapaxes(0, 1)  # back to (B, T, D), like x
        return dx, dh_next
