"""Checks and helpers shared by the three recurrent layers and their step functions.

The three layers take the same arguments in the same layout (time-major
``(T, B, D)`` inputs, ``(B, H)`` states, PyTorch's parameter names), so the
mistakes a reader can make with them are the same too. The checks live here,
once, and each layer calls them at the top of ``forward`` and ``backward``.

``G`` below is the number of gate blocks stacked in a weight matrix: 1 for the
Elman RNN, 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n).

The layers also take one-hot inputs given by their ids (``forward(x, ids=True)`` with
``x`` the ``(T, B)`` integer ids):
the one-hot vector of id k picks out column k of ``weight_ih``, so the input product
becomes a lookup and nothing of size ``(T, B, D)`` has to be built or multiplied
(:func:`check_id_input`, :func:`one_hot_rows`).

Built with ``batch_first=True``, as in PyTorch, a layer takes ``(B, T, D)`` inputs and
gives ``(B, T, H)`` outputs instead (states stay ``(B, H)``). The layers compute
time-major all the same: :func:`check_layer_input` and :func:`check_dout` check the
arrays in the layout the reader gave and return them time-major, and the layers
transpose their outputs and input gradients back. Nothing else differs.
"""

from __future__ import annotations

import numpy as np

from tutor import padding
from tutor._checks import (
    as_rng,
    check_finite,
    check_float_array,
    check_int,
    check_ndim,
    check_same_keys,
    check_shape,
)

__all__ = [
    "TIME_MAJOR_HINT",
    "LAYER_LAYOUT_HINT",
    "BATCH_FIRST_HINT",
    "check_sizes",
    "check_bool",
    "check_dtype",
    "init_uniform",
    "init_params",
    "check_params",
    "check_sequence_input",
    "check_layer_input",
    "check_state",
    "check_dout",
    "require_cache",
    "check_step_weights",
    "check_step",
    "check_step_cache",
    "check_id_input",
    "one_hot_rows",
    "check_number",
    "init_layer",
    "layer_repr",
    "start_forward",
    "project_inputs",
    "start_backward",
    "weight_gradients",
]

TIME_MAJOR_HINT = (
    "Inputs are time-major, (T, B, D) = (time steps, sequences, features); batch-first "
    "data of shape (B, T, D) becomes time-major with x.transpose(1, 0, 2)."
)
# The same for the layers, which can take batch-first data themselves.
LAYER_LAYOUT_HINT = (
    "Inputs are time-major, (T, B, D) = (time steps, sequences, features); for "
    "batch-first data of shape (B, T, D), build the layer with batch_first=True "
    "(or pass x.transpose(1, 0, 2))."
)
BATCH_FIRST_HINT = (
    "The layer was built with batch_first=True, so inputs are (B, T, D) = "
    "(sequences, time steps, features); for time-major data of shape (T, B, D), "
    "build it with batch_first=False (the default)."
)


