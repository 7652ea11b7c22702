"""Send the SMS outbox through the configured provider: ``flask --app run send-sms`` (cron).

The same guarantees as the e-mail outbox (:mod:`booking.usecases.mailer`), by the same means:

* **Nothing lost.** A message leaves the outbox only by being marked sent after the provider
  accepted it. A provider that is down, times out or throttles us gets the message again
  later, with exponential backoff; after :data:`~booking.usecases.outbox_run.MAX_ATTEMPTS` it
  stays in the table, unsent, with its ``last_error``.
* **Given up at once** when the provider says retrying cannot help (invalid number, unknown
  or unapproved template or signature), or when no template is configured for the kind:
  recorded, never sent, shown to staff on the booking's page.
* **Once.** Each message is claimed by one conditional UPDATE that takes a lease, committed
  before the provider is called, and marked sent in its own commit after; overlapping runs
  never send one message twice. Each call carries the message's id (``OutId`` /
  ``SessionContext``) so a rare resend after a crash can be traced.
* **A phone is never flooded.** At most ``SMS_DAILY_CAP`` messages per number per museum
  day: past it, a message waits for the next day (no attempt counted), recorded.
* **No lock held while the provider answers.**
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from booking.clock import at_local, local_today
from booking.models import SmsMessage
from booking.rules.sms_content import decode_params
from booking.sms import GIVE_UP, RETRY, SENT, Outcome, SmsGateway, SmsRequest, SmsSettings
from booking.usecases.mailer import backoff
from booking.usecases.outbox_run import LEASE, MAX_ATTEMPTS, OutboxRun, due

DAILY_CAP_ERROR = "daily cap for this number reached; sent tomorrow"


def send_pending_sms(session: Session, gateway: SmsGateway, settings: SmsSettings,
                     now: datetime, batch: int = 100, *,
                     worker: str | None = None) -> tuple[int, int]:
    """Send up to ``batch`` due messages, oldest due first. Returns (sent, failed); a
    message given up counts as failed, one held back by the daily cap as neither.

    Commits as it goes; call it with no transaction of your own open.
    """
    run = OutboxRun(SmsMessage, now, worker)
    ids = run.due_ids(session, batch)
    sent = failed = 0
    for message_id in ids:
        claimed = _claim(session, message_id, run.worker, run.clock(), settings)
        if claimed is None:
            continue  # sent or claimed by another run meanwhile, or held by the cap
        if isinstance(claimed, Outcome):
            outcome, attempts = claimed, 0
        else:
            request, attempts = claimed
            outcome = _send(gateway, request)
        if outcome.status == SENT:
            _record_sent(session, message_id, run.worker, gateway.name, outcome, run.clock())
            sent += 1
        else:
            _record_failure(session, message_id, run.worker, attempts, outcome, run.clock())
            failed += 1
    return sent, failed


def _send(gateway: SmsGateway, request: SmsRequest) -> Outcome:
    """The gateway's answer; an error it did not sort out is retried like a network fault."""
    try:
        return gateway.send(request)
    except Exception as error:  # noqa: BLE001 - a provider SDK may raise anything
        return Outcome(RETRY, f"{gateway.name} {type(error).__name__}: {error}"[:500])


def undeliverable_sms_count(session: Session) -> int:
    """Text messages given up (kept, unsent, with their last error)."""
    return session.scalar(select(func.count()).select_from(SmsMessage).where(
        SmsMessage.sent_at.is_(None), SmsMessage.attempts >= MAX_ATTEMPTS))


def _claim(session: Session, message_id: int, worker: str, now: datetime,
           settings: SmsSettings) -> tuple[SmsRequest, int] | Outcome | None:
    """Take the lease on a still-due message and build its request, in one short
    transaction; an Outcome when it must not be sent (no template for its kind)."""
    claimed = session.execute(
        update(SmsMessage).where(SmsMessage.id == message_id, *due(SmsMessage, now))
        .values(locked_until=now + LEASE, claimed_by=worker)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        session.rollback()
        return None
    message = session.scalars(select(SmsMessage).where(SmsMessage.id == message_id)
                              .execution_options(populate_existing=True)).one()
    if _sent_today(session, message.phone, now) >= settings.daily_cap:
        _hold_until_tomorrow(session, message_id, now)
        return None
    template = settings.template_for(message.kind)
    attempts = message.attempts
    request = SmsRequest(phone=message.phone, kind=message.kind, template_code=template,
                         params=decode_params(message.template_params),
                         out_id=f"sms-{message.id}")
    session.commit()
    if not template and settings.provider != "log":
        return Outcome(GIVE_UP, f"no SMS template configured for {message.kind!r} "
                                f"(SMS_TEMPLATE_{message.kind.upper()})")
    return request, attempts


def _sent_today(session: Session, phone: str, now: datetime) -> int:
    """Messages to ``phone`` sent since the museum's midnight, or in flight elsewhere."""
    midnight = at_local(local_today(now), datetime.min.time())
    return session.scalar(select(func.count()).select_from(SmsMessage).where(
        SmsMessage.phone == phone,
        or_(SmsMessage.sent_at >= midnight,
            (SmsMessage.sent_at.is_(None)) & (SmsMessage.locked_until > now)))) - 1


def _hold_until_tomorrow(session: Session, message_id: int, now: datetime) -> None:
    tomorrow = at_local(local_today(now) + timedelta(days=1), datetime.min.time())
    session.execute(update(SmsMessage).where(SmsMessage.id == message_id)
                    .values(next_attempt_at=tomorrow, locked_until=None,
                            last_error=DAILY_CAP_ERROR)
                    .execution_options(synchronize_session=False))
    session.commit()


def _record_sent(session: Session, message_id: int, worker: str, provider: str,
                 outcome: Outcome, now: datetime) -> None:
    session.execute(update(SmsMessage)
                    .where(SmsMessage.id == message_id, SmsMessage.claimed_by == worker)
                    .values(sent_at=now, locked_until=None, last_error="", provider=provider,
                            provider_message_id=outcome.message_id[:100])
                    .execution_options(synchronize_session=False))
    session.commit()


def _record_failure(session: Session, message_id: int, worker: str, attempts: int,
                    outcome: Outcome, now: datetime) -> None:
    attempts = MAX_ATTEMPTS if outcome.status == GIVE_UP else attempts + 1
    session.execute(update(SmsMessage)
                    .where(SmsMessage.id == message_id, SmsMessage.claimed_by == worker)
                    .values(attempts=attempts, next_attempt_at=now + backoff(attempts),
                            locked_until=None, last_error=outcome.detail[:2000])
                    .execution_options(synchronize_session=False))
    session.commit()
