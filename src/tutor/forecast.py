"""Forecasting a time series: a recurrent model, honest baselines, and an honest evaluation.

The chapter "Recurrent networks in practice" forecasts a real series (the Mauna Loa CO2
record, :mod:`tutor.data.series`). A forecast is only worth something if it beats the
simple methods, and if it is scored on data it never saw. So this module has:

- :func:`split_in_time`: cut a series into a training, a validation and a test part *in
  time order*. A random split would let the model see the future of the points it is
  scored on.
- :class:`Standardiser`: shift and scale a series to mean 0 and standard deviation 1,
  with the mean and the standard deviation of the *training part only*; using the
  validation or the test part here would leak information about the future into the
  model.
- Baselines: :func:`last_value_forecast` (tomorrow is like today),
  :func:`seasonal_naive_forecast` (this July is like last July) and a linear
  autoregression fitted by least squares, :func:`fit_ar`, forecast several steps ahead
  by feeding its own predictions back in (:meth:`ARModel.forecast`).
- :class:`Forecaster`: a recurrent layer reads the standardised series one value per
  step and a dense readout predicts the next k values; :func:`train_forecaster` trains
  it on windows of the training part and stops early when the error on the validation
  part stops improving.
- Errors: :func:`mae` (mean absolute error) and :func:`rmse` (root mean squared error),
  in the units of the series.
- :func:`difference` and :func:`undifference`: model the changes of a series instead of
  its values. A network with saturating units cannot extrapolate a trend beyond the
  range of values it was trained on; the changes of a trending series stay in range.

A series here is a 1-D float array ``(N,)`` without NaN (fill gaps first, for example
with :func:`tutor.data.series.fill_gaps`). Times are steps 0..N-1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from tutor._cells import (
    DEFAULT_GATE_BIAS,
    RecurrentReadout,
    check_cell,
    make_layer,
)
from tutor._checks import as_rng, check_int
from tutor.feedforward import Dense
from tutor.functional import mse
from tutor.optim import Adam, clip_grad_norm
from tutor.train import progress_bar

__all__ = [
    "Split",
    "split_in_time",
    "Standardiser",
    "last_value_forecast",
    "seasonal_naive_forecast",
    "ARModel",
    "fit_ar",
    "mae",
    "rmse",
    "difference",
    "undifference",
    "Forecaster",
    "ForecastHistory",
    "validation_loss",
    "train_forecaster",
]


def _check_series(name: str, series: object, min_length: int = 1) -> np.ndarray:
    """Return ``series`` as a 1-D float64 array of at least ``min_length`` finite values."""
    array = np.asarray(series)
    if array.ndim != 1 or not (
        np.issubdtype(array.dtype, np.number) and array.dtype != bool
    ):
        raise ValueError(
            f"{name} must be a 1-D array of numbers, (N,); got shape {array.shape} and "
            f"dtype {array.dtype}."
        )
    if len(array) < min_length:
        raise ValueError(
            f"{name} must hold at least {min_length} values; got {len(array)}."
        )
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} holds NaN or infinite values at {np.flatnonzero(~np.isfinite(array))[:5]}"
            f"...; fill the gaps first (tutor.data.series.fill_gaps)."
        )
    return array


# ------------------------------------------------------------------------------ splitting


class Split(NamedTuple):
    """The three parts of a series, in time order (see :func:`split_in_time`).

    Attributes:
        train: ``series[:train_end]``.
        valid: ``series[train_end:valid_end]``.
        test: ``series[valid_end:]``.
        train_end: the index of the first validation value.
        valid_end: the index of the first test value.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    train_end: int
    valid_end: int


