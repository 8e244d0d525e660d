"""Tests of tutor.io: saving and loading models without pickle, and refusing other files."""

import functools
import inspect
import io
import json
import pathlib
import re
import zipfile

import numpy as np
import pytest

from tutor.charlm import CharLM
from tutor.data.text import Vocabulary
from tutor.feedforward import MLP, Dense
from tutor.forecast import Forecaster, Standardiser
from tutor.gru import GRU
from tutor.io import (
    FORMAT,
    FORMAT_VERSION,
    HEADER_KEY,
    RENAMED_ARGUMENTS,
    RENAMED_VALUES,
    load_model,
    read_header,
    save_model,
)
from tutor.lstm import LSTM
from tutor.rnn import RNN


def assert_same_params(a, b):
    assert set(a.params) == set(b.params)
    for name in a.params:
        assert a.params[name].dtype == b.params[name].dtype
        np.testing.assert_array_equal(a.params[name], b.params[name])


def scramble(model, seed=0):
    """Give every parameter new random values, so that a round trip cannot pass by luck."""
    rng = np.random.default_rng(seed)
    for p in model.params.values():
        p[...] = rng.normal(size=p.shape)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_char_lm_round_trip(tmp_path, cell, dtype):
    vocab = Vocabulary.from_text("Grüße, 世界! 🙂\n")
    bias = {"lstm": 2.0, "gru": 1.5, "rnn": None}[cell]
    model = CharLM(len(vocab), 6, cell, rng=3, dtype=dtype, gate_bias=bias, vocab=vocab)
    scramble(model)
    path = save_model(tmp_path / "model.npz", model)
    loaded = load_model(path)
    assert isinstance(loaded, CharLM)
    assert (loaded.cell, loaded.hidden_size, loaded.vocab_size) == (cell, 6, len(vocab))
    assert loaded.dtype == np.dtype(dtype) and loaded.gate_bias == model.gate_bias
    assert loaded.vocab == vocab
    assert_same_params(model, loaded)
    ids = vocab.encode("Grüße 🙂")[:, None]
    np.testing.assert_array_equal(model.forward(ids)[0], loaded.forward(ids)[0])
    assert model.sample(30, rng=5, prime="G") == loaded.sample(30, rng=5, prime="G")


def test_char_lm_without_vocabulary_round_trip(tmp_path):
    model = CharLM(7, 4, "gru", rng=0)
    loaded = load_model(save_model(tmp_path / "m.npz", model))
    assert loaded.vocab is None
    assert_same_params(model, loaded)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_forecaster_round_trip_keeps_the_scaler(tmp_path, cell):
    model = Forecaster(5, cell, horizon=3, rng=0, dtype=np.float32)
    scramble(model)
    model.scaler = Standardiser(342.123456789, 7.25)
    loaded = load_model(save_model(tmp_path / "f.npz", model))
    assert isinstance(loaded, Forecaster) and loaded.horizon == 3 and loaded.cell == cell
    assert loaded.scaler == model.scaler  # exact: JSON keeps every digit of a float
    assert_same_params(model, loaded)
    history = np.linspace(320, 340, 30)
    np.testing.assert_array_equal(model.forecast(history, 7), loaded.forecast(history, 7))


def test_untrained_forecaster_round_trip(tmp_path):
    loaded = load_model(save_model(tmp_path / "f.npz", Forecaster(3, rng=0)))
    assert loaded.scaler is None


LAYERS = {
    "rnn-sigmoid": lambda: RNN(3, 4, "sigmoid", rng=0),
    "rnn-float32": lambda: RNN(3, 4, rng=0, dtype=np.float32),
    "lstm-forget-bias": lambda: LSTM(3, 4, rng=0, forget_bias=1.0),
    "lstm-1997": lambda: LSTM(3, 4, rng=0, forget_gate=False),
    "gru-float32": lambda: GRU(3, 4, rng=0, update_bias=2.0, dtype=np.float32),
    "dense": lambda: Dense(3, 2, rng=0),
}


