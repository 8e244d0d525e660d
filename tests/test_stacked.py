"""Stacked and bidirectional layers, and padded batches with ``lengths``.

Against torch.nn (``num_layers=2, bidirectional=True``, and
``pack_padded_sequence(..., enforce_sorted=False)`` for lengths): outputs,
final states and every gradient, float64, to 1e-10. Against finite
differences. And the errors a reader meets.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor import GRU, LSTM, RNN, gradcheck, padding

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
TORCH_CLASSES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
LENGTHS = np.array([6, 2, 4, 1])  # B = 4 sequences, T = 6: one full, one of 1
STACKS = [(2, True), (2, False), (1, True), (3, True)]  # (num_layers, bidirectional)


def pack(cell, parts):
    return tuple(parts) if cell == "lstm" else parts[0]


def run_both(torch, cell, layers, bidirectional, lengths, batch_first=False):
    """Our layer and torch.nn's on the same weights, input, state and loss."""
    T, B, D, H = 6, 4, 3, 5
    dirs = 2 if bidirectional else 1
    n_parts = 2 if cell == "lstm" else 1
    rng = np.random.default_rng(1)
    options = dict(num_layers=layers, bidirectional=bidirectional)
    layer = CELLS[cell](D, H, rng=rng, batch_first=batch_first, **options)
    ref = getattr(torch.nn, TORCH_CLASSES[cell])(
        D, H, dtype=torch.float64, batch_first=batch_first, **options
    )
    # A single one-way layer keeps the names and (B, H) states it always had;
    # torch calls its parameters weight_ih_l0, ... and its states (1, B, H).
    single = layers == 1 and not bidirectional
    torch_name = {n: n + "_l0" if single else n for n in layer.params}
    with torch.no_grad():  # by name: our params carry PyTorch's names
        for name, value in layer.params.items():
            getattr(ref, torch_name[name]).copy_(torch.from_numpy(value))
    seq = (B, T) if batch_first else (T, B)
    x = rng.normal(size=(*seq, D))
    starts = [rng.normal(size=(layers * dirs, B, H)) for _ in range(n_parts)]
    R = rng.normal(size=(*seq, dirs * H))
    S = [rng.normal(size=(layers * dirs, B, H)) for _ in range(n_parts)]

    def ours_shape(arrays):
        return [a[0] for a in arrays] if single else arrays

    def torch_shape(arrays):
        return [a[None] for a in arrays] if single else arrays

    out, final = layer.forward(x, pack(cell, ours_shape(starts)), lengths=lengths)
    dx, dstart = layer.backward(R, pack(cell, ours_shape(S)))
    finals = torch_shape(list(final) if n_parts == 2 else [final])
    dstarts = torch_shape(list(dstart) if n_parts == 2 else [dstart])
    ours = {"out": out, "x": dx, **layer.grads}
    ours.update({f"final{i}": a for i, a in enumerate(finals)})
    ours.update({f"start{i}": a for i, a in enumerate(dstarts)})

    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(a, requires_grad=True) for a in starts]
    if lengths is None:
        o, fin = ref(xt, pack(cell, st))
    else:
        rnn = torch.nn.utils.rnn
        packed = rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first, enforce_sorted=False
        )
        o, fin = ref(packed, pack(cell, st))
        o, _ = rnn.pad_packed_sequence(o, batch_first, total_length=T)
    fin = list(fin) if n_parts == 2 else [fin]
    loss = (o * torch.tensor(R)).sum()
    for f, s in zip(fin, S):
        loss = loss + (f * torch.tensor(s)).sum()
    loss.backward()
    theirs = {"out": o.detach().numpy(), "x": xt.grad.numpy()}
    theirs.update({n: getattr(ref, torch_name[n]).grad.numpy() for n in layer.params})
    theirs.update({f"final{i}": f.detach().numpy() for i, f in enumerate(fin)})
    theirs.update({f"start{i}": s.grad.numpy() for i, s in enumerate(st)})
    return ours, theirs


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers,bidirectional", STACKS)
@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "padded"])
def test_agrees_with_torch(torch, cell, layers, bidirectional, lengths):
    ours, theirs = run_both(torch, cell, layers, bidirectional, lengths)
    assert set(ours) == set(theirs)
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_single_layer_with_lengths_agrees_with_torch(torch, cell):
    ours, theirs = run_both(torch, cell, 1, False, LENGTHS, batch_first=True)
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_stack_with_lengths_batch_first_agrees_with_torch(torch, cell):
    ours, theirs = run_both(torch, cell, 2, True, LENGTHS, batch_first=True)
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("lengths", [None, [3, 1, 2]], ids=["full", "padded"])
def test_gradients_match_finite_differences(cell, lengths):
    rng = np.random.default_rng(2)
    T, B, D, H = 3, 3, 2, 3
    layer = CELLS[cell](D, H, rng=rng, num_layers=2, bidirectional=True)
    x = rng.normal(size=(T, B, D))
    R = rng.normal(size=(T, B, 2 * H))
    S = rng.normal(size=(4, B, H))

    def final_h(final):
        return final[0] if cell == "lstm" else final

    def loss():
        out, final = layer.forward(x, lengths=lengths)
        return float((out * R).sum() + (final_h(final) * S).sum())

    loss()
    dS = (S, np.zeros_like(S)) if cell == "lstm" else S
    dx, _ = layer.backward(R, dS)
    grads = {name: g.copy() for name, g in layer.grads.items()}
    errors = gradcheck(loss, {**layer.params, "x": x}, {**grads, "x": dx})
    assert max(errors.values()) < 1e-6, errors


