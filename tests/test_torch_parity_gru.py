"""tutor.GRU against torch.nn.GRU: the same weights must give the same numbers.

The step functions are compared with ``torch.nn.GRUCell``, whose parameters have
the same names and shapes. The ``torch`` fixture (tests/conftest.py) skips these
tests when torch is not installed, or fails them when ``TUTOR_REQUIRE_TORCH=1``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tutor.gru import GRU, gru_step_backward, gru_step_forward

SHAPES = [  # (T, B, D, H)
    (1, 1, 1, 1),
    (1, 3, 2, 4),
    (5, 1, 3, 2),
    (3, 2, 4, 1),
    (8, 4, 5, 7),
    (20, 2, 3, 16),
]
NAMES = {"out", "h_T", "x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"}


def torch_gru_like(torch, layer):
    """A one-layer torch.nn.GRU holding a copy of ``layer``'s weights (same names and shapes)."""
    dtype = {np.float64: torch.float64, np.float32: torch.float32}[layer.dtype.type]
    ref = torch.nn.GRU(layer.input_size, layer.hidden_size, dtype=dtype)
    with torch.no_grad():
        for name, value in layer.params.items():
            getattr(ref, name + "_l0").copy_(torch.from_numpy(value))
    return ref


def run_both(torch, shape, dtype, seed=0, update_bias=0.0):
    T, B, D, H = shape
    rng = np.random.default_rng(seed)
    layer = GRU(D, H, rng=rng, dtype=dtype, update_bias=update_bias)
    x = rng.normal(size=(T, B, D)).astype(dtype)
    h0 = rng.normal(size=(B, H)).astype(dtype)
    R = rng.normal(size=(T, B, H)).astype(dtype)  # loss = sum(out * R) + sum(h_T * S)
    S = rng.normal(size=(B, H)).astype(dtype)

    out, h_T = layer.forward(x, h0)
    dx, dh0 = layer.backward(R, dstate=S)
    ours = {"out": out, "h_T": h_T, "x": dx, "h0": dh0, **layer.grads}

    ref = torch_gru_like(torch, layer)
    tx = torch.from_numpy(x).requires_grad_()
    th0 = torch.from_numpy(h0[None]).requires_grad_()  # torch's h0 is (num_layers, B, H)
    tout, th_T = ref(tx, th0)
    loss = (tout * torch.from_numpy(R)).sum() + (th_T[0] * torch.from_numpy(S)).sum()
    loss.backward()
    theirs = {"out": tout, "h_T": th_T[0], "x": tx.grad, "h0": th0.grad[0]}
    theirs.update({name: getattr(ref, name + "_l0").grad for name in layer.params})
    return ours, {name: t.detach().numpy() for name, t in theirs.items()}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-B{}-D{}-H{}".format(*s))
def test_float64_parity(torch, shape):
    ours, theirs = run_both(torch, shape, np.float64)
    assert set(ours) == set(theirs) == NAMES
    for name, value in ours.items():
        assert value.shape == theirs[name].shape, name
        np.testing.assert_allclose(value, theirs[name], rtol=0, atol=1e-10, err_msg=name)


def test_float64_parity_with_update_bias(torch):
    ours, theirs = run_both(torch, (12, 3, 4, 6), np.float64, seed=5, update_bias=3.0)
    for name, value in ours.items():
        np.testing.assert_allclose(value, theirs[name], rtol=0, atol=1e-10, err_msg=name)


def test_float32_parity(torch):
    ours, theirs = run_both(torch, (20, 4, 8, 16), np.float32)
    for name, value in ours.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, theirs[name], rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 2, 4), (5, 4, 7)], ids=str)
def test_step_functions_match_grucell(torch, shape):
    # One step forward and backward against torch.nn.GRUCell: same names, no "_l0".
    B, D, H = shape
    rng = np.random.default_rng(2)
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    params = {name: p.detach().numpy().copy() for name, p in cell.named_parameters()}
    assert set(params) == NAMES - {"out", "h_T", "x", "h0"}
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


def test_torch_init_loads_into_tutor(torch):
    # The other direction: weights made by torch drop into tutor.GRU unchanged.
    torch.manual_seed(0)
    ref = torch.nn.GRU(3, 5, dtype=torch.float64)
    layer = GRU(3, 5, rng=0)
    for name in layer.params:
        layer.params[name][...] = getattr(ref, name + "_l0").detach().numpy()
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    out, h_T = layer.forward(x)
    tout, th_T = ref(torch.from_numpy(x))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_T, th_T[0].detach().numpy(), rtol=0, atol=1e-12)
