"""Save a trained model to a ``.npz`` file and load it back, without pickle.

A model file is an ordinary NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

- every parameter array, under its name in ``model.params`` (``"rnn.weight_ih"``, ...),
- and one more array, ``"__tutor_model__"``: a JSON text encoded as UTF-8 bytes
  (``uint8``), which says what the file is: the format marker ``"tutor-model"``, the
  format version, the class of the model, the arguments to rebuild it with (for a
  :class:`tutor.charlm.CharLM` also its vocabulary; for a
  :class:`tutor.forecast.Forecaster` its scaler), the names, shapes and dtypes of the
  arrays, and any ``metadata`` given when saving.

Why no pickle: ``pickle`` (which ``numpy.save`` uses for object arrays, and which
``torch.save`` uses throughout) can run any code while loading, so a model file from a
stranger could take over the reader's machine. :func:`load_model` reads with
``numpy.load(..., allow_pickle=False)``, parses the header as JSON and rebuilds the model
from a fixed list of classes, so loading a file never runs code from it. Anything that
is not a model file written by :func:`save_model` (another ``.npz``, a file with a
missing or different marker, a newer format version, a truncated or corrupted file, a
file that is not an archive at all, an archive holding pickled objects) is refused with
a ``ValueError`` that says why.

The models that can be saved: :class:`tutor.charlm.CharLM`,
:class:`tutor.forecast.Forecaster` and the bare layers :class:`tutor.rnn.RNN`,
:class:`tutor.lstm.LSTM`, :class:`tutor.gru.GRU` and :class:`tutor.feedforward.Dense`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tutor.charlm import CharLM
from tutor.data.text import Vocabulary
from tutor.feedforward import Dense
from tutor.forecast import Forecaster, Standardiser
from tutor.gru import GRU
from tutor.lstm import LSTM
from tutor.rnn import RNN

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "save_model",
    "load_model",
    "read_header",
]

#: The marker every model file carries in its header.
FORMAT = "tutor-model"
#: The version of the file layout this module writes (and the newest it reads).
FORMAT_VERSION = 1
#: The name of the header array inside the archive.
HEADER_KEY = "__tutor_model__"


def _dtype_name(model: object) -> str:
    return np.dtype(model.dtype).name


# Each class: (its arguments as a JSON-friendly dict, a function rebuilding it from them).
# The rebuilt model gets random weights from rng=0, which load_model then overwrites.


def _charlm_args(model: CharLM) -> dict:
    return {
        "vocab_size": model.vocab_size,
        "hidden_size": model.hidden_size,
        "cell": model.cell,
        "dtype": _dtype_name(model),
        "forget_bias": model.forget_bias,
        "vocab": None if model.vocab is None else model.vocab.chars,
    }


def _charlm_build(args: dict) -> CharLM:
    vocab = None if args["vocab"] is None else Vocabulary(args["vocab"])
    return CharLM(
        args["vocab_size"],
        args["hidden_size"],
        args["cell"],
        rng=0,
        dtype=args["dtype"],
        forget_bias=args["forget_bias"],
        vocab=vocab,
    )


def _forecaster_args(model: Forecaster) -> dict:
    scaler = (
        None if model.scaler is None else [model.scaler.mean, model.scaler.std]
    )
    return {
        "hidden_size": model.hidden_size,
        "cell": model.cell,
        "horizon": model.horizon,
        "dtype": _dtype_name(model),
        "forget_bias": model.forget_bias,
        "scaler": scaler,
    }


def _forecaster_build(args: dict) -> Forecaster:
    model = Forecaster(
        args["hidden_size"],
        args["cell"],
        args["horizon"],
        rng=0,
        dtype=args["dtype"],
        forget_bias=args["forget_bias"],
    )
    if args["scaler"] is not None:
        mean, std = args["scaler"]
        model.scaler = Standardiser(float(mean), float(std))
    return model


_CLASSES: dict[
    str, tuple[type, Callable[[object], dict], Callable[[dict], object]]
] = {
    "CharLM": (CharLM, _charlm_args, _charlm_build),
    "Forecaster": (Forecaster, _forecaster_args, _forecaster_build),
    "RNN": (
        RNN,
        lambda m: {
            "input_size": m.input_size,
            "hidden_size": m.hidden_size,
            "nonlinearity": m.nonlinearity,
            "dtype": _dtype_name(m),
        },
        lambda a: RNN(
            a["input_size"],
            a["hidden_size"],
            a["nonlinearity"],
            rng=0,
            dtype=a["dtype"],
        ),
    ),
    "LSTM": (
        LSTM,
        lambda m: {
            "input_size": m.input_size,
            "hidden_size": m.hidden_size,
            "dtype": _dtype_name(m),
            "forget_bias": m.forget_bias,
            "forget_gate": m.forget_gate,
        },
        lambda a: LSTM(
            a["input_size"],
            a["hidden_size"],
            rng=0,
            dtype=a["dtype"],
            forget_bias=a["forget_bias"],
            forget_gate=a["forget_gate"],
        ),
    ),
    "GRU": (
        GRU,
        lambda m: {
            "input_size": m.input_size,
            "hidden_size": m.hidden_size,
            "dtype": _dtype_name(m),
            "update_bias": m.update_bias,
        },
        lambda a: GRU(
            a["input_size"],
            a["hidden_size"],
            rng=0,
            dtype=a["dtype"],
            update_bias=a["update_bias"],
        ),
    ),
    "Dense": (
        Dense,
        lambda m: {
            "in_features": m.in_features,
            "out_features": m.out_features,
            "dtype": _dtype_name(m),
        },
        lambda a: Dense(
            a["in_features"], a["out_features"], rng=0, dtype=a["dtype"]
        ),
    ),
}


def save_model(path: object, model: object, metadata: dict | None = None):
    """Write a model's parameters and the arguments to rebuild it to one ``.npz`` file.

    Args:
        path: the file to write, a ``str`` or ``pathlib.Path`` (overwritten if it
            exists). The name is used as given: no ``.npz`` is appended.
        model: a :class:`tutor.charlm.CharLM`, :class:`tutor.forecast.Forecaster`,
            :class:`tutor.rnn.RNN`, :class:`tutor.lstm.LSTM`, :class:`tutor.gru.GRU` or
            :class:`tutor.feedforward.Dense`.
        metadata: anything JSON can hold (numbers, strings, lists, dicts), stored in the
            header, for example how the model was trained; read it with :func:`read_header`.

    Returns:
        The path written, as a ``pathlib.Path``.

    Raises:
        ValueError: the model is of another class, or ``metadata`` cannot be written as JSON.
    """
    name = _class_name(model)
    _, get_args, _ = _CLASSES[name]
    params = model.params
    if HEADER_KEY in params:
        raise ValueError(f"a parameter may not be called {HEADER_KEY!r}.")
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "class": name,
        "args": get_args(model),
        "arrays": {
            key: [list(a.shape), a.dtype.name] for key, a in params.items()
        },
        "metadata": metadata,
    }
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"metadata must hold only what JSON can hold: {error}"
        ) from None
    arrays = {key: np.ascontiguousarray(a) for key, a in params.items()}
    arrays[HEADER_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    return path


def _class_name(model: object) -> str:
    """The registry name of ``model``'s class, or a ``ValueError``."""
    for name, (cls, _, _) in _CLASSES.items():
        if type(model) is cls:
            return name
    raise ValueError(
        f"save_model can save a {', '.join(_CLASSES)}; got a {type(model).__name__}."
    )


