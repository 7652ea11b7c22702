"""Hostile input stopped at the edge, before any view, form or rule sees it.

Text no person types — NUL bytes, other C0 control characters, lone UTF-16 surrogates —
cannot be stored by PostgreSQL (NUL), cannot be encoded to UTF-8 (surrogates) or breaks
headers and spreadsheets later (CR/LF in a ``next`` parameter, U+0001 in a name). So the
path, the query string, form fields and JSON bodies are checked once here and refused with a
400 in the reader's language. JSON deeper than :data:`MAX_JSON_DEPTH` is refused before it is
parsed (Python's parser would recurse until it fails). Integers in URLs are bounded by
:class:`BoundedIntegerConverter`, so ``/slots/99999999999999999999/book`` is a plain 404
instead of an overflow in the database driver.
"""
from __future__ import annotations

import re

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from booking.web.responses import error_page_or_json

#: Largest id a URL may name: a PostgreSQL ``integer`` (SQLite's are wider, ids never get there).
MAX_URL_INT = 2**31 - 1
#: Deepest JSON nesting accepted; the API's requests are two levels deep.
MAX_JSON_DEPTH = 20
#: Largest page number a paginated list accepts.
MAX_PAGE = 100_000

# Tab, line feed and carriage return are kept in form fields (a textarea holds them); the
# rest of C0, DEL and lone surrogates are never text a person meant to send.
_BAD_IN_FORM = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Paths and query parameters are one line: no control character at all.
_BAD_IN_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class BoundedIntegerConverter(IntegerConverter):
    """Flask's ``int`` converter with an upper bound: a larger number matches no route (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, MAX_URL_INT if max is None else max, signed)


def install_converters(app: Flask) -> None:
    """Replace ``int`` in URL rules; must run before any blueprint adds its rules."""
    app.url_map.converters["int"] = BoundedIntegerConverter


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets in ``raw`` nest deeper than ``limit`` (outside strings)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:      # backslash
                escaped = True
            elif byte == 0x22:      # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def bad_text(value, pattern=_BAD_IN_FORM) -> bool:
    """Whether ``value`` (a string, or JSON made of dicts, lists and strings) holds text
    that :data:`_BAD_IN_FORM` forbids, keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if pattern.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse():
    return error_page_or_json(400, "invalid_characters", _(
        "请求中含有无法处理的字符（如控制字符），请删除后重试。"))


def _check_request():
    if _BAD_IN_LINE.search(request.path):
        return _refuse()
    for key, value in request.args.items(multi=True):
        # ``next`` has its own guard (safe_next_path), which falls back to a safe page.
        if _BAD_IN_LINE.search(key) or (key != "next" and _BAD_IN_LINE.search(value)):
            return _refuse()
    page = request.args.get("page", "")
    if page and (not page.isdigit() or int(page) > MAX_PAGE):
        return error_page_or_json(404, "not_found", _("未找到。"), page_message=_("页面不存在。"))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.is_json:
        raw = request.get_data(cache=True)
        if json_depth_exceeds(raw):
            return error_page_or_json(400, "malformed_json", _("请求内容嵌套过深。"))
        payload = request.get_json(silent=True)
        if payload is not None and bad_text(payload):
            return _refuse()
        return None
    for key, value in request.form.items(multi=True):
        if bad_text(key) or bad_text(value):
            return _refuse()
    for key, upload in request.files.items(multi=True):
        if bad_text(key) or bad_text(upload.filename or "", _BAD_IN_LINE):
            return _refuse()
    return None


def register(app: Flask) -> None:
    # First in line, so nothing (not even the CSRF check) reads input this has not seen.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_request)
