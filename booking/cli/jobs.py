"""The scheduled CLI jobs (cron or systemd timers): `send-mail`, `send-sms`,
`queue-reminders`, `queue-pending-digest`, `expire-waitlist-offers`, `expire-pending`. Each prints
one monitor-readable line per run
(:mod:`booking.job_log`); those that write links refuse to run without ``PUBLIC_BASE_URL``."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from booking.clock import utcnow
from booking.job_log import job_run
from booking.models.db import db
from booking.public_address import PublicAddressUnknown, public_base_url
from booking.sms import SmsSettings, gateway_for
from booking.usecases import bookings, frontdesk, mailer, sms_sender, staff, waitlist
from booking.usecases.transaction import unit_of_work


def require_public_address() -> str:
    """The public address for links written outside a request; a clear refusal when
    ``PUBLIC_BASE_URL`` is unset (there is no request address to fall back on)."""
    try:
        return public_base_url()
    except PublicAddressUnknown as error:
        raise click.ClickException(str(error)) from None


def register(app: Flask) -> None:
    @app.cli.command("expire-waitlist-offers")
    def expire_waitlist_offers() -> None:
        """Expire waiting-list offers past their hold time and offer the seats onward (cron)."""
        with job_run("expire-waitlist-offers") as run:
            require_public_address()  # offers are mailed with their accept link
            with unit_of_work():
                result = waitlist.expire_offers(db.session)
            run.report(f"Waiting list: {len(result.expired)} expired, "
                       f"{len(result.offered)} new offers.",
                       expired=len(result.expired), offered=len(result.offered))

    @app.cli.command("expire-pending")
    def expire_pending() -> None:
        """Let bookings unapproved past PENDING_APPROVAL_HOURS lapse, free their seats and tell
        the groups (cron, hourly)."""
        with job_run("expire-pending") as run:
            require_public_address()  # the groups are mailed
            with unit_of_work():
                lapsed = staff.expire_unapproved(db.session)
            run.report(f"Pending bookings: {len(lapsed)} lapsed unapproved.", lapsed=len(lapsed))

    @app.cli.command("send-mail")
    @click.option("--batch", default=100, show_default=True, help="At most this many messages.")
    def send_mail(batch: int) -> None:
        """Send due e-mail from the outbox (cron, every minute). Exit 1 if any failed this run:
        they stay queued and are retried with backoff."""
        with job_run("send-mail") as run:
            # Messages were written when queued; refusing here still matters: this job runs
            # every minute, so it is where a deployment without its address is caught at once.
            require_public_address()
            sent, failed = mailer.send_pending(db.session, mailer.SmtpConfig.from_app_config(
                app.config), utcnow(), batch)
            with unit_of_work():  # reads only
                given_up = mailer.undeliverable_count(db.session)
                backlog = mailer.backlog(db.session)
            age = backlog.oldest_age(utcnow())
            run.report(f"Mail: {sent} sent, {failed} failed (will retry), "
                       f"{given_up} undeliverable in total.",
                       sent=sent, failed=failed, unsent=backlog.waiting,
                       oldest_unsent_age_seconds=int(age.total_seconds()) if age else 0,
                       undeliverable=given_up)
            if failed:
                run.fail()
                raise SystemExit(1)

    @app.cli.command("send-sms")
    @click.option("--batch", default=100, show_default=True, help="At most this many messages.")
    def send_sms(batch: int) -> None:
        """Send due text messages through SMS_PROVIDER (cron, every minute). Exit 1 if any
        failed this run: they are retried with backoff, or given up when hopeless."""
        with job_run("send-sms") as run:
            try:
                settings = SmsSettings.from_config(app.config)
            except ValueError as error:
                raise click.ClickException(str(error)) from None
            sent, failed = sms_sender.send_pending_sms(db.session, gateway_for(settings),
                                                       settings, utcnow(), batch)
            with unit_of_work():  # reads only
                given_up = sms_sender.undeliverable_sms_count(db.session)
            run.report(f"SMS ({settings.provider}): {sent} sent, {failed} failed, "
                       f"{given_up} undeliverable in total.",
                       sent=sent, failed=failed, undeliverable=given_up)
            if failed:
                run.fail()
                raise SystemExit(1)

    @app.cli.command("queue-pending-digest")
    def queue_pending_digest() -> None:
        """Mail staff the new bookings awaiting approval, per venue, at most once per
        STAFF_DIGEST_HOURS (cron, e.g. hourly) to STAFF_DIGEST_EMAIL."""
        with job_run("queue-pending-digest") as run:
            base_url = require_public_address()
            recipients = [a.strip() for a in str(app.config.get("STAFF_DIGEST_EMAIL") or "")
                          .split(",") if a.strip()]
            interval = timedelta(hours=float(app.config.get("STAFF_DIGEST_HOURS") or 4))
            with unit_of_work():
                venues = frontdesk.queue_pending_digests(db.session, utcnow(), recipients,
                                                         interval, base_url)
            run.report(f"Pending digests: {venues} venues.", venues=venues)

    @app.cli.command("queue-reminders")
    def queue_reminders() -> None:
        """Queue the day-before reminder for tomorrow's confirmed bookings (cron, daily; safe
        to run again: a booking is reminded once)."""
        with job_run("queue-reminders") as run:
            base_url = require_public_address()
            with unit_of_work():
                queued = bookings.remind_tomorrows_groups(db.session, base_url)
            run.report(f"Reminders: {queued} queued.", queued=queued)
