"""One clear page, not a 500 on every page, while the database has no schema yet.

``python run.py`` creates the schema (and the demo data) itself; ``flask run``, gunicorn and
every other server only serve, so on a fresh database every page would fail with "no such
table". When a request fails with a database error, this handler asks whether the schema is
there at all: if not, the answer is a 503 naming the command to run; if it is, the error was
something else and takes its usual course (a 500). Requests that succeed pay nothing.
"""
from __future__ import annotations

from flask import Flask, make_response, render_template, request
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from booking.models.db import db, deferred_transactions
from booking.models.migrate import database_is_empty
from booking.usecases.transaction import finish

INIT_COMMAND = "flask --app run init-db"
DEMO_COMMAND = "flask --app run load-demo"


def _schema_missing() -> bool:
    finish(db.session, success=False)  # end the failed transaction before looking
    try:
        with deferred_transactions():  # a read: never queue behind a writer
            return database_is_empty()
    except SQLAlchemyError:  # unreachable: not our case, let the first error speak
        return False


def _answer_uninitialised(error: Exception):
    if not _schema_missing():
        raise error
    if request.path.startswith("/api/"):
        response = make_response({"error": {
            "code": "database_not_initialised",
            "message": f"The database has no schema yet: run `{INIT_COMMAND}`."}}, 503)
    else:
        response = make_response(render_template(
            "errors/uninitialised.html", init_command=INIT_COMMAND, demo_command=DEMO_COMMAND),
            503)
    response.headers["Retry-After"] = "30"
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    # "no such table" is an OperationalError on SQLite, a ProgrammingError on PostgreSQL.
    app.register_error_handler(OperationalError, _answer_uninitialised)
    app.register_error_handler(ProgrammingError, _answer_uninitialised)