@pytest.mark.parametrize("name", LAYERS)
def test_bare_layer_round_trip(tmp_path, name):
    layer = LAYERS[name]()
    if name != "lstm-1997":  # keep the pinned forget gate's zero rows
        scramble(layer)
    loaded = load_model(save_model(tmp_path / "layer.npz", layer))
    assert type(loaded) is type(layer)
    if not isinstance(layer, Dense):
        assert repr(loaded) == repr(layer)  # sizes, nonlinearity, biases, dtype
    assert_same_params(layer, loaded)
    dtype = next(iter(layer.params.values())).dtype
    x = np.random.default_rng(0).normal(size=(5, 2, 3)).astype(dtype)
    out, loaded_out = layer.forward(x), loaded.forward(x)
    if isinstance(out, tuple):
        out, loaded_out = out[0], loaded_out[0]
    np.testing.assert_array_equal(out, loaded_out)


def test_file_is_written_where_asked_and_holds_a_json_header(tmp_path):
    path = save_model(tmp_path / "model.weights", RNN(2, 3, rng=0), metadata={"epochs": 3})
    assert path == tmp_path / "model.weights" and path.is_file()  # no .npz appended
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        raw = archive[HEADER_KEY]
        assert raw.dtype == np.uint8
        header = json.loads(raw.tobytes().decode("utf-8"))
    assert header["format"] == FORMAT and header["version"] == FORMAT_VERSION
    assert header["class"] == "RNN" and header["metadata"] == {"epochs": 3}
    assert read_header(path) == header
    assert header["arrays"]["weight_hh"] == [[3, 3], "float64"]


def test_only_known_models_and_json_metadata_can_be_saved(tmp_path):
    with pytest.raises(ValueError, match="MLP"):
        save_model(tmp_path / "m.npz", MLP([2, 3, 1], rng=0))
    with pytest.raises(ValueError, match="JSON"):
        save_model(tmp_path / "m.npz", RNN(2, 3, rng=0), metadata={"f": np.float32})
    with pytest.raises(ValueError, match="JSON"):
        save_model(tmp_path / "m.npz", RNN(2, 3, rng=0), metadata={"x": float("nan")})


# Files that are not tutor models -----------------------------------------------------------


def write_with_header(path, header, arrays):
    text = json.dumps(header).encode("utf-8")
    np.savez(path, **arrays, **{HEADER_KEY: np.frombuffer(text, dtype=np.uint8)})
    return path


def saved_header_and_arrays(tmp_path):
    path = save_model(tmp_path / "good.npz", RNN(2, 3, rng=0))
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if k != HEADER_KEY}
    return read_header(path), arrays


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(tmp_path / "nothing.npz")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        load_model(tmp_path)


def test_npz_from_elsewhere_is_refused(tmp_path):
    np.savez(tmp_path / "data.npz", x=np.arange(5), y=np.ones(3))
    with pytest.raises(ValueError, match="not a tutor model file.*no '__tutor_model__' header"):
        load_model(tmp_path / "data.npz")


def test_single_npy_array_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(5))
    with pytest.raises(ValueError, match=r"single NumPy array \(\.npy\)"):
        load_model(tmp_path / "x.npy")


