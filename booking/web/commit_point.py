"""The request's one commit point: faces never commit or roll back themselves.

After a write request's face has built its answer, :func:`booking.usecases.transaction.finish`
commits (any answer below 500: a 4xx may still carry a record to keep, such as an API
refusal stored under its idempotency key) or rolls back (5xx). A failing commit turns the
answer into a 500 that says nothing was saved. Read requests are never committed.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from booking.models.db import db
from booking.usecases.transaction import finish
from booking.web.responses import error_page_or_json

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = logging.getLogger(__name__)


def _commit_or_roll_back(response: Response) -> Response:
    if request.method in READ_METHODS:
        return response
    try:
        finish(db.session, success=response.status_code < 500)
    except SQLAlchemyError:
        log.exception("commit failed for %s %s", request.method, request.path)
        return error_page_or_json(500, "server_error",
                                  _("服务器出错，您的操作未保存，请稍后重试。"))
    return response


def register(app: Flask) -> None:
    app.after_request(_commit_or_roll_back)
