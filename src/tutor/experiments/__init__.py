"""The experiments of the book's chapters, one module per chapter.

Each module holds the loops that a chapter runs and shows, so that the
notebook stays short and the experiment is tested like the rest of the package.

- :mod:`tutor.experiments.elman`: Elman's temporal XOR, a simple RNN that
  predicts the XOR bit of each triplet.
- :mod:`tutor.experiments.bptt`: the cost of full backpropagation through time,
  and truncated BPTT on the delayed-recall task.
- :mod:`tutor.experiments.adding`: training on the adding problem, with and
  without clipping, and the sweep over sequence lengths.
- :mod:`tutor.experiments.reber`: the LSTM and the simple RNN on the embedded
  Reber grammar, scored with the strict criterion.
- :mod:`tutor.experiments.lstm_memory`: the LSTM on the adding problem, the
  forget-gate bias, and the forget gate on a continual Reber stream.
- :mod:`tutor.experiments.compare`: the simple RNN, the LSTM and the GRU at equal
  parameter count on several tasks (``tutor reproduce compare`` from a shell).
- :mod:`tutor.experiments.deeper`: stacked layers at a matched parameter count,
  a bidirectional tagger against the one-way limit, Reber strings of different
  lengths classified from each string's end, and beam search against greedy
  decoding.
- :mod:`tutor.experiments.tuning`: small sweeps of the settings that matter most
  in practice, and early stopping.
"""