@pytest.mark.parametrize("content", [b"", b"hello, world\n", b"\x80\x03}q\x00.", b"PK"])
def test_files_that_are_not_archives_are_refused(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a tutor model file"):
        load_model(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file_is_refused(tmp_path, keep):
    data = save_model(tmp_path / "good.npz", CharLM(9, 8, "lstm", rng=0)).read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="not a tutor model file"):
        load_model(path)


def test_missing_marker_wrong_version_and_unknown_class_are_refused(tmp_path):
    header, arrays = saved_header_and_arrays(tmp_path)
    cases = {
        "marker": ({**header, "format": "something-else"}, "marker 'tutor-model'"),
        "newer": ({**header, "version": FORMAT_VERSION + 1}, "newer than this tutor reads"),
        "version": ({**header, "version": "1"}, "no valid format version"),
        "class": ({**header, "class": "os.system"}, "not a class tutor can load"),
        "args": ({**header, "args": None}, "no 'args' dict"),
    }
    for name, (bad_header, message) in cases.items():
        path = write_with_header(tmp_path / f"{name}.npz", bad_header, arrays)
        with pytest.raises(ValueError, match=message):
            load_model(path)
        with pytest.raises(ValueError, match=message):
            read_header(path)


def test_header_that_is_not_json_text_is_refused(tmp_path):
    _, arrays = saved_header_and_arrays(tmp_path)
    np.savez(tmp_path / "a.npz", **arrays, **{HEADER_KEY: np.frombuffer(b"{not json", np.uint8)})
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", **arrays, **{HEADER_KEY: np.arange(3.0)})
    with pytest.raises(ValueError, match="uint8"):
        load_model(tmp_path / "b.npz")


def without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


def with_args(header, **args):
    return {**header, "args": {**header["args"], **args}}


def listed(arrays):
    """The "arrays" entry of a header for these arrays."""
    return {k: [list(a.shape), a.dtype.name] for k, a in arrays.items()}


def rewrite(header, arrays):
    """A header and arrays, the header's list of arrays made to agree with them."""
    return {**header, "arrays": listed(arrays)}, arrays


# Each case: (header, arrays) of an RNN(2, 3) file -> a damaged (header, arrays); and a
# pattern for what the error must say.
BAD_FILES = {
    "unhashable class": (lambda h, a: ({**h, "class": ["RNN"]}, a), r"\['RNN'\].*not a class"),
    "unknown class": (lambda h, a: ({**h, "class": "os.system"}, a), "'os.system'.*not a class"),
    "missing array": (
        lambda h, a: rewrite(h, without(a, "bias_hh")),
        r"lacks \['bias_hh'\]",
    ),
    "missing array the header lists": (
        lambda h, a: (h, without(a, "bias_hh")),
        r"lists the arrays \['bias_hh'.*holds \['bias_ih'",
    ),
    "extra array": (
        lambda h, a: rewrite(h, {**a, "spy": np.zeros(2)}),
        r"extra arrays \['spy'\]",
    ),
    "extra array the header does not list": (
        lambda h, a: (h, {**a, "spy": np.zeros(2)}),
        r"holds \[.*'spy'",
    ),
    "wrong dtype": (
        lambda h, a: rewrite(h, {**a, "weight_hh": a["weight_hh"].astype(np.float32)}),
        "'weight_hh'.*dtype float64.*float32",
    ),
    "integer array": (
        lambda h, a: rewrite(h, {**a, "bias_ih": np.zeros(3, dtype=np.int64)}),
        "'bias_ih'.*dtype float64.*int64",
    ),
    "wrong shape": (
        lambda h, a: rewrite(h, {**a, "weight_hh": np.zeros((4, 4))}),
        r"'weight_hh' must have shape \(3, 3\).*\(4, 4\)",
    ),
    "header lists another shape": (
        lambda h, a: (h, {**a, "weight_hh": np.zeros((4, 4))}),
        r"lists 'weight_hh' as \[\[3, 3\], 'float64'\].*\(4, 4\)",
    ),
    "arguments that do not fit the arrays": (
        lambda h, a: (with_args(h, hidden_size=5), a),
        r"'weight_ih' must have shape \(5, 2\).*\(3, 2\)",
    ),
    "negative size": (lambda h, a: (with_args(h, hidden_size=-1), a), "hidden_size.*-1"),
    "size as text": (lambda h, a: (with_args(h, hidden_size="3"), a), "hidden_size.*'3'"),
    "size as bool": (lambda h, a: (with_args(h, input_size=True), a), "input_size.*True"),
    "size as float": (lambda h, a: (with_args(h, input_size=2.0), a), r"input_size.*2\.0"),
    "unknown argument": (
        lambda h, a: (with_args(h, rng=7), a),
        r"\['rng'\].*RNN does not take",
    ),
    "missing argument": (
        lambda h, a: ({**h, "args": without(h["args"], "input_size")}, a),
        "'input_size'",
    ),
    "dtype not a float": (lambda h, a: (with_args(h, dtype="object"), a), "dtype.*'object'"),
    "dtype not a name": (lambda h, a: (with_args(h, dtype=["f8"]), a), r"dtype.*\['f8'\]"),
    "argument the constructor refuses": (
        lambda h, a: (with_args(h, nonlinearity="cube"), a),
        "do not build one.*cube",
    ),
    "unhashable argument": (
        lambda h, a: (with_args(h, nonlinearity=["tanh"]), a),
        "do not build one",
    ),
    "no args": (lambda h, a: ({**h, "args": None}, a), "no 'args' dict"),
    "no list of arrays": (lambda h, a: (without(h, "arrays"), a), "no 'arrays' dict"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_malformed_files_are_refused_saying_what_is_wrong(tmp_path, case):
    damage, message = BAD_FILES[case]
    header, arrays = damage(*saved_header_and_arrays(tmp_path))
    path = write_with_header(tmp_path / "bad.npz", header, arrays)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def archive_holding(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def truncated(tmp_path):
    data = save_model(tmp_path / "good.npz", CharLM(9, 8, "lstm", rng=0)).read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: len(data) // 2])
    return path


def header_bytes(text):
    """A .npy file holding the bytes ``text`` as a uint8 array."""
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(text, dtype=np.uint8))
    return buffer.getvalue()


# Files that are damaged as archives, not as models: path -> a damaged file.
BAD_ARCHIVES = {
    "truncated zip": (truncated, "damaged or truncated"),
    "not a zip": (
        lambda p: (p / "m.npz").write_bytes(b"hello") and p / "m.npz",
        "not a NumPy .npz archive",
    ),
    "zip holding text": (
        lambda p: archive_holding(p / "m.npz", {f"{HEADER_KEY}.npy": b"plain text"}),
        "damaged",
    ),
    "bad JSON header": (
        lambda p: archive_holding(p / "m.npz", {f"{HEADER_KEY}.npy": header_bytes(b"{no")}),
        "header is not valid JSON",
    ),
    "header in UTF-16": (
        lambda p: archive_holding(
            p / "m.npz", {f"{HEADER_KEY}.npy": header_bytes('{"format": 1}'.encode("utf-16"))}
        ),
        "header is not valid JSON",
    ),
    "header of floats": (
        lambda p: np.savez(p / "m.npz", **{HEADER_KEY: np.arange(3.0)}) or p / "m.npz",
        "1-D uint8",
    ),
    "header not an object": (
        lambda p: archive_holding(p / "m.npz", {f"{HEADER_KEY}.npy": header_bytes(b"[1, 2]")}),
        "marker 'tutor-model'",
    ),
}


@pytest.mark.parametrize("case", BAD_ARCHIVES)
def test_damaged_archives_are_refused_saying_what_is_wrong(tmp_path, case):
    make, message = BAD_ARCHIVES[case]
    path = make(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_model(path)
    with pytest.raises(ValueError, match=message):
        read_header(path)


def test_a_huge_size_in_the_header_is_refused_before_anything_is_built(tmp_path, monkeypatch):
    calls = []
    init = RNN.__init__

    @functools.wraps(init)
    def spy(self, *args, **kwargs):
        sizes = inspect.signature(init).bind(self, *args, **kwargs).arguments
        calls.append(sizes["hidden_size"])
        if sizes["hidden_size"] > 1000:  # the old load_model did: 8 * 10**18 bytes
            raise AssertionError("a huge RNN was built before the file was checked")
        init(self, *args, **kwargs)

    monkeypatch.setattr(RNN, "__init__", spy)
    header, arrays = saved_header_and_arrays(tmp_path)
    calls.clear()
    path = write_with_header(tmp_path / "huge.npz", with_args(header, hidden_size=10**9), arrays)
    with pytest.raises(ValueError, match=r"'weight_ih' must have shape \(1000000000, 2\)"):
        load_model(path)
    assert calls == []
    load_model(tmp_path / "good.npz")  # the spy does see a model being built
    assert calls == [3]


def test_files_written_before_still_load(tmp_path):
    """Headers exactly as the first version of save_model wrote them."""
    arrays = {
        "rnn.weight_ih": np.ones((6, 3), np.float32),
        "rnn.weight_hh": np.ones((6, 2), np.float32),
        "rnn.bias_ih": np.ones(6, np.float32),
        "rnn.bias_hh": np.ones(6, np.float32),
        "readout.weight": np.ones((3, 2), np.float32),
        "readout.bias": np.ones(3, np.float32),
    }
    header = {
        "format": "tutor-model",
        "version": 1,
        "class": "CharLM",
        "args": {
            "vocab_size": 3,
            "hidden_size": 2,
            "cell": "gru",
            "dtype": "float32",
            "forget_bias": 0.5,
            "vocab": "ab\n",
        },
        "arrays": listed(arrays),
        "metadata": {"updates": 3},
    }
    model = load_model(write_with_header(tmp_path / "c.npz", header, arrays))
    assert isinstance(model, CharLM) and model.vocab == Vocabulary("ab\n")
    assert (model.cell, model.gate_bias, model.dtype) == ("gru", 0.5, np.float32)
    assert all((p == 1).all() for p in model.params.values())
    arrays = {
        "rnn.weight_ih": np.ones((8, 1)),
        "rnn.weight_hh": np.ones((8, 2)),
        "rnn.bias_ih": np.ones(8),
        "rnn.bias_hh": np.ones(8),
        "readout.weight": np.ones((2, 2)),
        "readout.bias": np.ones(2),
    }
    header = {
        "format": "tutor-model",
        "version": 1,
        "class": "Forecaster",
        "args": {
            "hidden_size": 2,
            "cell": "lstm",
            "horizon": 2,
            "dtype": "float64",
            "forget_bias": 1.0,
            "scaler": [1.5, 0.25],
        },
        "arrays": listed(arrays),
        "metadata": None,
    }
    model = load_model(write_with_header(tmp_path / "f.npz", header, arrays))
    assert model.scaler == Standardiser(1.5, 0.25) and model.horizon == 2
    assert (model.cell, model.gate_bias) == ("lstm", 1.0)


def rnn_charlm_arrays():
    return {
        "rnn.weight_ih": np.ones((2, 3)),
        "rnn.weight_hh": np.ones((2, 2)),
        "rnn.bias_ih": np.ones(2),
        "rnn.bias_hh": np.ones(2),
        "readout.weight": np.ones((3, 2)),
        "readout.bias": np.ones(3),
    }


def write_small_charlm(path, **args):
    """A CharLM file (V = 3, H = 2, weights all 1) whose header holds ``args``
    besides the sizes, the dtype and the vocabulary: names old or new."""
    arrays = rnn_charlm_arrays()
    args = {"vocab_size": 3, "hidden_size": 2, **args, "dtype": "float64", "vocab": None}
    header = {
        "format": "tutor-model",
        "version": 1,
        "class": "CharLM",
        "args": args,
        "arrays": listed(arrays),
        "metadata": None,
    }
    return write_with_header(path, header, arrays)


def test_files_saved_under_old_names_load_under_the_new_ones(tmp_path):
    """The compatibility table: cell "srn" is "rnn", forget_bias is gate_bias."""
    assert RENAMED_VALUES["cell"] == {"srn": "rnn"}
    assert (
        RENAMED_ARGUMENTS["CharLM"]
        == RENAMED_ARGUMENTS["Forecaster"]
        == {"forget_bias": "gate_bias"}
    )
    path = write_small_charlm(tmp_path / "old.npz", cell="srn", forget_bias=None)
    model = load_model(path)
    assert isinstance(model.layer, RNN) and (model.cell, model.gate_bias) == ("rnn", None)
    assert all((p == 1).all() for p in model.params.values())
    assert read_header(path)["args"]["cell"] == "srn"  # the header as the file holds it
    # Saved again, the file carries the new names only.
    again = read_header(save_model(tmp_path / "new.npz", model))["args"]
    assert again["cell"] == "rnn" and "gate_bias" in again and "forget_bias" not in again


def test_an_argument_under_its_old_and_its_new_name_is_refused(tmp_path):
    path = write_small_charlm(tmp_path / "both.npz", cell="rnn", forget_bias=None, gate_bias=None)
    with pytest.raises(ValueError, match=r"'gate_bias' twice.*'forget_bias'"):
        load_model(path)


def test_an_argument_the_file_does_not_give_takes_its_default(tmp_path):
    """So that files saved before a constructor gained an argument still load."""
    header, arrays = saved_header_and_arrays(tmp_path)
    path = write_with_header(
        tmp_path / "old.npz", {**header, "args": without(header["args"], "nonlinearity")}, arrays
    )
    assert load_model(path).nonlinearity == "tanh"


@pytest.mark.parametrize("scaler", [[1.0], [1.0, 0.0], [1.0, -2.0], ["1", 2.0], [1.0, True], 3])
def test_a_bad_scaler_is_refused(tmp_path, scaler):
    model = Forecaster(2, rng=0)
    model.scaler = Standardiser(1.0, 2.0)
    path = save_model(tmp_path / "f.npz", model)
    header = read_header(path)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if k != HEADER_KEY}
    path = write_with_header(tmp_path / "bad.npz", with_args(header, scaler=scaler), arrays)
    with pytest.raises(ValueError, match="scaler"):
        load_model(path)


def test_a_bad_cell_is_refused_before_anything_is_built(tmp_path):
    path = save_model(tmp_path / "c.npz", CharLM(3, 2, "gru", rng=0))
    header = read_header(path)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if k != HEADER_KEY}
    for cell in ("cnn", ["gru"]):
        bad = write_with_header(tmp_path / "bad.npz", with_args(header, cell=cell), arrays)
        with pytest.raises(ValueError, match=f"cell must be one of.*{re.escape(repr(cell))}"):
            load_model(bad)


MODELS = {
    "charlm": lambda: CharLM(5, 3, "lstm", rng=0, gate_bias=2.0, vocab=Vocabulary("abcde")),
    "forecaster": lambda: Forecaster(3, "gru", horizon=2, rng=0, gate_bias=0.5),
    **LAYERS,
}


@pytest.mark.parametrize("name", MODELS)
def test_every_constructor_argument_is_saved_and_restored(tmp_path, name):
    model = MODELS[name]()
    loaded = load_model(save_model(tmp_path / "m.npz", model))
    names = [p for p in inspect.signature(type(model)).parameters if p != "rng"]
    assert names  # the signature is really read
    for arg in names:
        assert getattr(loaded, arg) == getattr(model, arg), arg
    assert set(read_header(tmp_path / "m.npz")["args"]) >= set(names)


# Saving never leaves a broken file -------------------------------------------------------


def failing_writer(error):
    def savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise error

    return savez


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_save_leaves_the_old_file_intact_and_no_temporary_file(
    tmp_path, monkeypatch, error
):
    good = CharLM(4, 3, "gru", rng=0)
    path = save_model(tmp_path / "model.npz", good)
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", failing_writer(error))
    with pytest.raises(type(error)):
        save_model(path, CharLM(4, 3, "gru", rng=1))
    assert path.read_bytes() == before
    assert_same_params(load_model(path), good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    with pytest.raises(type(error)):  # nor a half file where there was none
        save_model(tmp_path / "new.npz", good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_saving_replaces_the_file_with_the_usual_permissions(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"an older file")
    save_model(path, RNN(2, 3, rng=0))
    assert isinstance(load_model(path), RNN)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")  # created as open() creates files, under the umask
    assert path.stat().st_mode == plain.stat().st_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "plain"]


@pytest.mark.skipif(not hasattr(pathlib.Path, "symlink_to"), reason="no symbolic links")
def test_saving_through_a_symbolic_link_writes_its_target(tmp_path):
    target = tmp_path / "target.npz"
    save_model(target, RNN(2, 3, rng=0))
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    save_model(link, GRU(2, 3, rng=0))
    assert link.is_symlink() and isinstance(load_model(target), GRU)


class Payload:
    """Unpickling this would create a file: proof that code in a model file ran."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_pickled_objects_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "code-ran"
    payload = np.array([Payload(marker)], dtype=object)
    header, arrays = saved_header_and_arrays(tmp_path)
    # A pickled object as a parameter, and a pickled object as the header itself.
    as_param = write_with_header(tmp_path / "param.npz", header, {**arrays, "weight_hh": payload})
    np.savez(tmp_path / "header.npz", **arrays, **{HEADER_KEY: payload})
    np.save(tmp_path / "plain.npy", payload)
    for name in ("param.npz", "header.npz", "plain.npy"):
        with pytest.raises(ValueError, match="not a tutor model file"):
            load_model(tmp_path / name)
    with pytest.raises(ValueError, match="pickled"):
        load_model(as_param)
    assert not marker.exists()
    # The payload is real: unpickling it does create the file.
    np.load(tmp_path / "plain.npy", allow_pickle=True)
    assert marker.exists()
