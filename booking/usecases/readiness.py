"""Is this installation fit to serve? The checks behind ``/readyz``, for a load balancer or a
monitor: the database answers, its schema is at the newest migration, and the outbox is
moving (the oldest unsent message is not too old, and not too many messages gave up lately).

Each check is read-only and reports figures a person can act on. Only the database check is
about this process; the other two are about the installation as a whole, so a load balancer
that should only drop a server that cannot reach its database asks for ``database`` alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from booking.models.migrate import current_revisions, head_revisions
from booking.usecases import mailer

CHECKS = ("database", "migrations", "mail")
GIVEN_UP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class MailLimits:
    """When the outbox counts as stuck (settings HEALTH_MAIL_MAX_AGE_MINUTES and
    HEALTH_MAIL_MAX_GIVEN_UP)."""
    max_age: timedelta = timedelta(minutes=30)
    max_given_up: int = 3  # messages given up among those created in GIVEN_UP_WINDOW

    @classmethod
    def from_config(cls, config) -> MailLimits:
        return cls(max_age=timedelta(minutes=float(config.get("HEALTH_MAIL_MAX_AGE_MINUTES", 30))),
                   max_given_up=int(config.get("HEALTH_MAIL_MAX_GIVEN_UP", 3)))


@dataclass
class Check:
    name: str
    ok: bool
    details: dict = field(default_factory=dict)


def check_readiness(session: Session, now: datetime, limits: MailLimits,
                    only: tuple[str, ...] = CHECKS) -> list[Check]:
    """Run the ``only`` checks (database first: without it the others cannot run)."""
    results = []
    database = _database(session)
    if "database" in only:
        results.append(database)
    for name, run in (("migrations", _migrations), ("mail", _mail)):
        if name not in only:
            continue
        if not database.ok:
            results.append(Check(name, False, {"error": "database unreachable"}))
            continue
        try:
            results.append(run(session, now, limits))
        except SQLAlchemyError as error:
            session.rollback()
            results.append(Check(name, False, {"error": type(error).__name__}))
    session.rollback()
    return results


def _database(session: Session) -> Check:
    started = time.perf_counter()
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        session.rollback()
        # The class only: a message may name hosts and users to whoever asks.
        return Check("database", False, {"error": type(error).__name__})
    return Check("database", True, {"latency_ms": round((time.perf_counter() - started) * 1000, 1)})


def _migrations(session: Session, now: datetime, limits: MailLimits) -> Check:
    current, head = current_revisions(session.connection()), head_revisions()
    return Check("migrations", current == head, {"current": list(current), "head": list(head)})


def _mail(session: Session, now: datetime, limits: MailLimits) -> Check:
    backlog = mailer.backlog(session)
    age = backlog.oldest_age(now)
    given_up_lately = mailer.undeliverable_count(session, created_since=now - GIVEN_UP_WINDOW)
    ok = (age is None or age <= limits.max_age) and given_up_lately <= limits.max_given_up
    return Check("mail", ok, {
        "unsent": backlog.waiting,
        "oldest_unsent_age_seconds": None if age is None else int(age.total_seconds()),
        "given_up_last_24h": given_up_lately,
        "given_up_total": mailer.undeliverable_count(session),
        "max_age_seconds": int(limits.max_age.total_seconds()),
        "max_given_up_per_24h": limits.max_given_up,
    })
