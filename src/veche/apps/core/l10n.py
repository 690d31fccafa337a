"""Dates and numbers as the member's language writes them (Babel's CLDR data).

One format for every moment a page shows: the date with the month's short name, the
time on 24 hours, and the zone, in the active language ("Jan 7, 2030, 09:05 UTC",
"7 янв. 2030 г., 09:05 UTC"). Templates use the ``when`` filter
(``{{ moment|when }}``, core/templating.py); see docs/decisions/0104-labels-and-dates.md.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel import Locale, UnknownLocaleError
from babel.dates import DateTimePattern, format_skeleton, match_skeleton, parse_pattern
from django.utils import timezone, translation

FALLBACK = "en"


@functools.lru_cache(maxsize=32)
def _locale(code: str) -> Locale:
    try:
        return Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


def babel_locale(language: str | None = None) -> Locale:
    """Return the Babel locale of ``language`` (default: the active one; English if unknown)."""
    return _locale((language or translation.get_language() or FALLBACK).lower())


def _skeleton(locale: Locale, skeleton: str) -> DateTimePattern:
    # As format_skeleton finds it, once: matching a skeleton costs more than formatting.
    skeletons = locale.datetime_skeletons
    return parse_pattern(skeletons[match_skeleton(skeleton, skeletons) or skeleton])


@functools.lru_cache(maxsize=32)
def _moment_patterns(locale: Locale) -> tuple[DateTimePattern, DateTimePattern, str]:
    # "{1}, {0}": the language says how a date and a time go together.
    return (
        _skeleton(locale, "yMMMd"),
        _skeleton(locale, "Hm"),
        str(locale.datetime_formats["medium"]),
    )


def format_moment(value: dt.datetime, language: str | None = None) -> str:
    """Return ``value`` as "Jan 7, 2030, 09:05 UTC" in the member's language.

    A page shows dozens of moments: the patterns are looked up once per language.
    """
    locale = babel_locale(language)
    zone = timezone.get_current_timezone()
    moment = timezone.localtime(value, zone) if timezone.is_aware(value) else value
    joined = _moment_patterns(locale)[2]
    day = _day(locale, moment.year, moment.month, moment.day)
    time = _time(locale, moment.hour, moment.minute)
    return f"{joined.replace('{1}', day).replace('{0}', time)} {moment.tzname() or 'UTC'}"


# A day and a time of day, as a language writes them: formatting costs more than looking
# up (a page shows dozens of moments, many of them on the same days).
@functools.lru_cache(maxsize=8192)
def _day(locale: Locale, year: int, month: int, day: int) -> str:
    return str(_moment_patterns(locale)[0].apply(dt.date(year, month, day), locale))


@functools.lru_cache(maxsize=8192)
def _time(locale: Locale, hour: int, minute: int) -> str:
    return str(_moment_patterns(locale)[1].apply(dt.time(hour, minute), locale))


def format_date(value: dt.date, language: str | None = None) -> str:
    """Return a day as "Jan 7, 2030" in the member's language (a meeting's day)."""
    locale = babel_locale(language)
    return _moment_patterns(locale)[0].apply(value, locale)


def format_month(year: int, month: int, language: str | None = None) -> str:
    """Return a month as "Jan 2030" in the member's language (charts' axes)."""
    return format_skeleton("yMMM", dt.date(year, month, 1), locale=babel_locale(language))


def format_day(value: dt.date, language: str | None = None) -> str:
    """Return a day as "Jan 7" in the member's language (charts' axes)."""
    return format_skeleton("MMMd", value, locale=babel_locale(language))
