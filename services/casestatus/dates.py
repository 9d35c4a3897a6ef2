"""Moved to shared/dates.py (the web portal formats the same way); kept so `from .dates import ...`
in case status goes on working."""
from shared.dates import (DHAKA, MONTHS_BN, MONTHS_EN, bangla_digits, day_of, format_date, format_taka,
                          format_time, format_when, grouped, in_dhaka, instant)

__all__ = ["DHAKA", "MONTHS_BN", "MONTHS_EN", "bangla_digits", "day_of", "format_date", "format_taka", "format_time",
           "format_when", "grouped", "in_dhaka", "instant"]
