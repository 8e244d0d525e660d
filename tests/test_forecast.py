"""Tests of tutor.forecast: splitting in time, standardisation, baselines, the network."""

import numpy as np
import pytest

from tutor.forecast import (
    ARModel,
    Forecaster,
    Standardiser,
    difference,
    fit_ar,
    last_value_forecast,
    mae,
    rmse,
    seasonal_naive_forecast,
    split_in_time,
    train_forecaster,
    undifference,
    validation_loss,
)
from tutor.gradcheck import gradcheck


def sine(n, period=12, phase=0.3):
    return np.sin(2 * np.pi * np.arange(n) / period + phase)


def ar2_process(n, a1, a2, c, rng, noise=1.0):
    y = np.zeros(n)
    e = rng.normal(0, noise, n)
    for t in range(2, n):
        y[t] = c + a1 * y[t - 1] + a2 * y[t - 2] + e[t]
    return y


# Splitting and scaling ---------------------------------------------------------------------


def test_split_in_time_by_index_and_by_time():
    series = np.arange(10.0)
    split = split_in_time(series, 6, 8)
    assert (split.train_end, split.valid_end) == (6, 8)
    np.testing.assert_array_equal(np.concatenate(split[:3]), series)
    years = 2000 + np.arange(10) / 4  # quarterly
    by_time = split_in_time(series, 2001.0, 2001.5, times=years)
    assert by_time.train.tolist() == [0, 1, 2, 3] and by_time.valid.tolist() == [4, 5]
    assert by_time.test[0] == 6


@pytest.mark.parametrize("ends", [(0, 5), (5, 5), (6, 4), (3, 10)])
def test_split_in_time_leaves_every_part_non_empty(ends):
    train_end, valid_end = ends
    expected = r"0 < train_end < valid_end < N = 10"
    given = rf"train_end = {train_end} and valid_end = {valid_end}"
    with pytest.raises(ValueError, match=rf"{expected}.*{given}"):
        split_in_time(np.arange(10.0), *ends)


def test_standardiser_uses_the_numbers_it_was_fitted_on():
    train = np.array([1.0, 2.0, 3.0, 4.0])
    scaler = Standardiser.fit(train)
    assert scaler.mean == 2.5 and scaler.std == pytest.approx(np.std(train))
    z = scaler.transform(train)
    assert z.mean() == pytest.approx(0) and z.std() == pytest.approx(1)
    np.testing.assert_allclose(scaler.inverse(scaler.transform([7.0, -3.0])), [7.0, -3.0])
    with pytest.raises(ValueError, match=r"\btrain\b.*constant.*standard deviation is 0"):
        Standardiser.fit([2.0, 2.0])
    with pytest.raises(ValueError, match=r"\btrain\b.*NaN.*\[1\]"):
        Standardiser.fit([1.0, np.nan])


def test_training_scales_with_the_training_part_only():
    series = np.linspace(0, 10, 200) + sine(200)
    split = split_in_time(series, 150, 175)
    model = Forecaster(4, "rnn", rng=0)
    train_forecaster(model, split.train, split.valid, max_updates=2, eval_every=1, window=12)
    assert model.scaler == Standardiser.fit(split.train)
    # Changing the future changes nothing about the scaler.
    other = Forecaster(4, "rnn", rng=0)
    train_forecaster(other, split.train, split.valid * 100, max_updates=2, eval_every=1, window=12)
    assert other.scaler == model.scaler


# Baselines -------------------------------------------------------------------------------


def test_last_value_forecast():
    assert last_value_forecast([1.0, 5.0, 2.0], 3).tolist() == [2.0, 2.0, 2.0]


def test_seasonal_naive_is_exact_on_a_pure_sine():
    series = sine(12 * 20)
    history, future = series[:200], series[200:]
    forecast = seasonal_naive_forecast(history, len(future), period=12)
    np.testing.assert_allclose(forecast, future, atol=1e-12)
    assert mae(forecast, future) < 1e-12
    # the last value is far off on the same series
    assert mae(last_value_forecast(history, len(future)), future) > 0.3