def test_single_layer_keeps_its_names_and_shapes():
    layer = LSTM(3, 5, rng=0)
    assert set(layer.params) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    out, (h, c) = layer.forward(np.ones((7, 2, 3)))
    assert out.shape == (7, 2, 5) and h.shape == c.shape == (2, 5)
    assert layer.stack is None and layer.num_layers == 1


def test_stack_uses_torch_names_and_shapes():
    layer = GRU(3, 5, rng=0, num_layers=2, bidirectional=True)
    assert list(layer.params)[:4] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
    ]
    assert layer.params["weight_ih_l0_reverse"].shape == (15, 3)
    assert layer.params["weight_ih_l1"].shape == (15, 10)  # reads 2H features
    out, h_n = layer.forward(np.ones((7, 2, 3)))
    assert out.shape == (7, 2, 10) and h_n.shape == (4, 2, 5)
    assert "num_layers=2" in repr(layer) and "bidirectional=True" in repr(layer)


def test_parameters_of_a_stack_are_counted_layer_by_layer():
    from tutor._cells import count_network_parameters, count_parameters

    layer = LSTM(3, 5, rng=0, num_layers=2, bidirectional=True)
    level0 = count_parameters("lstm", 3, 5)  # each direction reads x
    level1 = count_parameters("lstm", 10, 5)  # ... then both directions
    assert count_network_parameters(layer) == 2 * level0 + 2 * level1


def test_stack_is_layers_feeding_layers():
    """Level 1 reads level 0's outputs; the backward layer reads x reversed."""
    rng = np.random.default_rng(3)
    layer = RNN(2, 4, rng=0, num_layers=2, bidirectional=True)
    x = rng.normal(size=(5, 3, 2))
    out, _ = layer.forward(x)
    (f0, b0), (f1, b1) = layer.stack.layers
    below = np.concatenate([f0.forward(x)[0], b0.forward(x[::-1])[0][::-1]], -1)
    top = np.concatenate([f1.forward(below)[0], b1.forward(below[::-1])[0][::-1]], -1)
    np.testing.assert_array_equal(out, top)


