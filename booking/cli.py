"""Booking-core CLI commands: `flask --app run init-db | check-integrity | make-migration`."""
from __future__ import annotations

import click
from flask import Flask

from booking import capacity, schema
from booking.db import db


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
        drift = capacity.find_drift(db.session)
        db.session.rollback()
        for item in drift:
            click.echo(f"DRIFT {item}")
        if drift:
            raise SystemExit(1)
        click.echo("All capacity counters agree with the bookings.")