def check_sizes(input_size: int, hidden_size: int) -> None:
    """Raise ``ValueError`` unless both sizes are positive integers."""
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` as a ``bool``, or raise ``ValueError`` unless it is one."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_dtype(dtype: object) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype if it is float32 or float64, else raise ``ValueError``.

    float64 is the default (gradient checks need it); float32 halves memory
    and time for larger experiments. Other dtypes (float16, int) would train badly or not at all.
    """
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"dtype must be np.float64 or np.float32; got {dtype!r}."
        )
    return result


def init_uniform(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    hidden_size: int,
    dtype: np.dtype,
) -> np.ndarray:
    """Draw an array from U(-1/sqrt(H), 1/sqrt(H)), PyTorch's initialisation for recurrent layers.

    Args:
        rng: the generator to draw from.
        shape: the shape of the result.
        hidden_size: H; the scale keeps ``h_prev @ weight_hh.T`` of order one.
        dtype: float32 or float64.

    Returns:
        An array of ``shape`` and ``dtype``.
    """
    bound = 1.0 / np.sqrt(hidden_size)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def init_params(
    rng: np.random.Generator,
    input_size: int,
    hidden_size: int,
    gates: int,
    dtype: np.dtype,
) -> dict[str, np.ndarray]:
    """The four parameter arrays of a recurrent layer, named and shaped as in PyTorch.

    Returns:
        ``{"weight_ih": (G*H, D), "weight_hh": (G*H, H), "bias_ih": (G*H,), "bias_hh": (G*H,)}``,
        drawn in that order with :func:`init_uniform`.
    """
    rows = gates * hidden_size
    shapes = {
        "weight_ih": (rows, input_size),
        "weight_hh": (rows, hidden_size),
        "bias_ih": (rows,),
        "bias_hh": (rows,),
    }
    return {
        name: init_uniform(rng, shape, hidden_size, dtype)
        for name, shape in shapes.items()
    }


def check_params(
    params: dict[str, np.ndarray],
    input_size: int,
    hidden_size: int,
    gates: int,
    dtype: np.dtype,
    suffix: str = "",
) -> None:
    """Raise ``ValueError`` if a parameter array was replaced by one of the wrong shape or dtype.

    Readers copy weights in and out (for example from ``torch.nn.RNN``); this
    catches a transposed matrix or a float32 array in a float64 layer before
    it turns into a confusing error inside a matrix product.
    """
    rows = gates * hidden_size
    g = (
        "H" if gates == 1 else f"{gates}*H"
    )  # the label of the rows, e.g. "4*H" for the LSTM
    expected = {
        "weight_ih": ((rows, input_size), f"({g}, D)"),
        "weight_hh": ((rows, hidden_size), f"({g}, H)"),
        "bias_ih": ((rows,), f"({g},)"),
        "bias_hh": ((rows,), f"({g},)"),
    }
    check_same_keys("params", params, expected)
    for name, (shape, labels) in expected.items():
        # suffix: a stacked layer's name for it, e.g. "_l1_reverse"
        label = f"params[{name + suffix!r}]"
        check_float_array(label, params[name], dtype)
        check_shape(label, params[name], shape, labels)


def check_sequence_input(
    x: object,
    input_size: int,
    dtype: np.dtype,
    name: str = "x",
    *,
    batch_first: bool = False,
) -> np.ndarray:
    """Return ``x`` as an array after checking that it is a ``(T, B, D)`` batch of sequences.

    Nothing is reshaped: a missing batch axis or data in the other layout is an
    error whose message says how to fix it.

    Args:
        x: the input, expected ``(T, B, D)`` with ``D == input_size``.
        input_size: D.
        dtype: the layer's dtype; ``x`` must have exactly this dtype.
        name: the argument's name for the messages.
        batch_first: expect ``(B, T, D)`` instead (the array is still returned as
            given, not transposed).

    Returns:
        ``x`` as a NumPy array (the same object when it already is one).

    Raises:
        ValueError: wrong dtype, number of axes, feature size, an empty axis, NaN or infinity.
    """
    x = check_float_array(name, x, dtype)
    if batch_first:
        labels, layout = "(B, T, D)", BATCH_FIRST_HINT
        one, single = f"{name}[None]", f"(1, T, 1) with {name}[None, :, None]"
    else:
        labels, layout = "(T, B, D)", LAYER_LAYOUT_HINT
        one, single = (
            f"{name}[:, None, :]",
            f"(T, 1, 1) with {name}[:, None, None]",
        )
    if x.ndim == 2:
        hint = (
            f"A single sequence of shape (T, D) needs a batch axis of size one: pass "
            f"{one}. {layout}"
        )
    elif x.ndim == 1 and input_size == 1:
        hint = f"A single sequence of T numbers becomes {single}."
    else:
        hint = layout
    check_ndim(name, x, 3, labels, hint)
    if x.shape[2] != input_size:
        hint = f"The last axis holds the D = {input_size} input features of each step. "
        if input_size in x.shape[:2]:
            hint += (
                "Your array has that size on another axis: is it transposed? "
            )
        check_shape(name, x, (None, None, input_size), labels, hint + layout)
    T, B = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    if T == 0 or B == 0:
        raise ValueError(
            f"{name} must hold at least one time step and one sequence; got shape {x.shape} "
            f"(T = {T}, B = {B})."
        )
    check_finite(name, x)
    return x


def check_layer_input(layer, x: object, ids: bool) -> np.ndarray:
    """Check the input ``x`` of ``layer.forward`` in the layer's layout; return it time-major.

    Args:
        layer: the RNN, LSTM or GRU; its ``input_size``, ``dtype`` and
            ``batch_first`` say what ``x`` must be.
        x: ``(T, B, D)`` floats, or ``(T, B)`` integer ids with ``ids=True``;
            ``(B, T, D)`` or ``(B, T)`` if the layer is ``batch_first``.
        ids: ``x`` holds ids, checked by :func:`check_id_input`.

    Returns:
        ``x`` time-major: the array itself for ``batch_first=False``, else a transposed,
        contiguous copy (made once, here, so the layer's matrix products need none).
    """
    D, batch_first = layer.input_size, layer.batch_first
    if ids:
        x = check_id_input(x, D, batch_first=batch_first)
    else:
        given = np.asarray(x)
        if given.ndim == 2 and np.issubdtype(given.dtype, np.integer):
            raise ValueError(
                f"x must be a (T, B, D) float array; got integers of shape "
                f"{given.shape}. If x holds the ids of one-hot vectors, pass "
                f"ids=True: layer.forward(x, ids=True)."
            )
        x = check_sequence_input(x, D, layer.dtype, batch_first=batch_first)
    if batch_first:
        x = np.ascontiguousarray(x.swapaxes(0, 1))
    return x


def check_state(
    name: str, state: object, batch_size: int, hidden_size: int, dtype: np.dtype
) -> np.ndarray:
    """Return a ``(B, H)`` hidden state (or its gradient), zeros when ``state`` is ``None``.

    Args:
        name: the argument's name for the messages, e.g. ``"state"`` or ``"dstate"``.
        state: ``None`` or an array of shape ``(B, H)``.
        batch_size: B, taken from the input of the forward pass.
        hidden_size: H.
        dtype: the layer's dtype.

    Returns:
        A ``(B, H)`` array of ``dtype``.
    """
    if state is None:
        return np.zeros((batch_size, hidden_size), dtype=dtype)
    state = check_float_array(name, state, dtype)
    expected = (batch_size, hidden_size)
    if state.shape != expected:
        if state.shape == (1, *expected):
            hint = (
                f"PyTorch's h0 has a leading num_layers axis; pass {name}[0]."
            )
        elif state.shape == (hidden_size,) and batch_size == 1:
            hint = f"For a batch of one sequence pass {name}[None, :]."
        else:
            hint = (
                f"{name} holds one hidden state of size H = {hidden_size} for each of the "
                f"B = {batch_size} sequences in the batch."
            )
        check_shape(name, state, expected, "(B, H)", hint)
    check_finite(name, state)
    return state


def check_dout(
    dout: object,
    steps: int,
    batch_size: int,
    hidden_size: int,
    dtype: np.dtype,
    name: str = "dout",
    *,
    batch_first: bool = False,
) -> np.ndarray:
    """Return the gradient of the loss with respect to the outputs, time-major ``(T, B, H)``.

    ``None`` means zeros: the loss does not depend on the outputs directly,
    only on the last state (then pass its gradient as ``dstate``). With
    ``batch_first=True`` the gradient must be ``(B, T, H)``, like the outputs,
    and is returned as a time-major view.
    """
    if dout is None:
        return np.zeros((steps, batch_size, hidden_size), dtype=dtype)
    dout = check_float_array(name, dout, dtype)
    if batch_first:
        expected, labels = (batch_size, steps, hidden_size), "(B, T, H)"
    else:
        expected, labels = (steps, batch_size, hidden_size), "(T, B, H)"
    if dout.shape != expected:
        hint = f"It must have the shape of the output of the last forward, {expected}."
        check_shape(name, dout, expected, labels, hint)
    check_finite(name, dout)
    return dout.swapaxes(0, 1) if batch_first else dout


def require_cache(cache: object, layer: str) -> None:
    """Raise ``RuntimeError`` when ``backward`` is called before any ``forward``."""
    if cache is None:
        raise RuntimeError(
            f"{layer}.backward was called before {layer}.forward. The backward pass needs the "
            f"values the forward pass computed: call out, state = layer.forward(x) first, "
            f"then layer.backward(dout)."
        )


def check_step_weights(
    weight_ih: object, weight_hh: object, gates: int, order: str = ""
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Check the two weight matrices given to a step function and read the sizes from them.

    The step functions take no sizes: ``weight_ih`` must be ``(G*H, D)`` with a
    number of rows that splits into G blocks, and ``weight_hh`` ``(G*H, H)``.

    Args:
        weight_ih: the input-to-hidden weights, an array or nested lists of floats.
        weight_hh: the hidden-to-hidden weights.
        gates: G, the number of blocks of rows.
        order: the names of the blocks for the messages, e.g. ``"(r, z, n)"``.

    Returns:
        The tuple ``(weight_ih, weight_hh, H, D)``, the weights as NumPy arrays.
    """
    g = "H" if gates == 1 else f"{gates}*H"
    weight_ih = check_float_array("weight_ih", weight_ih)
    check_shape("weight_ih", weight_ih, (None, None), f"({g}, D)")
    rows, input_size = weight_ih.shape
    if rows == 0 or rows % gates != 0:
        blocks = f"the {gates} blocks {order} stacked".replace("  ", " ")
        raise ValueError(
            f"weight_ih must have {g} rows, {blocks}; got shape {weight_ih.shape}, whose "
            f"{rows} rows do not split into {gates} blocks of H >= 1 rows."
        )
    hidden_size = rows // gates
    weight_hh = check_float_array("weight_hh", weight_hh)
    check_shape("weight_hh", weight_hh, (rows, hidden_size), f"({g}, H)")
    return weight_ih, weight_hh, hidden_size, input_size


#: For each cell: G, the number of blocks of rows in its weights, and their
#: names in PyTorch's order (for the messages).
STEP_BLOCKS = {
    "rnn": (1, ""),
    "lstm": (4, "(i, f, g, o)"),
    "gru": (3, "(r, z, n)"),
}


def _check_step_array(
    name: str,
    array: object,
    shape: tuple,
    layout: str,
    dtype: np.dtype,
    hint: str = "",
) -> np.ndarray:
    """One array given to a step function, as an array of the weights' dtype."""
    array = check_float_array(name, array)
    if array.dtype != dtype:
        raise ValueError(
            f"{name} must have the weights' dtype {dtype.name}; got "
            f"{array.dtype.name}. Convert it with {name}.astype(np.{dtype.name}) "
            f"(a step never changes a dtype behind your back)."
        )
    check_shape(name, array, shape, layout, hint)
    return array


def _state_parts(
    cell: str, state: object, name: str
) -> list[tuple[str, object]]:
    """The named parts of a cell's state: ``h`` alone, or the LSTM's pair ``(h, c)``."""
    if cell != "lstm":
        return [(name, state)]
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        given = (
            f"an array of shape {state.shape}"
            if isinstance(state, np.ndarray)
            else f"a {type(state).__name__}"
        )
        raise ValueError(
            f"{name} must be the LSTM's pair (h, c) of (B, H) arrays; got {given}."
        )
    return [(f"{name}[0]", state[0]), (f"{name}[1]", state[1])]


def check_step(
    cell: str, x, state, weight_ih, weight_hh, bias_ih, bias_hh
) -> tuple:
    """Check the arguments of one forward step of ``cell``; return them as arrays.

    The sizes are read from the weights (``(G*H, D)`` and ``(G*H, H)``); ``x``
    must be ``(B, D)``, every part of ``state`` ``(B, H)``, the biases
    ``(G*H,)``, all floating, in the weights' dtype. Nested lists of floats
    are accepted. ``state`` is ``h_prev`` or, for the LSTM, ``(h_prev, c_prev)``.

    Returns:
        ``(x, state, weight_ih, weight_hh, bias_ih, bias_hh)``.
    """
    gates, order = STEP_BLOCKS[cell]
    weight_ih, weight_hh, H, D = check_step_weights(
        weight_ih, weight_hh, gates, order
    )
    dtype = weight_ih.dtype
    if weight_hh.dtype != dtype:
        raise ValueError(
            f"weight_hh must have the dtype of weight_ih, {dtype.name}; got "
            f"{weight_hh.dtype.name}."
        )
    hint = "A single example needs a batch axis of size one: pass x[None, :]."
    x = _check_step_array("x", x, (None, D), "(B, D)", dtype, hint)
    name = "state" if cell == "lstm" else "h_prev"
    parts = [
        _check_step_array(part, value, (x.shape[0], H), "(B, H)", dtype)
        for part, value in _state_parts(cell, state, name)
    ]
    state = tuple(parts) if cell == "lstm" else parts[0]
    g = "H" if gates == 1 else f"{gates}*H"
    biases = [
        _check_step_array(b, value, (gates * H,), f"({g},)", dtype)
        for b, value in (("bias_ih", bias_ih), ("bias_hh", bias_hh))
    ]
    return x, state, weight_ih, weight_hh, *biases


def check_step_cache(
    cell: str, dstate, cache, keys: tuple[str, ...], weight_ih, weight_hh
) -> tuple:
    """Check the arguments of one backward step against its forward's cache.

    ``cache`` must be the dict the forward step returned, with ``keys``;
    ``cache["x"]`` is ``(B, D)`` and the others ``(B, H)``; every part of
    ``dstate`` (``dh``, or the LSTM's ``(dh, dc)``) is ``(B, H)``.

    Returns:
        ``(dstate, weight_ih, weight_hh)``, as arrays.
    """
    if not isinstance(cache, dict):
        raise ValueError(
            f"cache must be the dict returned by {cell}_step_forward; got "
            f"{type(cache).__name__}."
        )
    check_same_keys("cache", cache, dict.fromkeys(keys))
    gates, order = STEP_BLOCKS[cell]
    weight_ih, weight_hh, H, D = check_step_weights(
        weight_ih, weight_hh, gates, order
    )
    dtype = weight_ih.dtype
    B = np.shape(cache["x"])[0]
    for key in keys:
        shape, layout = ((B, D), "(B, D)") if key == "x" else ((B, H), "(B, H)")
        check_shape(f"cache[{key!r}]", cache[key], shape, layout)
    name = "dstate" if cell == "lstm" else "dh"
    parts = [
        _check_step_array(part, value, (B, H), "(B, H)", dtype)
        for part, value in _state_parts(cell, dstate, name)
    ]
    dstate = tuple(parts) if cell == "lstm" else parts[0]
    return dstate, weight_ih, weight_hh


def check_id_input(
    x: object, input_size: int, name: str = "x", *, batch_first: bool = False
) -> np.ndarray:
    """Return ``x`` as ``(T, B)`` integer ids after checking them, for ``ids=True``.

    Id k stands for the one-hot vector of size D = ``input_size`` with a 1 at index k,
    so ``x[t, b] = k`` is the same input as a ``(T, B, D)`` array whose row ``(t, b)`` is
    that vector. Nothing is converted: float arrays, a third axis or ids outside
    ``0..D-1`` are errors.

    Args:
        x: the ids, expected ``(T, B)``, of an integer dtype.
        input_size: D, the size of the one-hot vectors.
        name: the argument's name for the messages.
        batch_first: expect ``(B, T)`` instead (returned as given, not transposed).

    Returns:
        ``x`` as a NumPy integer array of shape ``(T, B)`` (``(B, T)`` if batch-first).

    Raises:
        ValueError: not integers, not two axes, an empty axis, or an id outside ``0..D-1``.
    """
    ids = np.asarray(x)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"with ids=True, {name} must hold integer ids; got dtype {ids.dtype}. "
            f"Pass ids=False (the default) for a (T, B, D) float input."
        )
    if ids.ndim != 2:
        if batch_first:
            labels, single = "(B, T)", f"(1, T) with {name}[None, :]"
        else:
            labels, single = "(T, B)", f"(T, 1) with {name}[:, None]"
        raise ValueError(
            f"with ids=True, {name} must have shape {labels}, one id per step and "
            f"sequence; got shape {ids.shape}. A single sequence of T ids becomes "
            f"{single}."
        )
    if ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(
            f"{name} must hold at least one time step and one sequence; got shape {ids.shape}."
        )
    if ids.min() < 0 or ids.max() >= input_size:
        raise ValueError(
            f"with ids=True, {name} must hold ids in 0..{input_size - 1} (input_size is "
            f"{input_size}); got values from {ids.min()} to {ids.max()}."
        )
    return ids


def one_hot_rows(
    ids: np.ndarray, input_size: int, dtype: np.dtype
) -> np.ndarray:
    """The one-hot vectors of ``ids`` as the rows of a matrix, ``(T*B, D)``.

    The weight gradient of ``weight_ih`` is ``da_rows.T @ x_rows``, a sum over the rows
    of ``da_rows`` grouped by id. Written with this matrix it is the same BLAS product as
    for a dense one-hot input (so the same numbers); on the sizes of a character model
    it is about as fast as a scatter-add of the rows (``np.add.at``, or sorting by id
    and ``np.add.reduceat``): benchmarks/README.md has the measurements.

    Args:
        ids: ``(T, B)`` integer ids in ``0..D-1``, as checked by :func:`check_id_input`.
        input_size: D.
        dtype: the layer's dtype.

    Returns:
        A ``(T*B, D)`` array of zeros with a 1 at column ``ids.ravel()[n]`` of row n.
    """
    flat = ids.reshape(-1)
    rows = np.zeros((flat.size, input_size), dtype=dtype)
    rows[np.arange(flat.size), flat] = 1.0
    return rows


# --- The parts the three sequence layers share -----------------------------
#
# RNN, LSTM and GRU differ only in their recurrence; around it they are built,
# checked and differentiated alike. __init__ calls init_layer; forward calls
# start_forward and project_inputs before its loop; backward calls
# start_backward before its loop and weight_gradients after it.


def check_number(name: str, value: object) -> float:
    """Return ``value`` as a ``float``; raise ``ValueError`` unless it is a finite number.

    ``True`` and ``False`` are not numbers here: ``forget_bias=True`` is a mistake.
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not np.isfinite(value)
    ):
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    return float(value)


def init_layer(
    layer,
    input_size: int,
    hidden_size: int,
    gates: int,
    rng: int | np.random.Generator,
    dtype: object,
    batch_first: bool,
) -> None:
    """Check the arguments every recurrent layer takes and set its attributes.

    Args:
        layer: the RNN, LSTM or GRU being built.
        input_size, hidden_size: D and H, positive integers.
        gates: G, the number of blocks of rows in the weights (1, 4 or 3).
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        dtype: ``np.float64`` or ``np.float32`` (:func:`check_dtype`).
        batch_first: ``True`` or ``False``.

    Sets ``input_size``, ``hidden_size``, ``dtype``, ``batch_first``;
    ``params``, the four arrays of :func:`init_params`, ``(G*H, D)``,
    ``(G*H, H)``, ``(G*H,)`` and ``(G*H,)``; ``grads``, zeros of the same
    shapes; and ``_cache = None``, since no forward pass has run.
    """
    check_sizes(input_size, hidden_size)
    layer.batch_first = check_bool("batch_first", batch_first)
    layer.input_size, layer.hidden_size = int(input_size), int(hidden_size)
    layer.dtype = check_dtype(dtype)
    layer.params = init_params(
        as_rng(rng), layer.input_size, layer.hidden_size, gates, layer.dtype
    )
    layer.grads = {name: np.zeros_like(p) for name, p in layer.params.items()}
    layer._gates = gates
    layer._cache = None
    layer._lengths = None


def layer_repr(layer, **settings: object) -> str:
    """``Name(input_size=D, hidden_size=H, <settings>, dtype=np.float64)``.

    ``settings`` are the layer's own arguments, in order; ``batch_first=True``
    is added at the end when it is set.
    """
    args = [
        f"input_size={layer.input_size}",
        f"hidden_size={layer.hidden_size}",
    ]
    args += [f"{name}={value!r}" for name, value in settings.items()]
    if layer.num_layers != 1:
        args.append(f"num_layers={layer.num_layers}")
    if layer.bidirectional:
        args.append("bidirectional=True")
    args.append(f"dtype=np.{layer.dtype.name}")
    if layer.batch_first:
        args.append("batch_first=True")
    return f"{type(layer).__name__}({', '.join(args)})"


def start_forward(
    layer, x: object, ids: bool, gates: int
) -> tuple[np.ndarray, int, int]:
    """Check ``layer.params`` and the input of ``layer.forward``.

    Args:
        layer: the RNN, LSTM or GRU.
        x: as given to ``forward``: ``(T, B, D)`` floats or ``(T, B)`` ids,
            ``(B, T, ...)`` for a ``batch_first`` layer.
        ids: ``x`` holds ids.
        gates: G, the number of blocks of rows in the weights.

    Returns:
        ``(x, T, B)``, with ``x`` time-major (:func:`check_layer_input`).
    """
    check_params(
        layer.params, layer.input_size, layer.hidden_size, gates, layer.dtype
    )
    x = check_layer_input(layer, x, ids)
    return x, x.shape[0], x.shape[1]


def project_inputs(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    out: np.ndarray,
    ids: bool,
) -> None:
    """Write the input part of every step's pre-activations into ``out``.

    ``out[t] = x[t] @ weight.T + bias`` for all T steps, in one matrix product
    (or, for ids, one lookup) rather than one per step.

    Args:
        x: ``(T, B, D)`` inputs, or ``(T, B)`` ids with ``ids=True``.
        weight: ``(K, D)``, the rows of ``weight_ih`` wanted (K = G*H or H).
        bias: ``(K,)``.
        out: ``(T, B, K)``, written in place.
        ids: ``x`` holds ids.
    """
    T, B = x.shape[:2]
    if ids:  # a one-hot x_t picks out column x_t of weight: a lookup
        table = weight.T + bias  # (D, K): row k is the input part for id k
        # The ids were checked, so mode="clip" changes none; it spares take a
        # buffered copy.
        np.take(table, x, axis=0, out=out, mode="clip")
    else:
        np.matmul(x.reshape(T * B, -1), weight.T, out=out.reshape(T * B, -1))
        out += bias


def start_backward(layer, dout: object) -> tuple[tuple, np.ndarray]:
    """Check that ``layer.forward`` has run, and the gradient of its output.

    Args:
        layer: the RNN, LSTM or GRU.
        dout: as given to ``backward``: ``(T, B, H)`` (``(B, T, H)`` for a
            ``batch_first`` layer) or ``None`` for zeros (:func:`check_dout`).

    Returns:
        ``(cache, dout)``: what the last forward kept, whose first entry is
        its time-major input, and ``dout`` time-major, ``(T, B, H)``.

    Raises:
        RuntimeError: no forward pass has run (:func:`require_cache`).
    """
    require_cache(layer._cache, type(layer).__name__)
    T, B = layer._cache[0].shape[:2]
    dout = check_dout(
        dout,
        T,
        B,
        layer.hidden_size,
        layer.dtype,
        batch_first=layer.batch_first,
    )
    return layer._cache, dout


def weight_gradients(
    layer,
    x: np.ndarray,
    h_prev: np.ndarray,
    da: list[np.ndarray],
    da_hh: list[np.ndarray] | None = None,
) -> np.ndarray | None:
    """Fill ``layer.grads`` from the pre-activations' gradients; return ``dx``.

    The weights are shared by all steps, so their gradients are sums over t;
    with the steps stacked as rows, each sum is one large matrix product
    instead of T small ones.

    Args:
        layer: the RNN, LSTM or GRU.
        x: its time-major input, ``(T, B, D)``, or ``(T, B)`` ids.
        h_prev: ``(T, B, H)``, the states h_0..h_{T-1} the steps started from.
        da: the gradient of the loss with respect to the input parts
            ``x_t @ weight_ih.T + bias_ih`` of the pre-activations, as blocks
            of columns ``(T, B, M)`` whose widths M add up to G*H: one
            ``(T, B, G*H)`` array, or the GRU's three ``(T, B, H)`` blocks.
        da_hh: the same for the recurrent parts ``h_{t-1} @ weight_hh.T +
            bias_hh``; ``None`` when they equal ``da`` (the RNN and the LSTM
            add the two parts; the GRU's reset gate multiplies one of n's).

    Returns:
        ``dx``, ``(T, B, D)``, or ``(B, T, D)`` like ``x`` for a ``batch_first``
        layer; ``None`` for ids, which have no gradient. ``layer.grads`` is
        overwritten in place.
    """
    (T, B), D, H = x.shape[:2], layer.input_size, layer.hidden_size
    grads, weight_ih = layer.grads, layer.params["weight_ih"]
    from_ids = x.ndim == 2
    if from_ids:
        x_rows = one_hot_rows(x, D, layer.dtype)
    else:
        x_rows = x.reshape(T * B, D)
    h_rows = h_prev.reshape(T * B, H)
    dx = None
    start = 0
    for block, block_hh in zip(da, da if da_hh is None else da_hh):
        rows = slice(start, start + block.shape[-1])  # this block's rows
        start = rows.stop
        same = block_hh is block
        block = block.reshape(T * B, -1)
        np.matmul(block.T, x_rows, out=grads["weight_ih"][rows])
        block.sum(axis=0, out=grads["bias_ih"][rows])
        if same:  # the same gradient: the same sums
            block_hh = block
            grads["bias_hh"][rows] = grads["bias_ih"][rows]
        else:
            block_hh = block_hh.reshape(T * B, -1)
            block_hh.sum(axis=0, out=grads["bias_hh"][rows])
        np.matmul(block_hh.T, h_rows, out=grads["weight_hh"][rows])
        if not from_ids:  # dx is the sum of the blocks' shares
            share = block @ weight_ih[rows]
            dx = share if dx is None else dx + share
    if from_ids:
        return None
    dx = dx.reshape(T, B, D)
    return dx.swapaxes(0, 1) if layer.batch_first else dx


def start_lengths(layer, lengths: object, steps: int, batch_size: int) -> None:
    """Check ``lengths`` for ``layer.forward`` and keep it for ``backward``.

    ``None`` (every sequence has T steps) is kept as ``None``; otherwise
    :func:`tutor.padding.check_lengths` checks it.
    """
    if lengths is not None:
        lengths = padding.check_lengths(lengths, steps, batch_size)
    layer._lengths = lengths


def sequence_outputs(
    layer, states: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The output and the final state of ``layer.forward`` from its states.

    Args:
        layer: the RNN, LSTM or GRU, after :func:`start_lengths`.
        states: ``(T + 1, B, H)``, h_0 in row 0 and h_t in row t, read-only.

    Returns:
        ``(out, h_last)``: h_1..h_T, ``(T, B, H)`` (``(B, T, H)`` for a
        ``batch_first`` layer), and the final state, ``(B, H)``. With lengths,
        ``out`` is zero after each sequence's end and ``h_last`` is taken at
        each sequence's own last step.
    """
    lengths = layer._lengths
    if lengths is None:
        out, last = states[1:], states[-1]
    else:
        out = padding.zero_padding(states[1:], lengths)
        last = padding.at_ends(states, lengths)
        out.flags.writeable = last.flags.writeable = False
    return (out.swapaxes(0, 1) if layer.batch_first else out), last


def gradients_into_steps(
    layer, dout: np.ndarray, dlast: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the gradients of the outputs and of the final state enter the steps.

    Without lengths, ``dout[t]`` reaches h_{t+1} and ``dlast`` reaches h_T
    from beyond the last step. With lengths, the outputs after a sequence's
    end were constant zeros, so their gradient is dropped, and ``dlast``
    reaches the state at the sequence's last step, which is also that step's
    output: it is added to ``dout`` there.

    Args:
        layer: the layer, after ``forward``.
        dout: ``(T, B, H)``, time-major.
        dlast: ``(B, H)``, the gradient with respect to the final state.

    Returns:
        ``(dout, dh)``: the gradients reaching each step's output, and the one
        reaching h_T from beyond the last step (zeros with lengths).
    """
    lengths = layer._lengths
    if lengths is None:
        return dout, dlast
    into = padding.zero_padding(dout, lengths)
    into += padding.put_at_ends(dlast, dout.shape[0], lengths)
    return into, np.zeros_like(dlast)
