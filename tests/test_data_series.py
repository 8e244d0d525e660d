"""Tests of tutor.data.series: the shipped Mauna Loa CO2 record and its gap filling."""

import csv
from importlib import resources

import numpy as np
import pytest

from tutor.data.series import (
    SERIES_SOURCES,
    decimal_years,
    fill_gaps,
    load_co2,
    monthly_means,
)


def read_csv_rows():
    path = resources.files("tutor.data").joinpath("files", "co2_mauna_loa_weekly.csv")
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))[1:]


def test_weekly_record_has_its_documented_size_and_ends():
    record = load_co2()
    assert len(record.co2) == len(record.dates) == len(record.years) == 2284
    assert int(record.observed.sum()) == 2225
    assert record.dates[0] == np.datetime64("1958-03-29")
    assert record.dates[-1] == np.datetime64("2001-12-29")
    assert record.co2[0] == 316.1 and record.co2[-1] == 371.5
    assert record.dates.dtype == np.dtype("datetime64[D]")


def test_weekly_dates_are_every_week_and_years_increase():
    record = load_co2()
    assert np.all(np.diff(record.dates) == np.timedelta64(7, "D"))
    assert np.all(np.diff(record.years) > 0)
    assert record.years[0] == pytest.approx(1958 + 87 / 365)  # 29 March is day 88
    assert 2001.99 < record.years[-1] < 2002.0


def test_filled_record_has_no_nan_and_keeps_every_measured_value():
    filled, raw = load_co2(), load_co2(fill=None)
    assert not np.isnan(filled.co2).any()
    assert np.isnan(raw.co2).sum() == 59
    np.testing.assert_array_equal(np.isnan(raw.co2), ~raw.observed)
    np.testing.assert_array_equal(filled.co2[filled.observed], raw.co2[raw.observed])
    assert filled.co2.min() >= 313.0 and filled.co2.max() <= 373.9  # the measured range


def test_values_match_the_shipped_file_row_by_row():
    rows = read_csv_rows()
    record = load_co2(fill=None)
    for i in (0, 1, 500, 2283):
        date, value = rows[i]
        assert str(record.dates[i]) == f"{date[:4]}-{date[4:6]}-{date[6:]}"
        assert (np.isnan(record.co2[i]) and value == "") or record.co2[i] == float(value)


def test_the_longest_gap_is_filled_by_a_straight_line():
    record = load_co2()
    gap = (record.dates >= np.datetime64("1964-01-25")) & (
        record.dates <= np.datetime64("1964-05-23")
    )
    assert gap.sum() == 18 and not record.observed[gap].any()
    inside = np.flatnonzero(gap)
    before, after = inside[0] - 1, inside[-1] + 1
    assert record.observed[before] and record.observed[after]
    slope = (record.co2[after] - record.co2[before]) / (after - before)  # weeks are equal steps
    expected = record.co2[before] + slope * (inside - before)
    np.testing.assert_allclose(record.co2[inside], expected, atol=1e-9)


def test_monthly_record():
    record = load_co2(monthly=True)
    assert len(record.co2) == 526
    assert record.dates[0] == np.datetime64("1958-03-01")
    assert record.dates[-1] == np.datetime64("2001-12-01")
    assert not np.isnan(record.co2).any()
    missing = record.dates[~record.observed].astype(str).tolist()
    assert missing == ["1958-06-01", "1958-10-01", "1964-02-01", "1964-03-01", "1964-04-01"]
    assert record.co2[0] == 316.1  # March 1958: only the week of 29 March
    december = [float(v) for d, v in read_csv_rows() if d.startswith("200112") and v]
    assert record.co2[-1] == pytest.approx(np.mean(december))
    assert np.all(np.diff(record.years) > 0)
    assert record.years[0] == pytest.approx(1958 + (59 + 15.5) / 365)  # mid-March


def test_sources_credit_the_record():
    source = SERIES_SOURCES["co2"]
    assert "public domain" in source["licence"]
    assert "Keeling" in source["citation"] and "Whorf" in source["citation"]
    assert "statsmodels" in source["source"] and "Scripps" in source["source"]
    assert resources.files("tutor.data").joinpath("files", source["file"]).is_file()


def test_bad_fill_is_refused():
    with pytest.raises(ValueError, match=r"fill.*'linear'.*None.*'spline'"):
        load_co2(fill="spline")


def test_decimal_years():
    assert decimal_years(["2000-01-01", "2000-07-02", "2001-01-01"]).tolist() == [
        2000.0,
        2000.5,
        2001.0,
    ]
    assert decimal_years(np.array(["1999-07-02"], dtype="datetime64[D]"))[0] == pytest.approx(
        1999 + 182 / 365
    )


def test_monthly_means_skips_nan_and_lists_empty_months():
    dates = ["2000-01-05", "2000-01-20", "2000-03-01", "2000-03-02"]
    months, means, counts = monthly_means(dates, [1.0, 3.0, np.nan, 5.0])
    assert months.astype(str).tolist() == ["2000-01-01", "2000-02-01", "2000-03-01"]
    assert means[0] == 2.0 and np.isnan(means[1]) and means[2] == 5.0
    assert counts.tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match=r"dates.*increasing.*2000-02-01.*2000-01-01"):
        monthly_means(["2000-02-01", "2000-01-01"], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"dates.*non-empty.*\(0,\)"):
        monthly_means([], [])
    with pytest.raises(ValueError, match=r"values.*\(2,\).*\(3,\)"):
        monthly_means(["2000-01-01", "2000-02-01"], [1.0, 2.0, 3.0])


def test_fill_gaps_interpolates_in_time_and_refuses_open_ends():
    assert fill_gaps([1.0, np.nan, 4.0], times=[0.0, 2.0, 3.0]).tolist() == [1.0, 3.0, 4.0]
    values = np.array([1.0, np.nan, 3.0])
    fill_gaps(values)
    assert np.isnan(values[1])  # the input is not changed
    for bad, given in (
        ([np.nan, 1.0], r"values\[0\] = nan"),
        ([1.0, np.nan], r"values\[1\] = nan"),
        ([np.nan, np.nan], r"2 NaN"),
    ):
        with pytest.raises(ValueError, match=r"values.*" + given):
            fill_gaps(bad)