def test_replaced_parameter_arrays_are_used():
    """Copying weights by assignment, as from PyTorch, reaches the layers."""
    layer = RNN(2, 3, rng=0, num_layers=2)
    x = np.ones((4, 1, 2))
    layer.params["weight_hh_l1"] = np.zeros((3, 3))
    layer.params["weight_ih_l1"] = np.zeros((3, 3))
    out, _ = layer.forward(x)
    bias = layer.params["bias_ih_l1"] + layer.params["bias_hh_l1"]
    np.testing.assert_allclose(out[-1, 0], np.tanh(bias))


@pytest.mark.parametrize("cell", CELLS)
def test_padding_does_not_matter(cell):
    """Outputs and gradients of real steps ignore what the padding holds."""
    rng = np.random.default_rng(4)
    layer = CELLS[cell](2, 3, rng=0, num_layers=2, bidirectional=True)
    lengths = np.array([4, 2])
    x = rng.normal(size=(4, 2, 2))
    other = x.copy()
    other[2:, 1] = 99.0  # sequence 1 ends after step 2
    R = rng.normal(size=(4, 2, 6))
    results = []
    for inputs in (x, other):
        out, final = layer.forward(inputs, lengths=lengths)
        dx, _ = layer.backward(R)
        results.append((out, final, dx, layer.grads["weight_hh_l0"].copy()))
    (out, final, dx, g), (out2, final2, dx2, g2) = results
    np.testing.assert_allclose(out, out2, atol=1e-12)
    np.testing.assert_array_equal(out[2:, 1], 0.0)
    np.testing.assert_array_equal(dx[2:, 1], 0.0)
    np.testing.assert_allclose(dx, dx2, atol=1e-12)
    np.testing.assert_allclose(g, g2, atol=1e-12)


def test_final_state_is_taken_at_each_end():
    rng = np.random.default_rng(5)
    layer = GRU(2, 3, rng=0)
    x = rng.normal(size=(5, 2, 2))
    out, h = layer.forward(x, lengths=[5, 3])
    full, _ = layer.forward(x)
    np.testing.assert_array_equal(h[1], full[2, 1])
    np.testing.assert_array_equal(h[0], full[4, 0])
    np.testing.assert_array_equal(out[3:, 1], 0.0)


def test_reverse_sequences_reverses_each_up_to_its_end():
    x = np.arange(8).reshape(4, 2)  # (T, B) = (4, 2)
    lengths = np.array([4, 2])
    rev = padding.reverse_sequences(x, lengths)
    assert rev[:, 0].tolist() == [6, 4, 2, 0]
    assert rev[:, 1].tolist() == [3, 1, 5, 7]  # padding rows stay
    np.testing.assert_array_equal(padding.reverse_sequences(rev, lengths), x)


def test_ids_input_in_a_bidirectional_stack():
    layer = LSTM(5, 3, rng=0, num_layers=2, bidirectional=True)
    ids = np.array([[0, 4], [2, 1], [3, 3]])
    one_hot = np.eye(5)[ids]
    out, _ = layer.forward(ids, ids=True, lengths=[3, 2])
    expected, _ = layer.forward(one_hot, lengths=[3, 2])
    np.testing.assert_allclose(out, expected, atol=1e-12)
    dx, (dh, dc) = layer.backward(np.ones_like(out))
    assert dh.shape == (4, 2, 3)
    ids_out, _ = layer.forward(ids, ids=True)
    assert layer.backward(np.ones_like(ids_out))[0] is None


