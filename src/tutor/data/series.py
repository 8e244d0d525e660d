"""A real time series shipped with the package: the Mauna Loa weekly CO2 record, 1958-2001.

The concentration of carbon dioxide in the air at Mauna Loa Observatory, Hawaii, in
parts per million by volume (ppmv), one value per week from 29 March 1958 to
29 December 2001: 2,284 weeks, of which 2,225 have a measurement. It has everything a
forecasting chapter needs: a trend (the rise from 316 to 372 ppmv), a yearly cycle of
about 6 ppmv (plants take up CO2 in the northern summer), noise, and gaps.

**Source and licence.** Scripps Institution of Oceanography (Carbon Dioxide Research
Group), distributed by the Carbon Dioxide Information Analysis Center (CDIAC) of the
U.S. Department of Energy: weekly averages of continuous measurements (four an hour,
kept on days with at least six steady hours). Cite it as C. D. Keeling and T. P. Whorf
(2004), *Atmospheric CO2 concentrations derived from flask air samples at sites in the
SIO network*, in Trends: A Compendium of Data on Global Change, CDIAC, Oak Ridge
National Laboratory, Oak Ridge, Tennessee. The shipped file
``files/co2_mauna_loa_weekly.csv`` is an unchanged copy of
``statsmodels/datasets/co2/co2.csv`` from the statsmodels 0.15.0 wheel on PyPI, whose
dataset module states ``COPYRIGHT = "This is public domain."`` (statsmodels took it from
CDIAC on 15 March 2014; statsmodels' own code is under the BSD-3-Clause licence, and
none of it is used here). :data:`SERIES_SOURCES` holds the same facts for a notebook.

**Gaps, and how they are filled.** Every week from the first to the last has a row;
59 rows have no value, mostly in 1958-1967, and the longest gap is 18 weeks (25 January
to 23 May 1964). :func:`load_co2` fills them by linear interpolation in time between the
nearest measured weeks (``fill="linear"``, the default) or leaves NaN (``fill=None``).
Interpolation draws a straight line where the true curve bends with the seasons, so a
filled value is a guess: the record's ``observed`` mask says which values were
measured, and errors should be scored on measured values only. With ``monthly=True`` the
measured weeks are averaged by calendar month first (526 months; 5 of them, June and
October 1958 and February to April 1964, have no measurement and are filled the same way).
"""

from __future__ import annotations

import csv
from importlib import resources
from typing import NamedTuple

import numpy as np

__all__ = [
    "SERIES_SOURCES",
    "Co2Record",
    "load_co2",
    "decimal_years",
    "monthly_means",
    "fill_gaps",
]

#: The origin and licence of each shipped series, keyed by its name. Each entry is a dict
#: of strings with the fields ``title``, ``file`` (in ``tutor/data/files``), ``source``,
#: ``licence``, ``citation`` and ``changes``. Print it in a notebook to credit the data.
SERIES_SOURCES: dict[str, dict[str, str]] = {
    "co2": {
        "title": "Mauna Loa weekly atmospheric CO2, March 1958 - December 2001 (ppmv)",
        "file": "co2_mauna_loa_weekly.csv",
        "source": (
            "Scripps Institution of Oceanography, via the Carbon Dioxide Information "
            "Analysis Center (CDIAC, U.S. Department of Energy); copied unchanged from "
            "statsmodels/datasets/co2/co2.csv in the statsmodels 0.15.0 wheel on PyPI"
        ),
        "licence": (
            'public domain (statsmodels.datasets.co2: COPYRIGHT = "This is public domain.")'
        ),
        "citation": (
            "Keeling, C. D. and T. P. Whorf (2004). Atmospheric CO2 concentrations derived "
            "from flask air samples at sites in the SIO network. In Trends: A Compendium of "
            "Data on Global Change. Carbon Dioxide Information Analysis Center, Oak Ridge "
            "National Laboratory, U.S. Department of Energy, Oak Ridge, Tennessee, U.S.A."
        ),
        "changes": "none; gaps are filled when loading, and the fill is reported",
    },
}


