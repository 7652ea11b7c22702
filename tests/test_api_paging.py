"""GET /api/v1/slots in pages: ``limit`` and ``after`` (the previous page's ``next``), filters
by venue, programme, kind and dates, each checked by its own validator."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from flask_babel import refresh

from tests.fixtures.factories import next_open_day
from tests.test_api import API, assert_documented

TIMES = (time(9), time(10, 30), time(14), time(15, 30))


def _page(client, query: str) -> dict:
    response = client.get(f"{API}/slots?{query}")
    assert response.status_code == 200, response.get_json()
    assert_documented(response, "/slots", "get")
    return response.get_json()


def test_pages_follow_one_another_without_gaps_or_repeats(client, create_venue, create_slot):
    venue = create_venue()
    first = next_open_day()
    made = [create_slot(venue, day=first + timedelta(days=n // 4), start=TIMES[n % 4]).id
            for n in range(11)]
    seen, after, pages = [], "", 0
    while True:
        page = _page(client, f"limit=4&to={first + timedelta(days=10)}&after={after}")
        assert len(page["slots"]) <= 4
        seen += [slot["id"] for slot in page["slots"]]
        pages += 1
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == made and pages == 3


def test_a_page_without_limit_holds_at_most_the_default(client, create_slot):
    create_slot()
    page = _page(client, "")
    assert len(page["slots"]) == 1 and page["next"] is None


def test_slots_filter_by_kind(client, create_venue, create_slot):
    venue = create_venue()
    course = create_slot(venue, kind="themed_course")
    tour = create_slot(venue, day=course.day, start=time(14), kind="study_tour")
    assert [s["id"] for s in _page(client, "kind=study_tour")["slots"]] == [tour.id]
    assert [s["id"] for s in _page(client, "kind=themed_course")["slots"]] == [course.id]


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"),
    ("after=yesterday", "after"), ("after=1-2-3", "after"),
    ("after=99999999999999999999-1", "after"),
    ("kind=picnic", "kind"), ("venue=" + "X" * 61, "venue"),
])
def test_bad_paging_or_filters_are_refused_by_field_in_the_users_language(client, query, field):
    response = client.get(f"{API}/slots?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_query" and field in error["fields"]
    refresh()  # the test app context outlives requests; Flask-Babel caches the locale in it
    english = client.get(f"{API}/slots?{query}&lang=en").get_json()["error"]["fields"][field]
    assert english and not any("\u4e00" <= ch <= "\u9fff" for ch in english)
