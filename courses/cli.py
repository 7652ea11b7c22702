"""Course CLI commands: `flask --app run load-demo`, `flask --app run certificate-preview`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from booking.models.db import db
from booking.usecases.transaction import unit_of_work
from courses.demo import DEMO_PASSWORD, load_demo


def register(app: Flask) -> None:
    @app.cli.command("purge")
    def purge_command() -> None:
        """Blank personal data older than RETENTION_DAYS (contacts and their introduction
        letters, notes, attendee names, sent mail) and mask old certificate names (cron or systemd timer, daily)."""
        from booking.rules.retention import RetentionPolicy
        from courses.usecases import purge_personal_data

        with unit_of_work():
            result = purge_personal_data(db.session,
                                         RetentionPolicy.from_config(current_app.config))
        click.echo(f"Purged: {result.contacts} booking contacts, {result.waitlist} waiting-list "
                   f"contacts, {result.notes} notes, {result.attendees} attendee names, "
                   f"{result.mails} sent mails, {result.feedback} feedback comments, "
                   f"{result.letters} introduction letters, {result.audit} audit snapshots; "
                   f"{result.certificates} certificate names masked.")

    @app.cli.command("load-demo")
    def load_demo_command() -> None:
        """Load the seed's venues, programmes and eight weeks of sessions (safe to run twice)."""
        with unit_of_work():
            created = load_demo(db.session)
        click.echo(f"Demo data loaded: {created} new sessions. "
                   f"Staff accounts admin / staff / guide, password {DEMO_PASSWORD!r}.")

    @app.cli.command("certificate-preview")
    @click.option("--name", required=True, help="The name to print, e.g. 𠮷田䶮.")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write the PDF.")
    @click.option("--venue", default="", help="A venue code (e.g. LBC) for its issuing unit "
                                              "and seal; without it, a built-in sample.")
    def certificate_preview_command(name: str, out: Path, venue: str) -> None:
        """Render a specimen certificate with NAME to a PDF, to check the design and the fonts."""
        from booking.cli import require_public_address
        from booking.models import Venue
        from booking.render.fonts import missing_characters
        from courses.render.certificates import render_certificate
        from courses.rules.issuing import specimen_data

        # Its QR code links to the verification page: on the real address, or not at all.
        base_url = require_public_address()
        place = db.session.scalar(select(Venue).filter_by(code=venue.upper())) if venue else None
        if venue and place is None:
            raise click.BadParameter(f"no venue with code {venue!r}", param_hint="--venue")
        data = specimen_data(name, base_url, place,
                             current_app.config.get("SEAL_IMAGES") or {})
        out.write_bytes(render_certificate(data))
        click.echo(f"Wrote {out} ({out.stat().st_size:,} bytes).")
        lacking = missing_characters(name)
        if lacking:
            click.echo("Warning: no shipped font has " + " ".join(
                f"{ch} (U+{ord(ch):04X})" for ch in lacking) + "; they print as empty boxes.",
                err=True)
