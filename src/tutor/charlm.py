"""A character-level language model: read a text one character at a time, predict the next.

The model of the chapter "Recurrent networks in practice". At each step t the character
``x_t`` enters as a one-hot vector of size K (the size of the vocabulary), a recurrent
layer (:class:`tutor.lstm.LSTM`, :class:`tutor.gru.GRU` or the simple
:class:`tutor.rnn.RNN`) updates its state, and a dense readout turns the hidden state
``h_t`` into K scores (logits), whose softmax is the predicted distribution of the next
character ``x_{t+1}``::

    h_t = cell(x_t, h_{t-1})                      (B, H)
    logits_t = h_t @ W_out.T + b_out              (B, K)
    p(x_{t+1} = k | x_1 .. x_t) = softmax(logits_t)[k]

The loss is the mean cross-entropy ``-log p(x_{t+1})`` over all steps and streams, in
nats; divided by ``ln 2`` it is in *bits per character*, the usual score of a character
model (:func:`bits_per_char`). The unigram model, which ignores the past, scores about
4.6 bits on the shipped text (:func:`tutor.data.text.unigram_bits_per_char`).

Training (:func:`train_charlm`) reads the text as B parallel streams in chunks of T
characters (:func:`tutor.data.text.text_batches`) and carries the hidden state from one
chunk to the next without a gradient: truncated backpropagation through time with
``k1 = k2 = T``. It can run for a number of updates or for a wall-clock budget.

For comparison, :func:`train_minchar` trains the way Karpathy's "min-char-rnn" does: a
simple RNN on one stream (batch 1), chunks of 25 characters, a Python loop over the time
steps for both the forward and the backward pass, Adagrad with learning rate 0.1. It is
written here from the equations (:func:`minchar_loss_and_grads`), and its result is
returned as a :class:`CharLM`, so both are scored and sampled the same way.
:func:`train_minchar_seeds` trains it for several seeds in one loop, for experiments
over seeds.

Besides drawing text (:meth:`CharLM.sample`), a model can search for the most
probable continuation of a prime with :meth:`CharLM.beam_search`
(:mod:`tutor.beam`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from tutor._cells import (
    CELLS,
    DEFAULT_GATE_BIAS,
    RecurrentReadout,
    check_cell,
    make_layer,
)
from tutor._checks import as_rng, check_int
from tutor.beam import BeamSearchResult, beam_search
from tutor.data.text import Vocabulary, text_batches
from tutor.feedforward import Dense
from tutor.functional import log_softmax, softmax_cross_entropy
from tutor.optim import Adam, clip_grad_norm
from tutor.train import progress_bar

__all__ = [
    "draw_with_temperature",
    "CELLS",
    "CharLM",
    "bits_per_char",
    "CharLMHistory",
    "train_charlm",
    "minchar_init",
    "minchar_loss_and_grads",
    "minchar_to_charlm",
    "train_minchar",
    "train_minchar_seeds",
]

LN2 = math.log(2.0)


class CharLM(RecurrentReadout):
    """A character-level language model: one-hot input, a recurrent layer, a softmax readout.

    Args:
        vocab_size: K, the number of distinct characters (input size and output size).
        hidden_size: H, the size of the recurrent layer.
        cell: ``"rnn"`` (the simple tanh RNN), ``"lstm"`` or ``"gru"``.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the initial weights.
        dtype: ``np.float64`` (default; for gradient checks) or ``np.float32`` (about
            twice as fast, and enough for training).
        gate_bias: the "remember" bias at initialisation: for ``"lstm"``, added to
            the forget gate's bias (default 1.0, so that the cells keep their content
            at the start of training); for ``"gru"``, added to the update gate's bias,
            the gate that keeps the old state (default 0.0); for ``"rnn"`` it must be
            left at ``None``.
        vocab: the :class:`tutor.data.text.Vocabulary` the ids come from, with K
            characters. Optional, but :meth:`sample` (which returns text) and
            :func:`tutor.io.save_model` keep it with the model.

    Attributes:
        layer: the recurrent layer, ``K -> H``.
        readout: the :class:`tutor.feedforward.Dense` readout, ``H -> K``.
        params: all parameters in one flat dict, ``"rnn.weight_ih"``, ...,
            ``"readout.bias"`` (the layers' own arrays, see
            :func:`tutor.feedforward.named_parameters`).
        grads: the gradients, keyed as ``params``, filled by :meth:`loss_and_grads`.

    Example:
        >>> vocab = Vocabulary.from_text("hello world")
        >>> model = CharLM(len(vocab), 16, "gru", rng=0, vocab=vocab)
        >>> ids = vocab.encode("hello world")[:, None]  # (T, B) = (11, 1)
        >>> loss, grads, state = model.loss_and_grads(ids[:-1], ids[1:])
        >>> round(loss / math.log(2), 1)  # about log2(8) = 3 bits before training
        3.0
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        cell: str = "lstm",
        *,
        rng: int | np.random.Generator,
        dtype: type | np.dtype = np.float64,
        gate_bias: float | None = None,
        vocab: Vocabulary | None = None,
    ) -> None:
        check_cell(cell)
        if vocab is not None:
            if not isinstance(vocab, Vocabulary):
                raise ValueError(
                    f"vocab must be a Vocabulary or None; got {type(vocab).__name__}."
                )
            if len(vocab) != vocab_size:
                raise ValueError(
                    f"vocab has {len(vocab)} characters but vocab_size is {vocab_size}; "
                    f"pass vocab_size=len(vocab)."
                )
        if gate_bias is None:
            gate_bias = DEFAULT_GATE_BIAS.get(cell)
        rng = as_rng(rng)
        # make_layer refuses a gate_bias for the simple RNN, which has no gates.
        layer = make_layer(
            cell,
            vocab_size,
            hidden_size,
            rng=rng,
            gate_bias=gate_bias,
            dtype=dtype,
        )
        super().__init__(
            layer, Dense(hidden_size, vocab_size, rng=rng, dtype=layer.dtype)
        )
        self.cell = cell
        self.gate_bias = None if gate_bias is None else float(gate_bias)
        self.vocab = vocab
        self.dtype = layer.dtype
        self._one_hot_table = np.eye(vocab_size, dtype=self.dtype)

    @property
    def vocab_size(self) -> int:
        """K, the number of characters."""
        return self.layer.input_size

    def __repr__(self) -> str:
        bias = (
            "" if self.gate_bias is None else f", gate_bias={self.gate_bias!r}"
        )
        return (
            f"CharLM(vocab_size={self.vocab_size}, hidden_size={self.hidden_size}, "
            f"cell={self.cell!r}{bias}, dtype=np.{self.dtype.name})"
        )

    def one_hot(self, ids: object) -> np.ndarray:
        """The one-hot vectors of integer ids: ids of shape ``(...)`` give ``(..., K)``."""
        ids = self._check_ids("ids", ids)
        return self._one_hot_table[ids]

    def forward(
        self, x_ids: object, state: object = None
    ) -> tuple[np.ndarray, object]:
        """Read a chunk of characters and score every possible next character.

        Args:
            x_ids: ``(T, B)`` integer ids, time-major: B streams of T characters.
            state: the state to start from, as the recurrent layer returns it (``(B, H)``,
                or the pair ``(h, c)`` for the LSTM); ``None`` means zeros.

        Returns:
            The pair ``(logits, state)`` of the scores of the next character after each
            step, ``(T, B, K)``, and the layer's state after the last step.
        """
        x_ids = self._check_ids("x_ids", x_ids, ndim=2)
        # The ids go to the layer as they are: ids=True gives the result of the one-hot
        # vectors self.one_hot(x_ids) with a lookup of W_ih's columns instead of a product
        # by mostly zeros, and no input gradient in backward (ids have none).
        out, state = self.layer.forward(x_ids, state, ids=True)
        # The readout sees the T*B hidden states as the rows of one matrix: NumPy's
        # product of a 2-D array is faster than its stacked product over (T, B, H)
        # (benchmarks/README.md has the numbers).
        T, B = x_ids.shape
        logits = self.readout.forward(out.reshape(T * B, self.hidden_size))
        return logits.reshape(T, B, self.vocab_size), state

    def loss_and_grads(
        self, x_ids: object, y_ids: object, state: object = None
    ) -> tuple[float, dict[str, np.ndarray], object]:
        """The loss on a chunk, its gradient, and the state for the next chunk.

        One step of truncated BPTT: forward over the chunk from ``state``, the
        mean cross-entropy of the targets, and backward through the chunk only
        (no gradient flows into ``state``).

        Args:
            x_ids: ``(T, B)`` integer ids, the input characters.
            y_ids: ``(T, B)`` integer ids, the targets: the character after each
                input.
            state: the state carried from the previous chunk, or ``None`` (zeros).

        Returns:
            The tuple ``(loss, grads, state)`` of the mean cross-entropy in nats
            per character (a float), the gradients keyed as ``params`` (the
            layers' own arrays, overwritten by the next call), and the state
            after the last step, a copy detached from this chunk (carry it to
            the next chunk).
        """
        y_ids = self._check_ids("y_ids", y_ids, ndim=2)
        if np.shape(x_ids) != y_ids.shape:
            raise ValueError(
                f"y_ids must have the shape of x_ids, {np.shape(x_ids)}; "
                f"got {y_ids.shape}."
            )
        logits, state = self.forward(x_ids, state)
        loss, dlogits = softmax_cross_entropy(logits, y_ids)
        # Back through the readout, which forward gave the T*B hidden states as
        # the rows of one matrix (a faster product than over (T, B, H)), then
        # back through the layer.
        T, B = y_ids.shape
        dout = self.readout.backward(dlogits.reshape(T * B, self.vocab_size))
        self.layer.backward(dout.reshape(T, B, self.hidden_size))
        return loss, self.grads, _detach(state)

    def sample_ids(
        self,
        n: int,
        rng: int | np.random.Generator,
        temperature: float = 1.0,
        prime_ids: object = None,
    ) -> np.ndarray:
        """Generate ``n`` character ids, each drawn from the model's prediction, fed back in.

        The model first reads ``prime_ids`` (if any) from the zero state. Each new
        character is drawn from ``softmax(logits / temperature)`` and becomes the next
        input. With no prime, the first character is drawn from the prediction of the
        zero state, ``softmax(b_out / temperature)``.

        Args:
            n: the number of ids to generate, >= 0.
            rng: an ``int`` seed or a ``numpy.random.Generator``: the same seed gives the
                same ids.
            temperature: >= 0. Below 1 the distribution is sharper (safer, more
                repetitive text), above 1 flatter (more surprising, more errors). 0 picks
                the most likely character every time (greedy decoding); very small
                temperatures give the same result. One uniform number is drawn per
                character at any temperature, so a seed gives the same draws at every
                temperature.
            prime_ids: ``(P,)`` integer ids to read before generating, or ``None``.

        Returns:
            ``(n,)`` int64 ids (the prime is not included).
        """
        n = check_int("n", n, minimum=0)
        if not (np.isfinite(temperature) and temperature >= 0):
            raise ValueError(
                f"temperature must be a number >= 0; got {temperature!r}."
            )
        rng = as_rng(rng)
        state, h = None, np.zeros((1, self.hidden_size), dtype=self.dtype)
        if prime_ids is not None and np.size(prime_ids) > 0:
            prime_ids = self._check_ids("prime_ids", prime_ids, ndim=1)
            out, state = self.layer.forward(
                self._one_hot_table[prime_ids][:, None, :]
            )
            h = out[-1]
        logits = self.readout.forward(h)  # (1, K)
        ids = np.empty(n, dtype=np.int64)
        for i in range(n):
            ids[i] = draw_with_temperature(
                logits[0].astype(np.float64), temperature, rng.random()
            )
            if i + 1 < n:
                logits, state = self._step(ids[i : i + 1], state)
        return ids

    def sample(
        self,
        n: int,
        rng: int | np.random.Generator,
        temperature: float = 1.0,
        prime: str = "",
    ) -> str:
        """Generate ``n`` characters of text (see :meth:`sample_ids`); needs ``vocab``.

        Args:
            n: the number of characters to generate.
            rng: an ``int`` seed or a ``numpy.random.Generator``.
            temperature: >= 0; 0 is greedy (always the most likely character).
            prime: text the model reads first; every character must be in the vocabulary.

        Returns:
            The ``n`` generated characters, without the prime.
        """
        self._need_vocab("sample_ids")
        prime_ids = self.vocab.encode(prime) if prime else None
        return self.vocab.decode(
            self.sample_ids(n, rng, temperature, prime_ids)
        )

    def beam_search_ids(
        self,
        prime_ids: object,
        length: int,
        width: int,
        end: int | None = None,
    ) -> BeamSearchResult:
        """The most probable continuations of ``prime_ids`` that beam search finds.

        The model reads the prime from the zero state, then
        :func:`tutor.beam.beam_search` extends it, the ``width`` hypotheses
        side by side as the layer's batch axis. Width 1 is greedy decoding:
        the ids of :meth:`sample_ids` at temperature 0.

        Args:
            prime_ids: ``(P,)`` integer ids, P >= 1: the continuation is
                scored given them.
            length: the largest number of ids to generate, >= 1.
            width: the number of hypotheses kept, >= 1.
            end: an id that ends a continuation (for instance that of
                ``"."``), or ``None``: then every continuation has ``length``
                ids.

        Returns:
            A :class:`tutor.beam.BeamSearchResult` ``(sequences, scores)``:
            the continuations (without the prime), best first, and their
            log-probabilities given the prime, in nats.
        """
        length = check_int("length", length)
        prime_ids = self._check_ids("prime_ids", prime_ids, ndim=1)
        if prime_ids.size == 0:
            raise ValueError(
                "prime_ids must hold at least one id (shape (P,) with P >= 1); "
                "got shape (0,). Beam search feeds its last id first."
            )
        state = None  # zeros; the last id of the prime is the first fed
        if prime_ids.size > 1:
            _, state = self.layer.forward(
                self._one_hot_table[prime_ids[:-1]][:, None]
            )

        def step(ids, state):
            logits, state = self._step(ids, state)
            return log_softmax(logits), state

        return beam_search(step, state, prime_ids[-1], width, length, end)

    def beam_search(
        self, prime: str, length: int, width: int, end: str | None = None
    ) -> str:
        """The most probable continuation of ``prime`` that beam search finds.

        See :meth:`beam_search_ids`, which also returns the other hypotheses
        and the log-probabilities. Needs ``vocab``.

        Args:
            prime: the text the model reads first, at least one character.
            length: the largest number of characters to generate.
            width: the number of hypotheses kept; 1 is greedy (the text of
                :meth:`sample` at temperature 0).
            end: a character that ends the continuation (kept as its last
                character), or ``None``.

        Returns:
            The best continuation, without the prime.
        """
        self._need_vocab("beam_search_ids")
        if not (isinstance(prime, str) and prime):
            raise ValueError(
                f"prime must be a string of at least one character; got {prime!r}."
            )
        end_id = None
        if end is not None:
            if not (isinstance(end, str) and len(end) == 1):
                raise ValueError(
                    f"end must be one character or None; got {end!r}."
                )
            end_id = int(self.vocab.encode(end)[0])
        result = self.beam_search_ids(
            self.vocab.encode(prime), length, width, end_id
        )
        return self.vocab.decode(result.sequences[0])

    def _step(
        self, ids: np.ndarray, state: object
    ) -> tuple[np.ndarray, object]:
        """Feed one id to each of B streams: ``ids`` ``(B,)`` and the state give
        the logits of the next character ``(B, K)`` and the new state."""
        out, state = self.layer.forward(self._one_hot_table[ids][None], state)
        return self.readout.forward(out[0]), state

    def _need_vocab(self, ids_method: str) -> None:
        """Raise unless the model has a vocabulary to turn ids into text."""
        if self.vocab is None:
            raise ValueError(
                "this model has no vocabulary to turn ids into text: build it with "
                f"CharLM(..., vocab=vocab), or use {ids_method} and vocab.decode."
            )

    def _check_ids(
        self, name: str, ids: object, ndim: int | None = None
    ) -> np.ndarray:
        """Return ``ids`` as an integer array in 0..K-1 with ``ndim`` axes, or raise."""
        array = np.asarray(ids)
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"{name} must hold integer character ids; got dtype {array.dtype}. Encode "
                f"text with vocab.encode; the model makes the one-hot vectors itself."
            )
        if ndim is not None and array.ndim != ndim:
            labels = {1: "(P,)", 2: "(T, B)"}[ndim]
            hint = (
                " A single stream of T ids becomes (T, 1) with ids[:, None]."
                if ndim == 2
                else ""
            )
            raise ValueError(
                f"{name} must have shape {labels}; got shape {array.shape}.{hint}"
            )
        if array.size and (array.min() < 0 or array.max() >= self.vocab_size):
            raise ValueError(
                f"{name} must lie in 0..{self.vocab_size - 1} (the vocabulary has "
                f"{self.vocab_size} characters); got values from {array.min()} to {array.max()}."
            )
        return array