class Co2Record(NamedTuple):
    """The CO2 record as returned by :func:`load_co2`; N is 2284 weeks or 526 months.

    Attributes:
        dates: ``(N,)`` ``datetime64[D]``: the date of each weekly row as given in the
            record (a Saturday), or the first day of each month.
        years: ``(N,)`` float64, the same times as decimal years (1958.236 is late March
            1958); for months, the middle of the month.
        co2: ``(N,)`` float64, the concentration in ppmv; filled where not ``observed``
            (or NaN with ``fill=None``).
        observed: ``(N,)`` bool, True where the value was measured (for months: where at
            least one week of the month was measured).
    """

    dates: np.ndarray
    years: np.ndarray
    co2: np.ndarray
    observed: np.ndarray


def load_co2(fill: str | None = "linear", monthly: bool = False) -> Co2Record:
    """Load the Mauna Loa CO2 record shipped with the package.

    Args:
        fill: ``"linear"`` fills every gap by linear interpolation in time between the
            nearest measured values (:func:`fill_gaps`); ``None`` leaves NaN in the gaps.
        monthly: if True, average the measured weeks of each calendar month first
            (:func:`monthly_means`) and return one value per month.

    Returns:
        A :class:`Co2Record` of 2284 weeks (29 March 1958 to 29 December 2001) or, with
        ``monthly=True``, 526 months (March 1958 to December 2001).

    Raises:
        ValueError: ``fill`` is neither ``"linear"`` nor ``None``.

    Example:
        >>> record = load_co2()
        >>> len(record.co2), int(record.observed.sum()), float(record.co2[0])
        (2284, 2225, 316.1)
    """
    if fill not in ("linear", None):
        raise ValueError(f"fill must be 'linear' or None; got {fill!r}.")
    dates, co2 = _read_weekly()
    if monthly:
        dates, co2, counts = monthly_means(dates, co2)
        # The middle of each month: halfway between its first day and the next month's.
        years = (
            decimal_years(dates) + decimal_years(dates + _month_length(dates))
        ) / 2
        observed = counts > 0
    else:
        years = decimal_years(dates)
        observed = ~np.isnan(co2)
    if fill == "linear":
        co2 = fill_gaps(co2, years)
    return Co2Record(dates, years, co2, observed)


