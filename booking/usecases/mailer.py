"""Send the outbox over SMTP: ``flask --app run send-mail`` (from cron or a worker loop).

Delivery guarantees, and why they hold:

* **Nothing lost.** A message leaves the outbox only by being marked sent after the SMTP
  server accepted it. A failure (server down, refused, timed out) records the attempt and the
  error and schedules a retry with exponential backoff (1, 2, 4 … minutes, capped at
  :data:`MAX_BACKOFF`); after :data:`MAX_ATTEMPTS` the message stays in the table, unsent,
  with its ``last_error``, for a person to look at (:func:`undeliverable_count`).
* **Once.** Each message is *claimed* before it is sent, by one conditional UPDATE that sets a
  lease (``locked_until``, ``claimed_by``) only if nobody holds one, and committed; it is marked
  sent (and the lease dropped) in its own commit right after the server accepted it. So two
  overlapping runs (cron firing while a slow run still goes) never send one message twice,
  and a crash mid-batch loses at most the mark of the one message in flight: that message is
  sent again once its lease (:data:`LEASE`) has run out. Every message carries a stable
  ``Message-ID`` (``<outbox-ID.…>``), so a receiving system can drop that rare duplicate.
* **No lock held while talking to the server.** The database transaction is closed before
  each SMTP exchange, so a slow mail server never blocks bookings (SQLite has one writer).

``send_pending`` takes ``now`` so tests can step past the backoff; the lease follows real
time elapsed since ``now``, so a long batch cannot outlive its own claims.
"""
from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from booking.models import OutboxMessage
from booking.usecases.outbox_run import LEASE, MAX_ATTEMPTS, OutboxRun, due