def draw_with_temperature(
    logits: np.ndarray, temperature: float, u: float
) -> int:
    """Draw index k with probability ``softmax(logits / temperature)[k]``.

    A temperature below 1 sharpens the distribution (safer, more repetitive
    text), above 1 flattens it (more surprising text). The draw is the inverse
    of the cumulative distribution at ``u``, so one uniform number decides it;
    temperature 0 is the argmax.

    Args:
        logits: ``(K,)``, the scores of the K symbols.
        temperature: a number >= 0.
        u: a uniform random number in [0, 1).

    Returns:
        The index of the drawn symbol, an int in ``0 .. K-1``.
    """
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    weights = np.exp(z - z.max())  # the largest is exactly 1: never all zero
    cumulative = np.cumsum(weights)
    k = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
    return min(k, len(logits) - 1)


def _detach(state: object) -> object:
    """A copy of a layer's state (an array or a tuple of arrays), owned by the caller."""
    if isinstance(state, tuple):
        return tuple(s.copy() for s in state)
    return state.copy()


def bits_per_char(
    model: CharLM, ids: object, batch_size: int = 16, seq_len: int = 200
) -> float:
    """Score a model on a text: the mean of ``-log2 p(next character)``, in bits.

    The text is laid out as in :func:`tutor.data.text.text_batches` (``batch_size``
    contiguous streams, read in chunks of ``seq_len`` with the state carried), so every
    character but the first of each stream is predicted once, from everything before it
    in its stream. Nothing is trained.

    Args:
        model: a :class:`CharLM`.
        ids: ``(N,)`` integer ids, for example held-out text, N >= 2.
        batch_size: the number of streams read in parallel (more is faster; each stream
            starts from the zero state, so its first characters are predicted from a short
            past). A text of N < ``batch_size + 1`` ids is read as N - 1 streams.
        seq_len: the chunk length (it only changes the speed).

    Returns:
        The bits per character, a float (``ln 2`` nats make one bit).
    """
    n = np.size(ids)
    if n < 2:
        raise ValueError(
            f"ids must hold at least 2 ids (an input and its target); got {n}."
        )
    total, count, state = 0.0, 0, None
    for x, y in text_batches(ids, min(batch_size, n - 1), seq_len):
        logits, state = model.forward(x, state)
        log_p = log_softmax(logits.astype(np.float64))
        total -= np.take_along_axis(log_p, y[..., None], axis=-1).sum()
        count += y.size
    return float(total / count / LN2)


