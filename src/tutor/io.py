"""Save a trained model to a ``.npz`` file and load it back, without pickle.

A model file is an ordinary NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

- every parameter array, under its name in ``model.params`` (``"rnn.weight_ih"``, ...),
- and one more array, ``"__tutor_model__"``: a JSON text encoded as UTF-8 bytes
  (``uint8``), which says what the file is: the format marker ``"tutor-model"``, the
  format version, the class of the model, the arguments of its constructor (for a
  :class:`tutor.charlm.CharLM` its vocabulary among them; for a
  :class:`tutor.forecast.Forecaster` also its scaler), the names, shapes and dtypes of
  the arrays, and any ``metadata`` given when saving.

Why no pickle: ``pickle`` (which ``numpy.save`` uses for object arrays, and which
``torch.save`` uses throughout) can run any code while loading, so a model file from a
stranger could take over the reader's machine. :func:`load_model` reads the arrays with
``allow_pickle=False``, parses the header as JSON and rebuilds the model from a fixed
list of classes, so loading a file never runs code from it. It checks the whole file
before it builds anything: the header, and every array's name, shape and dtype against
what the header's arguments imply, so a header that promises a huge model is refused
before a byte of it is allocated. Anything that is not a model file written by
:func:`save_model` (another ``.npz``, a file with a missing or different marker, a newer
format version, arrays that do not fit the arguments, a truncated or corrupted file, a
file that is not an archive at all, an archive holding pickled objects) is refused with
a ``ValueError`` that says what is wrong.

:func:`save_model` writes to a temporary file beside the target and renames it over the
target only when the file is complete, so a crash while saving never leaves a truncated
file where a good one stood.

The models that can be saved: :class:`tutor.charlm.CharLM`,
:class:`tutor.forecast.Forecaster` and the bare layers :class:`tutor.rnn.RNN`,
:class:`tutor.lstm.LSTM`, :class:`tutor.gru.GRU` and :class:`tutor.feedforward.Dense`.
The arguments stored for each are the parameters of its constructor (all but ``rng``),
read back from the model's attributes of the same names.

Files saved under names that have changed since still load:
:data:`RENAMED_ARGUMENTS` and :data:`RENAMED_VALUES` map a header's old names to
today's (for example the simple RNN's old cell name ``"srn"`` to ``"rnn"``, and
the models' old ``forget_bias`` to ``gate_bias``) before the header is checked.
:func:`read_header` returns the header as the file holds it.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import secrets
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tutor import _cells
from tutor._checks import check_int
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
    "RENAMED_ARGUMENTS",
    "RENAMED_VALUES",
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

#: Constructor arguments renamed since files were first saved, by class:
#: ``{class: {old argument: new argument}}``. :func:`load_model` reads a
#: header's arguments under the old names as the new ones.
RENAMED_ARGUMENTS = {
    "CharLM": {"forget_bias": "gate_bias"},
    "Forecaster": {"forget_bias": "gate_bias"},
}

#: Argument values renamed since files were first saved:
#: ``{argument: {old value: new value}}``, for every class.
RENAMED_VALUES = {"cell": _cells.RENAMED_CELLS}

Shapes = dict[str, tuple[int, ...]]

# ------------------------------------------------------------------ the classes


def _size(args: dict, name: str) -> int:
    """``args[name]`` if it is a positive integer, else a ``ValueError``."""
    return check_int(name, args[name])


def _gates(cell: object) -> int:
    """G, the number of ``H``-row blocks in the weights of ``cell``."""
    return _cells.BLOCKS[_cells.check_cell(cell)]


def _recurrent_shapes(gates: int, D: int, H: int, prefix: str = "") -> Shapes:
    """The parameter shapes of a recurrent layer with G gates, D -> H."""
    return {
        f"{prefix}weight_ih": (gates * H, D),
        f"{prefix}weight_hh": (gates * H, H),
        f"{prefix}bias_ih": (gates * H,),
        f"{prefix}bias_hh": (gates * H,),
    }


def _dense_shapes(D: int, K: int, prefix: str = "") -> Shapes:
    """The parameter shapes of a dense layer, D -> K."""
    return {f"{prefix}weight": (K, D), f"{prefix}bias": (K,)}


def _charlm_shapes(a: dict) -> Shapes:
    K, H = _size(a, "vocab_size"), _size(a, "hidden_size")
    return {
        **_recurrent_shapes(_gates(a["cell"]), K, H, "rnn."),
        **_dense_shapes(H, K, "readout."),
    }


def _forecaster_shapes(a: dict) -> Shapes:
    H = _size(a, "hidden_size")
    return {
        **_recurrent_shapes(_gates(a["cell"]), 1, H, "rnn."),
        **_dense_shapes(H, _size(a, "horizon"), "readout."),
    }


def _layer_shapes(gates: int) -> Callable[[dict], Shapes]:
    def shapes(a: dict) -> Shapes:
        D, H = _size(a, "input_size"), _size(a, "hidden_size")
        return _recurrent_shapes(gates, D, H)

    return shapes


def _get_scaler(model: Forecaster) -> list[float] | None:
    scaler = model.scaler
    return None if scaler is None else [scaler.mean, scaler.std]


def _set_scaler(model: Forecaster, value: object) -> None:
    if value is None:
        model.scaler = None
        return
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in value
        )
        or not all(math.isfinite(v) for v in value)
        or value[1] <= 0
    ):
        raise ValueError(
            f"scaler must be null or [mean, std] with std > 0; got {value!r}."
        )
    model.scaler = Standardiser(float(value[0]), float(value[1]))


class _Kind(NamedTuple):
    """What io knows of a class beyond its constructor's signature."""

    cls: type
    # The arguments -> {name: shape} of the parameters, computed without building the
    # model (load_model checks the file against it before it allocates anything).
    shapes: Callable[[dict], Shapes]
    # State that the constructor does not set: {name: (get, set)}.
    state: dict = {}


