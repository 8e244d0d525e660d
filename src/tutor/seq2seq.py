"""An encoder-decoder for sequences of symbols, with or without additive attention.

The chapter "Beyond LSTMs: attention and memory" asks how far one fixed-size
state can carry a whole sequence. An *encoder*, one of the book's recurrent
layers, reads the source symbols ``x_1 .. x_S`` and produces the states
``h_1 .. h_S``. A *decoder*, a recurrent cell of the same kind, then writes the
target one symbol per step, starting from the encoder's last state. At step t
its input is the previous target symbol ``y_{t-1}`` (a start symbol at t = 1)
and its state is ``s_t``; a dense readout turns the state into scores (logits)
over the output symbols.

*Without attention* that is all: the encoder's last state is the only thing
the decoder knows about the source. *With attention* (Bahdanau, Cho and Bengio
2015) the decoder also reads a context ``c_t``, a weighted mean of all encoder
states whose weights depend on the decoder's state (see :mod:`tutor.attention`)::

    c_t = attention(s_{t-1}, h_1 .. h_S)         context, from the previous state
    s_t = cell([onehot(y_{t-1}), c_t], s_{t-1})    the decoder's step
    logits_t = [s_t, c_t] W_out^T + b_out          the readout

Because ``c_t`` depends on ``s_{t-1}``, the decoder's input is not known before
it runs, so the decoder is a loop over the step functions of its cell
(``tutor.gru.gru_step_forward`` and so on, which share one form: the state
and a cache forward, the state's gradients and the cache backward), not a
sequence layer.

Training uses *teacher forcing*: the decoder's input at step t is the true
previous target symbol, so all T steps run in one pass and the loss is the mean
cross-entropy of the ``T * B`` predictions. :meth:`Seq2Seq.predict` decodes
greedily instead: each step's input is the decoder's own previous answer.
:meth:`Seq2Seq.beam_search` keeps several candidate answers (:mod:`tutor.beam`).

Shapes: S source positions, T target positions, B sequences, H the hidden size
of both encoder and decoder, A the attention size. Ids are time-major integer
arrays, ``src`` ``(S, B)`` and ``tgt`` ``(T, B)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from tutor._cells import check_cell, make_layer
from tutor._checks import (
    as_rng,
    check_float_array,
    check_int,
    check_int_array,
    check_ndim,
    check_shape,
)
from tutor._recurrent import check_dtype
from tutor.attention import _check_mask as check_attention_mask
from tutor.attention import (
    additive_attention_backward,
    additive_attention_forward,
    attention_keys,
    attention_keys_backward,
    init_additive_attention,
)
from tutor.beam import BeamSearchResult, beam_search
from tutor.feedforward import Dense
from tutor.functional import log_softmax, softmax_cross_entropy
from tutor.gru import gru_step_backward, gru_step_forward
from tutor.lstm import lstm_step_backward, lstm_step_forward
from tutor.optim import Adam
from tutor.rnn import rnn_step_backward, rnn_step_forward
from tutor.train import History, train

__all__ = [
    "Seq2Seq",
    "Seq2SeqScore",
    "evaluate_seq2seq",
    "score_by_length",
    "train_seq2seq",
]


class Seq2Seq:
    """An encoder-decoder over symbol ids, with a hand-written backward pass.

    Args:
        vocab_in: the number of source symbols; source ids lie in ``0 .. vocab_in-1``.
        vocab_out: the number of target symbols; target ids lie in ``0 .. vocab_out-1``.
            The decoder reads one more symbol, the start symbol, whose id is
            ``vocab_out`` (the attribute ``start``); it is never a target.
        hidden_size: H, the size of the encoder's and the decoder's states.
        attention: whether the decoder reads a context from additive attention at each
            step. Without it the decoder starts from the encoder's last state and reads
            only the previous symbol.
        cell: ``"gru"``, ``"lstm"`` or ``"rnn"`` (Elman, tanh): the kind of both the
            encoder (:class:`tutor.gru.GRU`, :class:`tutor.lstm.LSTM` or :class:`tutor.rnn.RNN`)
            and the decoder's cell. For the LSTM the decoder
            starts from the encoder's last pair ``(h, c)``.
        attention_size: A, the size of the attention's score network; ``None`` means H.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the initial weights.
        dtype: ``np.float64`` (default; needed for gradient checks) or ``np.float32``.

    Attributes:
        encoder: the encoder, a recurrent layer with input size ``vocab_in``.
        decoder: a layer of the same kind that holds the decoder's ``params`` and
            ``grads``; its input size is ``vocab_out + 1`` (one-hot previous symbol),
            plus H with attention (the context). The model runs it one step at a time.
        attention: the parameters of the attention (see
            :func:`tutor.attention.init_additive_attention`), or ``None``.
        readout: a :class:`tutor.feedforward.Dense` layer from ``[s_t, c_t]`` (2H
            features; H without attention) to ``vocab_out`` logits.
        params: every parameter in one flat dict, keyed ``"encoder.weight_ih"``,
            ``"decoder.weight_hh"``, ``"attention.v"``, ``"readout.weight"``, ...; the
            arrays are the parts' own, so an optimiser updates the model in place.
        grads: the same keys, filled by :meth:`backward`.
        start: the id of the start symbol, ``vocab_out``.

    Example:
        >>> model = Seq2Seq(5, 5, 8, rng=0)
        >>> # S = 3 positions, B = 2 sequences:
        >>> src = np.array([[0, 1], [2, 3], [4, 0]])
        >>> loss, grads = model.loss_and_grads(src, src)
        >>> ids, weights = model.predict(src, max_len=3)
        >>> ids.shape, weights.shape, np.allclose(weights.sum(axis=1), 1.0)
        ((3, 2), (3, 3, 2), True)
    """

    def __init__(
        self,
        vocab_in: int,
        vocab_out: int,
        hidden_size: int,
        *,
        attention: bool = True,
        cell: str = "gru",
        attention_size: int | None = None,
        rng: int | np.random.Generator,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        for name, value in (
            ("vocab_in", vocab_in),
            ("vocab_out", vocab_out),
            ("hidden_size", hidden_size),
        ):
            check_int(name, value)
        if not isinstance(attention, (bool, np.bool_)):
            raise ValueError(
                f"attention must be True or False; got {attention!r}."
            )
        check_cell(cell)
        if attention_size is None:
            attention_size = hidden_size
        check_int("attention_size", attention_size)
        self.dtype = check_dtype(dtype)
        self.vocab_in, self.vocab_out = int(vocab_in), int(vocab_out)
        self.hidden_size, self.attention_size = (
            int(hidden_size),
            int(attention_size),
        )
        self.cell, self.use_attention = cell, bool(attention)
        # The id of the start symbol, the decoder's input at the first step.
        self.start = self.vocab_out
        rng = as_rng(rng)
        H = self.hidden_size
        self.encoder = make_layer(
            cell, self.vocab_in, H, rng=rng, dtype=self.dtype
        )
        context_size = H if self.use_attention else 0
        self.decoder = make_layer(
            cell,
            self.vocab_out + 1 + context_size,
            H,
            rng=rng,
            dtype=self.dtype,
        )
        self.attention = None
        if self.use_attention:
            self.attention = init_additive_attention(
                H, H, self.attention_size, rng=rng, dtype=self.dtype
            )
            self._attention_grads = {
                k: np.zeros_like(v) for k, v in self.attention.items()
            }
        self.readout = Dense(H + context_size, self.vocab_out, rng, self.dtype)
        parts = {
            "encoder": self.encoder,
            "decoder": self.decoder,
            "readout": self.readout,
        }
        self.params = _flat({k: part.params for k, part in parts.items()})
        self.grads = _flat({k: part.grads for k, part in parts.items()})
        if self.use_attention:
            self.params.update(_flat({"attention": self.attention}))
            self.grads.update(_flat({"attention": self._attention_grads}))
        self._in_eye = np.eye(self.vocab_in, dtype=self.dtype)
        self._one_hot = np.eye(
            self.vocab_out + 1, dtype=self.dtype
        )  # + the start symbol
        self._cache = None

    def __repr__(self) -> str:
        return (
            f"Seq2Seq(vocab_in={self.vocab_in}, vocab_out={self.vocab_out}, "
            f"hidden_size={self.hidden_size}, attention={self.use_attention}, "
            f"cell={self.cell!r}, attention_size={self.attention_size}, "
            f"dtype=np.{self.dtype.name})"
        )

    def forward(
        self,
        src: np.ndarray,
        tgt: np.ndarray,
        src_mask: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Run encoder and decoder with teacher forcing.

        Args:
            src: source ids, ``(S, B)``, integers in ``0 .. vocab_in-1``.
            tgt: target ids, ``(T, B)``, integers in ``0 .. vocab_out-1``. The decoder's
                input at step t is ``tgt[t - 1]`` (the start symbol at t = 0).
            src_mask: ``(S, B)`` bools, True at the real positions of padded sources;
                attention gives the others the weight 0. Pad sources *at the start*,
                so that the encoder's last state follows the last real symbol.
                Without attention the mask is not used: the encoder reads every position.

        Returns:
            The logits of every target position, ``(T, B, vocab_out)``, and the
            attention weights ``(T, S, B)`` (``weights[t, :, b]`` is the distribution
            over the source positions when writing symbol t of sequence b; ``None``
            without attention), as the pair ``(logits, weights)``.
        """
        src, tgt = self._check_ids(src, tgt)
        (S, B), T = src.shape, tgt.shape[0]
        src_mask = self._check_src_mask(src_mask, src.shape)
        enc_out, keys, state = self._encode(src)
        start = np.full((1, B), self.start)
        # (T, B, vocab_out + 1)
        inputs = self._one_hot[np.concatenate([start, tgt[:-1]])]
        features = np.empty((T, B, self.readout.in_features), dtype=self.dtype)
        weights = (
            np.empty((T, S, B), dtype=self.dtype)
            if self.use_attention
            else None
        )
        caches = []
        # teacher forcing: step t reads the true symbol tgt[t - 1]
        for t in range(T):
            features[t], state, alpha, cache = self._decoder_step(
                inputs[t], state, enc_out, keys, src_mask
            )
            caches.append(cache)
            if weights is not None:
                weights[t] = alpha
        # all T steps in one matrix product
        logits = self.readout.forward(features)
        self._cache = (enc_out, keys, caches)
        return logits, weights

    def backward(self, dlogits: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagate through the last :meth:`forward` and fill ``grads``.

        Args:
            dlogits: the gradient of the loss with respect to the logits,
                ``(T, B, vocab_out)``.

        Returns:
            The dict ``grads``, overwritten in place.
        """
        if self._cache is None:
            raise RuntimeError(
                "Seq2Seq.backward needs the values of a forward pass: call "
                "logits, weights = model.forward(src, tgt) first (predict does not count: "
                "it replaces what backward needs)."
            )
        enc_out, keys, caches = self._cache
        T = len(caches)
        S, B, H = enc_out.shape
        dlogits = check_float_array("dlogits", dlogits, self.dtype)
        check_shape(
            "dlogits",
            dlogits,
            (T, B, self.vocab_out),
            "(T, B, vocab_out)",
            "It must have the shape of the logits of the last forward.",
        )
        # the decoder's one-hot input: vocab_out symbols and the start
        V = self.vocab_out + 1
        # (T, B, H [+ H]); fills the readout's grads
        dfeatures = self.readout.backward(dlogits)
        dec = self.decoder.params
        dec_grads = {
            name: np.zeros_like(g) for name, g in self.decoder.grads.items()
        }
        # The gradient that reaches s_t from step t + 1: h, or the LSTM's
        # pair (h, c).
        dstate = _zero_state(self.cell, (B, H), self.dtype)
        _, step_backward = _STEPS[self.cell]
        if self.use_attention:
            att, att_grads = self.attention, self._attention_grads
            for g in att_grads.values():
                g[...] = 0.0
            denc_out = np.zeros_like(enc_out)
            dkeys = np.zeros_like(keys)
        for t in range(T - 1, -1, -1):
            dec_cache, att_cache = caches[t]
            # s_t feeds the readout as well as step t + 1
            dstate = _add_to_hidden(dstate, dfeatures[t, :, :H])
            dx, dstate, step_grads = step_backward(
                dstate, dec_cache, dec["weight_ih"], dec["weight_hh"]
            )
            # the weights are shared by all steps
            for name, g in step_grads.items():
                dec_grads[name] += g
            if self.use_attention:
                # c_t feeds the readout and the decoder's input
                dcontext = dfeatures[t, :, H:] + dx[:, V:]
                ds, denc, dk, step_grads = additive_attention_backward(
                    dcontext, att_cache, att["weight_dec"], att["v"]
                )
                # c_t was computed from s_{t-1}
                dstate = _add_to_hidden(dstate, ds)
                denc_out += denc
                dkeys += dk
                for name, g in step_grads.items():
                    att_grads[name] += g
        for name, g in dec_grads.items():
            self.decoder.grads[name][...] = g
        # What reaches the decoder's initial state goes on to the encoder's
        # last state.
        if self.use_attention:
            denc, key_grads = attention_keys_backward(
                dkeys, enc_out, att["weight_enc"]
            )
            denc_out += denc
            for name, g in key_grads.items():
                att_grads[name][...] = g
            self.encoder.backward(denc_out, dstate)
        else:
            self.encoder.backward(None, dstate)
        return self.grads

    def loss(
        self,
        src: np.ndarray,
        tgt: np.ndarray,
        src_mask: np.ndarray | None = None,
        tgt_mask: np.ndarray | None = None,
    ) -> float:
        """The mean cross-entropy of the targets under teacher forcing (forward pass only).

        Args:
            src: source ids, ``(S, B)``.
            tgt: target ids, ``(T, B)``.
            src_mask: ``(S, B)`` bools, as in :meth:`forward`.
            tgt_mask: ``(T, B)`` bools, which target symbols count; ``None`` counts all.

        Returns:
            The loss, a float.
        """
        logits, _ = self.forward(src, tgt, src_mask)
        loss, _ = softmax_cross_entropy(logits, tgt, mask=tgt_mask)
        return loss

    def loss_and_grads(
        self,
        src: np.ndarray,
        tgt: np.ndarray,
        src_mask: np.ndarray | None = None,
        tgt_mask: np.ndarray | None = None,
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The loss of :meth:`loss` and its gradient with respect to every parameter.

        Args:
            src: source ids, ``(S, B)``.
            tgt: target ids, ``(T, B)``.
            src_mask: ``(S, B)`` bools, as in :meth:`forward`.
            tgt_mask: ``(T, B)`` bools, which target symbols count; ``None`` counts all.

        Returns:
            The loss and the dict ``grads`` (filled in place), as the pair ``(loss, grads)``.
        """
        logits, _ = self.forward(src, tgt, src_mask)
        loss, dlogits = softmax_cross_entropy(logits, tgt, mask=tgt_mask)
        return loss, self.backward(dlogits)

    def predict(
        self, src: np.ndarray, max_len: int, src_mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Decode greedily: at each step, the most likely symbol becomes the next input.

        Args:
            src: source ids, ``(S, B)``.
            max_len: T, the number of symbols to write for each sequence.
            src_mask: ``(S, B)`` bools, as in :meth:`forward`.

        Returns:
            The predicted ids, ``(T, B)`` int64, and the attention weights,
            ``(T, S, B)`` (``None`` without attention), as the pair ``(ids, weights)``.
            Plot ``weights[:, :, b]`` as an image for the alignment of sequence b.

        The encoder runs again, so the values a following :meth:`backward` would need
        are gone: call :meth:`forward` again before it.
        """
        check_int("max_len", max_len)
        src, _ = self._check_ids(src, None)
        self._cache = None
        S, B = src.shape
        src_mask = self._check_src_mask(src_mask, src.shape)
        enc_out, keys, state = self._encode(src)
        ids = np.empty((max_len, B), dtype=np.int64)
        weights = (
            np.empty((max_len, S, B), dtype=self.dtype)
            if self.use_attention
            else None
        )
        previous = np.full(B, self.start)
        # step t reads the symbol the model chose at step t - 1
        for t in range(max_len):
            logits, state, alpha = self._next_logits(
                previous, state, enc_out, keys, src_mask
            )
            ids[t] = previous = logits.argmax(axis=1)
            if weights is not None:
                weights[t] = alpha
        return ids, weights

    def beam_search(
        self,
        src: np.ndarray,
        max_len: int,
        width: int,
        src_mask: np.ndarray | None = None,
        end: int | None = None,
    ) -> BeamSearchResult:
        """Decode one source sequence with beam search (see :mod:`tutor.beam`).

        :meth:`predict` decodes B sources side by side, one hypothesis each.
        Beam search gives the decoder's batch axis to the ``width`` hypotheses
        of a single source instead, so it takes one sequence at a time (call
        it once per column ``src[:, b]`` for a batch).

        Args:
            src: the source ids of one sequence, ``(S,)``.
            max_len: T, the largest number of symbols to write.
            width: the number of hypotheses kept; 1 is greedy decoding and
                writes what :meth:`predict` writes.
            src_mask: ``(S,)`` bools, True at the real source positions;
                ``None`` means all of them.
            end: the id of a target symbol that ends a sequence, or ``None``:
                then every sequence has ``max_len`` symbols.

        Returns:
            A :class:`tutor.beam.BeamSearchResult` ``(sequences, scores)``:
            the hypotheses, best first, and their log-probabilities.

        Like :meth:`predict`, this runs the encoder again: call
        :meth:`forward` again before a :meth:`backward`.
        """
        check_ndim(
            "src",
            src,
            1,
            "(S,)",
            "Beam search decodes one sequence: pass a column src[:, b].",
        )
        src, _ = self._check_ids(np.asarray(src)[:, None], None)
        if src_mask is not None:
            check_ndim("src_mask", src_mask, 1, "(S,)")
            src_mask = self._check_src_mask(
                np.asarray(src_mask)[:, None], src.shape
            )
        self._cache = None
        enc_out, keys, state = self._encode(src)

        def step(tokens, state):
            # the source's one column, seen by each of the K hypotheses
            K = len(tokens)
            logits, state, _ = self._next_logits(
                tokens,
                state,
                *(_columns(a, K) for a in (enc_out, keys, src_mask)),
            )
            return log_softmax(logits), state

        return beam_search(step, state, self.start, width, max_len, end)

    def _next_logits(self, previous, state, enc_out, keys, src_mask):
        """One step of decoding: from the previous symbols ``(B,)`` and the
        state, the logits of the next symbol ``(B, vocab_out)``, the new state
        and the attention weights ``(S, B)`` (``None`` without attention)."""
        features, state, alpha, _ = self._decoder_step(
            self._one_hot[previous], state, enc_out, keys, src_mask
        )
        readout = self.readout.params
        logits = features @ readout["weight"].T + readout["bias"]
        return logits, state, alpha

    def _encode(self, src: np.ndarray):
        """Run the encoder; return its states ``(S, B, H)``, the attention's keys
        ``(S, B, A)`` (``None`` without attention) and its last state."""
        enc_out, state = self.encoder.forward(self._in_eye[src])
        keys = None
        # W_a h_j + b for every j: once, not once per decoder step
        if self.use_attention:
            keys = attention_keys(
                enc_out, self.attention["weight_enc"], self.attention["bias"]
            )
        return enc_out, keys, state

    def _decoder_step(self, y_prev, state, enc_out, keys, src_mask):
        """One step of the decoder, from the one-hot previous symbol ``(B, vocab_out + 1)``
        and the state ``s_{t-1}``; return the readout's input ``[s_t, c_t]``, the new
        state, the attention weights ``(S, B)`` and what the backward pass needs."""
        x, context, alpha, att_cache = y_prev, None, None, None
        if self.use_attention:
            att = self.attention
            context, alpha, att_cache = additive_attention_forward(
                _hidden(state),
                enc_out,
                keys,
                att["weight_dec"],
                att["v"],
                src_mask,
            )
            x = np.concatenate(
                [y_prev, context], axis=1
            )  # [onehot(y_{t-1}), c_t]
        step_forward, _ = _STEPS[self.cell]
        p = self.decoder.params
        state, dec_cache = step_forward(
            x, state, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
        )
        h = _hidden(state)
        features = (
            h if context is None else np.concatenate([h, context], axis=1)
        )
        return features, state, alpha, (dec_cache, att_cache)

    def _check_src_mask(self, src_mask, shape):
        """Check the mask once, up front; the attention's steps only use it."""
        return (
            None if src_mask is None else check_attention_mask(src_mask, shape)
        )

    def _check_ids(self, src, tgt) -> tuple[np.ndarray, np.ndarray | None]:
        """Check source ``(S, B)`` and target ``(T, B)`` ids; return them as arrays."""
        src = _check_id_array("src", src, self.vocab_in, "(S, B)", "vocab_in")
        if tgt is None:
            return src, None
        tgt = _check_id_array("tgt", tgt, self.vocab_out, "(T, B)", "vocab_out")
        if tgt.shape[1] != src.shape[1]:
            raise ValueError(
                f"tgt must have shape (T, B) with the B = {src.shape[1]} sequences of src "
                f"(shape {src.shape}); got shape {tgt.shape}. Ids are time-major."
            )
        return src, tgt


#: Each cell's step functions. Their states: ``h``, or the LSTM's ``(h, c)``.
_STEPS = {
    "rnn": (rnn_step_forward, rnn_step_backward),
    "lstm": (lstm_step_forward, lstm_step_backward),
    "gru": (gru_step_forward, gru_step_backward),
}


def _columns(a: np.ndarray | None, K: int) -> np.ndarray | None:
    """A read-only view of ``a`` ``(S, 1, ...)`` as ``(S, K, ...)``."""
    return (
        None if a is None else np.broadcast_to(a, (a.shape[0], K, *a.shape[2:]))
    )


def _hidden(state):
    """The hidden state ``h`` of a cell's state: ``h`` of the LSTM's ``(h, c)``."""
    return state[0] if isinstance(state, tuple) else state


def _add_to_hidden(dstate, dh: np.ndarray):
    """``dstate`` with ``dh`` added to the gradient of its hidden state."""
    if isinstance(dstate, tuple):
        return (dstate[0] + dh, *dstate[1:])
    return dstate + dh


def _zero_state(cell: str, shape: tuple[int, int], dtype: np.dtype):
    """Zeros in the form of ``cell``'s state."""
    if cell == "lstm":
        return (np.zeros(shape, dtype), np.zeros(shape, dtype))
    return np.zeros(shape, dtype)


def _flat(parts: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``{"a": {"w": x}}`` becomes ``{"a.w": x}``: the same arrays, not copies."""
    return {
        f"{prefix}.{name}": a
        for prefix, d in parts.items()
        for name, a in d.items()
    }


def _check_id_array(
    name: str, ids: object, vocab: int, labels: str, vocab_name: str
):
    """Return ``ids`` as a non-empty 2-D integer array with entries in ``0 .. vocab-1``."""
    ids = check_int_array(name, ids)
    check_ndim(
        name,
        ids,
        2,
        labels,
        "Ids are time-major integers, one row per position and one column per sequence; "
        "a single sequence needs a batch axis: pass ids[:, None].",
    )
    if ids.size == 0:
        raise ValueError(
            f"{name} must hold at least one position and one sequence; got {ids.shape}."
        )
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= vocab:
        raise ValueError(
            f"{name} must hold ids in 0..{vocab - 1} ({vocab_name} = {vocab}); got values "
            f"from {low} to {high}."
        )
    return ids


class Seq2SeqScore(NamedTuple):
    """How well greedy decoding reproduces the targets (see :func:`evaluate_seq2seq`).

    Attributes:
        token_accuracy: the fraction of symbols right, over all positions and sequences.
        exact_match: the fraction of sequences with every symbol right.
        position_accuracy: ``(T,)``, the fraction right at each target position.
    """

    token_accuracy: float
    exact_match: float
    position_accuracy: np.ndarray


def evaluate_seq2seq(
    model: Seq2Seq, src: np.ndarray, tgt: np.ndarray
) -> Seq2SeqScore:
    """Decode ``src`` greedily with ``model`` and score the result against ``tgt``.

    Args:
        model: a :class:`Seq2Seq`.
        src: source ids, ``(S, B)``.
        tgt: target ids, ``(T, B)``; the model writes T symbols per sequence.

    Returns:
        A :class:`Seq2SeqScore`.
    """
    src, tgt = model._check_ids(src, tgt)
    ids, _ = model.predict(src, tgt.shape[0])
    right = ids == tgt
    return Seq2SeqScore(
        float(right.mean()), float(right.all(axis=0).mean()), right.mean(axis=1)
    )


def score_by_length(
    model: Seq2Seq,
    task: Callable[..., tuple[np.ndarray, np.ndarray]],
    lengths: Sequence[int],
    *,
    n: int = 200,
    rng: int | np.random.Generator,
) -> list[Seq2SeqScore]:
    """Score ``model`` on ``n`` fresh sequences of each length, with :func:`evaluate_seq2seq`.

    Args:
        model: a :class:`Seq2Seq`.
        task: called as ``task(n, length=L, rng=generator)``, returns ``(src, tgt)``; for
            instance ``functools.partial(copy_task, vocab_size=8)``.
        lengths: the lengths L to test.
        n: the number of test sequences of each length.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the test sequences.

    Returns:
        One :class:`Seq2SeqScore` per length, in the order of ``lengths``.
    """
    check_int("n", n)
    rng = as_rng(rng)
    scores = []
    for length in lengths:
        src, tgt = task(n, length=length, rng=rng)[:2]
        scores.append(evaluate_seq2seq(model, src, tgt))
    return scores


def train_seq2seq(
    model: Seq2Seq,
    task_fn: Callable[..., tuple[np.ndarray, np.ndarray]],
    n_updates: int,
    *,
    batch_size: int = 32,
    lr: float = 0.003,
    clip_norm: float | None = 1.0,
    rng: int | np.random.Generator,
    evaluate: Callable[[], object] | None = None,
    eval_every: int = 100,
    progress: bool | None = None,
) -> History:
    """Train ``model`` with Adam on fresh batches from ``task_fn``, with teacher forcing.

    The loop is :func:`tutor.train.train`; each step draws a new batch, so the model
    never sees the same sequence twice and there is nothing to overfit.

    Args:
        model: a :class:`Seq2Seq`, updated in place.
        task_fn: called as ``task_fn(batch_size, rng=generator)``, returns ``(src, tgt)``
            (for example a :class:`tutor.data.copy_tasks.Seq2SeqBatch`); for instance
            ``functools.partial(reverse_task, length=20, vocab_size=8)``.
        n_updates: the number of updates (optimiser steps).
        batch_size: B, the sequences per batch.
        lr: Adam's learning rate.
        clip_norm: the largest global norm of the gradient (:func:`tutor.optim.clip_grad_norm`);
            ``None`` does not clip.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the batches.
        evaluate: if given, a function of no arguments called every ``eval_every`` steps
            and after the last one, for example
            ``lambda: evaluate_seq2seq(model, *test_batch).token_accuracy``.
        eval_every: the number of steps between evaluations.
        progress: show a progress bar; ``None`` decides as :func:`tutor.train.train` does.

    Returns:
        The :class:`tutor.train.History` of the run, with the loss of every step and
        the results of ``evaluate``.
    """
    check_int("batch_size", batch_size)
    rng = as_rng(rng)
    optimizer = Adam(model.params, lr=lr)

    def loss_and_grads(batch):
        src, tgt = batch[0], batch[1]
        return model.loss_and_grads(src, tgt)

    return train(
        loss_and_grads,
        optimizer,
        lambda step: task_fn(batch_size, rng=rng),
        n_updates,
        clip_norm=clip_norm,
        evaluate=evaluate,
        eval_every=eval_every,
        progress=progress,
    )
