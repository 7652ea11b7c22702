"""Booking-core CLI commands: `flask --app run init-db | check-integrity | make-migration |
create-user | expire-waitlist-offers | send-mail | queue-reminders | queue-pending-digest`."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from booking.clock import utcnow
from booking.errors import BookingError
from booking.models import Role, StaffUser
from booking.models import migrate as schema
from booking.models.db import db
from booking.rules import accounts, capacity
from booking.usecases import bookings, frontdesk, mailer, staff, waitlist
from booking.usecases.transaction import unit_of_work


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or migrate the schema (safe to run twice)."""
        schema.upgrade_database()
        click.echo("Database schema is up to date.")

    @app.cli.command("make-migration")
    @click.argument("message")
    def make_migration(message: str) -> None:
        """Autogenerate a migration from the models (for developers)."""
        schema.make_migration(message)

    @app.cli.command("check-integrity")
    def check_integrity() -> None:
        """Recompute every capacity counter from the bookings; exit 1 on any drift."""
        with unit_of_work():  # reads only
            drift = capacity.find_drift(db.session)
        for item in drift:
            click.echo(f"DRIFT {item}")
        if drift:
            raise SystemExit(1)
        click.echo("All capacity counters agree with the bookings.")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
                  help="admin, staff or guide")
    @click.option("--name", "display_name", default="", help="Display name (default: username)")
    def create_user(username: str, role: str, display_name: str) -> None:
        """Create a staff account; prompts for the password twice (hidden)."""
        from flask_babel import gettext as _
        from sqlalchemy import func, select

        if db.session.scalar(select(StaffUser.id).where(
                func.lower(StaffUser.username) == username.strip().lower())) is not None:
            raise click.ClickException(_("用户名“%(name)s”已存在。", name=username))
        password = click.prompt(_("密码（至少 %(n)s 个字符）", n=accounts.MIN_PASSWORD_LENGTH),
                                hide_input=True, confirmation_prompt=_("再次输入密码"))
        try:
            with unit_of_work():
                user = staff.create_user(db.session, None, username, Role(role), password,
                                         display_name)
        except BookingError as error:
            raise click.ClickException(str(error.message)) from None
        click.echo(_("已创建用户 %(name)s（%(role)s）。", name=user.username, role=role))

    @app.cli.command("expire-waitlist-offers")
    def expire_waitlist_offers() -> None:
        """Expire waiting-list offers past their hold time and offer the seats onward (cron)."""
        with unit_of_work():
            result = waitlist.expire_offers(db.session)
        click.echo(f"Waiting list: {len(result.expired)} expired, "
                   f"{len(result.offered)} new offers.")

    @app.cli.command("send-mail")
    @click.option("--batch", default=100, show_default=True, help="At most this many messages.")
    def send_mail(batch: int) -> None:
        """Send due e-mail from the outbox (cron, every minute). Exit 1 if any failed this run:
        they stay queued and are retried with backoff."""
        sent, failed = mailer.send_pending(db.session, mailer.SmtpConfig.from_app_config(
            app.config), utcnow(), batch)
        with unit_of_work():  # reads only
            given_up = mailer.undeliverable_count(db.session)
        click.echo(f"Mail: {sent} sent, {failed} failed (will retry), "
                   f"{given_up} undeliverable in total.")
        if failed:
            raise SystemExit(1)

    @app.cli.command("queue-pending-digest")
    def queue_pending_digest() -> None:
        """Mail staff the new bookings awaiting approval, per venue, at most once per
        STAFF_DIGEST_HOURS (cron, e.g. hourly) to STAFF_DIGEST_EMAIL."""
        recipients = [a.strip() for a in str(app.config.get("STAFF_DIGEST_EMAIL") or "")
                      .split(",") if a.strip()]
        interval = timedelta(hours=float(app.config.get("STAFF_DIGEST_HOURS") or 4))
        with unit_of_work():
            venues = frontdesk.queue_pending_digests(db.session, utcnow(), recipients, interval,
                                                     app.config["PUBLIC_BASE_URL"])
        click.echo(f"Pending digests: {venues} venues.")

    @app.cli.command("queue-reminders")
    def queue_reminders() -> None:
        """Queue the day-before reminder for tomorrow's confirmed bookings (cron, daily; safe
        to run again: a booking is reminded once)."""
        with unit_of_work():
            queued = bookings.remind_tomorrows_groups(db.session, app.config["PUBLIC_BASE_URL"])
        click.echo(f"Reminders: {queued} queued.")