_KINDS = {
    "CharLM": _Kind(CharLM, _charlm_shapes),
    "Forecaster": _Kind(
        Forecaster, _forecaster_shapes, {"scaler": (_get_scaler, _set_scaler)}
    ),
    "RNN": _Kind(RNN, _layer_shapes(_cells.BLOCKS["rnn"])),
    "LSTM": _Kind(LSTM, _layer_shapes(_cells.BLOCKS["lstm"])),
    "GRU": _Kind(GRU, _layer_shapes(_cells.BLOCKS["gru"])),
    "Dense": _Kind(
        Dense,
        lambda a: _dense_shapes(
            _size(a, "in_features"), _size(a, "out_features")
        ),
    ),
}


def _parameters(cls: type) -> list[inspect.Parameter]:
    """The constructor's parameters that a file stores: all but ``rng``."""
    return [
        p
        for p in inspect.signature(cls).parameters.values()
        if p.name != "rng" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


# How argument values that JSON cannot hold are written, and read back.
def _decode_dtype(value: object) -> np.dtype:
    if isinstance(value, str) and value in ("float32", "float64"):
        return np.dtype(value)
    raise ValueError(f"dtype must be 'float32' or 'float64'; got {value!r}.")


_ENCODE = {
    "dtype": lambda v: np.dtype(v).name,
    "vocab": lambda v: None if v is None else v.chars,
}
_DECODE = {
    "dtype": _decode_dtype,
    "vocab": lambda v: None if v is None else Vocabulary(v),
}


def _class_name(model: object) -> str:
    """The registry name of ``model``'s class, or a ``ValueError``."""
    for name, kind in _KINDS.items():
        if type(model) is kind.cls:
            return name
    raise ValueError(
        f"save_model can save a {', '.join(_KINDS)}; got a {type(model).__name__}."
    )


def _arguments_of(model: object, kind: _Kind) -> dict:
    """The constructor arguments (and extra state) of ``model``, JSON-ready."""
    args = {}
    for p in _parameters(kind.cls):
        if not hasattr(
            model, p.name
        ):  # a bug in the model class, not the caller's
            raise TypeError(
                f"cannot save a {kind.cls.__name__}: it keeps no attribute "
                f"{p.name!r} for its constructor argument of that name."
            )
        value = getattr(model, p.name)
        args[p.name] = _ENCODE.get(p.name, lambda v: v)(value)
    for name, (get, _) in kind.state.items():
        args[name] = get(model)
    return args


# ----------------------------------------------------------------------- saving


def save_model(path: object, model: object, metadata: dict | None = None):
    """Write a model's parameters and the arguments to rebuild it to one ``.npz`` file.

    The file is written under a temporary name in the same folder and renamed to
    ``path`` once complete: if saving fails (a full disk, an interrupt), a file that
    was at ``path`` stays as it was, and no temporary file is left behind.

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
    kind = _KINDS[name]
    params = model.params
    if HEADER_KEY in params:
        raise ValueError(f"a parameter may not be called {HEADER_KEY!r}.")
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "class": name,
        "args": _arguments_of(model, kind),
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
    _write_atomically(path, lambda file: np.savez(file, **arrays))
    return path


def _write_atomically(path: Path, write: Callable[[object], None]) -> None:
    """Call ``write(file)`` on a new file beside ``path``, then rename it to ``path``."""
    target = os.path.realpath(path)  # through a symbolic link, as open() would
    folder, base = os.path.split(target)
    temporary = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 gives the permissions a plain open() would (the umask
    # applies); O_EXCL never reuses an existing file.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise


# ---------------------------------------------------------------------- loading


def read_header(path: object) -> dict:
    """Read and check the header of a model file, without building the model.

    Besides the header, it checks that the file holds the arrays the header lists, of
    the listed shapes and dtypes (reading only their ``.npy`` headers, not their data).

    Args:
        path: a file written by :func:`save_model` (``str`` or ``pathlib.Path``).

    Returns:
        The header, a dict with the keys ``"format"``, ``"version"``, ``"class"``,
        ``"args"``, ``"arrays"`` and ``"metadata"``.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: the file is not a model file written by :func:`save_model`.
    """
    with _Archive(path) as archive:
        return archive.header


def load_model(path: object) -> object:
    """Rebuild a model saved by :func:`save_model`; no code from the file is ever run.

    The file is checked before the model is built: its header, and the presence,
    shape and dtype of every array against what the header's arguments imply.

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
    with _Archive(path) as archive:
        name = archive.header["class"]
        kind = _KINDS[name]
        bad = f"{archive.path} is not a valid tutor model file"
        stored = _renamed(archive.header["args"], name, bad)
        args, state = _arguments_from(stored, kind, bad)
        try:
            shapes = kind.shapes(args)
        except ValueError as error:
            raise ValueError(f"{bad}: {error}") from None
        _check_layouts(archive.layouts, shapes, args["dtype"], name, bad)
        try:
            model = kind.cls(**args, rng=0)  # random weights, overwritten below
            for key, set_state in state.items():
                set_state(model, stored[key])
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{bad}: the arguments stored for the {name} do not build one "
                f"({error})."
            ) from None
        params = model.params
        # Cannot fail unless _KINDS disagrees with the class: a safety net.
        _check_layouts(
            archive.layouts,
            {key: p.shape for key, p in params.items()},
            args["dtype"],
            name,
            bad,
        )
        for key, target in params.items():
            target[...] = archive.read(key)
    return model


