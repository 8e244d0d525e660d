"""Additive (Bahdanau) attention: a learned, soft lookup into the encoder's states.

An encoder-decoder without attention squeezes the whole source sequence into
one fixed-size state. With attention, the decoder may look back at *every*
encoder state ``h_1 .. h_S`` at every step. Given the decoder's state ``s``,
each source position j gets a score, the scores become weights that sum to
one, and the *context* is the weighted mean of the encoder states::

    e_j     = v^T tanh(W_a h_j + U_a s + b)        score of position j
    alpha_j = exp(e_j) / sum_k exp(e_k)            attention weight, a softmax over j
    c       = sum_j alpha_j h_j                    context vector

(Bahdanau, Cho and Bengio 2015). The score is a one-hidden-layer network of
``h_j`` and ``s``; "additive" because ``h_j`` and ``s`` are projected
separately and their projections added. The weights ``alpha`` say where the
decoder looks: plotted for every output step, they show the alignment that the
network learned.

Notation: as everywhere in the book, ``W`` multiplies what is read (here the
encoder states) and ``U`` the state (here the decoder's). Bahdanau et al. name
the two matrices the other way round (their ``W_a`` multiplies ``s``). In code,
with a batch of row vectors: ``W_a`` is ``weight_enc``, ``(A, H_enc)``, ``U_a`` is
``weight_dec``, ``(A, H_dec)``, ``b`` is ``bias``, ``(A,)``, and ``v`` is ``v``,
``(A,)``, where A is the size of the score network's hidden layer.

The term ``W_a h_j + b`` does not depend on the decoder's step, so it is
computed once for all j, as the *keys* ``(S, B, A)``, by :func:`attention_keys`;
each decoder step then costs one ``(B, H_dec) @ (H_dec, A)`` product, a tanh over
``(S, B, A)`` and two weighted sums. :func:`additive_attention_forward` is one
step, :func:`additive_attention_backward` its chain rule, and
:func:`attention_keys_backward` the chain rule of the keys, which the decoder
calls once after it has summed the gradients of the keys over all its steps.

Shapes: S source positions, B sequences in a batch, ``H_enc`` and ``H_dec``
the sizes of the encoder's and the decoder's states, A the attention size.
An optional ``mask`` ``(S, B)`` of bools marks the real source positions of
padded sequences: a position where it is False gets the weight exactly 0.
"""

from __future__ import annotations

import numpy as np

from tutor._checks import (
    as_rng,
    check_float_array,
    check_int,
    check_ndim,
    check_shape,
)

__all__ = [
    "init_additive_attention",
    "attention_keys",
    "attention_keys_backward",
    "additive_attention_forward",
    "additive_attention_backward",
]

PARAM_NAMES = ("weight_enc", "weight_dec", "bias", "v")
CACHE_KEYS = ("s", "enc_out", "z", "weights")


def init_additive_attention(
    enc_size: int,
    dec_size: int,
    attention_size: int,
    *,
    rng: int | np.random.Generator,
    dtype: type | np.dtype = np.float64,
) -> dict[str, np.ndarray]:
    """The four parameters of additive attention, initialised like a dense layer.

    Args:
        enc_size: ``H_enc``, the size of an encoder state.
        dec_size: ``H_dec``, the size of the decoder's state.
        attention_size: A, the size of the score network's hidden layer.
        rng: an ``int`` seed or a ``numpy.random.Generator``.
        dtype: ``np.float64`` (default; needed for gradient checks) or ``np.float32``.

    Returns:
        ``{"weight_enc": (A, H_enc), "weight_dec": (A, H_dec), "bias": (A,), "v": (A,)}``.
        Each matrix (and ``v``) is drawn uniformly from ``[-1/sqrt(n), 1/sqrt(n)]``
        with n the number of its columns (its inputs), as ``torch.nn.Linear`` does;
        ``bias`` starts at zero.
    """
    for name, value in (
        ("enc_size", enc_size),
        ("dec_size", dec_size),
        ("attention_size", attention_size),
    ):
        check_int(name, value)
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"dtype must be np.float64 or np.float32; got {dtype.name}."
        )
    rng = as_rng(rng)

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(dtype)

    return {
        "weight_enc": uniform((attention_size, enc_size), enc_size),
        "weight_dec": uniform((attention_size, dec_size), dec_size),
        "bias": np.zeros(attention_size, dtype=dtype),
        "v": uniform((attention_size,), attention_size),
    }