def split_in_time(
    series: object, train_end: float, valid_end: float, times: object = None
) -> Split:
    """Cut a series into training, validation and test parts, in time order.

    Everything before ``train_end`` is for training, everything from
    ``train_end`` up to (not including) ``valid_end`` for choosing settings and
    when to stop, everything from ``valid_end`` on for the final score. Each
    part lies entirely after the one before it, as when a forecast is used for
    real: fitted on the past, judged on the future.

    Args:
        series: ``(N,)`` values (NaN is allowed here; the parts are views, not
            copies).
        train_end: the index where the validation part starts, or a time when
            ``times`` is given (the first index whose time is >= ``train_end``).
        valid_end: the index (or time) where the test part starts,
            >= ``train_end``.
        times: ``(N,)`` increasing times of the values (for example decimal
            years), or ``None`` to give the ends as indices.

    Returns:
        A :class:`Split`; each part holds at least one value.

    Example:
        >>> split = split_in_time(np.arange(10.0), 6, 8)
        >>> split.train.tolist(), split.valid.tolist(), split.test.tolist()
        ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0], [8.0, 9.0])
    """
    series = np.asarray(series)
    if series.ndim != 1:
        raise ValueError(f"series must be 1-D, (N,); got shape {series.shape}.")
    if times is None:
        a = check_int("train_end", train_end, 0)
        b = check_int("valid_end", valid_end, 0)
    else:
        times = np.asarray(times)
        if times.shape != series.shape or np.any(np.diff(times) <= 0):
            raise ValueError(
                "times must be increasing and have the shape of series."
            )
        a, b = (
            int(np.searchsorted(times, end, side="left"))
            for end in (train_end, valid_end)
        )
    if not 0 < a < b < len(series):
        raise ValueError(
            "the split must leave every part at least one value: need "
            f"0 < train_end < valid_end < N = {len(series)}; "
            f"got train_end = {a} and valid_end = {b} (as indices)."
        )
    return Split(series[:a], series[a:b], series[b:], a, b)


@dataclass(frozen=True)
class Standardiser:
    """Shift and scale values to ``z = (x - mean) / std``, with numbers from the training part.

    Build it with :meth:`fit` on the training part only, then use the same numbers for
    the validation and the test part: they stand for the future, which is unknown when
    the model is fitted.

    Attributes:
        mean: the mean of the training values.
        std: their standard deviation (> 0).
    """

    mean: float
    std: float

    @classmethod
    def fit(cls, train: object) -> Standardiser:
        """Measure the mean and the standard deviation of ``train`` (``(N,)``, N >= 2)."""
        train = _check_series("train", train, min_length=2)
        std = float(train.std())
        if std == 0:
            raise ValueError(
                "train is constant: its standard deviation is 0, nothing to scale by."
            )
        return cls(float(train.mean()), std)

    def transform(self, values: object) -> np.ndarray:
        """``(values - mean) / std``, any shape."""
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.std

    def inverse(self, z: object) -> np.ndarray:
        """``z * std + mean``: back to the units of the series, any shape."""
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


# ------------------------------------------------------------------------------ baselines


def last_value_forecast(history: object, horizon: int) -> np.ndarray:
    """Forecast that every future value equals the last one seen (the "naive" forecast).

    Args:
        history: ``(N,)`` the values up to now.
        horizon: the number of steps to forecast, >= 1.

    Returns:
        ``(horizon,)``, each equal to ``history[-1]``.
    """
    history = _check_series("history", history)
    return np.full(check_int("horizon", horizon, 1), history[-1])


def seasonal_naive_forecast(
    history: object, horizon: int, period: int
) -> np.ndarray:
    """Forecast each value as the value one season (``period`` steps) earlier.

    Step h ahead (h = 1, 2, ...) gets
    ``history[N - period + (h - 1) % period]``: the last season seen, repeated.
    On a series that repeats exactly with this period, the forecast is exact.

    Args:
        history: ``(N,)`` the values up to now, N >= ``period``.
        horizon: the number of steps to forecast, >= 1.
        period: the length of a season in steps (12 for monthly data with a
            yearly cycle).

    Returns:
        ``(horizon,)``.
    """
    period = check_int("period", period, 1)
    history = _check_series("history", history, min_length=period)
    horizon = check_int("horizon", horizon, 1)
    last_season = history[len(history) - period :]
    return last_season[np.arange(horizon) % period].copy()


