"""Booking-core CLI commands, run as `flask --app run COMMAND`: the database and accounts
here (`init-db`, `make-migration`, `check-integrity`, `create-user`, `reset-totp`, `backup`,
`restore`), the
scheduled jobs in :mod:`booking.cli.jobs` (`send-mail`, `send-sms`, `queue-reminders`,
`expire-waitlist-offers`) and the reports in :mod:`booking.cli.reports` (`annual-report`).

Commands are faces: they parse their arguments, call a use case inside ``unit_of_work`` (the
command's one commit point) and print one monitor-readable line per run
(:mod:`booking.job_log`)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from booking.cli import jobs, reports
from booking.cli.jobs import require_public_address
from booking.errors import BookingError
from booking.job_log import job_run
from booking.models import Role, StaffUser
from booking.models import backup as backups
from booking.models import migrate as schema
from booking.models.db import db
from booking.rules import accounts, capacity
from booking.usecases import staff
from booking.usecases.transaction import unit_of_work

__all__ = ["register", "require_public_address"]


def register(app: Flask) -> None:
    jobs.register(app)
    reports.register(app)

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
            with unit_of_work():  # reads only
                drift = capacity.find_drift(db.session)
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
            with unit_of_work():
                user = staff.create_user(db.session, None, username, Role(role), password,
                                         display_name)
        except BookingError as error:
            raise click.ClickException(str(error.message)) from None
        click.echo(_("已创建用户 %(name)s（%(role)s）。", name=user.username, role=role))

    @app.cli.command("reset-totp")
    @click.argument("username")
    def reset_totp(username: str) -> None:
        """Remove USERNAME's TOTP second factor (a lost phone); audited. They sign in with
        the password and enrol again from their account page."""
        from flask_babel import gettext as _
        from sqlalchemy import func, select

        with unit_of_work():
            user = db.session.scalar(select(StaffUser).where(
                func.lower(StaffUser.username) == username.strip().lower()))
            if user is None:
                raise click.ClickException(_("用户“%(name)s”不存在。", name=username))
            try:
                staff.reset_totp(db.session, None, user)
            except BookingError as error:
                raise click.ClickException(str(error.message)) from None
        click.echo(_("已重置用户 %(name)s 的两步验证。", name=user.username))

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