def _renamed(stored: dict, name: str, bad: str) -> dict:
    """The arguments of a header under today's names (:data:`RENAMED_ARGUMENTS`,
    :data:`RENAMED_VALUES`)."""
    args = {}
    renames = RENAMED_ARGUMENTS.get(name, {})
    for key, value in stored.items():
        new = renames.get(key, key)
        if new in args or (new != key and new in stored):
            raise ValueError(
                f"{bad}: its header gives the argument {new!r} twice, under "
                f"the old name {key!r} and under {new!r}."
            )
        values = RENAMED_VALUES.get(new, {})
        if isinstance(value, str) and value in values:
            value = values[value]
        args[new] = value
    return args


def _arguments_from(stored: dict, kind: _Kind, bad: str) -> tuple[dict, dict]:
    """The constructor arguments in a header, checked and decoded; and the state setters."""
    parameters = {p.name: p for p in _parameters(kind.cls)}
    known = set(parameters) | set(kind.state)
    unknown = sorted(set(stored) - known)
    if unknown:
        raise ValueError(
            f"{bad}: its header gives the arguments {unknown}, which a "
            f"{kind.cls.__name__} does not take (it takes {sorted(known)})."
        )
    args = {}
    for name, p in parameters.items():
        if name in stored:
            value = stored[name]
            try:
                args[name] = _DECODE.get(name, lambda v: v)(value)
            except ValueError as error:
                raise ValueError(f"{bad}: {error}") from None
        elif p.default is not p.empty:
            # An argument the class gained after the file was saved.
            args[name] = p.default
        else:
            raise ValueError(
                f"{bad}: its header does not give the argument {name!r} of the "
                f"{kind.cls.__name__}."
            )
    args["dtype"] = np.dtype(args["dtype"])
    state = {n: set_ for n, (_, set_) in kind.state.items() if n in stored}
    return args, state


def _check_layouts(
    layouts: dict, shapes: Shapes, dtype: np.dtype, name: str, bad: str
) -> None:
    """Check the arrays' names, shapes and dtypes (``layouts``) against ``shapes``."""
    missing = sorted(set(shapes) - set(layouts))
    extra = sorted(set(layouts) - set(shapes))
    if missing or extra:
        raise ValueError(
            f"{bad}: a {name} with these arguments has the parameters "
            f"{sorted(shapes)}; the file lacks {missing} and has the extra arrays "
            f"{extra}."
        )
    for key, shape in shapes.items():
        have_shape, have_dtype = layouts[key]
        if have_shape != tuple(shape) or have_dtype != dtype:
            raise ValueError(
                f"{bad}: with the arguments in its header, {key!r} must have shape "
                f"{tuple(shape)} and dtype {dtype.name}; the file has {have_shape} and "
                f"{have_dtype.name}."
            )