def test_seasonal_naive_repeats_the_last_season():
    history = np.arange(10.0)
    assert seasonal_naive_forecast(history, 7, period=3).tolist() == [7, 8, 9, 7, 8, 9, 7]
    with pytest.raises(ValueError, match=r"\bhistory\b.*at least 3.*\b2\b"):
        seasonal_naive_forecast([1.0, 2.0], 1, period=3)


def test_fit_ar_recovers_the_coefficients_of_an_ar2_process():
    rng = np.random.default_rng(0)
    y = ar2_process(20_000, 0.6, -0.3, 0.5, rng)
    model = fit_ar(y, 2)
    np.testing.assert_allclose(model.coef, [0.6, -0.3], atol=0.02)
    assert model.intercept == pytest.approx(0.5, abs=0.05)
    assert model.order == 2


def test_fit_ar_is_exact_without_noise_and_forecasts_recursively():
    rng = np.random.default_rng(1)
    y = ar2_process(60, 1.2, -0.5, 0.1, rng, noise=0.0)
    y[:2] = [1.0, -0.5]
    for t in range(2, 60):  # start from nonzero values so the equations are not all zero
        y[t] = 0.1 + 1.2 * y[t - 1] - 0.5 * y[t - 2]
    model = fit_ar(y[:40], 2)
    np.testing.assert_allclose(model.coef, [1.2, -0.5], atol=1e-9)
    np.testing.assert_allclose(model.forecast(y[:40], 20), y[40:], atol=1e-8)


def test_ar_forecast_feeds_its_predictions_back():
    model = ARModel(np.array([0.5, 0.25]), 1.0)
    # y3 = 1 + 0.5 * 4 + 0.25 * 2 = 3.5; y4 = 1 + 0.5 * 3.5 + 0.25 * 4 = 3.75
    assert model.forecast([2.0, 4.0], 2).tolist() == [3.5, 3.75]


def test_fit_ar_needs_more_equations_than_unknowns():
    with pytest.raises(ValueError, match=r"\bseries\b.*at least 7.*\b6\b"):
        fit_ar(np.arange(6.0), 3)


def test_error_metrics():
    assert mae([1.0, 2.0, 3.0], [1.0, 4.0, 0.0]) == pytest.approx(5 / 3)
    assert rmse([1.0, 2.0, 3.0], [1.0, 4.0, 0.0]) == pytest.approx(np.sqrt(13 / 3))
    with pytest.raises(
        ValueError, match=r"prediction.*target.*same non-empty shape.*\(2,\).*\(1,\)"
    ):
        mae([1.0, 2.0], [1.0])


@pytest.mark.parametrize("lag", [1, 12])
def test_undifference_inverts_difference(lag):
    series = np.cumsum(np.random.default_rng(0).normal(size=60)) + sine(60)
    changes = difference(series, lag)
    assert len(changes) == 60 - lag
    rebuilt = undifference(changes[40 - lag :], series[:40], lag)
    np.testing.assert_allclose(rebuilt, series[40:], atol=1e-12)


# The network -----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("horizon", [1, 3])
def test_forecaster_shapes(cell, horizon):
    model = Forecaster(5, cell, horizon, rng=0)
    predictions, _ = model.forward(np.zeros((7, 2)))
    assert predictions.shape == (7, 2, horizon)
    with pytest.raises(RuntimeError, match=r"no scaler.*train_forecaster.*model\.scaler"):
        model.forecast(np.arange(10.0), 4)
    model.scaler = Standardiser(1.0, 2.0)
    assert model.predict(np.arange(10.0)).shape == (10, horizon)
    for steps in (1, 4, 7):
        assert model.forecast(np.arange(10.0), steps).shape == (steps,)


