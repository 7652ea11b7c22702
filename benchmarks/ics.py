"""Benchmark: a year's public venue feed, render_feed vs bare icalendar.

Run from the repo root: python benchmarks/ics.py

The baseline builds the very same VEVENTs with icalendar directly — no
dataclass-driven helpers, no time-zone conversion (the events are already in
Asia/Shanghai) — and adds an equivalent VTIMEZONE built outside the timing, so
the ratio measures only what our renderer adds per event. The outputs are
checked to be byte-identical before anything is timed. Exits 1 above target.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gc  # noqa: E402
import time  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402

from icalendar import Calendar, Event, Timezone, vDuration  # noqa: E402

from booking.clock import MUSEUM_TZ  # noqa: E402
from booking.render.ics import PRODID  # noqa: E402
from courses.render.ics import FeedEvent, feed_etag, render_feed  # noqa: E402

TARGET_RATIO = 1.2
REPEATS = 9
FEED_NAME = "刘伯承同志纪念馆 · 红色教育课程"
SLOT_STARTS = ((9, 0), (10, 30), (14, 0), (15, 30))
PROGRAMMES = (
    ("《学习百年党史 感悟刘帅精神》", "第一报告厅", "专题党课：参观展厅、专题党课、重温入党誓词。"),
    ("学党史、悟思想、办实事、开新局", "誓词广场", "红色主题党日：重温入党誓词、主题党课、观看纪录片。"),
    ("传承红色基因 接续百年奋斗", "研学教室", "青少年研学：讲解参观、互动课堂、研学手册。"),
    ("《红色开州 百年锦绣》特展", None, "讲解员带领参观特展，约 60 分钟。"),
)


def year_of_events(year: int = 2026) -> list[FeedEvent]:
    """4 slots on every open day: Mondays and the Spring Festival week closed (~300 days)."""
    events = []
    updated_at = datetime(year - 1, 12, 1, 10, tzinfo=MUSEUM_TZ)
    day = date(year, 1, 1)
    while day.year == year:
        spring_festival = date(year, 2, 16) <= day <= date(year, 2, 22)
        if day.weekday() != 0 and not spring_festival:
            for number, (hour, minute) in enumerate(SLOT_STARTS):
                title, room, description = PROGRAMMES[(day.toordinal() + number) % len(PROGRAMMES)]
                starts_at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=MUSEUM_TZ)
                uid = f"slot-{day:%Y%m%d}-{number}@kaizhou-red-edu"
                events.append(FeedEvent(
                    uid=uid,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=90),
                    title=title,
                    venue="刘伯承同志纪念馆",
                    room=room,
                    description=description,
                    seats_left=None if room is None else (day.toordinal() * 7 + number) % 51,
                    status="cancelled" if (day.toordinal() + number) % 97 == 0 else "confirmed",
                    url=f"https://booking.example.cn/courses/sessions/{uid}",
                    updated_at=updated_at + timedelta(minutes=len(events)),
                ))
        day += timedelta(days=1)
    return events


def render_bare(events: list[FeedEvent], vtimezone: Timezone | None) -> bytes:
    """The same feed written with icalendar directly; vtimezone=None uses add_missing_timezones()."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if vtimezone is not None:
        calendar.add_component(vtimezone)
    calendar.add("name", FEED_NAME)
    calendar.add("x-wr-calname", FEED_NAME)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    calendar.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(timedelta(hours=1)))
    for e in events:
        if e.status == "cancelled":
            summary = "【已取消】" + e.title
        elif e.seats_left is None:
            summary = e.title
        elif e.seats_left == 0:
            summary = f"{e.title}（已满）"
        else:
            summary = f"{e.title}（余 {e.seats_left} 座）"
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", e.updated_at.astimezone(UTC))
        event.add("last-modified", e.updated_at.astimezone(UTC))
        event.add("dtstart", e.starts_at)
        event.add("dtend", e.ends_at)
        event.add("summary", summary)
        event.add("location", f"{e.venue} {e.room}" if e.room else e.venue)
        event.add("description", e.description)
        event.add("status", e.status.upper())
        if e.url:
            event.add("url", e.url)
        calendar.add_component(event)
    if vtimezone is None:
        calendar.add_missing_timezones()
    return calendar.to_ical()


def best_times(candidates: dict, repeats: int) -> dict:
    """Best wall time per candidate, runs interleaved so drift hits all alike."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeats):
        for label, run in candidates.items():
            gc.collect()
            started = time.perf_counter()
            run()
            best[label] = min(best[label], time.perf_counter() - started)
    return best


def main() -> int:
    events = year_of_events()
    vtimezone = Timezone.from_tzid("Asia/Shanghai", first_date=date(2000, 1, 1), last_date=date(2100, 1, 1))
    rendered = render_feed(FEED_NAME, events)
    if rendered != render_bare(events, vtimezone):
        print("baseline and render_feed differ: the comparison would be unfair", file=sys.stderr)
        return 2

    best = best_times({
        "render_feed": lambda: render_feed(FEED_NAME, events),
        "bare": lambda: render_bare(events, vtimezone),
        "bare+add_missing_timezones": lambda: render_bare(events, None),
        "feed_etag": lambda: feed_etag(events),
    }, REPEATS)

    ratio = best["render_feed"] / best["bare"]
    print(f"{len(events)} events, {len(rendered) / 1024:.0f} KiB, best of {REPEATS} (interleaved)")
    print(f"  render_feed                       {best['render_feed'] * 1000:8.1f} ms")
    print(f"  bare icalendar (prebuilt VTZ)     {best['bare'] * 1000:8.1f} ms")
    print(f"  bare icalendar (add_missing_tz)   {best['bare+add_missing_timezones'] * 1000:8.1f} ms  (info)")
    print(f"  feed_etag                         {best['feed_etag'] * 1000:8.1f} ms  (info)")
    print(f"  ratio render_feed / bare          {ratio:8.3f}   (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
