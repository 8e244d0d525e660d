"""The three recurrent cells by name, and a recurrent layer with a readout.

Every model and experiment that takes ``cell="lstm"`` (or ``"gru"``, or
``"rnn"`` for the simple RNN) checks the name with :func:`check_cell`, builds
its layer with :func:`make_layer` and counts parameters with
:func:`count_parameters`, so that the book's rule is written once.
:class:`RecurrentReadout` holds a recurrent layer and its dense readout as one
model, with one ``params`` dict and one ``grads`` dict for the optimiser.
"""

from __future__ import annotations

import numpy as np

from tutor._checks import check_int
from tutor.feedforward import named_gradients, named_parameters
from tutor.gru import GRU
from tutor.lstm import LSTM
from tutor.rnn import RNN

#: The cell names in the book's order (the simple RNN, the LSTM, the GRU).
CELLS = ("rnn", "lstm", "gru")

#: Cell names of earlier versions and the name to use now. Only
#: :func:`tutor.io.load_model` still reads them (in files saved before).
RENAMED_CELLS = {"srn": "rnn"}

#: The layer class of each cell name.
LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}

#: The number of ``H``-row blocks in each cell's weights: G in the book's rule.
BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}

#: The models' gate bias when none is given, the LSTM's forget bias 1 and the
#: GRU's update bias 0 (the layers' own default is 0 for both).
DEFAULT_GATE_BIAS = {"lstm": 1.0, "gru": 0.0}

#: The keyword of each gated layer for its "remember" bias at initialisation.
GATE_BIAS_KEYWORD = {"lstm": "forget_bias", "gru": "update_bias"}


