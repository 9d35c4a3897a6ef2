"""Dates, times and taka for people (services/casestatus/dates.py): Dhaka time, Bangla digits."""
from __future__ import annotations

from datetime import date, datetime, timezone

from services.casestatus import dates


def test_bangla_digits():
    assert dates.bangla_digits("2026-11-28 09:05") == "২০২৬-১১-২৮ ০৯:০৫"
    assert dates.bangla_digits(1234567890) == "১২৩৪৫৬৭৮৯০"


def test_a_date_in_bangla_and_english():
    assert dates.format_date(date(2026, 11, 28), "bn") == "২৮ নভেম্বর ২০২৬"
    assert dates.format_date("2026-01-05", "en") == "5 January 2026"
    assert dates.format_date("2027-12-31", "bn") == "৩১ ডিসেম্বর ২০২৭"


def test_an_instant_is_read_on_dhakas_calendar_and_clock():
    late_utc = "2026-11-27T19:30:00Z"  # 01:30 on the 28th in Dhaka
    assert dates.format_date(late_utc, "en") == "28 November 2026"
    assert dates.format_when(late_utc, "bn") == "২৮ নভেম্বর ২০২৬, ০১:৩০"
    assert dates.format_when(datetime(2026, 11, 28, 9, 5, tzinfo=timezone.utc), "en") == "28 November 2026, 15:05"


def test_taka_grouped_as_bangladesh_prints_it():
    assert dates.format_taka(300000, "en") == "Tk 3,00,000"
    assert dates.format_taka(35000, "bn") == "৩৫,০০০ টাকা"
    assert dates.format_taka(5000000, "en") == "Tk 50,00,000"
    assert dates.format_taka(999, "en") == "Tk 999"
