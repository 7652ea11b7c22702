"""The one commit point, as Indico's request handler has it.

- A request runs its face, which calls one use case; :func:`finish` then commits once, or
  rolls back when the answer is an error (5xx), before the response leaves. GET, HEAD and
  OPTIONS requests write nothing and are never committed.
- A CLI command runs inside :func:`unit_of_work`: commit at the end, roll back on any error.
- :func:`use_case` marks a use case: a :class:`BookingError` out of it rolls back first, so
  a face that shows the refusal (and redirects or re-renders) leaves nothing half-written.

Nothing else in the code base commits or rolls back, except the mail sender's leases
(:mod:`booking.usecases.mailer`, :mod:`booking.usecases.sms_sender`), which commit per message
by design.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models.db import db

P = ParamSpec("P")
R = TypeVar("R")


def use_case(function: Callable[P, R]) -> Callable[P, R]:
    """A refusal rolls the whole change back before it reaches the face."""
    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except BookingError:
            db.session.rollback()
            raise
    return run


def finish(session: Session, *, success: bool) -> None:
    """End the unit of work: commit it when it succeeded, else roll it back.

    A failing commit rolls back and raises: the caller answers with an error, never with
    "saved" for something that was not.
    """
    if not success:
        session.rollback()
        return
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """For CLI commands and jobs: everything inside commits together, or not at all."""
    session = session or db.session
    try:
        yield session
    except BaseException:
        finish(session, success=False)
        raise
    finish(session, success=True)
