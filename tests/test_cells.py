"""tutor._cells: the cells by name, and the book's parameter count."""

import doctest

import numpy as np
import pytest

from tutor import GRU, LSTM, RNN, RecurrentReadout, _cells
from tutor._cells import CELLS, count_network_parameters, count_parameters, make_layer
from tutor.experiments import compare, lstm_memory, reber, tuning
from tutor.feedforward import Dense


@pytest.mark.parametrize(
    ("cell", "cls", "keyword"),
    [
        ("rnn", RNN, None),
        ("lstm", LSTM, "forget_bias"),
        ("gru", GRU, "update_bias"),
    ],
)
def test_make_layer_builds_the_named_cell(cell, cls, keyword):
    layer = make_layer(cell, 3, 5, rng=0, dtype=np.float32)
    assert type(layer) is cls
    assert (layer.input_size, layer.hidden_size, layer.dtype) == (3, 5, np.float32)
    same = cls(3, 5, rng=0, dtype=np.float32)
    for name, array in layer.params.items():
        np.testing.assert_array_equal(array, same.params[name])
    if keyword is not None:
        biased = make_layer(cell, 3, 5, rng=0, gate_bias=2.0)
        assert getattr(biased, keyword) == 2.0
        expected = cls(3, 5, rng=0, **{keyword: 2.0})
        np.testing.assert_array_equal(biased.params["bias_ih"], expected.params["bias_ih"])


def test_make_layer_refuses_a_gate_bias_for_the_simple_rnn_and_unknown_cells():
    with pytest.raises(ValueError, match=r"gate_bias.*1\.0.*'rnn'.*no gates"):
        make_layer("rnn", 3, 5, rng=0, gate_bias=1.0)
    with pytest.raises(ValueError, match=r"cell.*'lstm'.*'tanh'"):
        make_layer("tanh", 3, 5, rng=0)


def stored_minus_repeated_biases(layer):
    """The count by hand: every stored number, less bias_hh where only the sum matters."""
    H = layer.hidden_size
    own = H if isinstance(layer, GRU) else 0  # the GRU's b_hn stays
    return sum(a.size for a in layer.params.values()) - (layer.params["bias_hh"].size - own)


@pytest.mark.parametrize(("cell", "blocks"), [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_count_parameters_is_the_books_rule(cell, blocks):
    D, H, K = 3, 7, 2
    extra = H if cell == "gru" else 0
    assert count_parameters(cell, D, H, K) == blocks * H * (D + H + 1) + extra + K * (H + 1)
    assert count_parameters(cell, D, H) == blocks * H * (D + H + 1) + extra
    layer, readout = make_layer(cell, D, H, rng=0), Dense(H, K, rng=0)
    assert count_network_parameters(layer, readout) == stored_minus_repeated_biases(layer) + K * (
        H + 1
    )
    assert count_network_parameters(layer, readout) == count_parameters(cell, D, H, K)


def test_the_public_counters_agree():
    for cell in CELLS:
        layer, readout = make_layer(cell, 7, 6, rng=0), Dense(6, 7, rng=0)
        expected = compare.count_parameters(cell, 7, 6, 7)
        assert reber.count_parameters(layer, readout) == expected
        assert lstm_memory.count_weights(layer, readout) == expected
    from tutor.charlm import CharLM

    for cell in CELLS:
        model = CharLM(11, 8, cell, rng=0)
        assert tuning.count_parameters(model) == count_parameters(cell, 11, 8, 11)
    assert compare.count_parameters("lstm", 2, 8, 1) == 361
    assert compare.count_parameters("gru", 2, 9, 1) == 343


def test_count_parameters_names_a_bad_size():
    with pytest.raises(ValueError, match=r"hidden_size.*positive int.*\b0\b"):
        count_parameters("lstm", 2, 0)
    with pytest.raises(ValueError, match=r"output_size.*>= 0.*-1"):
        count_parameters("lstm", 2, 3, -1)


def test_the_models_name_their_parts_rnn_and_readout():
    from tutor.charlm import CharLM
    from tutor.forecast import Forecaster

    for model in (CharLM(5, 4, "gru", rng=0), Forecaster(4, "lstm", rng=0)):
        assert model.hidden_size == 4
        assert set(model.params) == {f"rnn.{k}" for k in model.layer.params} | {
            f"readout.{k}" for k in model.readout.params
        }
        assert model.params["rnn.weight_hh"] is model.layer.params["weight_hh"]
        assert model.grads["readout.bias"] is model.readout.grads["bias"]


def test_one_list_of_cell_names_in_every_message():
    from tutor.charlm import CharLM
    from tutor.forecast import Forecaster
    from tutor.seq2seq import Seq2Seq

    calls = [
        lambda cell: make_layer(cell, 3, 5, rng=0),
        lambda cell: count_parameters(cell, 3, 5),
        lambda cell: CharLM(5, 3, cell, rng=0),
        lambda cell: Forecaster(3, cell, rng=0),
        lambda cell: Seq2Seq(5, 5, 4, cell=cell, rng=0),
        lambda cell: compare.make_layer(cell, 3, 5, rng=0),
        lambda cell: compare.run_sweep(("recall",), (cell,), seeds=()),
    ]
    listed = r"\bcell\b.*'rnn', 'lstm', 'gru'.*'cnn'"
    for call in calls:
        with pytest.raises(ValueError, match=listed):
            call("cnn")
    assert CELLS == compare.CELLS == ("rnn", "lstm", "gru")


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_layer("srn", 3, 5, rng=0),
        lambda: compare.count_parameters("srn", 3, 5, 1),
        lambda: reber.reber_network("srn", 4, rng=0),
        lambda: lstm_memory.adding_network("srn", 4, rng=0),
    ],
)
def test_the_old_name_srn_is_refused_with_the_new_name(call):
    with pytest.raises(ValueError, match=r"\bcell\b.*got 'srn'.*now called 'rnn'"):
        call()


def test_a_cell_name_that_is_not_a_string_is_refused():
    with pytest.raises(ValueError, match=r"\bcell\b.*\['gru'\]"):
        _cells.check_cell(["gru"])


def test_recurrent_readout_gathers_the_two_layers_under_fixed_keys():
    layer, readout = LSTM(3, 4, rng=0), Dense(4, 2, rng=1)
    model = RecurrentReadout(layer, readout)
    assert list(model.params) == [
        "rnn.weight_ih",
        "rnn.weight_hh",
        "rnn.bias_ih",
        "rnn.bias_hh",
        "readout.weight",
        "readout.bias",
    ]
    assert model.params["rnn.weight_ih"] is layer.params["weight_ih"]
    assert model.params["readout.bias"] is readout.params["bias"]
    assert list(model.grads) == list(model.params)
    assert model.grads["rnn.bias_hh"] is layer.grads["bias_hh"]
    assert model.hidden_size == 4 and model.layer is layer and model.readout is readout
    assert repr(model).startswith("RecurrentReadout(LSTM(input_size=3")


def test_the_cells_module_examples_run():
    failures, tried = doctest.testmod(_cells, verbose=False)
    assert tried > 0 and failures == 0
