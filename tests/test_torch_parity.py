"""tutor.RNN, LSTM and GRU against torch.nn: the same weights must give the same numbers.

Each test runs for the three cells. A layer and its torch.nn twin (one layer, the
weights copied, as the parameters have the same names and shapes) get the same
input, initial state and loss ``sum(out * R) + sum(state_T * S)`` (for the LSTM
both h_T and c_T); the outputs, the final states and every gradient (input,
initial state, the four parameters) must agree. The GRU's step functions are
also compared with ``torch.nn.GRUCell``. The ``torch`` fixture (tests/conftest.py)
skips these tests when torch is not installed, or fails them when
``TUTOR_REQUIRE_TORCH=1``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tutor.gru import GRU, gru_step_backward, gru_step_forward
from tutor.lstm import LSTM
from tutor.rnn import RNN

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
STATES = {"rnn": ("h",), "lstm": ("h", "c"), "gru": ("h",)}  # the arrays of a state
PARAMS = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
SHAPES = [  # (T, B, D, H)
    (1, 1, 1, 1),
    (1, 3, 2, 4),
    (5, 1, 3, 2),
    (3, 2, 4, 1),
    (8, 4, 5, 7),
    (20, 2, 3, 16),
]
SHAPE_IDS = ["T{}-B{}-D{}-H{}".format(*shape) for shape in SHAPES]
TORCH_CLASSES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def names(cell):
    """The keys of the results compared: outputs, final states and all gradients."""
    parts = STATES[cell]
    return {"out", "x"} | {f"{p}_T" for p in parts} | {f"{p}0" for p in parts} | PARAMS


def torch_like(torch, cell, layer):
    """A one-layer torch.nn module holding a copy of ``layer``'s weights."""
    dtype = {np.float64: torch.float64, np.float32: torch.float32}[layer.dtype.type]
    module = getattr(torch.nn, TORCH_CLASSES[cell])
    extra = {"nonlinearity": layer.nonlinearity} if cell == "rnn" else {}
    ref = module(
        layer.input_size,
        layer.hidden_size,
        dtype=dtype,
        batch_first=layer.batch_first,
        **extra,
    )
    with torch.no_grad():
        for name, value in layer.params.items():
            getattr(ref, name + "_l0").copy_(torch.from_numpy(value))
    return ref


def pack(parts):
    """A state in the layer's format from its arrays: h, or the pair (h, c)."""
    return tuple(parts) if len(parts) > 1 else parts[0]


def unpack(state):
    """The arrays of a state in the layer's format."""
    return list(state) if isinstance(state, tuple) else [state]


def run_both(torch, cell, shape, dtype, seed=0, batch_first=False, **options):
    """The results of the layer and of torch.nn, as two dicts of NumPy arrays."""
    T, B, D, H = shape
    rng = np.random.default_rng(seed)
    layer = CELLS[cell](D, H, rng=rng, dtype=dtype, batch_first=batch_first, **options)
    parts = STATES[cell]
    seq = (B, T) if batch_first else (T, B)
    x = rng.normal(size=(*seq, D)).astype(dtype)
    starts = [rng.normal(size=(B, H)).astype(dtype) for _ in parts]
    R = rng.normal(size=(*seq, H)).astype(dtype)
    S = [rng.normal(size=(B, H)).astype(dtype) for _ in parts]

    out, last = layer.forward(x, pack(starts))
    dx, dstart = layer.backward(R, dstate=pack(S))
    ours = {"out": out, "x": dx, **layer.grads}
    ours.update({f"{p}_T": a for p, a in zip(parts, unpack(last))})
    ours.update({f"{p}0": a for p, a in zip(parts, unpack(dstart))})

    ref = torch_like(torch, cell, layer)
    tx = torch.from_numpy(x).requires_grad_()
    # torch's states are (num_layers, B, H), whatever batch_first says
    tstarts = [torch.from_numpy(a[None]).requires_grad_() for a in starts]
    tout, tlast = ref(tx, pack(tstarts))
    tlast = unpack(tlast)
    loss = (tout * torch.from_numpy(R)).sum()
    for t_state, s in zip(tlast, S):
        loss = loss + (t_state[0] * torch.from_numpy(s)).sum()
    loss.backward()
    theirs = {"out": tout, "x": tx.grad}
    theirs.update({f"{p}_T": t[0] for p, t in zip(parts, tlast)})
    theirs.update({f"{p}0": t.grad[0] for p, t in zip(parts, tstarts)})
    theirs.update({name: getattr(ref, name + "_l0").grad for name in layer.params})
    return ours, {name: t.detach().numpy() for name, t in theirs.items()}


