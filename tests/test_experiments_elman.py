"""Tests of tutor.experiments.elman: Elman's temporal XOR."""

import numpy as np

from tutor.experiments.elman import train_temporal_xor
from tutor.feedforward import Dense
from tutor.rnn import RNN


def test_the_network_learns_the_xor_bit_and_not_the_random_ones():
    run = train_temporal_xor(0, n_updates=600)
    assert isinstance(run.layer, RNN) and isinstance(run.readout, Dense)
    assert run.layer.hidden_size == 8 and run.errors.shape == (3,)
    random_bits, xor_bit = run.errors[:2], run.errors[2]
    # A random bit cannot be predicted: the best answer, 0.5, has squared error 0.25.
    np.testing.assert_allclose(random_bits, 0.25, atol=0.05)
    assert xor_bit < 0.05


def test_the_run_is_reproducible_and_follows_its_settings():
    first = train_temporal_xor(3, hidden_size=4, chunk=6, n_updates=20, test_steps=60)
    second = train_temporal_xor(3, hidden_size=4, chunk=6, n_updates=20, test_steps=60)
    np.testing.assert_array_equal(first.errors, second.errors)
    assert first.layer.hidden_size == 4