@dataclass
class CharLMHistory:
    """What :func:`train_charlm` and :func:`train_minchar` record.

    Attributes:
        losses: the training loss of every step, in nats per character.
        seconds: the training time after every step, in seconds since the start (time
            spent scoring ``valid_ids`` is not counted).
        chars: the number of characters read after every step (T times B per step).
        valid: ``(step, seconds, bits_per_char)`` triples, one per evaluation on the
            held-out text.
        optimizer: the optimiser, to continue training where this run stopped.
    """

    losses: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    valid: list[tuple[int, float, float]] = field(default_factory=list)
    optimizer: object = None

    @property
    def bits(self) -> np.ndarray:
        """The training losses in bits per character, ``(n_updates,)``."""
        return np.asarray(self.losses) / LN2

    @property
    def chars_per_second(self) -> float:
        """Characters read per second of training, over the whole run."""
        return (
            self.chars[-1] / self.seconds[-1]
            if self.seconds and self.seconds[-1] > 0
            else 0.0
        )


def _check_budget(n_updates: int | None, seconds: float | None) -> None:
    """Raise ``ValueError`` unless at least one budget is given and each is positive."""
    if n_updates is None and seconds is None:
        raise ValueError(
            "give n_updates (a number of updates) or seconds (a time budget), or both."
        )
    if n_updates is not None:
        check_int("n_updates", n_updates)
    if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be a number > 0; got {seconds!r}.")


