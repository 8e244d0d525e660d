"""Tests of tutor.io: saving and loading models without pickle, and refusing other files."""

import json
import pathlib
import zipfile

import numpy as np
import pytest

from tutor.charlm import CharLM
from tutor.data.text import Vocabulary
from tutor.feedforward import MLP, Dense
from tutor.forecast import Forecaster, Standardiser
from tutor.gru import GRU
from tutor.io import FORMAT, FORMAT_VERSION, HEADER_KEY, load_model, read_header, save_model
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
    model = CharLM(len(vocab), 6, cell, rng=3, dtype=dtype, forget_bias=bias, vocab=vocab)
    scramble(model)
    path = save_model(tmp_path / "model.npz", model)
    loaded = load_model(path)
    assert isinstance(loaded, CharLM)
    assert (loaded.cell, loaded.hidden_size, loaded.vocab_size) == (cell, 6, len(vocab))
    assert loaded.dtype == np.dtype(dtype) and loaded.forget_bias == model.forget_bias
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


def test_arrays_that_do_not_fit_the_model_are_refused(tmp_path):
    header, arrays = saved_header_and_arrays(tmp_path)
    extra = write_with_header(tmp_path / "extra.npz", header, {**arrays, "spy": np.zeros(2)})
    with pytest.raises(ValueError, match="lists the arrays"):
        load_model(extra)
    wrong = {**arrays, "weight_hh": np.zeros((4, 4))}
    with pytest.raises(ValueError, match="'weight_hh' must have shape"):
        load_model(write_with_header(tmp_path / "shape.npz", header, wrong))
    args = {**header, "args": {**header["args"], "hidden_size": 5}}
    with pytest.raises(ValueError, match="must have shape"):
        load_model(write_with_header(tmp_path / "args.npz", args, arrays))
    args = {**header, "args": {**header["args"], "hidden_size": -1}}
    with pytest.raises(ValueError, match="do not build one"):
        load_model(write_with_header(tmp_path / "neg.npz", args, arrays))


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