def read_header(path: object) -> dict:
    """Read and check the header of a model file, without building the model.

    Args:
        path: a file written by :func:`save_model` (``str`` or ``pathlib.Path``).

    Returns:
        The header, a dict with the keys ``"format"``, ``"version"``, ``"class"``,
        ``"args"``, ``"arrays"`` and ``"metadata"``.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: the file is not a model file written by :func:`save_model`.
    """
    header, _ = _read(path, arrays=False)
    return header


def load_model(path: object) -> object:
    """Rebuild a model saved by :func:`save_model`; no code from the file is ever run.

    Args:
        path: the ``.npz`` file (``str`` or ``pathlib.Path``).

    Returns:
        The model, of the class it was saved from, with the saved parameters (and, for a
        :class:`tutor.charlm.CharLM`, its vocabulary; for a :class:`tutor.forecast.Forecaster`,
        its scaler).

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: the file is not a model file written by :func:`save_model` (the
            message says what is wrong with it).
    """
    header, arrays = _read(path, arrays=True)
    _, _, build = _CLASSES[header["class"]]
    try:
        model = build(header["args"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is not a valid tutor model file: the arguments stored for the "
            f"{header['class']} do not build one ({error})."
        ) from None
    params = model.params
    if set(params) != set(arrays):
        raise ValueError(
            f"{path} is not a valid tutor model file: a {header['class']} with these "
            f"arguments has the parameters {sorted(params)}, the file holds {sorted(arrays)}."
        )
    for key, target in params.items():
        array = arrays[key]
        if array.shape != target.shape or array.dtype != target.dtype:
            raise ValueError(
                f"{path} is not a valid tutor model file: {key!r} must have shape "
                f"{target.shape} and dtype {target.dtype}; the file has {array.shape} and "
                f"{array.dtype}."
            )
        target[...] = array
    return model


def _read(path: object, arrays: bool) -> tuple[dict, dict[str, np.ndarray]]:
    """Open a model file and return its checked header and (if asked) its arrays."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a model file.")
    bad = f"{path} is not a tutor model file"
    with open(path, "rb") as file:
        start = file.read(6)
    if start.startswith(b"\x93NUMPY"):
        raise ValueError(
            f"{bad}: it holds a single NumPy array (.npy), not an .npz archive."
        )
    if not start.startswith(b"PK"):
        raise ValueError(
            f"{bad}: it is not a NumPy .npz archive (which is a zip file)."
        )
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise _NotAModel(f"{bad}: it is not a NumPy .npz archive.")
        with loaded as archive:
            names = set(archive.files)
            if HEADER_KEY not in names:
                raise _NotAModel(
                    f"{bad}: it is a NumPy .npz archive but has no {HEADER_KEY!r} header, "
                    f"so it was not written by tutor.io.save_model."
                )
            header = _parse_header(archive[HEADER_KEY], path)
            stored = (
                {name: archive[name] for name in names - {HEADER_KEY}}
                if arrays
                else {}
            )
    except _NotAModel as error:
        raise ValueError(str(error)) from None
    except (
        Exception
    ) as error:  # any other failure to read means a damaged or foreign file
        reason = str(error) or type(error).__name__
        if "pickle" in reason.lower():
            reason = f"it holds pickled Python objects, which are never loaded ({reason})"
        raise ValueError(
            f"{bad} (or it is damaged or truncated): {reason}"
        ) from None
    if arrays and set(header["arrays"]) != set(stored):
        raise ValueError(
            f"{bad}: its header lists the arrays {sorted(header['arrays'])} but it holds "
            f"{sorted(stored)}."
        )
    return header, stored


class _NotAModel(Exception):
    """Raised inside :func:`_read` for a readable file that is not a model file."""


def _parse_header(raw: np.ndarray, path: Path) -> dict:
    """Decode and check the JSON header array; raise ``_NotAModel`` when it is wrong."""
    bad = f"{path} is not a tutor model file"
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _NotAModel(
            f"{bad}: its header is not a 1-D uint8 array of UTF-8 text."
        )
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _NotAModel(
            f"{bad}: its header is not valid JSON ({error})."
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _NotAModel(
            f"{bad}: its header does not carry the marker {FORMAT!r}."
        )
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _NotAModel(
            f"{bad}: its header has no valid format version ({version!r})."
        )
    if version > FORMAT_VERSION:
        raise _NotAModel(
            f"{path} was written in format version {version}, newer than this tutor reads "
            f"({FORMAT_VERSION}); upgrade tutor to load it."
        )
    if header.get("class") not in _CLASSES:
        raise _NotAModel(
            f"{bad}: it holds a {header.get('class')!r}, which is not a class tutor can "
            f"load ({', '.join(_CLASSES)})."
        )
    for key in ("args", "arrays"):
        if not isinstance(header.get(key), dict):
            raise _NotAModel(f"{bad}: its header has no {key!r} dict.")
    return header