def _read_weekly() -> tuple[np.ndarray, np.ndarray]:
    """The rows of the shipped CSV: dates ``datetime64[D]`` and values (NaN where empty)."""
    path = resources.files("tutor.data").joinpath(
        "files", SERIES_SOURCES["co2"]["file"]
    )
    with path.open("r", encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    if rows[0] != ["date", "co2"]:
        raise ValueError(f"unexpected header in {path}: {rows[0]}")
    dates = np.array(
        [f"{d[:4]}-{d[4:6]}-{d[6:8]}" for d, _ in rows[1:]],
        dtype="datetime64[D]",
    )
    co2 = np.array([float(v) if v else np.nan for _, v in rows[1:]])
    return dates, co2


def _month_length(dates: np.ndarray) -> np.ndarray:
    """The number of days in the month of each date, as ``timedelta64[D]``."""
    months = dates.astype("datetime64[M]")
    return (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")


def decimal_years(dates: object) -> np.ndarray:
    """Dates as decimal years: the year plus the fraction of it that has passed.

    1 January 2000 is 2000.0 and 2 July 2000 (day 183 of 366) is 2000.5: the fraction is
    the number of days since 1 January divided by the number of days in that year.

    Args:
        dates: ``(N,)`` dates, anything ``numpy.asarray(dates, dtype="datetime64[D]")``
            accepts (for example ``"2000-07-02"`` strings).

    Returns:
        ``(N,)`` float64.

    Example:
        >>> decimal_years(["2000-01-01", "2000-07-02"]).tolist()
        [2000.0, 2000.5]
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    year_start = days.astype("datetime64[Y]")
    next_start = (year_start + 1).astype("datetime64[D]")
    year_start = year_start.astype("datetime64[D]")
    fraction = (days - year_start) / (next_start - year_start)
    return (
        year_start.astype("datetime64[Y]").astype(np.int64) + 1970
    ) + fraction


def monthly_means(
    dates: object, values: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average the values of each calendar month, skipping NaN.

    Every month from the first date's to the last date's appears, also a month with no
    value at all; its mean is NaN and its count 0.

    Args:
        dates: ``(N,)`` dates in increasing order (``datetime64`` or strings).
        values: ``(N,)`` floats, NaN where missing.

    Returns:
        The tuple ``(months, means, counts)`` of the first day of each month,
        ``(M,)`` ``datetime64[D]``, the mean of its values that are not NaN, ``(M,)``
        float64, and how many there were, ``(M,)`` int64.
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    values = np.asarray(values, dtype=np.float64)
    if days.ndim != 1 or days.size == 0:
        raise ValueError(
            f"dates must be a non-empty 1-D array, (N,); got shape {days.shape}."
        )
    if values.shape != days.shape:
        raise ValueError(
            f"values must have the shape of dates, (N,) = {days.shape}; got "
            f"shape {values.shape}."
        )
    not_later = np.flatnonzero(np.diff(days) <= np.timedelta64(0, "D"))
    if not_later.size:
        i = int(not_later[0])
        raise ValueError(
            f"dates must be strictly increasing; got {days[i]} at index {i} "
            f"and then {days[i + 1]} at index {i + 1}."
        )
    month = days.astype("datetime64[M]")
    first = month[0]
    index = (month - first).astype(np.int64)
    n_months = int(index[-1]) + 1
    measured = ~np.isnan(values)
    counts = np.bincount(index[measured], minlength=n_months)
    sums = np.bincount(
        index[measured], weights=values[measured], minlength=n_months
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    months = (first + np.arange(n_months)).astype("datetime64[D]")
    return months, means, counts.astype(np.int64)


def fill_gaps(values: object, times: object | None = None) -> np.ndarray:
    """Fill NaN values by linear interpolation between the nearest values on either side.

    A gap between two measured values becomes a straight line from one to the other,
    in ``times`` (or in steps, when ``times`` is None). Values that are not NaN are
    returned unchanged. Nothing is extrapolated: a NaN before the first or after the
    last measured value is an error.

    Args:
        values: ``(N,)`` floats with NaN in the gaps.
        times: ``(N,)`` increasing floats, the time of each value; None means 0..N-1.

    Returns:
        ``(N,)`` float64 without NaN (a new array).

    Raises:
        ValueError: the series starts or ends with NaN, or holds no value at all.

    Example:
        >>> fill_gaps([1.0, np.nan, np.nan, 4.0]).tolist()
        [1.0, 2.0, 3.0, 4.0]
    """
    values = np.array(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, (N,); got shape {values.shape}.")
    times = (
        np.arange(len(values), dtype=np.float64)
        if times is None
        else np.asarray(times)
    )
    if times.shape != values.shape:
        raise ValueError(
            f"times must have the shape of values, {values.shape}; got {times.shape}."
        )
    missing = np.isnan(values)
    if missing.all():
        raise ValueError(
            f"values holds no number at all: got {values.size} NaN. There is "
            "nothing to interpolate from."
        )
    if missing[0] or missing[-1]:
        end = 0 if missing[0] else len(values) - 1
        raise ValueError(
            f"values must not start or end with NaN; got values[{end}] = nan. "
            "A gap at an end cannot be interpolated (it has a neighbour on one "
            "side only). Cut the series to its first and last measured value."
        )
    values[missing] = np.interp(
        times[missing], times[~missing], values[~missing]
    )
    return values
