"""tutor: the companion code of the book "Recurrent neural networks from the ground up".

Plain NumPy implementations of the networks the book teaches, each with a
hand-written backward pass that the tests check against finite differences
and against PyTorch. Sequences are time-major: inputs have shape ``(T, B, D)``.

The names used most often are available from the package itself::

    import tutor
    rnn = tutor.RNN(input_size=3, hidden_size=8, rng=0)
    tutor.show_source(tutor.rnn_step_forward)

Each module holds one idea: :mod:`tutor.functional` (activations and losses),
:mod:`tutor.feedforward` (dense layers), :mod:`tutor.rnn` (the simple recurrent
network), :mod:`tutor.lstm` (long short-term memory), :mod:`tutor.gru` (gated
recurrent units), :mod:`tutor.bptt` (backpropagation through time),
:mod:`tutor.optim` (optimisers and clipping), :mod:`tutor.train` (the training loop),
:mod:`tutor.gradcheck` (finite differences), :mod:`tutor.analysis` (gradient flow
through time), :mod:`tutor.attention` and :mod:`tutor.seq2seq` (an encoder-decoder
with additive attention), :mod:`tutor.charlm` (a character-level language model),
:mod:`tutor.beam` (beam search, for the models that generate),
:mod:`tutor.stacked` (layers stacked and in both directions),
:mod:`tutor.padding` (batches of sequences of different lengths),
:mod:`tutor.forecast` (forecasting a time series), :mod:`tutor.io` (saving models
without pickle), :mod:`tutor.cli` (the ``tutor`` command) and :mod:`tutor.data`
(data sets).
"""

from tutor import (
    analysis,
    attention,
    beam,
    charlm,
    data,
    forecast,
    functional,
    io,
    padding,
    seq2seq,
    stacked,
)
from tutor._cells import RecurrentReadout
from tutor.analysis import (
    jacobian_norm_bound,
    jacobian_products,
    largest_singular_value,
    rnn_jacobian_products,
    spectral_radius,
    state_gradient_norms,
)
from tutor.beam import beam_search
from tutor.bptt import bptt_windows, full_bptt, truncated_bptt
from tutor.charlm import CharLM, bits_per_char, train_charlm
from tutor.feedforward import MLP, Dense, named_gradients, named_parameters
from tutor.forecast import Forecaster, train_forecaster
from tutor.gradcheck import gradcheck, numerical_gradients, relative_error
from tutor.gru import GRU, gru_step_backward, gru_step_forward
from tutor.io import load_model, save_model
from tutor.lstm import LSTM, lstm_step_backward, lstm_step_forward
from tutor.optim import SGD, Adam, clip_grad_norm, clip_grad_value
from tutor.rnn import RNN, rnn_step_backward, rnn_step_forward
from tutor.seq2seq import (
    Seq2Seq,
    evaluate_seq2seq,
    score_by_length,
    train_seq2seq,
)
from tutor.show import show_source
from tutor.train import History, minibatches, train

__version__ = "0.1.0"

__all__ = [
    "RNN",
    "rnn_step_forward",
    "rnn_step_backward",
    "LSTM",
    "lstm_step_forward",
    "lstm_step_backward",
    "GRU",
    "gru_step_forward",
    "gru_step_backward",
    "full_bptt",
    "bptt_windows",
    "state_gradient_norms",
    "jacobian_products",
    "rnn_jacobian_products",
    "jacobian_norm_bound",
    "largest_singular_value",
    "spectral_radius",
    "analysis",
    "attention",
    "seq2seq",
    "Seq2Seq",
    "train_seq2seq",
    "evaluate_seq2seq",
    "score_by_length",
    "beam",
    "beam_search",
    "charlm",
    "CharLM",
    "train_charlm",
    "bits_per_char",
    "forecast",
    "Forecaster",
    "train_forecaster",
    "io",
    "padding",
    "stacked",
    "save_model",
    "load_model",
    "truncated_bptt",
    "Dense",
    "MLP",
    "named_parameters",
    "named_gradients",
    "RecurrentReadout",
    "SGD",
    "Adam",
    "clip_grad_norm",
    "clip_grad_value",
    "train",
    "minibatches",
    "History",
    "gradcheck",
    "numerical_gradients",
    "relative_error",
    "show_source",
    "data",
    "functional",
    "__version__",
]
