"""Dates and times as people read them, in Chinese or English: the one place they are formatted.

Chinese: 2026年12月3日星期四, 2026年12月3日, 12月3日周四, 2026年12月.
English (one British style everywhere): Thursday 3 December 2026, 3 December 2026,
Thu 3 Dec, December 2026. Times are 24-hour with a leading zero in both: 09:00, 09:00–10:30.

Pure functions of their arguments (the language is passed in, ``"zh"`` or ``"en"``), so the
renderers, rules, mails and templates all use the same words; the template filters of
:mod:`booking.web.template_helpers` pass the reader's language.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.clock import MUSEUM_TZ, local

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
WEEKDAYS_ZH_SHORT = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _english(language: str | None) -> bool:
    return language == "en"


def plain_date(day: date, language: str | None) -> str:
    """2026年12月3日 / 3 December 2026."""
    if _english(language):
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def long_date(day: date, language: str | None) -> str:
    """2026年12月3日星期四 / Thursday 3 December 2026."""
    if _english(language):
        return f"{WEEKDAYS_EN[day.weekday()]} {plain_date(day, language)}"
    return plain_date(day, language) + WEEKDAYS_ZH[day.weekday()]


def short_date(day: date, language: str | None) -> str:
    """12月3日周四 / Thu 3 Dec."""
    if _english(language):
        return f"{WEEKDAYS_EN[day.weekday()][:3]} {day.day} {MONTHS_EN[day.month - 1][:3]}"
    return f"{day.month}月{day.day}日{WEEKDAYS_ZH_SHORT[day.weekday()]}"


def month_title(day: date, language: str | None) -> str:
    """2026年12月 / December 2026."""
    if _english(language):
        return f"{MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月"


def weekday_name(number: int, language: str | None, short: bool = False) -> str:
    """0 = Monday: 星期一 / Monday (short: 周一 / Mon)."""
    if _english(language):
        name = WEEKDAYS_EN[number]
        return name[:3] if short else name
    return (WEEKDAYS_ZH_SHORT if short else WEEKDAYS_ZH)[number]


def clock_time(moment: datetime, tz: ZoneInfo = MUSEUM_TZ) -> str:
    """A stored (UTC) moment as the museum's wall-clock time: 09:00."""
    return f"{local(moment, tz):%H:%M}"


def time_range(starts_at: datetime, ends_at: datetime | None, tz: ZoneInfo = MUSEUM_TZ) -> str:
    """09:00–10:30 (just 09:00 without an end)."""
    start = clock_time(starts_at, tz)
    return f"{start}–{clock_time(ends_at, tz)}" if ends_at is not None else start


def date_and_time(moment: datetime, language: str | None, tz: ZoneInfo = MUSEUM_TZ) -> str:
    """2026年12月3日星期四 09:00 / Thursday 3 December 2026, 09:00."""
    day = local(moment, tz).date()
    separator = ", " if _english(language) else " "
    return f"{long_date(day, language)}{separator}{clock_time(moment, tz)}"


def session_when(starts_at: datetime, ends_at: datetime | None, language: str | None,
                 tz: ZoneInfo = MUSEUM_TZ) -> str:
    """A session's day and times: 2026年12月3日 09:00–10:30 / 3 December 2026, 09:00–10:30."""
    day = local(starts_at, tz).date()
    separator = ", " if _english(language) else " "
    return f"{plain_date(day, language)}{separator}{time_range(starts_at, ends_at, tz)}"
