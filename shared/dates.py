"""Dates, times, numbers and taka as a person reads them: Dhaka time, and Bangla digits and month
names in Bangla text ("২৮ নভেম্বর ২০২৬"). Case status writes its timeline with it, the web portal its pages."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Bangladesh keeps no daylight saving: a fixed offset needs no time-zone database.
DHAKA = timezone(timedelta(hours=6), "Asia/Dhaka")

_BN_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
MONTHS_BN = ("জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর",
             "নভেম্বর", "ডিসেম্বর")


def bangla_digits(text) -> str:
    return str(text).translate(_BN_DIGITS)


def instant(value) -> datetime:
    """An aware datetime from an envelope's ISO instant ('...Z') or a datetime (naive: UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def in_dhaka(value) -> datetime:
    return instant(value).astimezone(DHAKA)


def day_of(value) -> date:
    """A calendar day: a date, an ISO date string, or an instant's day in Dhaka."""
    if isinstance(value, datetime):
        return in_dhaka(value).date()
    if isinstance(value, date):
        return value
    text = str(value)
    return date.fromisoformat(text) if len(text) == 10 else in_dhaka(text).date()


def format_date(value, lang: str) -> str:
    """'28 November 2026' / '২৮ নভেম্বর ২০২৬'."""
    day = day_of(value)
    if lang == "bn":
        return f"{bangla_digits(day.day)} {MONTHS_BN[day.month - 1]} {bangla_digits(day.year)}"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def format_time(value, lang: str) -> str:
    """Dhaka's clock, 24-hour: '15:05' / '১৫:০৫'."""
    text = in_dhaka(value).strftime("%H:%M")
    return bangla_digits(text) if lang == "bn" else text


def format_when(value, lang: str) -> str:
    """An instant as a date and Dhaka time: '28 November 2026, 15:05'."""
    return f"{format_date(in_dhaka(value), lang)}, {format_time(value, lang)}"


def grouped(number: int, lang: str) -> str:
    """A whole number grouped the South Asian way (3,00,000: thousands, then lakhs and crores
    by twos), in Bangla digits in Bangla."""
    digits = str(abs(int(number)))
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    text = ("-" if int(number) < 0 else "") + ",".join(([head] if head else []) + groups + [tail])
    return bangla_digits(text) if lang == "bn" else text


def format_taka(amount: int, lang: str) -> str:
    """Taka grouped by lakh (3,00,000), as receipts and circulars print it."""
    return f"{grouped(amount, 'bn')} টাকা" if lang == "bn" else f"Tk {grouped(amount, 'en')}"