def assert_float64_parity(ours, theirs, cell):
    assert set(ours) == set(theirs) == names(cell)
    for name, value in ours.items():
        assert value.shape == theirs[name].shape, name
        np.testing.assert_allclose(value, theirs[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_float64_parity(torch, cell, shape):
    ours, theirs = run_both(torch, cell, shape, np.float64)
    assert_float64_parity(ours, theirs, cell)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("shape", SHAPES[1:5], ids=SHAPE_IDS[1:5])
def test_float64_parity_batch_first(torch, cell, shape):
    # torch.nn's batch_first=True: x, out and their gradients are (B, T, ...); states not.
    ours, theirs = run_both(torch, cell, shape, np.float64, batch_first=True)
    T, B, D, H = shape
    assert ours["out"].shape == (B, T, H) and ours["x"].shape == (B, T, D)
    assert_float64_parity(ours, theirs, cell)


@pytest.mark.parametrize(
    ("cell", "options"),
    [("lstm", {"forget_bias": 1.0}), ("gru", {"update_bias": 3.0})],
    ids=["lstm forget_bias=1", "gru update_bias=3"],
)
def test_float64_parity_with_gate_bias(torch, cell, options):
    ours, theirs = run_both(torch, cell, (12, 3, 4, 6), np.float64, seed=5, **options)
    assert_float64_parity(ours, theirs, cell)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_float32_parity(torch, cell):
    ours, theirs = run_both(torch, cell, (20, 4, 8, 16), np.float32)
    assert set(ours) == set(theirs) == names(cell)
    for name, value in ours.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, theirs[name], rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_torch_init_loads_into_tutor(torch, cell):
    # The other direction: weights made by torch drop into the layer unchanged.
    torch.manual_seed(0)
    ref = getattr(torch.nn, TORCH_CLASSES[cell])(3, 5, dtype=torch.float64)
    layer = CELLS[cell](3, 5, rng=0)
    for name in layer.params:
        layer.params[name][...] = getattr(ref, name + "_l0").detach().numpy()
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    out, last = layer.forward(x)
    tout, tlast = ref(torch.from_numpy(x))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-12)
    for ours, theirs in zip(unpack(last), unpack(tlast), strict=True):
        np.testing.assert_allclose(ours, theirs[0].detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 2, 4), (5, 4, 7)], ids=str)
def test_gru_step_functions_match_grucell(torch, shape):
    # One step forward and backward against torch.nn.GRUCell: same names, no "_l0".
    B, D, H = shape
    rng = np.random.default_rng(2)
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    params = {name: p.detach().numpy().copy() for name, p in cell.named_parameters()}
    assert set(params) == PARAMS
    x, h_prev, dh = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))

    h, cache = gru_step_forward(x, h_prev, **params)
    dx, dh_prev, grads = gru_step_backward(dh, cache, params["weight_ih"], params["weight_hh"])

    tx = torch.from_numpy(x).requires_grad_()
    th = torch.from_numpy(h_prev).requires_grad_()
    th_new = cell(tx, th)
    (th_new * torch.from_numpy(dh)).sum().backward()
    np.testing.assert_allclose(h, th_new.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh_prev, th.grad.numpy(), rtol=0, atol=1e-12)
    for name, g in grads.items():
        np.testing.assert_allclose(g, getattr(cell, name).grad.numpy(), rtol=0, atol=1e-12)