def test_forecast_reads_its_own_forecasts_k_at_a_time():
    model = Forecaster(4, "gru", horizon=2, rng=0)
    model.scaler = Standardiser(0.0, 1.0)
    history = np.array([0.1, -0.2, 0.3])
    forecast = model.forecast(history, 4)
    first = model.predict(history)[-1]  # the two values after the history
    np.testing.assert_allclose(forecast[:2], first, rtol=1e-12)
    np.testing.assert_allclose(forecast[2:], model.predict(np.r_[history, first])[-1], rtol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_forecaster_gradient_matches_finite_differences(cell):
    rng = np.random.default_rng(0)
    model = Forecaster(3, cell, horizon=2, rng=1)
    z, targets = rng.normal(size=(5, 2)), rng.normal(size=(5, 2, 2))
    mask = np.ones((5, 2), dtype=bool)
    mask[:2] = False
    _, grads = model.loss_and_grads(z, targets, mask)
    grads = {name: g.copy() for name, g in grads.items()}

    def loss():
        predictions, _ = model.forward(z)
        return np.sum((predictions - targets)[mask] ** 2) / (mask.sum() * 2)

    assert max(gradcheck(loss, model.params, grads).values()) < 1e-6


def test_training_on_a_sine_learns_and_keeps_the_best_parameters():
    series = sine(400) + 0.05 * np.random.default_rng(0).normal(size=400)
    split = split_in_time(series, 300, 350)
    model = Forecaster(12, "gru", rng=0)
    history = train_forecaster(
        model, split.train, split.valid, window=24, max_updates=300, eval_every=25, lr=1e-2
    )
    assert len(history.losses) <= 300 and history.seconds > 0
    assert history.valid_losses[-1] < 0.5 * history.valid_losses[0] or history.stopped_early
    best = min(history.valid_losses)
    assert history.valid_steps[int(np.argmin(history.valid_losses))] == history.best_step
    assert validation_loss(model, split.train, split.valid) == pytest.approx(best)
    # It beats the last value on the test part, one step ahead.
    history_and_test = np.concatenate([split.train, split.valid, split.test])
    one_step = model.predict(history_and_test)[split.valid_end - 1 : -1, 0]
    assert mae(one_step, split.test) < 0.5 * mae(history_and_test[349:-1], split.test)


def test_early_stopping_stops_when_validation_stops_improving():
    series = sine(200)
    split = split_in_time(series, 150, 175)
    model = Forecaster(4, "rnn", rng=0)
    history = train_forecaster(
        model,
        split.train,
        split.valid,
        window=12,
        lr=1.0,
        max_updates=500,
        eval_every=1,
        patience=2,
    )
    assert history.stopped_early and len(history.losses) < 500


def test_training_refuses_bad_data():
    model = Forecaster(4, "rnn", rng=0)
    with pytest.raises(ValueError, match=r"\btrain\b.*NaN.*\[50\]"):
        train_forecaster(model, np.r_[np.arange(50.0), np.nan], np.arange(5.0))
    with pytest.raises(ValueError, match=r"\btrain\b.*\b20 values.*too few.*48 steps"):
        train_forecaster(model, np.arange(20.0), np.arange(5.0), window=48)
    with pytest.raises(ValueError, match=r"burn_in \(10\).*smaller.*window \(10\)"):
        train_forecaster(model, np.arange(100.0), np.arange(5.0), window=10, burn_in=10)
    with pytest.raises(ValueError, match=r"\bcell\b.*'rnn'.*'lstm'.*'gru'.*'cnn'"):
        Forecaster(4, "cnn", rng=0)
    with pytest.raises(ValueError, match=r"gate_bias=1\.0.*cell='rnn'"):
        Forecaster(4, "rnn", rng=0, gate_bias=1.0)


def test_gate_bias_is_the_grus_update_bias_and_the_lstms_forget_bias():
    gru = Forecaster(3, "gru", rng=0, gate_bias=2.0)
    assert gru.gate_bias == 2.0 and gru.layer.update_bias == 2.0
    lstm = Forecaster(3, "lstm", rng=0)
    assert lstm.gate_bias == 1.0 and lstm.layer.forget_bias == 1.0
    assert Forecaster(3, "rnn", rng=0).gate_bias is None