@pytest.mark.parametrize(
    "lengths,match",
    [
        ([3, 2], r"lengths must have shape \(B,\) = \(3,\).*got shape \(2,\)"),
        ([[3, 2, 1]], r"got shape \(1, 3\)"),
        ([3, 0, 1], r"lengths\[1\] = 0.*between 1 and T = 3"),
        ([3, 4, 1], r"lengths\[1\] = 4.*between 1 and T = 3"),
        ([3.0, 2.0, 1.0], r"lengths must hold integers.*float64"),
        ([True, True, True], r"lengths must hold integers.*bool"),
    ],
)
@pytest.mark.parametrize("layers", [1, 2])
def test_bad_lengths_are_named(lengths, match, layers):
    layer = RNN(2, 3, rng=0, num_layers=layers)
    with pytest.raises(ValueError, match=match):
        layer.forward(np.ones((3, 3, 2)), lengths=lengths)


def test_wrong_state_shape_names_the_expected_shape():
    layer = RNN(2, 3, rng=0, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"state must have shape.*\(4, 5, 3\).*got shape \(5, 3\)"):
        layer.forward(np.ones((6, 5, 2)), np.zeros((5, 3)))
    lstm = LSTM(2, 3, rng=0, num_layers=2)
    with pytest.raises(ValueError, match=r"state must be a pair \(h, c\).*\(2, 5, 3\)"):
        lstm.forward(np.ones((6, 5, 2)), np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"state\[1\] must have shape.*got shape \(1, 5, 3\)"):
        lstm.forward(np.ones((6, 5, 2)), (None, np.zeros((1, 5, 3))))
    lstm.forward(np.ones((6, 5, 2)))
    with pytest.raises(ValueError, match=r"dstate\[0\] must have shape"):
        lstm.backward(None, (np.zeros((4, 5, 3)), None))


def test_bad_stack_arguments_and_parameters_are_named():
    with pytest.raises(ValueError, match=r"num_layers must be a positive int; got 0"):
        RNN(2, 3, rng=0, num_layers=0)
    with pytest.raises(ValueError, match="bidirectional"):
        GRU(2, 3, rng=0, bidirectional="yes")
    layer = GRU(2, 3, rng=0, num_layers=2, bidirectional=True)
    layer.params["weight_hh_l1_reverse"] = np.zeros((3, 9))
    with pytest.raises(ValueError, match=r"params\['weight_hh_l1_reverse'\] must have shape"):
        layer.forward(np.ones((4, 1, 2)))
    with pytest.raises(RuntimeError, match="before"):
        RNN(2, 3, rng=0, num_layers=2).backward(None)


@st.composite
def padded_batches(draw):
    """(x, lengths): a batch of B sequences padded to T steps, D = 2."""
    T = draw(st.integers(1, 6))
    B = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).normal(size=(T, B, 2))
    return x, np.array(lengths)


@settings(max_examples=40, deadline=None)
@given(padded_batches(), st.sampled_from(sorted(CELLS)))
def test_each_padded_sequence_is_computed_as_if_alone(batch, cell):
    x, lengths = batch
    layer = CELLS[cell](2, 3, rng=0, num_layers=2, bidirectional=True)
    out, final = layer.forward(x, lengths=lengths)
    h_n = final[0] if cell == "lstm" else final
    for n, T_n in enumerate(lengths):
        out_n, final_n = layer.forward(x[:T_n, n : n + 1])
        h_alone = final_n[0] if cell == "lstm" else final_n
        np.testing.assert_allclose(out[:T_n, n], out_n[:, 0], atol=1e-12)
        np.testing.assert_allclose(h_n[:, n], h_alone[:, 0], atol=1e-12)
        assert np.all(out[T_n:, n] == 0)


@settings(max_examples=60, deadline=None)
@given(padded_batches())
def test_reversing_twice_gives_the_batch_back(batch):
    x, lengths = batch
    once = padding.reverse_sequences(x, lengths)
    np.testing.assert_array_equal(padding.reverse_sequences(once, lengths), x)
    mask = padding.padding_mask(lengths, len(x))
    np.testing.assert_array_equal(once[~mask], x[~mask])  # padding stays
    for n, T_n in enumerate(lengths):
        np.testing.assert_array_equal(once[:T_n, n], x[:T_n, n][::-1])
