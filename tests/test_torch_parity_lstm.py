"""tutor.LSTM against torch.nn.LSTM: the same weights must give the same numbers.

The ``torch`` fixture (tests/conftest.py) skips these tests when torch is not
installed, or fails them when ``TUTOR_REQUIRE_TORCH=1``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tutor.lstm import LSTM

SHAPES = [  # (T, B, D, H)
    (1, 1, 1, 1),
    (1, 3, 2, 4),
    (5, 1, 3, 2),
    (3, 2, 4, 1),
    (8, 4, 5, 7),
    (20, 2, 3, 16),
]


def torch_lstm_like(torch, layer):
    """A one-layer torch.nn.LSTM holding a copy of ``layer``'s weights (same names and shapes)."""
    dtype = {np.float64: torch.float64, np.float32: torch.float32}[layer.dtype.type]
    ref = torch.nn.LSTM(layer.input_size, layer.hidden_size, dtype=dtype)
    with torch.no_grad():
        for name, value in layer.params.items():
            getattr(ref, name + "_l0").copy_(torch.from_numpy(value))
    return ref


def run_both(torch, shape, dtype, seed=0, forget_bias=0.0):
    T, B, D, H = shape
    rng = np.random.default_rng(seed)
    layer = LSTM(D, H, rng=rng, dtype=dtype, forget_bias=forget_bias)
    x = rng.normal(size=(T, B, D)).astype(dtype)
    h0, c0 = rng.normal(size=(B, H)).astype(dtype), rng.normal(size=(B, H)).astype(dtype)
    # loss = sum(out * R) + sum(h_T * S) + sum(c_T * Q)
    R = rng.normal(size=(T, B, H)).astype(dtype)
    S, Q = rng.normal(size=(B, H)).astype(dtype), rng.normal(size=(B, H)).astype(dtype)

    out, (h_T, c_T) = layer.forward(x, (h0, c0))
    dx, (dh0, dc0) = layer.backward(R, dstate=(S, Q))
    ours = {"out": out, "h_T": h_T, "c_T": c_T, "x": dx, "h0": dh0, "c0": dc0, **layer.grads}

    ref = torch_lstm_like(torch, layer)
    tx = torch.from_numpy(x).requires_grad_()
    th0 = torch.from_numpy(h0[None]).requires_grad_()  # torch's states are (num_layers, B, H)
    tc0 = torch.from_numpy(c0[None]).requires_grad_()
    tout, (th_T, tc_T) = ref(tx, (th0, tc0))
    loss = (tout * torch.from_numpy(R)).sum()
    loss = loss + (th_T[0] * torch.from_numpy(S)).sum() + (tc_T[0] * torch.from_numpy(Q)).sum()
    loss.backward()
    theirs = {"out": tout, "h_T": th_T[0], "c_T": tc_T[0], "x": tx.grad}
    theirs.update({"h0": th0.grad[0], "c0": tc0.grad[0]})
    theirs.update({name: getattr(ref, name + "_l0").grad for name in layer.params})
    return ours, {name: t.detach().numpy() for name, t in theirs.items()}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-B{}-D{}-H{}".format(*s))
def test_float64_parity(torch, shape):
    ours, theirs = run_both(torch, shape, np.float64)
    assert set(ours) == set(theirs) == {
        "out", "h_T", "c_T", "x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"
    }  # fmt: skip
    for name, value in ours.items():
        assert value.shape == theirs[name].shape, name
        np.testing.assert_allclose(value, theirs[name], rtol=0, atol=1e-10, err_msg=name)


def test_float64_parity_with_forget_bias(torch):
    ours, theirs = run_both(torch, (12, 3, 4, 6), np.float64, seed=5, forget_bias=1.0)
    for name, value in ours.items():
        np.testing.assert_allclose(value, theirs[name], rtol=0, atol=1e-10, err_msg=name)


def test_float32_parity(torch):
    ours, theirs = run_both(torch, (20, 4, 8, 16), np.float32)
    for name, value in ours.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, theirs[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_torch_init_loads_into_tutor(torch):
    # The other direction: weights made by torch drop into tutor.LSTM unchanged.
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 5, dtype=torch.float64)
    layer = LSTM(3, 5, rng=0)
    for name in layer.params:
        layer.params[name][...] = getattr(ref, name + "_l0").detach().numpy()
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    out, (h_T, c_T) = layer.forward(x)
    tout, (th_T, tc_T) = ref(torch.from_numpy(x))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_T, tc_T[0].detach().numpy(), rtol=0, atol=1e-12)
