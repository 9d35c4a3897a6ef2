"""Language: every text comes from the message catalogues (Flask-Babel; translations/<lang>/
LC_MESSAGES/messages.po, compiled .mo committed beside them and checked by a test). Bangla
is the default; the choice of English (or back) is a cookie. Numbers, taka and dates follow
the language through shared/dates.py, the rule case status writes its timeline with.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request
from flask_babel import Babel, get_locale

from shared import dates

LANGUAGES = ("bn", "en")
DEFAULT = "bn"
COOKIE = "lang"
TRANSLATIONS = Path(__file__).with_name("translations")


def current() -> str:
    """The language of this request: the cookie's choice, else Bangla."""
    chosen = request.cookies.get(COOKIE, "") if request else ""
    return chosen if chosen in LANGUAGES else DEFAULT


def lang() -> str:
    return str(get_locale() or DEFAULT)


def number(value) -> str:
    return dates.grouped(value, lang()) if value is not None else ""


def digits(value) -> str:
    """A phone number or the like with its digits in the page's language. Not for case ids,
    references and licence numbers: people copy and type those, so they stay as issued."""
    return dates.bangla_digits(value) if lang() == "bn" else str(value)


def taka(value) -> str:
    return dates.format_taka(value, lang()) if value is not None else ""


def date(value) -> str:
    return dates.format_date(value, lang()) if value else ""


def when(value) -> str:
    return dates.format_when(value, lang()) if value else ""


def bilingual(value) -> str:
    """A {"bn": ..., "en": ...} text in the page's language (the other one if it lacks it)."""
    if isinstance(value, dict):
        return value.get(lang()) or value.get("en") or value.get("bn") or ""
    return "" if value is None else str(value)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL (//evil, https://evil) an attacker chose."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def here() -> str:
    """Where the language switch comes back to: this page, or home after a form was sent."""
    return request.full_path.rstrip("?") if request.method == "GET" else "/"


def init(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=current)
    app.jinja_env.filters.update(number=number, taka=taka, date=date, when=when, tr=bilingual, digits=digits)
    app.jinja_env.globals.update(lang=lang, here=here, LANGUAGES=LANGUAGES)
