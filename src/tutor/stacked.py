"""Deeper and in both directions: recurrent layers built from single layers.

``RNN(D, H, num_layers=2, bidirectional=True)`` (and the same for ``LSTM`` and
``GRU``, as in PyTorch) is not a new cell: it is single layers put together.

- Stacked: layer l + 1 reads the outputs of layer l as its input sequence.
  Layer 0 reads x (D features per step); every other layer reads the
  outputs below it (H features, or 2H with two directions).
- Bidirectional: each level has two single layers with their own weights.
  One reads the sequence forwards, the other reads it backwards (each
  sequence reversed up to its own end, :func:`tutor.padding.reverse_sequences`);
  the backward one's outputs are put back in time order, and the two are
  joined feature by feature, so the output at step t is
  ``[h_t forwards, h_t backwards]``, ``(T, B, 2H)``.

:class:`Stack` does this for any of the three cells, forward and backward;
the backward pass is the forward's composition run in reverse: the gradient
of a level's output is split between its two directions, each sends back a
gradient for its input, and the two are added for the level below.
"""

from __future__ import annotations

import numpy as np

from tutor import _recurrent, padding
from tutor._checks import (
    as_rng,
    check_float_array,
    check_int,
    check_same_keys,
    check_shape,
)

__all__ = ["Stack", "parameter_name", "build"]

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def parameter_name(name: str, level: int, direction: int) -> str:
    """PyTorch's name of a parameter of a stacked layer, e.g. ``weight_hh_l1_reverse``.

    Args:
        name: the single layer's name, ``weight_ih``, ``weight_hh``,
            ``bias_ih`` or ``bias_hh``.
        level: the layer's place in the stack, from 0 (the one reading x).
        direction: 0 forwards, 1 backwards (``_reverse``).
    """
    return f"{name}_l{level}" + ("_reverse" if direction else "")


def build(
    layer,
    cell_class: type,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    bidirectional: bool,
    *,
    rng: int | np.random.Generator,
    dtype: object,
    batch_first: bool,
    state_parts: int,
    **options: object,
) -> bool:
    """Set up ``layer`` as a :class:`Stack` when it has several layers or directions.

    Called by the ``__init__`` of ``RNN``, ``LSTM`` and ``GRU``. Sets
    ``num_layers``, ``bidirectional`` and ``stack`` (``None`` for a single
    one-way layer); for a stack also the attributes every layer has
    (``input_size``, ``hidden_size``, ``dtype``, ``batch_first``, ``params``,
    ``grads``).

    Returns:
        ``True`` if ``layer`` is a stack; ``False`` if the caller must build
        the single layer itself.
    """
    layer.num_layers = check_int("num_layers", num_layers)
    layer.bidirectional = _recurrent.check_bool("bidirectional", bidirectional)
    layer.stack = None
    if layer.num_layers == 1 and not layer.bidirectional:
        return False
    _recurrent.check_sizes(input_size, hidden_size)
    layer.input_size, layer.hidden_size = int(input_size), int(hidden_size)
    layer.dtype = _recurrent.check_dtype(dtype)
    layer.batch_first = _recurrent.check_bool("batch_first", batch_first)
    layer.stack = Stack(
        cell_class,
        layer.input_size,
        layer.hidden_size,
        layer.num_layers,
        layer.bidirectional,
        rng=as_rng(rng),
        dtype=layer.dtype,
        batch_first=layer.batch_first,
        state_parts=state_parts,
        **options,
    )
    layer.params, layer.grads = layer.stack.params, layer.stack.grads
    return True