class _Budget:
    """A progress bar and stopping rule for a run of at most ``n_updates`` and ``seconds``."""

    def __init__(
        self,
        n_updates: int | None,
        seconds: float | None,
        progress: bool | None,
    ):
        _check_budget(n_updates, seconds)
        self.n_updates, self.seconds = n_updates, seconds
        by_time = seconds is not None and (n_updates is None)
        self.by_time = by_time
        total = seconds if by_time else n_updates
        unit = "s" if by_time else "step"
        self.bar = progress_bar(
            None,
            progress,
            total=total,
            unit=unit,
            leave=False,
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} {unit} [{elapsed}{postfix}]",
        )
        self.shown = 0.0

    def done(self, steps: int, elapsed: float) -> bool:
        return (self.n_updates is not None and steps >= self.n_updates) or (
            self.seconds is not None and elapsed >= self.seconds
        )

    def update(self, steps: int, elapsed: float, bits: float) -> None:
        position = min(elapsed, self.seconds) if self.by_time else steps
        if position - self.shown >= (0.5 if self.by_time else 1) or self.done(
            steps, elapsed
        ):
            self.bar.update(position - self.shown)
            self.shown = position
            self.bar.set_postfix_str(f"{bits:.3f} bits/char", refresh=False)

    def close(self) -> None:
        self.bar.close()


