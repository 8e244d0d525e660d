"""Data for the book's experiments: synthetic tasks with a known structure.

Every generator takes ``rng`` (an int seed or a ``numpy.random.Generator``) and
returns the same data for the same seed. Arrays are time-major, ``(T, B, ...)``.

- :mod:`tutor.data.streams`: Elman's (1990) temporal XOR and letter sequences.
- :mod:`tutor.data.recall`: delayed recall, repeat the symbol seen d steps ago.
- :mod:`tutor.data.adding`: the adding problem of Hochreiter and Schmidhuber (1997).
- :mod:`tutor.data.toy`: small two-dimensional classification problems.
- :mod:`tutor.data.copy_tasks`: copy or reverse a sequence of symbols (sequence to sequence).
- :mod:`tutor.data.text`: English text shipped with the package, a character vocabulary,
  batches for truncated BPTT over a long text, the unigram baseline.
- :mod:`tutor.data.series`: the Mauna Loa weekly CO2 record (1958-2001), shipped with the
  package, and gap filling.
- :mod:`tutor.data.reber`: the Reber grammar and the embedded Reber grammar.
  Its functions have short names meant to be called through the module::

      from tutor.data import reber
      reber.generate(rng=0, embedded=True)
"""

from tutor.data import (
    adding,
    copy_tasks,
    reber,
    recall,
    series,
    streams,
    text,
    toy,
)
from tutor.data.adding import (
    AddingTask,
    adding_accuracy,
    adding_baseline_error,
    adding_problem,
    last_outputs,
    last_outputs_backward,
)
from tutor.data.copy_tasks import (
    Seq2SeqBatch,
    copy_task,
    exact_match,
    reverse_task,
    token_accuracy,
)
from tutor.data.reber import ReberBatch
from tutor.data.recall import RecallTask, delayed_recall
from tutor.data.series import (
    SERIES_SOURCES,
    Co2Record,
    decimal_years,
    fill_gaps,
    load_co2,
    monthly_means,
)
from tutor.data.streams import (
    EXPANSION,
    FEATURE_NAMES,
    FEATURES,
    LETTERS,
    LetterTask,
    XorTask,
    encode_letters,
    is_vowel,
    letter_indices,
    letter_task,
    letters_to_text,
    next_step_pairs,
    temporal_xor,
    temporal_xor_task,
    text_to_indices,
)
from tutor.data.text import (
    TEXT_SOURCES,
    TextBatches,
    Vocabulary,
    load_text,
    text_batches,
    unigram_bits_per_char,
)

__all__ = [
    "adding",
    "toy",
    "AddingTask",
    "adding_problem",
    "adding_accuracy",
    "adding_baseline_error",
    "last_outputs",
    "last_outputs_backward",
    "reber",
    "streams",
    "recall",
    "ReberBatch",
    "delayed_recall",
    "RecallTask",
    "temporal_xor",
    "temporal_xor_task",
    "XorTask",
    "next_step_pairs",
    "LETTERS",
    "FEATURE_NAMES",
    "FEATURES",
    "EXPANSION",
    "letter_indices",
    "letters_to_text",
    "text_to_indices",
    "encode_letters",
    "is_vowel",
    "letter_task",
    "LetterTask",
    "copy_tasks",
    "Seq2SeqBatch",
    "copy_task",
    "reverse_task",
    "token_accuracy",
    "exact_match",
    "text",
    "TEXT_SOURCES",
    "load_text",
    "Vocabulary",
    "TextBatches",
    "text_batches",
    "unigram_bits_per_char",
    "series",
    "SERIES_SOURCES",
    "Co2Record",
    "load_co2",
    "decimal_years",
    "monthly_means",
    "fill_gaps",
]