class Stack:
    """``num_layers`` levels of one or two single layers of the same cell.

    Built by :class:`~tutor.rnn.RNN`, :class:`~tutor.lstm.LSTM` and
    :class:`~tutor.gru.GRU` when ``num_layers > 1`` or ``bidirectional``;
    its :meth:`forward` and :meth:`backward` are theirs.

    Args:
        cell_class: ``RNN``, ``LSTM`` or ``GRU``.
        input_size: D.
        hidden_size: H, the same for every layer.
        num_layers: L, the number of levels.
        bidirectional: two layers per level, one reading backwards.
        rng: an ``int`` seed or a ``numpy.random.Generator``; the layers draw
            their weights from it in PyTorch's order (level 0 forwards, level
            0 backwards, level 1 forwards, ...).
        dtype, batch_first: as for the single layer.
        state_parts: 1 for a state ``h``, 2 for the LSTM's pair ``(h, c)``.
        **options: the cell's own arguments (``nonlinearity``,
            ``forget_bias``, ...), given to every layer.

    Attributes:
        layers: ``layers[l][d]`` is the single layer of level l and direction d.
        params: every layer's parameters under PyTorch's names (the same
            arrays, not copies).
        grads: every layer's gradients, named likewise.
    """

    def __init__(
        self,
        cell_class: type,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        *,
        rng: np.random.Generator,
        dtype: np.dtype,
        batch_first: bool,
        state_parts: int,
        **options: object,
    ) -> None:
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.dtype, self.batch_first = dtype, batch_first
        self.state_parts = state_parts
        self.name = cell_class.__name__
        self._cache = None  # no forward pass yet
        self.layers = []
        for level in range(num_layers):
            # Level 0 reads x; each level above reads the outputs below it.
            size = input_size if level == 0 else self.directions * hidden_size
            self.layers.append(
                [
                    cell_class(
                        size, hidden_size, rng=rng, dtype=dtype, **options
                    )
                    for _ in range(self.directions)
                ]
            )
        self.params, self.grads = {}, {}  # PyTorch's order of names
        for level, direction, layer in self._each():
            for name in PARAM_NAMES:
                full = parameter_name(name, level, direction)
                self.params[full] = layer.params[name]
                self.grads[full] = layer.grads[name]

    def _each(self):
        """``(level, direction, layer)`` for every layer, in PyTorch's order."""
        for level, pair in enumerate(self.layers):
            for direction, layer in enumerate(pair):
                yield level, direction, layer

    def _share_arrays(self) -> None:
        """Point every layer at the arrays in ``params`` and ``grads``.

        A reader may replace an array by name (``params["weight_hh_l1"] =
        ...``, as when copying from PyTorch); the layers must then use it.
        """
        check_same_keys("params", self.params, self.grads)  # the same names
        for level, direction, layer in self._each():
            suffix = parameter_name("", level, direction)
            for name in PARAM_NAMES:
                layer.params[name] = self.params[name + suffix]
                layer.grads[name] = self.grads[name + suffix]
            _recurrent.check_params(
                layer.params,
                layer.input_size,
                layer.hidden_size,
                layer._gates,
                self.dtype,
                suffix=suffix,
            )

    def forward(self, x, state=None, *, ids=False, lengths=None):
        """Run every level over the batch; see :meth:`tutor.rnn.RNN.forward`.

        Args:
            x: ``(T, B, D)`` inputs or ``(T, B)`` ids (``(B, T, ...)`` if
                ``batch_first``).
            state: ``None`` (zeros) or the initial states of all layers,
                ``(L * dirs, B, H)`` with dirs = 2 if bidirectional else 1,
                in the order of ``layers`` (level 0 forwards, level 0
                backwards, level 1 forwards, ...); for the LSTM the pair
                ``(h_0, c_0)`` of such arrays. This is PyTorch's ``h_0``.
            ids: ``x`` holds ids (read by level 0 only).
            lengths: ``None`` or the ``(B,)`` lengths of padded sequences.

        Returns:
            ``(out, state_n)``: the top level's outputs, ``(T, B, dirs * H)``
            (``(B, T, dirs * H)`` if ``batch_first``), forwards and backwards
            joined, and every layer's final state, shaped like ``state``.
        """
        self._share_arrays()
        x = _recurrent.check_layer_input(self, x, ids)
        steps, batch = x.shape[:2]
        if lengths is not None:
            lengths = padding.check_lengths(lengths, steps, batch)
        starts = self._split_state("state", state, batch)
        below, finals = x, []
        for level, pair in enumerate(self.layers):
            outs = []
            for direction, layer in enumerate(pair):
                k = level * self.directions + direction
                seq = below
                if (
                    direction == 1
                ):  # the backward layer reads each sequence reversed
                    seq = padding.reverse_sequences(below, lengths)
                out, final = layer.forward(
                    seq, starts[k], ids=ids and level == 0, lengths=lengths
                )
                if direction == 1:  # ... and its outputs go back in time order
                    out = padding.reverse_sequences(out, lengths)
                outs.append(out)
                finals.append(final)
            below = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)
        self._cache = (lengths, steps, batch)
        below.flags.writeable = False
        out = below.swapaxes(0, 1) if self.batch_first else below
        return out, self._join_state(finals)

    def backward(self, dout, dstate=None):
        """Backpropagate through the last :meth:`forward`, level by level from the top.

        Args:
            dout: the gradient of the loss with respect to ``out``, shaped like
                it, or ``None`` for zeros.
            dstate: the gradient with respect to ``state_n``, shaped like it,
                or ``None`` for zeros.

        Returns:
            ``(dx, dstate_0)``: the gradient with respect to ``x`` (``None``
            for ids) and to the initial states, ``(L * dirs, B, H)`` (a pair
            for the LSTM). ``grads`` is overwritten in place.
        """
        _recurrent.require_cache(self._cache, self.name)
        self._share_arrays()
        H, dirs = self.hidden_size, self.directions
        lengths, steps, batch = self._cache
        grad = _recurrent.check_dout(
            dout,
            steps,
            batch,
            dirs * H,
            self.dtype,
            batch_first=self.batch_first,
        )
        ends = self._split_state("dstate", dstate, batch)
        starts = [None] * len(ends)
        for level in range(self.num_layers - 1, -1, -1):
            below = None
            for direction, layer in enumerate(self.layers[level]):
                k = level * dirs + direction
                part = grad[..., direction * H : (direction + 1) * H]
                if direction == 1:
                    part = padding.reverse_sequences(part, lengths)
                dx, starts[k] = layer.backward(part, ends[k])
                if dx is None:  # ids: no gradient below level 0
                    continue
                if direction == 1:
                    dx = padding.reverse_sequences(dx, lengths)
                below = dx if below is None else below + dx
            grad = below
        if grad is not None and self.batch_first:
            grad = grad.swapaxes(0, 1)
        return grad, self._join_state(starts)

    def _split_state(self, name, state, batch):
        """The per-layer states in ``state``: a list of L * dirs entries."""
        count = self.num_layers * self.directions
        if state is None:
            return [None] * count
        if self.state_parts == 1:
            arrays = [self._check_states(name, state, batch)]
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(
                    f"{name} must be a pair (h, c) of arrays of shape "
                    f"(num_layers * num_directions, B, H) = "
                    f"({count}, {batch}, {self.hidden_size}), or None; got "
                    f"{type(state).__name__}"
                    + (
                        f" of shape {state.shape}"
                        if isinstance(state, np.ndarray)
                        else ""
                    )
                    + "."
                )
            arrays = [
                self._check_states(f"{name}[{i}]", part, batch)
                for i, part in enumerate(state)
            ]
        per_layer = []
        for k in range(count):
            parts = [None if a is None else a[k] for a in arrays]
            per_layer.append(
                parts[0] if self.state_parts == 1 else tuple(parts)
            )
        return per_layer

    def _check_states(self, name, states, batch):
        """Check one ``(L * dirs, B, H)`` array of states (``None`` passes)."""
        if states is None:
            return None
        states = check_float_array(name, states, self.dtype)
        count = self.num_layers * self.directions
        expected = (count, batch, self.hidden_size)
        hint = (
            f"A network of {self.num_layers} layer(s) and {self.directions} "
            f"direction(s) has {count} layers, each with a (B, H) state, in "
            f"the order level 0 forwards, level 0 backwards, level 1 ..."
        )
        check_shape(
            name, states, expected, "(num_layers * num_directions, B, H)", hint
        )
        return states

    def _join_state(self, states):
        """One ``(L * dirs, B, H)`` array (or a pair) from the per-layer states."""
        if self.state_parts == 1:
            return np.stack(states)
        return tuple(np.stack([s[i] for s in states]) for i in range(2))