class ARModel(NamedTuple):
    """A linear autoregression ``y_t = a_0 + a_1 y_{t-1} + ... + a_p y_{t-p} + noise``.

    Attributes:
        coef: ``(p,)``, the coefficients ``a_1 .. a_p`` (``coef[0]`` multiplies the most
            recent value).
        intercept: the constant ``a_0``.
    """

    coef: np.ndarray
    intercept: float

    @property
    def order(self) -> int:
        """p, the number of past values used."""
        return len(self.coef)

    def forecast(self, history: object, horizon: int) -> np.ndarray:
        """Forecast ``horizon`` steps ahead, feeding each prediction back in.

        Step 1 uses the last p values of ``history``; step 2 uses the prediction of
        step 1 in place of the unknown value, and so on (a recursive forecast).

        Args:
            history: ``(N,)``, N >= p, the values up to now.
            horizon: the number of steps, >= 1.

        Returns:
            ``(horizon,)``.
        """
        p = self.order
        history = _check_series("history", history, min_length=p)
        horizon = check_int("horizon", horizon, 1)
        # most recent first, like coef
        window = list(history[len(history) - p :][::-1])
        out = np.empty(horizon)
        for h in range(horizon):
            out[h] = self.intercept + float(np.dot(self.coef, window))
            window = [out[h], *window[:-1]]
        return out


def fit_ar(series: object, order: int) -> ARModel:
    """Fit a linear autoregression of order p by least squares.

    Each value from step p on is one equation
    ``y_t = a_0 + a_1 y_{t-1} + ... + a_p y_{t-p}``; ``numpy.linalg.lstsq``
    finds the ``a_0, ..., a_p`` that minimise the sum of the squared errors of
    all N - p equations.

    Args:
        series: ``(N,)`` the training values; N must exceed 2 p so that there
            are more equations than unknowns.
        order: p >= 1.

    Returns:
        An :class:`ARModel`.

    Example:
        >>> y = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]  # y_t = 2 y_{t-1}
        >>> model = fit_ar(y, 1)
        >>> round(float(model.coef[0]), 6), round(model.intercept, 6) + 0.0
        (2.0, 0.0)
    """
    p = check_int("order", order, 1)
    series = _check_series("series", series, min_length=2 * p + 1)
    n = len(series)
    # Row t - p of the design matrix holds 1, y_{t-1}, ..., y_{t-p}.
    lags = np.stack([series[p - j : n - j] for j in range(1, p + 1)], axis=1)
    design = np.concatenate([np.ones((n - p, 1)), lags], axis=1)
    solution, *_ = np.linalg.lstsq(design, series[p:], rcond=None)
    return ARModel(solution[1:], float(solution[0]))


def mae(prediction: object, target: object) -> float:
    """The mean absolute error ``mean(abs(prediction - target))``, in the units of the series."""
    prediction, target = _check_pair(prediction, target)
    return float(np.mean(np.abs(prediction - target)))


def rmse(prediction: object, target: object) -> float:
    """The root mean squared error ``sqrt(mean((prediction - target)**2))``.

    Large errors count more than in :func:`mae`.
    """
    prediction, target = _check_pair(prediction, target)
    return float(np.sqrt(np.mean((prediction - target) ** 2)))