class _NotAModel(Exception):
    """Raised inside :class:`_Archive` for a readable file that is not a model file."""


class _Archive:
    """An open model file: its checked header, the layout of its arrays, and a reader.

    Opening reads only the zip's directory, the header and each array's ``.npy``
    header (its shape and dtype), never the arrays' data; :meth:`read` reads one array.
    Every failure is a ``ValueError`` (or ``FileNotFoundError``) that says what is wrong.
    """

    def __init__(self, path: object) -> None:
        self.path = path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        if path.is_dir():
            raise ValueError(f"{path} is a directory, not a model file.")
        self._bad = bad = f"{path} is not a tutor model file"
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
        self._zip = None
        try:
            with _failures(bad):
                self._zip = zipfile.ZipFile(path)
                self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        bad = self._bad
        members = self._zip.namelist()
        # np.savez stores the array "name" as the member "name.npy".
        self._members = {
            m[:-4] if m.endswith(".npy") else m: m for m in members
        }
        if len(self._members) != len(members):
            raise _NotAModel(f"{bad}: it holds two arrays of the same name.")
        if HEADER_KEY not in self._members:
            raise _NotAModel(
                f"{bad}: it is a NumPy .npz archive but has no {HEADER_KEY!r} header, "
                f"so it was not written by tutor.io.save_model."
            )
        layouts = {key: self._layout(key) for key in self._members}
        shape, dtype = layouts.pop(HEADER_KEY)
        if dtype != np.uint8 or len(shape) != 1:
            raise _NotAModel(
                f"{bad}: its header is not a 1-D uint8 array of UTF-8 text."
            )
        self.layouts = layouts
        self.header = _parse_header(self._read(HEADER_KEY), bad, self.path)
        listed = self.header["arrays"]
        if set(listed) != set(layouts):
            raise _NotAModel(
                f"{bad}: its header lists the arrays {sorted(listed)} but it holds "
                f"{sorted(layouts)}."
            )
        for key, (shape, dtype) in layouts.items():
            if listed[key] != [list(shape), dtype.name]:
                raise _NotAModel(
                    f"{bad}: its header lists {key!r} as {listed[key]!r}, but the "
                    f"array has shape {shape} and dtype {dtype.name}."
                )

    def _layout(self, key: str) -> tuple[tuple[int, ...], np.dtype]:
        """The shape and dtype of one array, from its ``.npy`` header alone."""
        with self._zip.open(self._members[key]) as file:
            version = np.lib.format.read_magic(file)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(file)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(file)
            else:
                raise _NotAModel(
                    f"{self._bad}: its array {key!r} is in .npy format version "
                    f"{version}, which save_model does not write."
                )
        if dtype.hasobject:
            raise _NotAModel(
                f"{self._bad}: its array {key!r} holds pickled Python objects, "
                f"which are never loaded."
            )
        return tuple(shape), dtype.newbyteorder("=")

    def read(self, key: str) -> np.ndarray:
        """The data of the array ``key``."""
        with _failures(self._bad):
            return self._read(key)

    def _read(self, key: str) -> np.ndarray:
        with self._zip.open(self._members[key]) as file:
            return np.lib.format.read_array(file, allow_pickle=False)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@contextmanager
def _failures(bad: str):
    """Turn any failure to read the archive into a ``ValueError`` that says why."""
    try:
        yield
    except _NotAModel as error:
        raise ValueError(str(error)) from None
    except (
        Exception
    ) as error:  # any other failure means a damaged or foreign file
        reason = str(error) or type(error).__name__
        if "pickle" in reason.lower():
            reason = f"it holds pickled Python objects, which are never loaded ({reason})"
        raise ValueError(
            f"{bad} (or it is damaged or truncated): {reason}"
        ) from None


def _parse_header(raw: np.ndarray, bad: str, path: Path) -> dict:
    """Decode and check the JSON header array; raise ``_NotAModel`` when it is wrong."""
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
    name = header.get("class")
    if not isinstance(name, str) or name not in _KINDS:
        raise _NotAModel(
            f"{bad}: it holds a {name!r}, which is not a class tutor can "
            f"load ({', '.join(_KINDS)})."
        )
    for key in ("args", "arrays"):
        if not isinstance(header.get(key), dict):
            raise _NotAModel(f"{bad}: its header has no {key!r} dict.")
    return header
