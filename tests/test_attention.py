"""Tests of tutor.attention: one step of additive attention, its keys, and their backward passes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.attention import (
    additive_attention_backward,
    additive_attention_forward,
    attention_keys,
    attention_keys_backward,
    init_additive_attention,
)
from tutor.gradcheck import gradcheck

small = st.integers(min_value=1, max_value=4)


def make_case(rng, S, B, H_enc, H_dec, A, scale=1.0):
    """Random encoder states, decoder state and parameters, scaled so the scores vary."""
    return {
        "enc_out": rng.normal(size=(S, B, H_enc)),
        "s": rng.normal(size=(B, H_dec)),
        "weight_enc": rng.normal(size=(A, H_enc)) * scale,
        "weight_dec": rng.normal(size=(A, H_dec)) * scale,
        "bias": rng.normal(size=A),
        "v": rng.normal(size=A) * 2.0,
    }


def random_mask(rng, S, B):
    """A random (S, B) mask with at least one True per column."""
    mask = rng.random((S, B)) < 0.6
    mask[rng.integers(0, S, size=B), np.arange(B)] = True
    return mask


def run(case, mask=None):
    """Keys, then one step: the path a decoder takes."""
    keys = attention_keys(case["enc_out"], case["weight_enc"], case["bias"])
    return additive_attention_forward(
        case["s"], case["enc_out"], keys, case["weight_dec"], case["v"], mask
    )


def run_backward(case, dcontext, cache):
    """The chain rule of :func:`run`: the step, then the keys; all gradients by name."""
    ds, denc, dkeys, grads = additive_attention_backward(
        dcontext, cache, case["weight_dec"], case["v"]
    )
    denc_keys, key_grads = attention_keys_backward(dkeys, case["enc_out"], case["weight_enc"])
    return {"s": ds, "enc_out": denc + denc_keys, **grads, **key_grads}


# --- forward -------------------------------------------------------------------------------


def test_forward_by_hand():
    # Two positions, one sequence, everything of size one: e_j = v * tanh(w h_j + b + u s).
    enc_out = np.array([[[1.0]], [[-2.0]]])  # (S, B, H_enc) = (2, 1, 1)
    s, w, u, b, v = np.array([[0.5]]), np.array([[0.3]]), np.array([[0.7]]), np.array([0.1]), 2.0
    keys = attention_keys(enc_out, w, b)
    np.testing.assert_allclose(keys[:, 0, 0], [0.4, -0.5])
    context, weights, _ = additive_attention_forward(s, enc_out, keys, u, np.array([v]))
    e = v * np.tanh(np.array([0.4, -0.5]) + 0.35)
    alpha = np.exp(e) / np.exp(e).sum()
    np.testing.assert_allclose(weights[:, 0], alpha, rtol=1e-14)
    np.testing.assert_allclose(context[0, 0], alpha @ [1.0, -2.0], rtol=1e-14)


def test_forward_equals_a_loop_over_positions_and_sequences():
    rng = np.random.default_rng(0)
    S, B, H_enc, H_dec, A = 5, 3, 4, 2, 6
    case = make_case(rng, S, B, H_enc, H_dec, A)
    context, weights, _ = run(case)
    assert context.shape == (B, H_enc) and weights.shape == (S, B)
    for b in range(B):
        e = np.array(
            [
                case["v"]
                @ np.tanh(
                    case["weight_enc"] @ case["enc_out"][j, b]
                    + case["weight_dec"] @ case["s"][b]
                    + case["bias"]
                )
                for j in range(S)
            ]
        )
        alpha = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        np.testing.assert_allclose(weights[:, b], alpha, rtol=1e-12)
        np.testing.assert_allclose(context[b], alpha @ case["enc_out"][:, b], rtol=1e-12)


def test_weights_sum_to_one_and_masked_positions_get_zero():
    rng = np.random.default_rng(1)
    S, B = 7, 4
    case = make_case(rng, S, B, 3, 3, 5, scale=3.0)
    mask = random_mask(rng, S, B)
    context, weights, _ = run(case, mask)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, rtol=1e-14)
    assert (weights[~mask] == 0.0).all()
    assert (weights[mask] > 0).all()
    # The masked positions do not matter: change their states and keys, nothing changes.
    other = dict(case, enc_out=case["enc_out"] + 100.0 * ~mask[:, :, None])
    context2, weights2, _ = run(other, mask)
    np.testing.assert_allclose(context2, context, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(weights2, weights, rtol=1e-13, atol=1e-15)


def test_all_true_mask_equals_no_mask_and_zero_v_gives_uniform_weights():
    rng = np.random.default_rng(2)
    case = make_case(rng, 4, 2, 3, 3, 3)
    context, weights, _ = run(case)
    context2, weights2, _ = run(case, np.ones((4, 2), dtype=bool))
    np.testing.assert_array_equal(weights, weights2)
    np.testing.assert_array_equal(context, context2)
    # With v = 0 every score is 0: the context is the plain mean of the real positions.
    mask = np.array([[True, False], [True, True], [False, True], [True, True]])
    context, weights, _ = run(dict(case, v=np.zeros(3)), mask)
    np.testing.assert_allclose(weights, mask / mask.sum(axis=0))
    np.testing.assert_allclose(context[0], case["enc_out"][[0, 1, 3], 0].mean(axis=0))


def test_large_scores_stay_finite():
    rng = np.random.default_rng(3)
    case = make_case(rng, 6, 2, 3, 3, 3)
    _, weights, _ = run(dict(case, v=np.full(3, 1e4)))
    assert np.isfinite(weights).all()
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)


def test_float32_stays_float32():
    rng = np.random.default_rng(4)
    case = {k: v.astype(np.float32) for k, v in make_case(rng, 3, 2, 4, 5, 6).items()}
    context, weights, cache = run(case)
    assert context.dtype == weights.dtype == np.float32
    grads = run_backward(case, np.ones_like(context), cache)
    assert all(g.dtype == np.float32 for g in grads.values())


# --- backward ------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    S=small,
    B=small,
    H_enc=small,
    H_dec=small,
    A=small,
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_backward_gradcheck(S, B, H_enc, H_dec, A, masked, seed):
    rng = np.random.default_rng(seed)
    case = make_case(rng, S, B, H_enc, H_dec, A)
    mask = random_mask(rng, S, B) if masked else None
    R = rng.normal(size=(B, H_enc))  # loss = sum(context * R), so dcontext = R

    def loss():
        return float((run(case, mask)[0] * R).sum())

    _, _, cache = run(case, mask)
    grads = run_backward(case, R, cache)
    errors = gradcheck(loss, case, grads)
    assert max(errors.values()) < 1e-6, errors


def test_backward_by_hand_for_one_position():
    # With S = 1 the weight is 1 whatever the score: c = h_1, so only enc_out gets gradient.
    rng = np.random.default_rng(5)
    case = make_case(rng, 1, 2, 3, 4, 5)
    context, weights, cache = run(case)
    np.testing.assert_array_equal(weights, 1.0)
    np.testing.assert_allclose(context, case["enc_out"][0])
    R = rng.normal(size=(2, 3))
    grads = run_backward(case, R, cache)
    np.testing.assert_allclose(grads["enc_out"][0], R)
    for name in ("s", "weight_enc", "weight_dec", "bias", "v"):
        np.testing.assert_allclose(grads[name], 0.0, atol=1e-15)


def test_backward_matches_torch_autograd(torch):
    rng = np.random.default_rng(6)
    S, B, H_enc, H_dec, A = 6, 3, 4, 5, 7
    case = make_case(rng, S, B, H_enc, H_dec, A)
    mask = random_mask(rng, S, B)
    R = rng.normal(size=(B, H_enc))
    context, weights, cache = run(case, mask)
    grads = run_backward(case, R, cache)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in case.items()}
    keys = t["enc_out"] @ t["weight_enc"].T + t["bias"]
    scores = torch.tanh(keys + t["s"] @ t["weight_dec"].T) @ t["v"]
    scores = scores.masked_fill(~torch.tensor(mask), float("-inf"))
    alpha = torch.softmax(scores, dim=0)
    ctx = (alpha[:, :, None] * t["enc_out"]).sum(dim=0)
    (ctx * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(context, ctx.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights, alpha.detach().numpy(), rtol=1e-12, atol=1e-14)
    for name, value in t.items():
        np.testing.assert_allclose(grads[name], value.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- parameters and input checks -----------------------------------------------------------


def test_init_shapes_bounds_and_seed():
    p = init_additive_attention(4, 5, 6, rng=0)
    assert {k: v.shape for k, v in p.items()} == {
        "weight_enc": (6, 4),
        "weight_dec": (6, 5),
        "bias": (6,),
        "v": (6,),
    }
    assert all(v.dtype == np.float64 for v in p.values())
    assert np.abs(p["weight_enc"]).max() <= 1 / np.sqrt(4)
    assert np.abs(p["weight_dec"]).max() <= 1 / np.sqrt(5)
    assert np.abs(p["v"]).max() <= 1 / np.sqrt(6)
    np.testing.assert_array_equal(p["bias"], 0.0)
    again = init_additive_attention(4, 5, 6, rng=0)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    p32 = init_additive_attention(4, 5, 6, rng=0, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in p32.values())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"enc_size": 0}, r"enc_size.*(positive|>= 1|at least 1).*\b0\b"),
        ({"dec_size": 2.0}, r"dec_size.*(positive|>= 1|at least 1).*2\.0"),
        ({"attention_size": True}, r"attention_size.*(positive|>= 1|at least 1).*True"),
        ({"dtype": np.float16}, r"dtype.*float64.*float32.*float16"),
        ({"rng": None}, r"rng.*int seed.*Generator.*NoneType"),
    ],
)
def test_init_errors(kwargs, match):
    args = {"enc_size": 2, "dec_size": 2, "attention_size": 2, "rng": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        init_additive_attention(**args)


def good_step_args():
    rng = np.random.default_rng(7)
    case = make_case(rng, 5, 3, 4, 2, 6)
    keys = attention_keys(case["enc_out"], case["weight_enc"], case["bias"])
    return {
        "s": case["s"],
        "enc_out": case["enc_out"],
        "keys": keys,
        "weight_dec": case["weight_dec"],
        "v": case["v"],
    }


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"s": np.zeros((2,))}, r"\bs\b.*\(B, H_dec\) = \(3, 2\).*\(2,\)"),
        ({"s": np.zeros((2, 3))}, r"\bs\b.*\(B, H_dec\) = \(3, 2\).*\(2, 3\)"),
        ({"enc_out": np.zeros((5, 4))}, r"enc_out.*3 axes.*\(S, B, H_enc\).*\(5, 4\)"),
        ({"keys": np.zeros((5, 3, 4))}, r"keys.*\(S, B, A\) = \(5, 3, 6\).*\(5, 3, 4\)"),
        ({"v": np.zeros(5)}, r"\bv\b.*\(A,\) = \(6,\).*\(5,\)"),
        ({"weight_dec": np.zeros(6)}, r"weight_dec.*\(A, H_dec\).*\(6,\)"),
        ({"s": np.zeros((3, 2), dtype=np.float32)}, r"\bs\b.*dtype float64.*float32"),
        ({"s": np.zeros((3, 2), dtype=int)}, r"\bs\b.*floating.*int64"),
        ({"mask": np.ones((3, 5), dtype=bool)}, r"mask.*\(S, B\) = \(5, 3\).*\(3, 5\)"),
        ({"mask": np.ones((5, 3))}, r"mask.*bool.*float64"),
        ({"mask": np.eye(5, 3, k=1, dtype=bool)}, r"mask.*no position.*sequence 0"),
    ],
)
def test_step_errors_name_the_argument(change, match):
    with pytest.raises(ValueError, match=match):
        additive_attention_forward(**(good_step_args() | change))


def test_keys_and_backward_errors():
    args = good_step_args()
    enc_out = args["enc_out"]
    with pytest.raises(ValueError, match=r"weight_enc.*\(A, H_enc\) = \(\?, 4\).*\(6, 3\)"):
        attention_keys(enc_out, np.zeros((6, 3)), np.zeros(6))
    with pytest.raises(ValueError, match=r"bias.*\(A,\) = \(6,\).*\(4,\)"):
        attention_keys(enc_out, np.zeros((6, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"dkeys.*\(S, B, A\) = \(5, 3, 6\).*\(5, 3, 4\)"):
        attention_keys_backward(np.zeros((5, 3, 4)), enc_out, np.zeros((6, 4)))
    context, _, cache = additive_attention_forward(**args)
    w, v = args["weight_dec"], args["v"]
    with pytest.raises(ValueError, match=r"dcontext.*\(B, H_enc\) = \(3, 4\).*\(4, 3\)"):
        additive_attention_backward(np.zeros((4, 3)), cache, w, v)
    with pytest.raises(ValueError, match=r"cache.*dict.*additive_attention_forward.*tuple"):
        additive_attention_backward(context, (1, 2), w, v)
    with pytest.raises(ValueError, match=r"cache.*additive_attention_forward.*lacks \['z'\]"):
        additive_attention_backward(context, {k: c for k, c in cache.items() if k != "z"}, w, v)
    with pytest.raises(ValueError, match=r"weight_dec.*\(A, H_dec\) = \(6, 2\).*\(2, 6\)"):
        additive_attention_backward(context, cache, w.T, v)