def attention_keys(
    enc_out: np.ndarray, weight_enc: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """The encoder's side of every score, ``W_a h_j + b``, for all positions j at once.

    Computed once per source sequence and shared by all the decoder's steps.

    Args:
        enc_out: the encoder's states ``h_1 .. h_S``, ``(S, B, H_enc)``.
        weight_enc: ``W_a``, ``(A, H_enc)``.
        bias: b, ``(A,)``.

    Returns:
        The keys ``enc_out @ weight_enc.T + bias``, ``(S, B, A)``.
    """
    enc_out = _check_enc_out(enc_out)
    weight_enc = check_float_array("weight_enc", weight_enc, enc_out.dtype)
    check_shape(
        "weight_enc", weight_enc, (None, enc_out.shape[2]), "(A, H_enc)"
    )
    bias = check_float_array("bias", bias, enc_out.dtype)
    check_shape("bias", bias, (weight_enc.shape[0],), "(A,)")
    return enc_out @ weight_enc.T + bias


def attention_keys_backward(
    dkeys: np.ndarray, enc_out: np.ndarray, weight_enc: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The backward pass of :func:`attention_keys`.

    Args:
        dkeys: the gradient of the loss with respect to the keys, ``(S, B, A)``, summed
            over all the decoder steps that used them.
        enc_out: the encoder's states given to :func:`attention_keys`, ``(S, B, H_enc)``.
        weight_enc: ``W_a``, ``(A, H_enc)``.

    Returns:
        The gradient with respect to ``enc_out``, ``(S, B, H_enc)``, and the dict of
        parameter gradients ``{"weight_enc": (A, H_enc), "bias": (A,)}``, summed over
        positions and batch, as the pair ``(denc_out, grads)``.
    """
    enc_out = _check_enc_out(enc_out)
    S, B, H_enc = enc_out.shape
    weight_enc = check_float_array("weight_enc", weight_enc, enc_out.dtype)
    check_shape("weight_enc", weight_enc, (None, H_enc), "(A, H_enc)")
    A = weight_enc.shape[0]
    dkeys = check_float_array("dkeys", dkeys, enc_out.dtype)
    check_shape("dkeys", dkeys, (S, B, A), "(S, B, A)")
    dkey_rows = dkeys.reshape(
        S * B, A
    )  # every (position, sequence) pair is one row
    grads = {
        "weight_enc": dkey_rows.T @ enc_out.reshape(S * B, H_enc),
        "bias": dkey_rows.sum(axis=0),
    }
    return dkeys @ weight_enc, grads


def additive_attention_forward(
    s: np.ndarray,
    enc_out: np.ndarray,
    keys: np.ndarray,
    weight_dec: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One step of additive attention: scores, weights over the source, context.

    ``e_j = v^T tanh(keys_j + U_a s)``, ``alpha = softmax(e)`` over the S
    positions, ``c = sum_j alpha_j h_j``, for every sequence of the batch at
    once.

    Args:
        s: the decoder's state, ``(B, H_dec)``.
        enc_out: the encoder's states ``h_1 .. h_S``, ``(S, B, H_enc)``.
        keys: ``W_a h_j + b`` for every j, ``(S, B, A)``, from
            :func:`attention_keys`.
        weight_dec: ``U_a``, ``(A, H_dec)``.
        v: ``(A,)``, the weights that turn the hidden layer of the score into a
            number.
        mask: ``(S, B)`` bools, True at the real positions of each source
            sequence; ``None`` means every position is real. Each sequence needs
            at least one.

    Returns:
        The context ``c``, ``(B, H_enc)``, the attention weights ``alpha``,
        ``(S, B)`` (each column sums to 1; 0 where ``mask`` is False), and a
        dict ``cache`` of what :func:`additive_attention_backward` needs
        (``"s"``, ``"enc_out"``, ``"z"`` the hidden layer of the scores
        ``(S, B, A)``, and ``"weights"``), as the tuple
        ``(context, weights, cache)``.
    """
    _check_step(s, enc_out, keys, weight_dec, v)
    # (S, B, A): the (B, A) term is broadcast over j
    z = np.tanh(keys + s @ weight_dec.T)
    scores = z @ v  # (S, B), e_j for every position and sequence
    if mask is not None:
        scores = np.where(_check_mask(mask, scores.shape), scores, -np.inf)
    # softmax over the positions j (axis 0)
    weights = np.exp(scores - scores.max(axis=0))
    weights /= weights.sum(axis=0)  # exp(-inf) = 0 at the masked ones
    # (B, H_enc): sum_j alpha_j h_j
    context = np.einsum("sb,sbh->bh", weights, enc_out)
    cache = {"s": s, "enc_out": enc_out, "z": z, "weights": weights}
    return context, weights, cache


def additive_attention_backward(
    dcontext: np.ndarray,
    cache: dict[str, np.ndarray],
    weight_dec: np.ndarray,
    v: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The chain rule back through :func:`additive_attention_forward`.

    Args:
        dcontext: the gradient of the loss with respect to the context,
            ``(B, H_enc)``.
        cache: the dict returned by :func:`additive_attention_forward`.
        weight_dec: ``U_a``, ``(A, H_dec)``, as in the forward step.
        v: ``(A,)``.

    Returns:
        The gradients with respect to ``s``, ``(B, H_dec)``, ``enc_out``,
        ``(S, B, H_enc)``, and ``keys``, ``(S, B, A)``, and a dict of the
        parameter gradients ``{"weight_dec": (A, H_dec), "v": (A,)}``, summed
        over the batch, as the tuple ``(ds, denc_out, dkeys, grads)``. The
        encoder's states get gradient along two paths: here through the weighted
        sum, and through the keys (pass ``dkeys``, summed over steps, to
        :func:`attention_keys_backward`).
    """
    _check_backward(dcontext, cache, weight_dec, v)
    s, enc_out, z, weights = (
        cache["s"],
        cache["enc_out"],
        cache["z"],
        cache["weights"],
    )
    # c = sum_j alpha_j h_j
    # (S, B): dL/dalpha_j = h_j . dc
    dweights = np.einsum("sbh,bh->sb", enc_out, dcontext)
    # (S, B, H_enc): dL/dh_j = alpha_j dc
    denc_out = weights[:, :, None] * dcontext
    # alpha = softmax(e) over j:
    # de_j = alpha_j (dalpha_j - sum_k alpha_k dalpha_k)
    # 0 where masked
    dscores = weights * (dweights - (weights * dweights).sum(axis=0))
    # e_j = v . z_j with z_j = tanh(keys_j + U_a s)
    S, B, A = z.shape
    dv = dscores.reshape(S * B) @ z.reshape(S * B, A)
    # (S, B, A), through v and the tanh
    dkeys = dscores[:, :, None] * v * (1.0 - z * z)
    dquery = dkeys.sum(axis=0)  # (B, A): U_a s is shared by all positions j
    grads = {"weight_dec": dquery.T @ s, "v": dv}
    ds = dquery @ weight_dec
    return ds, denc_out, dkeys, grads


def _check_enc_out(enc_out: object) -> np.ndarray:
    """Return ``enc_out`` as a floating ``(S, B, H_enc)`` array, or raise ``ValueError``."""
    enc_out = check_float_array("enc_out", enc_out)
    check_ndim(
        "enc_out",
        enc_out,
        3,
        "(S, B, H_enc)",
        "The encoder's states are time-major: one (B, H_enc) row block per source position.",
    )
    return enc_out


def _check_step(s, enc_out, keys, weight_dec, v) -> None:
    """Check that the arguments of one forward step fit together."""
    enc_out = _check_enc_out(enc_out)
    S, B, _ = enc_out.shape
    dtype = enc_out.dtype
    weight_dec = check_float_array("weight_dec", weight_dec, dtype)
    check_shape("weight_dec", weight_dec, (None, None), "(A, H_dec)")
    A, H_dec = weight_dec.shape
    s = check_float_array("s", s, dtype)
    hint = "s is the decoder's state for each of the B sequences of enc_out."
    check_shape("s", s, (B, H_dec), "(B, H_dec)", hint)
    keys = check_float_array("keys", keys, dtype)
    check_shape(
        "keys",
        keys,
        (S, B, A),
        "(S, B, A)",
        "Compute them with attention_keys.",
    )
    check_shape("v", check_float_array("v", v, dtype), (A,), "(A,)")


def _check_mask(mask: object, shape: tuple[int, int]) -> np.ndarray:
    """Return ``mask`` as a bool ``(S, B)`` array with a True in every column."""
    mask = np.asarray(mask)
    check_shape(
        "mask",
        mask,
        shape,
        "(S, B)",
        "One entry per source position and sequence.",
    )
    if mask.dtype != bool:
        raise ValueError(
            f"mask must hold bools (True at real positions); got dtype {mask.dtype}. "
            f"Pass for example mask=(src != pad)."
        )
    empty = np.flatnonzero(~mask.any(axis=0))
    if empty.size:
        raise ValueError(
            f"mask leaves no position to attend to in sequence {int(empty[0])} (column "
            f"{int(empty[0])} is all False); every sequence needs at least one True."
        )
    return mask


def _check_backward(dcontext, cache, weight_dec, v) -> None:
    """Check the arguments of one backward step against the cache of the forward step."""
    if not isinstance(cache, dict):
        raise ValueError(
            "cache must be the dict returned by additive_attention_forward; got "
            f"{type(cache).__name__}."
        )
    missing = sorted(set(CACHE_KEYS) - set(cache))
    if missing:
        raise ValueError(
            f"cache must be the dict returned by additive_attention_forward; it lacks {missing}."
        )
    S, B, A = np.shape(cache["z"])
    H_enc = np.shape(cache["enc_out"])[2]
    dtype = np.asarray(cache["z"]).dtype
    dcontext = check_float_array("dcontext", dcontext, dtype)
    check_shape(
        "dcontext",
        dcontext,
        (B, H_enc),
        "(B, H_enc)",
        "It has the context's shape.",
    )
    weight_dec = check_float_array("weight_dec", weight_dec, dtype)
    check_shape(
        "weight_dec", weight_dec, (A, np.shape(cache["s"])[1]), "(A, H_dec)"
    )
    check_shape("v", check_float_array("v", v, dtype), (A,), "(A,)")
