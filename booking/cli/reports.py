"""Report commands: `flask --app run annual-report --year 2025 --out FILE.pdf|FILE.xlsx
[--venue CODE]`, the year's figures as the museum sends them to its supervising office."""
from __future__ import annotations

import click
from flask import Flask

from booking.models.db import db
from booking.usecases.transaction import unit_of_work


def register(app: Flask) -> None:
    @app.cli.command("annual-report")
    @click.option("--year", type=click.IntRange(1990, 2100), required=True)
    @click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True,
                  help="FILE.pdf or FILE.xlsx")
    @click.option("--venue", default="", help="A venue code (default: all venues)")
    def annual_report(year: int, out: str, venue: str) -> None:
        """Write the annual report of YEAR as PDF (or XLSX, by the file's suffix)."""
        from sqlalchemy import select

        from booking.models import Venue
        from booking.web.staff.annual_data import annual_report_pdf, annual_report_xlsx

        with unit_of_work():  # reads only
            venue_id = None
            if venue:
                venue_id = db.session.scalar(select(Venue.id).where(Venue.code == venue))
                if venue_id is None:
                    raise click.ClickException(f"No venue with code {venue!r}.")
            if out.lower().endswith(".xlsx"):
                data = annual_report_xlsx(db.session, year, venue_id)
            else:
                data = annual_report_pdf(db.session, year, venue_id, "flask annual-report")
        with open(out, "wb") as file:
            file.write(data)
        click.echo(f"Wrote {out} ({len(data):,} bytes).")