def train_charlm(
    model: CharLM,
    ids: object,
    *,
    batch_size: int = 32,
    seq_len: int = 50,
    lr: float = 1e-2,
    clip_norm: float | None = 5.0,
    n_updates: int | None = None,
    seconds: float | None = None,
    valid_ids: object = None,
    eval_every: int | None = None,
    optimizer: object = None,
    progress: bool | None = None,
) -> CharLMHistory:
    """Train a :class:`CharLM` with truncated BPTT, for some updates or seconds.

    The ids are laid out as ``batch_size`` parallel streams
    (:func:`tutor.data.text.text_batches`) and read in chunks of ``seq_len``
    characters. Each chunk is one update: forward from the state left by the
    previous chunk, backward through this chunk only
    (:meth:`CharLM.loss_and_grads`), gradient norm clipping, an Adam step. At
    the end of the text the streams start again from the beginning and from the
    zero state (a new epoch). Training stops after ``n_updates`` updates or when
    ``seconds`` of training time have passed, whichever comes first. Nothing
    here is random: with the same model and arguments, ``n_updates`` gives the
    same result every time (a time budget gives as many steps as the machine
    manages).

    Args:
        model: the model; its parameters are changed in place.
        ids: ``(N,)`` integer ids of the training text.
        batch_size: B, the number of parallel streams.
        seq_len: T, the number of characters per chunk, and of steps
            backpropagated through.
        lr: Adam's learning rate (ignored when ``optimizer`` is given). The
            default suits short budgets: on the shipped text an LSTM with
            H = 128 reached 2.2 bits per character on held-out text after a
            minute with 0.01, 3.0 with 0.002. Lower it for long runs.
        clip_norm: the largest global gradient norm
            (:func:`tutor.optim.clip_grad_norm`); ``None`` does not clip.
        n_updates: the largest number of updates.
        seconds: the largest training time, in seconds of wall-clock time.
        valid_ids: ``(M,)`` integer ids of held-out text, scored with
            :func:`bits_per_char` at the end (and every ``eval_every`` steps);
            ``None`` skips it.
        eval_every: score ``valid_ids`` every this many steps too.
        optimizer: an optimiser built on ``model.params`` to continue with (for
            example ``history.optimizer`` of an earlier run); ``None`` makes a
            new :class:`tutor.optim.Adam`.
        progress: show a progress bar (in seconds for a time budget, in steps
            otherwise); ``None`` decides with
            :func:`tutor.train.progress_enabled`.

    Returns:
        A :class:`CharLMHistory`.

    Raises:
        ValueError: no budget is given, the text is too short for the layout, or
            the loss becomes NaN or infinite (training diverged).
    """
    batches = text_batches(ids, batch_size, seq_len)
    budget = _Budget(n_updates, seconds, progress)
    if eval_every is not None:
        check_int("eval_every", eval_every)
    optimizer = Adam(model.params, lr=lr) if optimizer is None else optimizer
    history = CharLMHistory(optimizer=optimizer)
    steps, chars, elapsed = 0, 0, 0.0
    try:
        while not budget.done(steps, elapsed):
            # A new epoch: the streams start again from the zero state.
            state = None
            for x, y in batches:
                start = time.perf_counter()
                loss, grads, state = model.loss_and_grads(x, y, state)
                if not np.isfinite(loss):
                    raise ValueError(
                        f"the loss is {loss} at step {steps}: training has "
                        "diverged. Lower the learning rate or clip the "
                        "gradients (clip_norm)."
                    )
                if clip_norm is not None:
                    clip_grad_norm(grads, clip_norm)
                optimizer.step(grads)
                elapsed += time.perf_counter() - start
                steps, chars = steps + 1, chars + y.size
                history.losses.append(loss)
                history.seconds.append(elapsed)
                history.chars.append(chars)
                budget.update(steps, elapsed, loss / LN2)
                if (
                    valid_ids is not None
                    and eval_every is not None
                    and steps % eval_every == 0
                ):
                    history.valid.append(
                        (steps, elapsed, bits_per_char(model, valid_ids))
                    )
                if budget.done(steps, elapsed):
                    break
    finally:
        budget.close()
    if valid_ids is not None and (
        not history.valid or history.valid[-1][0] != steps
    ):
        history.valid.append((steps, elapsed, bits_per_char(model, valid_ids)))
    return history


