"""Public calendar feeds of course sessions (per venue, per course, per lecturer).

Pure renderer: plain data in, bytes out. Feeds are public, so FeedEvent has no
field that could carry personal data — no contact person, phone or attendee.

Views should answer conditional requests with `feed_etag` / `feed_last_modified`
before calling `render_feed`: both are cheap, rendering a year is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

from icalendar import Event, vDuration

from booking.clock import MUSEUM_TZ
from booking.render.ics import (
    check_event_times,
    check_status,
    museum_vtimezone,
    new_calendar,
    status_prefix,
)

# Bump when the rendered shape changes, so cached feeds are not served as
# current under an ETag computed for the old shape.
_FORMAT_VERSION = "feed-1"

FeedStatus = Literal["confirmed", "cancelled"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEvent:
    """One course session as it appears in a public feed.

    Contract for the ETag: any change to a rendered field other than
    `seats_left` must bump `updated_at`.
    """

    uid: str
    starts_at: datetime
    ends_at: datetime
    title: str
    venue: str
    room: str | None
    description: str
    seats_left: int | None
    status: FeedStatus
    url: str | None
    updated_at: datetime
    language: str = "zh"  # the feed's: "zh" or "en"

    def __post_init__(self) -> None:
        check_event_times(self.starts_at, self.ends_at, self.updated_at)
        check_status(self.status)
        if self.status == "tentative":
            raise ValueError("feeds publish confirmed or cancelled sessions only")
        if self.seats_left is not None and self.seats_left < 0:
            raise ValueError(f"seats_left must be >= 0 or None, got {self.seats_left}")


def render_feed(name: str, events: Iterable[FeedEvent], *, refresh_minutes: int = 60) -> bytes:
    """A subscribable VCALENDAR named `name`, one VEVENT per event, in the given order.

    The output depends only on the arguments (DTSTAMP is each event's
    `updated_at`), so equal input gives equal bytes and the ETag stays honest.
    """
    if refresh_minutes < 1:
        raise ValueError(f"refresh_minutes must be >= 1, got {refresh_minutes}")
    refresh = timedelta(minutes=refresh_minutes)
    calendar = new_calendar()
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", MUSEUM_TZ.key)
    # Separate vDuration objects: add() stores the parameters on the value itself.
    calendar.add("refresh-interval", vDuration(refresh), parameters={"VALUE": "DURATION"})
    # Outlook and older Apple clients read only the X- form of the refresh hint.
    calendar.add("x-published-ttl", vDuration(refresh))
    for event in events:
        calendar.add_component(_feed_vevent(event))
    return calendar.to_ical()


def _summary(event: FeedEvent) -> str:
    """The title with the state, and seats left when known: 《…》（余 40 座） / … (40 places left)."""
    english = event.language == "en"
    if event.status == "cancelled" or event.seats_left is None:
        return status_prefix(event.status, event.language) + event.title
    if event.seats_left == 0:
        return f"{event.title} (fully booked)" if english else f"{event.title}（已满）"
    if english:
        places = "place" if event.seats_left == 1 else "places"
        return f"{event.title} ({event.seats_left} {places} left)"
    return f"{event.title}（余 {event.seats_left} 座）"


def _feed_vevent(event: FeedEvent) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    updated_at = event.updated_at.astimezone(UTC)
    vevent.add("dtstamp", updated_at)
    vevent.add("last-modified", updated_at)
    vevent.add("dtstart", event.starts_at.astimezone(MUSEUM_TZ))
    vevent.add("dtend", event.ends_at.astimezone(MUSEUM_TZ))
    vevent.add("summary", _summary(event))
    vevent.add("location", f"{event.venue} {event.room}" if event.room else event.venue)
    vevent.add("description", event.description)
    vevent.add("status", event.status.upper())
    if event.url:
        vevent.add("url", event.url)
    return vevent


def feed_etag(events: Iterable[FeedEvent]) -> str:
    """A strong entity tag for `render_feed(name, events)` without rendering it.

    Covers order, uids, `updated_at` (as an instant, whatever its zone) and
    `seats_left` — seat counts change on every booking without touching the
    session — plus the format version and the VTIMEZONE in use. Not covered:
    `name` and `refresh_minutes`, which are fixed per feed URL.

    Returns the opaque tag without quotes, as werkzeug's `set_etag()` and
    `if_none_match.contains()` expect.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_FORMAT_VERSION.encode())
    digest.update(_vtimezone_fingerprint())
    for event in events:
        # Unit/record separators cannot occur in our uids, so fields cannot run together.
        digest.update(f"\x1e{event.uid}\x1f{event.updated_at.timestamp()!r}\x1f{event.seats_left}"
                      f"\x1f{event.language}".encode())
    return digest.hexdigest()


def feed_last_modified(events: Iterable[FeedEvent]) -> datetime | None:
    """The newest `updated_at` in UTC, truncated to whole seconds as HTTP dates are.

    None for an empty feed. Seat counts do not move it, so views must check the
    ETag too.
    """
    newest = max((event.updated_at for event in events), default=None)
    return None if newest is None else newest.astimezone(UTC).replace(microsecond=0)


@cache
def _vtimezone_fingerprint() -> bytes:
    # A tzdata upgrade could change the VTIMEZONE text; the ETag must follow it.
    return hashlib.blake2b(museum_vtimezone().to_ical(), digest_size=8).digest()
