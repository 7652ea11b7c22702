"""Course CLI commands: `flask --app run load-demo`."""
from __future__ import annotations

import click
from flask import Flask

from booking.db import db
from courses.demo import DEMO_PASSWORD, load_demo


def register(app: Flask) -> None:
    @app.cli.command("load-demo")
    def load_demo_command() -> None:
        """Load the seed's venues, programmes and eight weeks of sessions (safe to run twice)."""
        created = load_demo(db.session)
        db.session.commit()
        click.echo(f"Demo data loaded: {created} new sessions. "
                   f"Staff accounts admin / staff / guide, password {DEMO_PASSWORD!r}.")