# ------------------------------------------------------------------------------------------
# The min-char-rnn way: a simple RNN, batch 1, a Python loop over the steps, Adagrad.


def minchar_init(
    vocab_size: int, hidden_size: int = 100, rng: int | np.random.Generator = 0
) -> dict[str, np.ndarray]:
    """The parameters of the min-char-rnn baseline, drawn as in Karpathy's min-char-rnn.

    Weights are Gaussian with standard deviation 0.01, biases zero, float64. Names and
    shapes (column vectors, as in that program): ``"Wxh"`` ``(H, K)``, ``"Whh"``
    ``(H, H)``, ``"Why"`` ``(K, H)``, ``"bh"`` ``(H,)``, ``"by"`` ``(K,)``.

    Args:
        vocab_size: K.
        hidden_size: H; min-char-rnn uses 100.
        rng: an ``int`` seed or a ``numpy.random.Generator``.

    Returns:
        The parameter dict.
    """
    rng = as_rng(rng)
    K, H = (
        check_int("vocab_size", vocab_size),
        check_int("hidden_size", hidden_size),
    )
    return {
        "Wxh": rng.normal(0.0, 0.01, (H, K)),
        "Whh": rng.normal(0.0, 0.01, (H, H)),
        "Why": rng.normal(0.0, 0.01, (K, H)),
        "bh": np.zeros(H),
        "by": np.zeros(K),
    }


