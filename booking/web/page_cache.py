"""Public pages served by version: ``ETag`` / ``304`` and a small cache of rendered pages.

A page whose content is a function of a cheap *version* (see :mod:`booking.rules.versions`:
a digest of the rows it shows, read on every request) plus the URL, the host and the
language is rendered once per version and worker; a browser that already holds that version
gets ``304 Not Modified``. Pages carrying flashed messages are neither cached nor tagged.

The cache lives in each worker's memory, bounded by entries and bytes (least recently used
out first), so a worker's RSS stays flat however many months people browse. Nothing in it
can be stale: a new seat taken changes the version, and the version is read first.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, make_response, request, session

from booking.i18n import current_language

MAX_ENTRIES = 128
MAX_BYTES = 8 * 1024 * 1024
#: Shared caches and browsers may keep the page but must ask (a cheap 304) before using it.
CACHE_CONTROL = "no-cache"


class PageCache:
    """Least-recently-used rendered pages, bounded by count and total size."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: str, page: bytes) -> None:
        if len(page) > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes += len(page) - (len(old) if old is not None else 0)
            self._pages[key] = page
            while len(self._pages) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)


def page_cache():
    """This app's cache (one per app and worker process)."""
    cache = current_app.extensions.get("page_cache")
    if cache is None:
        cache = current_app.extensions["page_cache"] = PageCache()
    return cache


def _key(version: str) -> str:
    parts = (version, request.host_url, request.full_path, current_language())
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def versioned_page(version: str, render: Callable[[], str]):
    """The response for a page of ``version``: 304 when the browser holds it, else the
    rendered page (from the cache when this worker rendered it for the same version)."""
    if "_flashes" in session or not current_app.config.get("PAGE_CACHE", True):
        return make_response(render())
    etag = _key(version)
    if etag in request.if_none_match:
        response = current_app.response_class(status=304)
    else:
        cache = page_cache()
        page = cache.get(etag)
        if page is None:
            page = render().encode()
            cache.put(etag, page)
        response = current_app.response_class(page, mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response
