"""Secret tokens in URLs never reach a log.

A manage link (``/manage/<reference>/<token>…``), a waiting-list offer (``/waitlist/<token>``)
and a lecturer's feed (``/lecturers/feed/<token>.ics``) carry their secret in the path, and
any line that records the path — an access log, Flask's "Exception on /manage/…" — would hand
the secret to whoever reads the logs. The rule is the routes' own: a URL variable named
``token`` is a secret. :func:`install` learns the patterns from the app's URL map (so a new
secret route is covered the day it is added), filters the app's and Werkzeug's log records,
and :func:`redact` serves any other logger in the process (gunicorn's access log: see
``deploy/gunicorn.conf.py``). nginx redacts the same paths itself (``deploy/nginx``).
"""
from __future__ import annotations

import logging
import re

from flask import Flask
from werkzeug.routing import Map

REDACTED = "[redacted]"
SECRET_VARIABLE = "token"
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# A path segment ends at "/", at the query or fragment, or where the log line quotes it.
_SEGMENT = r"[^/?#\s\"']+?"
_END = r"(?=[/?#\s\"']|$)"

_patterns: list[re.Pattern] = []


def secret_path_patterns(url_map: Map) -> list[re.Pattern]:
    """A regular expression per route with a ``token`` variable; group ``secret`` is it."""
    patterns = set()
    for rule in url_map.iter_rules():
        if SECRET_VARIABLE not in rule.arguments:
            continue
        pieces, position = [], 0
        for match in _VARIABLE.finditer(rule.rule):
            pieces.append(re.escape(rule.rule[position:match.start()]))
            pieces.append(f"(?P<secret>{_SEGMENT})" if match.group(1) == SECRET_VARIABLE
                          else _SEGMENT)
            position = match.end()
        pieces.append(re.escape(rule.rule[position:]))
        patterns.add("".join(pieces) + _END)
    return [re.compile(pattern) for pattern in sorted(patterns)]


def redact(text: str) -> str:
    """``text`` with the secret of every secret path in it replaced by ``[redacted]``."""
    if not text or not _patterns:
        return text
    for pattern in _patterns:
        text = pattern.sub(_blank_secret, text)
    return text


def _blank_secret(match: re.Match) -> str:
    start, end = match.span("secret")
    whole = match.group(0)
    offset = match.start()
    return whole[:start - offset] + REDACTED + whole[end - offset:]


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with its secrets redacted (arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install(app: Flask) -> None:
    """Learn ``app``'s secret paths (call once every route is registered) and filter its logs."""
    _patterns[:] = secret_path_patterns(app.url_map)
    for logger in (app.logger, logging.getLogger("werkzeug")):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