def minchar_loss_and_grads(
    params: dict[str, np.ndarray],
    inputs: list[int],
    targets: list[int],
    h_prev: np.ndarray,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """Loss and gradients of a simple RNN on a chunk of a stream, step by step.

    The forward loop computes, for t = 0 .. T-1, with ``x_t`` the id of the
    input character: ``h_t = tanh(Wxh[:, x_t] + Whh @ h_{t-1} + bh)`` (the
    column of ``Wxh`` is ``Wxh`` times the one-hot vector of ``x_t``), the
    scores ``y_t = Why @ h_t + by``, the probabilities ``p_t = softmax(y_t)``
    and the loss ``-log p_t[target_t]``. The backward loop goes through the
    steps in reverse, applying the chain rule to each line.

    Args:
        params: as made by :func:`minchar_init`.
        inputs: T input ids.
        targets: T target ids (the next characters).
        h_prev: ``(H,)``, the hidden state before the first step.

    Returns:
        The tuple ``(loss, grads, h)`` of the loss *summed* over the T steps (in
        nats), its gradients keyed as ``params``, and the last hidden state
        ``(H,)``.
    """
    Wxh, Whh, Why, bh, by = (
        params[k] for k in ("Wxh", "Whh", "Why", "bh", "by")
    )
    T = len(inputs)
    # hs[0] is h_prev, hs[t + 1] is the state after step t
    hs = np.empty((T + 1, len(bh)))
    hs[0] = h_prev
    ps = np.empty((T, len(by)))
    loss = 0.0
    for t in range(T):
        hs[t + 1] = np.tanh(Wxh[:, inputs[t]] + Whh @ hs[t] + bh)
        y = Why @ hs[t + 1] + by
        e = np.exp(y - y.max())
        ps[t] = e / e.sum()
        loss -= math.log(ps[t, targets[t]])
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next = np.zeros_like(bh)
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[targets[t]] -= (
            1.0  # the gradient of -log softmax(y)[target] with respect to y
        )
        grads["Why"] += np.outer(dy, hs[t + 1])
        grads["by"] += dy
        dh = Why.T @ dy + dh_next  # h_t feeds the output and the next step
        da = (1.0 - hs[t + 1] ** 2) * dh  # back through tanh
        grads["bh"] += da
        grads["Wxh"][:, inputs[t]] += da
        grads["Whh"] += np.outer(da, hs[t])
        dh_next = Whh.T @ da
    return loss, grads, hs[T].copy()


def minchar_to_charlm(
    params: dict[str, np.ndarray], vocab: Vocabulary | None = None
) -> CharLM:
    """The min-char-rnn parameters as a float64 ``CharLM(cell="rnn")`` computing the same function.

    ``Wxh``, ``Whh`` and ``bh`` become the layer's ``weight_ih``, ``weight_hh`` and
    ``bias_ih`` (``bias_hh`` is zero); ``Why`` and ``by`` the readout's ``weight`` and
    ``bias``. The arrays are copied.

    Args:
        params: as made by :func:`minchar_init`.
        vocab: the vocabulary, passed on to the :class:`CharLM`.

    Returns:
        A :class:`CharLM`.
    """
    H, K = params["Wxh"].shape
    model = CharLM(K, H, "rnn", rng=0, vocab=vocab)
    layer, readout = model.layer.params, model.readout.params
    layer["weight_ih"][...] = params["Wxh"]
    layer["weight_hh"][...] = params["Whh"]
    layer["bias_ih"][...] = params["bh"]
    layer["bias_hh"][...] = 0.0
    readout["weight"][...] = params["Why"]
    readout["bias"][...] = params["by"]
    return model


def train_minchar(
    ids: object,
    vocab_size: int,
    *,
    hidden_size: int = 100,
    seq_len: int = 25,
    lr: float = 0.1,
    n_updates: int | None = None,
    seconds: float | None = None,
    rng: int | np.random.Generator = 0,
    valid_ids: object = None,
    vocab: Vocabulary | None = None,
    progress: bool | None = None,
) -> tuple[CharLM, CharLMHistory]:
    """Train a simple RNN the way min-char-rnn does: batch 1, a loop over the steps, Adagrad.

    The text is read as one stream in chunks of ``seq_len`` characters, carrying the
    hidden state; at the end of the text it starts again from the beginning and from the
    zero state. Each chunk is one update (:func:`minchar_loss_and_grads`): every gradient
    entry is clipped to [-5, 5] (min-char-rnn's guard against exploding gradients; it
    changes the gradient's direction, unlike :func:`tutor.optim.clip_grad_norm`), then
    Adagrad: ``m += g**2`` and ``p -= lr * g / sqrt(m + 1e-8)``, entry by entry.

    Args:
        ids: ``(N,)`` integer ids of the training text.
        vocab_size: K.
        hidden_size: H (min-char-rnn: 100).
        seq_len: the number of steps per chunk (min-char-rnn: 25).
        lr: Adagrad's learning rate (min-char-rnn: 0.1).
        n_updates: the largest number of updates.
        seconds: the largest training time, in seconds.
        rng: seeds the initial weights (:func:`minchar_init`).
        valid_ids: held-out ids, scored with :func:`bits_per_char` at the end.
        vocab: the vocabulary, kept with the returned model.
        progress: show a progress bar; ``None`` decides with
            :func:`tutor.train.progress_enabled`.

    Returns:
        The pair ``(model, history)`` of the trained network, a :class:`CharLM` (see
        :func:`minchar_to_charlm`), and a :class:`CharLMHistory` (losses in nats per
        character; ``optimizer`` holds the Adagrad memory).
    """
    ids = np.asarray(ids)
    if (
        ids.ndim != 1
        or not np.issubdtype(ids.dtype, np.integer)
        or len(ids) < seq_len + 1
    ):
        raise ValueError(
            f"ids must be a 1-D array of integer ids longer than seq_len ({seq_len}); got "
            f"shape {ids.shape} and dtype {ids.dtype}."
        )
    stream = ids.tolist()  # plain ints: the loop indexes one at a time
    budget = _Budget(n_updates, seconds, progress)
    params = minchar_init(vocab_size, hidden_size, rng)
    memory = {name: np.zeros_like(value) for name, value in params.items()}
    history = CharLMHistory(optimizer=memory)
    position, h = 0, np.zeros(hidden_size)
    steps, elapsed = 0, 0.0
    try:
        while not budget.done(steps, elapsed):
            start = time.perf_counter()
            if position + seq_len + 1 > len(
                stream
            ):  # the end of the text: start again
                position, h = 0, np.zeros(hidden_size)
            inputs = stream[position : position + seq_len]
            targets = stream[position + 1 : position + seq_len + 1]
            loss, grads, h = minchar_loss_and_grads(params, inputs, targets, h)
            for name, p in params.items():
                g = np.clip(grads[name], -5.0, 5.0)
                memory[name] += g * g
                p -= lr * g / np.sqrt(memory[name] + 1e-8)
            position += seq_len
            elapsed += time.perf_counter() - start
            steps += 1
            history.losses.append(loss / seq_len)
            history.seconds.append(elapsed)
            history.chars.append(steps * seq_len)
            budget.update(steps, elapsed, loss / seq_len / LN2)
    finally:
        budget.close()
    model = minchar_to_charlm(params, vocab)
    if valid_ids is not None:
        history.valid.append((steps, elapsed, bits_per_char(model, valid_ids)))
    return model, history


# ------------------------------------------------------------------------------------------
# The min-char-rnn way for several seeds at once, for experiments over seeds.


def _minchar_loss_and_grads_stacked(
    params: dict[str, np.ndarray],
    inputs: list[int],
    targets: list[int],
    h_prev: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """:func:`minchar_loss_and_grads` for S networks at once, stacked on a leading axis.

    Args:
        params: the parameters of S networks, each as :func:`minchar_init` makes it, stacked:
            ``"Wxh"`` ``(S, H, K)``, ``"Whh"`` ``(S, H, H)``, ``"Why"`` ``(S, K, H)``,
            ``"bh"`` ``(S, H)``, ``"by"`` ``(S, K)``.
        inputs: T input ids, the same for every network.
        targets: T target ids.
        h_prev: ``(S, H)``, each network's hidden state before the first step.

    Returns:
        The tuple ``(loss, grads, h)``: the summed loss of each network ``(S,)``, the
        gradients keyed and shaped as ``params``, and the last hidden states ``(S, H)``.
        Network s gets what :func:`minchar_loss_and_grads` gives for its own parameters,
        up to rounding.
    """
    Wxh, Whh, Why, bh, by = (
        params[k] for k in ("Wxh", "Whh", "Why", "bh", "by")
    )
    T, (S, H), K = len(inputs), bh.shape, by.shape[1]
    x_onehot = np.eye(K)[inputs]  # (T, K)
    # Only the recurrence needs a loop over the steps; the input lookup, the readout and the
    # weight gradients are computed for all T steps at once.
    xin = np.moveaxis(Wxh[:, :, inputs], 2, 0) + bh  # (T, S, H)
    hs = np.empty((T + 1, S, H))
    hs[0] = h_prev
    for t in range(T):
        hs[t + 1] = np.tanh(xin[t] + np.matmul(Whh, hs[t][:, :, None])[:, :, 0])
    h_seq = hs[1:].transpose(1, 0, 2)  # (S, T, H)
    y = np.matmul(h_seq, Why.transpose(0, 2, 1)) + by[:, None, :]  # (S, T, K)
    e = np.exp(y - y.max(axis=2, keepdims=True))
    p = e / e.sum(axis=2, keepdims=True)
    steps = np.arange(T)
    loss = -np.log(p[:, steps, targets]).sum(axis=1)
    dy = p
    dy[:, steps, targets] -= 1.0
    dh_out = np.matmul(
        dy, Why
    )  # (S, T, H): what each h_t gets from its own output
    das = np.empty((T, S, H))
    dh_next = np.zeros((S, H))
    for t in reversed(range(T)):
        da = (1.0 - hs[t + 1] ** 2) * (dh_out[:, t] + dh_next)
        das[t] = da
        dh_next = np.matmul(da[:, None, :], Whh)[
            :, 0, :
        ]  # Whh.T @ da, per network
    da_seq = das.transpose(1, 2, 0)  # (S, H, T)
    grads = {
        "Wxh": da_seq @ x_onehot,
        "Whh": da_seq @ hs[:-1].transpose(1, 0, 2),
        "Why": np.matmul(dy.transpose(0, 2, 1), h_seq),
        "bh": das.sum(axis=0),
        "by": dy.sum(axis=1),
    }
    return loss, grads, hs[T].copy()


def train_minchar_seeds(
    ids: object,
    vocab_size: int,
    seeds: list[int] | tuple[int, ...],
    *,
    n_updates: int,
    hidden_size: int = 100,
    seq_len: int = 25,
    lr: float = 0.1,
    valid_ids: object = None,
    vocab: Vocabulary | None = None,
) -> list[tuple[CharLM, CharLMHistory]]:
    """:func:`train_minchar` for several seeds in one loop, for experiments over seeds.

    Network s starts from ``minchar_init(vocab_size, hidden_size, seeds[s])`` and is
    trained exactly as :func:`train_minchar` trains it (one stream, chunks of ``seq_len``,
    entries clipped to [-5, 5], Adagrad), for ``n_updates`` updates. The networks are
    stacked on a leading axis, so that one Python loop over the steps serves all of them
    (``_minchar_loss_and_grads_stacked``), which costs far less than one loop per
    seed. Each update computes what :func:`train_minchar` computes, up to rounding; over
    thousands of updates with Adagrad at learning rate 0.1 these rounding differences grow
    into different runs (as they do between two machines), so the networks match separate
    :func:`train_minchar` runs in distribution, not digit by digit. This is a shortcut for
    experiments over seeds, not the min-char-rnn program: time :func:`train_minchar` to
    measure that program's speed.

    Args:
        ids: ``(N,)`` integer ids of the training text.
        vocab_size: K.
        seeds: the seeds of the initial weights, one network per seed.
        n_updates: the number of updates.
        hidden_size: H.
        seq_len: the number of steps per chunk.
        lr: Adagrad's learning rate.
        valid_ids: held-out ids, scored with :func:`bits_per_char` at the end.
        vocab: the vocabulary, kept with the returned models.

    Returns:
        One pair ``(model, history)`` per seed, as :func:`train_minchar` returns it
        (``history.seconds`` is the time of the shared loop).
    """
    ids = np.asarray(ids)
    if (
        ids.ndim != 1
        or not np.issubdtype(ids.dtype, np.integer)
        or len(ids) < seq_len + 1
    ):
        raise ValueError(
            f"ids must be a 1-D array of integer ids longer than seq_len ({seq_len}); got "
            f"shape {ids.shape} and dtype {ids.dtype}."
        )
    if len(seeds) == 0:
        raise ValueError("seeds must hold at least one seed.")
    n_updates = check_int("n_updates", n_updates)
    stream = ids.tolist()
    inits = [minchar_init(vocab_size, hidden_size, seed) for seed in seeds]
    params = {name: np.stack([p[name] for p in inits]) for name in inits[0]}
    memory = {name: np.zeros_like(value) for name, value in params.items()}
    histories = [CharLMHistory(optimizer=None) for _ in seeds]
    position, h = 0, np.zeros((len(seeds), hidden_size))
    start = time.perf_counter()
    for step in range(1, n_updates + 1):
        if position + seq_len + 1 > len(
            stream
        ):  # the end of the text: start again
            position, h = 0, np.zeros_like(h)
        inputs = stream[position : position + seq_len]
        targets = stream[position + 1 : position + seq_len + 1]
        loss, grads, h = _minchar_loss_and_grads_stacked(
            params, inputs, targets, h
        )
        for name, p in params.items():
            g = np.clip(grads[name], -5.0, 5.0)
            memory[name] += g * g
            p -= lr * g / np.sqrt(memory[name] + 1e-8)
        position += seq_len
        elapsed = time.perf_counter() - start
        for history, seed_loss in zip(histories, loss):
            history.losses.append(float(seed_loss) / seq_len)
            history.seconds.append(elapsed)
            history.chars.append(step * seq_len)
    results = []
    for s, history in enumerate(histories):
        history.optimizer = {name: value[s] for name, value in memory.items()}
        model = minchar_to_charlm(
            {name: value[s] for name, value in params.items()}, vocab
        )
        if valid_ids is not None:
            history.valid.append(
                (
                    n_updates,
                    history.seconds[-1],
                    bits_per_char(model, valid_ids),
                )
            )
        results.append((model, history))
    return results