class RecurrentReadout:
    """A recurrent layer and a dense readout, as one model for the optimiser.

    Its ``params`` and ``grads`` gather the two layers' arrays under one set of
    keys, ``"rnn.weight_ih"``, ..., ``"readout.bias"`` (the prefix is ``rnn``
    for every cell), as :func:`tutor.feedforward.named_parameters` writes
    them. The arrays are the layers' own, not copies: an optimiser built on
    ``model.params`` changes the layers. It is also the base of the models
    made of these two parts, :class:`tutor.charlm.CharLM` and
    :class:`tutor.forecast.Forecaster`.

    Args:
        layer: the recurrent layer (:class:`tutor.rnn.RNN`,
            :class:`tutor.lstm.LSTM` or :class:`tutor.gru.GRU`), ``D -> H``.
        readout: the :class:`tutor.feedforward.Dense` readout, ``H -> O``.

    Example:
        >>> from tutor.feedforward import Dense
        >>> model = RecurrentReadout(RNN(3, 4, rng=0), Dense(4, 2, rng=0))
        >>> list(model.params)  # doctest: +NORMALIZE_WHITESPACE
        ['rnn.weight_ih', 'rnn.weight_hh', 'rnn.bias_ih', 'rnn.bias_hh',
         'readout.weight', 'readout.bias']
    """

    layer: RNN | LSTM | GRU

    def __init__(self, layer: RNN | LSTM | GRU, readout: object) -> None:
        self.layer = layer
        self.readout = readout

    def __repr__(self) -> str:
        return f"RecurrentReadout({self.layer!r}, {self.readout!r})"

    @property
    def hidden_size(self) -> int:
        """H, the number of hidden units."""
        return self.layer.hidden_size

    @property
    def params(self) -> dict[str, np.ndarray]:
        """All parameters, ``{"rnn.weight_ih": (G*H, D), ..., "readout.bias": (O,)}``."""
        return named_parameters({"rnn": self.layer, "readout": self.readout})

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The gradients of the last backward pass, keyed as :attr:`params`."""
        return named_gradients({"rnn": self.layer, "readout": self.readout})


def check_cell(cell: object, allowed: tuple[str, ...] = CELLS) -> str:
    """Return ``cell`` if it is one of the names ``allowed``, else raise.

    The ``ValueError`` lists the allowed names, and for an old name (such as
    ``"srn"``) says which name to use now.
    """
    if isinstance(cell, str) and cell in allowed:
        return cell
    new = RENAMED_CELLS.get(cell) if isinstance(cell, str) else None
    hint = f" The cell {cell!r} is now called {new!r}." if new else ""
    raise ValueError(
        f"cell must be one of {', '.join(map(repr, allowed))}; "
        f"got {cell!r}.{hint}"
    )


def make_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    rng: int | np.random.Generator,
    gate_bias: float | None = None,
    dtype: type | np.dtype = np.float64,
) -> RNN | LSTM | GRU:
    """Build the recurrent layer ``D -> H`` that ``cell`` names.

    Args:
        cell: ``"rnn"`` (:class:`tutor.rnn.RNN`), ``"lstm"``
            (:class:`tutor.lstm.LSTM`) or ``"gru"`` (:class:`tutor.gru.GRU`).
        input_size: D.
        hidden_size: H.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        gate_bias: the gated cells' "remember" bias at initialisation, passed
            as the LSTM's ``forget_bias`` or the GRU's ``update_bias``;
            ``None`` keeps the layer's default. The simple RNN has no gate,
            so a value other than ``None`` is an error for it.
        dtype: ``np.float64`` or ``np.float32``.

    Returns:
        The layer, with PyTorch's initialisation.
    """
    cell = check_cell(cell)
    options = {"rng": rng, "dtype": dtype}
    if gate_bias is not None:
        if cell not in GATE_BIAS_KEYWORD:
            raise ValueError(
                f"gate_bias={gate_bias!r} means nothing for cell={cell!r}: "
                "the simple RNN has no gates. Leave it at None."
            )
        options[GATE_BIAS_KEYWORD[cell]] = gate_bias
    return LAYERS[cell](input_size, hidden_size, **options)


def count_parameters(
    cell: str, input_size: int, hidden_size: int, output_size: int = 0
) -> int:
    """The free parameters of a recurrent layer ``D -> H`` and a readout ``H -> O``.

    The layers store two bias vectors (PyTorch's convention). Where only their
    sum matters, the pair counts as one bias per unit, as in the papers: for
    the simple RNN, for the four blocks of the LSTM and for the GRU's gates r
    and z. The GRU's candidate keeps both, since the reset gate multiplies
    ``b_hn`` and not ``b_in``. So, with G blocks, the layer has
    ``G H (D + H + 1)`` parameters, plus ``H`` for the GRU; the readout has
    ``O (H + 1)`` (none when ``output_size`` is 0).
    """
    cell = check_cell(cell)
    D = check_int("input_size", input_size)
    H = check_int("hidden_size", hidden_size)
    n_out = check_int("output_size", output_size, minimum=0)
    layer = BLOCKS[cell] * H * (D + H + 1) + (H if cell == "gru" else 0)
    return layer + n_out * (H + 1)


def cell_name(layer: object) -> str:
    """The cell name of a recurrent layer: ``"rnn"``, ``"lstm"`` or ``"gru"``."""
    for name in CELLS:
        if isinstance(layer, LAYERS[name]):
            return name
    raise ValueError(
        f"layer must be a tutor RNN, LSTM or GRU; got {type(layer).__name__}."
    )


def count_network_parameters(*layers: object) -> int:
    """The free parameters of a network's layers, by the rule of :func:`count_parameters`.

    A recurrent layer is counted by that rule (each pair of biases whose sum
    alone matters counts once), a stacked or bidirectional one layer by layer;
    any other layer, such as a :class:`tutor.feedforward.Dense` readout, by the
    sizes of its ``params``.
    """
    total = 0
    for layer in layers:
        if getattr(layer, "stack", None) is not None:
            total += count_network_parameters(
                *(single for pair in layer.stack.layers for single in pair)
            )
        elif isinstance(layer, (RNN, LSTM, GRU)):
            total += count_parameters(
                cell_name(layer), layer.input_size, layer.hidden_size
            )
        else:
            total += sum(array.size for array in layer.params.values())
    return int(total)