def _check_pair(
    prediction: object, target: object
) -> tuple[np.ndarray, np.ndarray]:
    prediction = np.asarray(prediction, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if prediction.shape != target.shape or prediction.size == 0:
        raise ValueError(
            f"prediction and target must have the same non-empty shape; got "
            f"{prediction.shape} and {target.shape}."
        )
    return prediction, target


def difference(series: object, lag: int = 1) -> np.ndarray:
    """The changes ``series[t] - series[t - lag]``, ``(N - lag,)``.

    With ``lag = 1`` these are the step-to-step changes; with the season's length (12
    for monthly data) the change from the same time one season earlier.
    """
    lag = check_int("lag", lag, 1)
    series = _check_series("series", series, min_length=lag + 1)
    return series[lag:] - series[:-lag]


def undifference(changes: object, history: object, lag: int = 1) -> np.ndarray:
    """Turn forecast changes into values: the inverse of :func:`difference`.

    Value h ahead is ``changes[h] + (value lag steps earlier)``, where the
    earlier value comes from ``history`` or from an earlier step of the result.

    Args:
        changes: ``(H,)`` forecast changes.
        history: ``(N,)`` the values before the forecast, N >= ``lag``.
        lag: as given to :func:`difference`.

    Returns:
        ``(H,)`` values.

    Example:
        >>> undifference([1.0, 1.0, 2.0], history=[5.0, 6.0]).tolist()
        [7.0, 8.0, 10.0]
    """
    lag = check_int("lag", lag, 1)
    changes = _check_series("changes", changes)
    history = _check_series("history", history, min_length=lag)
    values = np.concatenate(
        [history[len(history) - lag :], np.empty(len(changes))]
    )
    for h, change in enumerate(changes):
        values[lag + h] = values[h] + change
    return values[lag:]


# ------------------------------------------------------------------------------ the network


class Forecaster(RecurrentReadout):
    """A recurrent network that reads a series one value per step and predicts the next k.

    At each step t the standardised value ``z_t`` enters a recurrent layer (input size
    1), and a dense readout maps the hidden state to k numbers, the forecasts of
    ``z_{t+1} .. z_{t+k}``. Values are standardised with ``scaler``, which
    :func:`train_forecaster` fits on the training part.

    Args:
        hidden_size: H.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        horizon: k >= 1, the number of values predicted at each step.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the initial weights.
        dtype: ``np.float64`` (default) or ``np.float32``.
        gate_bias: as for :class:`tutor.charlm.CharLM`: the LSTM's forget-gate bias
            (default 1.0) or the GRU's update-gate bias (default 0.0); ``None`` for ``"rnn"``.

    Attributes:
        layer: the recurrent layer, ``1 -> H``.
        readout: the :class:`tutor.feedforward.Dense` readout, ``H -> k``.
        scaler: the :class:`Standardiser` of the training part, or ``None`` before training.
        params: all parameters in one flat dict, ``"rnn.weight_ih"``, ..., ``"readout.bias"``.
        grads: the gradients, keyed as ``params``.
    """

    def __init__(
        self,
        hidden_size: int,
        cell: str = "lstm",
        horizon: int = 1,
        *,
        rng: int | np.random.Generator,
        dtype: type | np.dtype = np.float64,
        gate_bias: float | None = None,
    ) -> None:
        check_cell(cell)
        self.horizon = check_int("horizon", horizon, 1)
        if gate_bias is None:
            gate_bias = DEFAULT_GATE_BIAS.get(cell)
        rng = as_rng(rng)
        # make_layer refuses a gate_bias for the simple RNN, which has no gates.
        layer = make_layer(
            cell, 1, hidden_size, rng=rng, gate_bias=gate_bias, dtype=dtype
        )
        super().__init__(
            layer, Dense(hidden_size, self.horizon, rng=rng, dtype=layer.dtype)
        )
        self.cell = cell
        self.gate_bias = None if gate_bias is None else float(gate_bias)
        self.dtype = layer.dtype
        self.scaler: Standardiser | None = None

    def __repr__(self) -> str:
        return (
            f"Forecaster(hidden_size={self.hidden_size}, cell={self.cell!r}, "
            f"horizon={self.horizon}, dtype=np.{self.dtype.name})"
        )

    def forward(
        self, z: np.ndarray, state: object = None
    ) -> tuple[np.ndarray, object]:
        """Read standardised values and predict, after each step, the next k.

        Args:
            z: ``(T, B)`` standardised values, B series side by side.
            state: the layer's state to start from; ``None`` means zeros.

        Returns:
            The pair ``(predictions, state)`` of the standardised forecasts,
            ``(T, B, k)`` (``predictions[t, b, j]`` is the forecast of
            ``z[t + 1 + j, b]``), and the layer's state after the last step.
        """
        z = np.asarray(z)
        if z.ndim != 2:
            raise ValueError(f"z must have shape (T, B); got shape {z.shape}.")
        out, state = self.layer.forward(z.astype(self.dtype)[..., None], state)
        return self.readout.forward(out), state

    def loss_and_grads(
        self, z: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Mean squared error of the forecasts of one batch of windows, and its gradient.

        Args:
            z: ``(T, B)`` standardised inputs.
            targets: ``(T, B, k)`` the standardised values to forecast.
            mask: ``(T, B)`` bool, the steps that count (for example not the first few,
                whose state has seen little of the series); ``None`` counts all.

        Returns:
            The pair ``(loss, grads)``; ``grads`` holds the layers' own arrays.
        """
        predictions, _ = self.forward(z)
        loss, dpred = mse(
            predictions, np.asarray(targets, dtype=self.dtype), mask
        )
        self.layer.backward(self.readout.backward(dpred))
        return loss, self.grads

    def _require_scaler(self) -> Standardiser:
        if self.scaler is None:
            raise RuntimeError(
                "this Forecaster has no scaler yet: train it with train_forecaster (which "
                "fits one on the training part), or set model.scaler = Standardiser.fit(train)."
            )
        return self.scaler

    def predict(self, series: object) -> np.ndarray:
        """Teacher-forced forecasts: after each value, the next k, from the true past only.

        Args:
            series: ``(N,)`` values in the series' units.

        Returns:
            The forecasts, ``(N, k)``, in the series' units. Row t holds the forecasts
            of ``series[t + 1 .. t + k]`` made after reading ``series[0 .. t]`` (from
            the zero state).
        """
        scaler = self._require_scaler()
        z = scaler.transform(_check_series("series", series))
        predictions, _ = self.forward(z[:, None])
        return scaler.inverse(predictions[:, 0, :])

    def forecast(self, history: object, steps: int) -> np.ndarray:
        """Forecast ``steps`` values after ``history``, feeding forecasts back in.

        The network reads ``history`` from the zero state, then forecasts the next k
        values; those k forecasts are read as if they were values, and the next k are
        forecast, until ``steps`` values are made (a recursive forecast, k at a time).

        Args:
            history: ``(N,)`` values in the series' units.
            steps: the number of values to forecast, >= 1.

        Returns:
            ``(steps,)`` in the series' units.
        """
        scaler = self._require_scaler()
        steps = check_int("steps", steps, 1)
        z = scaler.transform(_check_series("history", history))
        predictions, state = self.forward(z[:, None])
        made = [predictions[-1, 0, :].astype(np.float64)]
        total = self.horizon
        while total < steps:
            predictions, state = self.forward(made[-1][:, None], state)
            made.append(predictions[-1, 0, :].astype(np.float64))
            total += self.horizon
        return scaler.inverse(np.concatenate(made)[:steps])


@dataclass
class ForecastHistory:
    """What :func:`train_forecaster` records.

    Attributes:
        losses: the training loss (standardised mean squared error) of every
            update.
        valid_steps: the updates (counted from 1) after which the validation
            part was scored.
        valid_losses: the standardised mean squared error on the validation part then.
        best_step: the update of the lowest validation error; the model is left
            with the parameters of that update.
        stopped_early: True when training stopped because the validation error had not
            improved for ``patience`` evaluations.
        seconds: the training time, in seconds.
    """

    losses: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid_losses: list[float] = field(default_factory=list)
    best_step: int = 0
    stopped_early: bool = False
    seconds: float = 0.0


def _windows(
    z: np.ndarray, starts: np.ndarray, window: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(window, B)`` and targets ``(window, B, k)`` of windows starting at ``starts``."""
    steps = np.arange(window)[:, None] + starts[None, :]  # (window, B)
    ahead = steps[..., None] + 1 + np.arange(horizon)  # (window, B, k)
    return z[steps], z[ahead]


def validation_loss(model: Forecaster, train: object, valid: object) -> float:
    """The standardised mean squared error of the forecasts of validation values.

    The model reads the training part and then the validation part from the zero state
    (teacher forcing: the true values, no feedback). Scored are the forecasts made after
    each step t whose k targets all lie inside the validation part.
    """
    scaler = model._require_scaler()
    train, valid = np.asarray(train), np.asarray(valid)
    z = scaler.transform(np.concatenate([train, valid]))
    predictions, _ = model.forward(z[:-1, None])
    n, k = len(train), model.horizon
    first, last = (
        n - 1,
        len(z) - 1 - k,
    )  # forecasts made after step t predict t+1..t+k
    if last < first:
        raise ValueError(
            f"valid must hold at least horizon = {k} values; got {len(valid)}."
        )
    rows = np.arange(first, last + 1)
    targets = z[rows[:, None] + 1 + np.arange(k)]
    return float(np.mean((predictions[rows, 0, :] - targets) ** 2))


def train_forecaster(
    model: Forecaster,
    train: object,
    valid: object,
    *,
    window: int = 48,
    burn_in: int | None = None,
    batch_size: int = 32,
    lr: float = 3e-3,
    clip_norm: float | None = 1.0,
    max_updates: int = 2000,
    eval_every: int = 50,
    patience: int = 10,
    rng: int | np.random.Generator = 0,
    progress: bool | None = None,
) -> ForecastHistory:
    """Train a :class:`Forecaster` on random windows, with early stopping.

    First ``model.scaler`` is fitted on ``train`` alone
    (:meth:`Standardiser.fit`). Each step draws ``batch_size`` windows of
    ``window`` consecutive training values (and the k values after each), runs
    the network over each window from the zero state, and takes an Adam step on
    the mean squared error of the forecasts after the first ``burn_in`` steps
    (before that the state has seen too little to forecast from). Every
    ``eval_every`` steps the validation part is scored
    (:func:`validation_loss`); the parameters of the best score are kept, and
    training stops when the score has not improved for ``patience`` evaluations
    in a row. The test part is not used at all.

    Args:
        model: the model; its parameters are changed in place, and end at the
            best validation score.
        train: ``(N,)`` training values (no NaN).
        valid: ``(M,)`` validation values, the ones right after ``train``;
            M >= k.
        window: the number of steps per training window.
        burn_in: the number of steps at the start of each window without a loss;
            ``None`` means ``window // 4``.
        batch_size: the number of windows per update.
        lr: Adam's learning rate.
        clip_norm: the largest global gradient norm; ``None`` does not clip.
        max_updates: the largest number of updates (optimiser steps).
        eval_every: the number of updates between validation scores.
        patience: the number of validation scores without improvement before
            stopping.
        rng: an ``int`` seed or a ``numpy.random.Generator`` for the windows.
        progress: show a progress bar; ``None`` decides with
            :func:`tutor.train.progress_enabled`.

    Returns:
        A :class:`ForecastHistory`.
    """
    window = check_int("window", window, 2)
    burn_in = (
        window // 4 if burn_in is None else check_int("burn_in", burn_in, 0)
    )
    if burn_in >= window:
        raise ValueError(
            f"burn_in ({burn_in}) must be smaller than window ({window})."
        )
    for name, value in (
        ("batch_size", batch_size),
        ("max_updates", max_updates),
    ):
        check_int(name, value, 1)
    eval_every, patience = (
        check_int("eval_every", eval_every, 1),
        check_int("patience", patience, 1),
    )
    k = model.horizon
    train = _check_series("train", train, min_length=2)
    valid = _check_series("valid", valid, min_length=k)
    n_starts = len(train) - window - k + 1
    if n_starts < 1:
        raise ValueError(
            f"train holds {len(train)} values, too few for windows of "
            f"{window} steps and {k} values ahead; use a shorter window."
        )
    rng = as_rng(rng)
    # the training part only: no look at the future
    model.scaler = Standardiser.fit(train)
    z = model.scaler.transform(train)
    mask = np.zeros((window, batch_size), dtype=bool)
    mask[burn_in:] = True
    optimizer = Adam(model.params, lr=lr)
    history = ForecastHistory()
    best, best_params, waited = np.inf, None, 0
    start = time.perf_counter()
    bar = progress_bar(range(1, max_updates + 1), progress, leave=False)
    for step in bar:
        inputs, targets = _windows(
            z, rng.integers(0, n_starts, size=batch_size), window, k
        )
        loss, grads = model.loss_and_grads(inputs, targets, mask)
        if not np.isfinite(loss):
            raise ValueError(
                f"the loss is {loss} at step {step}: lower the learning rate."
            )
        if clip_norm is not None:
            clip_grad_norm(grads, clip_norm)
        optimizer.step(grads)
        history.losses.append(loss)
        if step % eval_every == 0 or step == max_updates:
            score = validation_loss(model, train, valid)
            history.valid_steps.append(step)
            history.valid_losses.append(score)
            bar.set_postfix(valid=f"{score:.4f}")
            if score < best:
                best, waited, history.best_step = score, 0, step
                best_params = {
                    name: p.copy() for name, p in model.params.items()
                }
            else:
                waited += 1
                if waited >= patience:
                    history.stopped_early = True
                    break
    bar.close()
    if best_params is not None:
        for name, p in model.params.items():
            p[...] = best_params[name]
    history.seconds = time.perf_counter() - start
    return history
