"""Booking-core CLI commands: `flask --app run init-db | check-integrity | make-migration |
create-user | expire-waitlist-offers | send-mail | queue-reminders | backup | restore`.

The scheduled ones print one monitor-readable line per run (:mod:`booking.job_log`)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from booking.clock import utcnow
from booking.errors import BookingError
from booking.job_log import job_run
from booking.models import Role, StaffUser
from booking.models import backup as backups
from booking.models import migrate as schema
from booking.models.db import db
from booking.public_address import PublicAddressUnknown, public_base_url
from booking.rules import accounts, capacity, waitlist
from booking.usecases import mailer, notifications


def require_public_address() -> str:
    """The public address for links written outside a request; a clear refusal when
    ``PUBLIC_BASE_URL`` is unset (there is no request address to fall back on)."""
    try:
        return public_base_url()
    except PublicAddressUnknown as error:
        raise click.ClickException(str(error)) from None


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
        with job_run("check-integrity") as run:
            drift = capacity.find_drift(db.session)
            db.session.rollback()
            for item in drift:
                click.echo(f"DRIFT {item}")
            if drift:
                run.report(f"{len(drift)} counters disagree with the bookings.", drift=len(drift))
                raise SystemExit(1)
            run.report("All capacity counters agree with the bookings.", drift=0)

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
            user = accounts.create_user(db.session, None, username, Role(role), password,
                                        display_name)
        except BookingError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message)) from None
        db.session.commit()
        click.echo(_("已创建用户 %(name)s（%(role)s）。", name=user.username, role=role))

    @app.cli.command("expire-waitlist-offers")
    def expire_waitlist_offers() -> None:
        """Expire waiting-list offers past their hold time and offer the seats onward (cron)."""
        with job_run("expire-waitlist-offers") as run:
            require_public_address()  # offers are mailed with their accept link
            result = waitlist.expire_offers(db.session, utcnow(),
                                            app.config["WAITLIST_OFFER_HOURS"])
            db.session.commit()
            run.report(f"Waiting list: {len(result.expired)} expired, "
                       f"{len(result.offered)} new offers.",
                       expired=len(result.expired), offered=len(result.offered))

    @app.cli.command("send-mail")
    @click.option("--batch", default=100, show_default=True, help="At most this many messages.")
    def send_mail(batch: int) -> None:
        """Send due e-mail from the outbox (cron, every minute). Exit 1 if any failed this run:
        they stay queued and are retried with backoff."""
        with job_run("send-mail") as run:
            # Messages were written when queued; refusing here still matters: this job runs
            # every minute, so it is where a deployment without its address is caught at once.
            require_public_address()
            now = utcnow()
            sent, failed = mailer.send_pending(db.session, mailer.SmtpConfig.from_app_config(
                app.config), now, batch)
            given_up = mailer.undeliverable_count(db.session)
            backlog = mailer.backlog(db.session)
            db.session.rollback()
            age = backlog.oldest_age(utcnow())
            run.report(f"Mail: {sent} sent, {failed} failed (will retry), "
                       f"{given_up} undeliverable in total.",
                       sent=sent, failed=failed, unsent=backlog.waiting,
                       oldest_unsent_age_seconds=int(age.total_seconds()) if age else 0,
                       undeliverable=given_up)
            if failed:
                run.fail()
                raise SystemExit(1)

    @app.cli.command("queue-reminders")
    def queue_reminders() -> None:
        """Queue the day-before reminder for tomorrow's confirmed bookings (cron, daily; safe
        to run again: a booking is reminded once)."""
        with job_run("queue-reminders") as run:
            queued = notifications.queue_reminders(db.session, utcnow(),
                                                   require_public_address())
            db.session.commit()
            run.report(f"Reminders: {queued} queued.", queued=queued)

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option("--keep", type=click.IntRange(min=0), default=0,
                  help="With PATH a directory: keep only the newest N backups there "
                       "(0, the default: keep all).")
    def backup(path: Path, keep: int) -> None:
        """Back the database up to PATH while the app keeps serving: a new file, or a
        directory to put a time-stamped one in (SQLite: the online backup API; PostgreSQL:
        pg_dump in custom format)."""
        with job_run("backup") as run:
            if keep and not path.is_dir():
                raise click.BadParameter("keeping the newest N needs PATH to be a directory",
                                         param_hint="--keep")
            try:
                written = backups.backup_database(db.engine, path)
                removed = (backups.prune_backups(written.parent,
                                                 db.engine.url.get_backend_name(), keep)
                           if path.is_dir() else [])
            except backups.BackupError as error:
                raise click.ClickException(str(error)) from None
            run.report(f"Backup written to {written}.", path=str(written),
                       bytes=written.stat().st_size, pruned=len(removed))

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def restore(path: Path) -> None:
        """Restore the backup PATH into the configured database, which must be empty (no
        tables). Then run init-db (to migrate an older backup) and check-integrity."""
        db.session.remove()
        try:
            backups.restore_database(db.engine, path)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Restored {path}. Next: flask --app run init-db, then "
                   f"flask --app run check-integrity.")