MAX_BACKOFF = timedelta(minutes=60)
DEFAULT_TIMEOUT = 30.0  # seconds, per SMTP connect and command


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    use_tls: bool = False      # STARTTLS after connecting
    username: str = ""
    password: str = ""
    sender: str = "noreply@localhost"
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_app_config(cls, config) -> SmtpConfig:
        """From MAIL_* settings (environment values arrive as strings)."""
        use_tls = config.get("MAIL_USE_TLS", False)
        if isinstance(use_tls, str):
            use_tls = use_tls.strip().lower() not in ("", "0", "false", "no", "off")
        return cls(host=config.get("MAIL_SERVER") or "127.0.0.1",
                   port=int(config.get("MAIL_PORT") or 25), use_tls=bool(use_tls),
                   username=config.get("MAIL_USERNAME") or "",
                   password=config.get("MAIL_PASSWORD") or "",
                   sender=config.get("MAIL_SENDER") or "noreply@localhost",
                   timeout=float(config.get("MAIL_TIMEOUT") or DEFAULT_TIMEOUT))


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, capped."""
    return min(timedelta(minutes=2 ** (max(attempts, 1) - 1)), MAX_BACKOFF)


def send_pending(session: Session, smtp_config: SmtpConfig, now: datetime, batch: int = 100,
                 *, worker: str | None = None) -> tuple[int, int]:
    """Send up to ``batch`` due messages, oldest due first. Returns (sent, failed).

    Commits as it goes (claim, then sent or failed, per message); call it with no
    transaction of your own open.
    """
    run = OutboxRun(OutboxMessage, now, worker)
    ids = run.due_ids(session, batch)
    sent = failed = 0
    with _Connection(smtp_config) as connection:
        for message_id in ids:
            claimed = _claim(session, message_id, run.worker, run.clock(), smtp_config.sender)
            if claimed is None:
                continue  # sent or claimed by another run meanwhile
            email, attempts = claimed
            try:
                connection.send(email)
            except (smtplib.SMTPException, OSError) as error:
                _record_failure(session, message_id, run.worker, attempts, error, run.clock())
                failed += 1
            else:
                _record_sent(session, message_id, run.worker, run.clock())
                sent += 1
    return sent, failed


def undeliverable_count(session: Session, created_since: datetime | None = None) -> int:
    """Messages that gave up after MAX_ATTEMPTS (kept, unsent, with their last error); only
    those created since ``created_since`` when given."""
    query = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS)
    if created_since is not None:
        query = query.where(OutboxMessage.created_at >= created_since)
    return session.scalar(query)


@dataclass(frozen=True)
class OutboxBacklog:
    """Messages still to be sent (not given up): how many, and since when the oldest waits."""
    waiting: int
    oldest_created_at: datetime | None

    def oldest_age(self, now: datetime) -> timedelta | None:
        return now - self.oldest_created_at if self.oldest_created_at else None


def backlog(session: Session) -> OutboxBacklog:
    waiting, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)).one()
    if oldest is not None and oldest.tzinfo is None:  # an aggregate skips the column's type
        oldest = oldest.replace(tzinfo=UTC)
    return OutboxBacklog(waiting=waiting, oldest_created_at=oldest)


# --- one message ---------------------------------------------------------------------------

def _claim(session: Session, message_id: int, worker: str, now: datetime,
           sender: str) -> tuple[EmailMessage, int] | None:
    """Take the lease on a still-due message and build its e-mail, in one short transaction."""
    claimed = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, *due(OutboxMessage, now))
        .values(locked_until=now + LEASE, claimed_by=worker)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        session.rollback()
        return None
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.id == message_id)
                              .execution_options(populate_existing=True)).one()
    email, attempts = build_email(message, sender), message.attempts
    session.commit()
    return email, attempts


#: Secret links in a mail body: the manage link and the waiting-list link act as passwords.
SECRET_LINK = re.compile(r"https?://\S+?/(?:manage|waitlist)/\S+")
SECRET_REMOVED = "[链接已在发送后从存档中删除 / link removed from the archive after sending]"


def without_secret_links(body: str) -> str:
    """``body`` as the outbox keeps it once sent: the recipient has the links, nobody else
    (a database dump, a curious admin) should. The attachment (a calendar file that may
    carry the link too) is dropped from the archive at the same time."""
    return SECRET_LINK.sub(SECRET_REMOVED, body or "")


def _record_sent(session: Session, message_id: int, worker: str, now: datetime) -> None:
    body = session.scalar(select(OutboxMessage.body_text).where(OutboxMessage.id == message_id))
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
                    .values(sent_at=now, locked_until=None, last_error="",
                            body_text=without_secret_links(body), attachment_body="")
                    .execution_options(synchronize_session=False))
    session.commit()


def _record_failure(session: Session, message_id: int, worker: str, attempts: int,
                    error: Exception, now: datetime) -> None:
    attempts = MAX_ATTEMPTS if _is_permanent(error) else attempts + 1
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
                    .values(attempts=attempts, next_attempt_at=now + backoff(attempts),
                            locked_until=None, last_error=_describe(error)[:2000])
                    .execution_options(synchronize_session=False))
    session.commit()


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about this message (bad address, refused content): retrying cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in
                                              error.recipients.values())
    if isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return error.smtp_code >= 500
    return False


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The e-mail for an outbox row. Its Message-ID is stable across retries."""
    email = EmailMessage(policy=SMTP_POLICY)
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text, charset="utf-8")
    if message.attachment_body:
        content_type = message.attachment_type or "application/octet-stream"
        maintype, _, subtype = content_type.partition("/")
        params = {"method": "PUBLISH"} if message.attachment_type == "text/calendar" else {}
        # Bytes keep the attachment exact (an .ics needs its CRLF line ends).
        email.add_attachment(message.attachment_body.encode("utf-8"), maintype=maintype,
                             subtype=subtype, filename=message.attachment_name or "attachment",
                             params={**params, "charset": "utf-8"})
    return email


# --- the SMTP connection -------------------------------------------------------------------

class _Connection:
    """One SMTP session for a batch, opened on first use.

    When the server cannot be reached, every later message of the batch fails at once with
    the same error instead of waiting for its own timeout; after a server that hung up
    mid-batch, the next message reconnects once.
    """

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc) -> None:
        self._close(quit_politely=True)

    def send(self, email: EmailMessage) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.smtp is None:
            self._open()
        try:
            self.smtp.send_message(email)
        except (smtplib.SMTPServerDisconnected, OSError):
            self._close(quit_politely=False)
            raise

    def _open(self) -> None:
        config = self.config
        try:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            try:
                if config.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.username:
                    smtp.login(config.username, config.password)
            except BaseException:
                smtp.close()
                raise
        except (smtplib.SMTPException, OSError) as error:
            self.unreachable = error
            raise
        self.smtp = smtp

    def _close(self, quit_politely: bool) -> None:
        if self.smtp is None:
            return
        try:
            if quit_politely:
                self.smtp.quit()
            else:
                self.smtp.close()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
        self.smtp = None
