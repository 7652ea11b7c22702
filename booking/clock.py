"""Time in the museums' zone. Everything is stored in UTC and shown in Asia/Shanghai."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

MUSEUM_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(dt: datetime, tz: ZoneInfo = MUSEUM_TZ) -> datetime:
    return dt.astimezone(tz)


def local_today(now: datetime | None = None, tz: ZoneInfo = MUSEUM_TZ) -> date:
    return local(now or utcnow(), tz).date()


def at_local(day: date, clock: time, tz: ZoneInfo = MUSEUM_TZ) -> datetime:
    """The aware datetime of a wall-clock time on a local day."""
    return datetime.combine(day, clock, tzinfo=tz)
