"""The Alembic migrations build exactly the schema the models describe, and the setup
commands (`init-db`, `load-demo`, `check-integrity`) are safe to run again.

These tests start from an empty database (``empty_database_url``: a fresh SQLite file, and an
empty PostgreSQL database when TEST_DATABASE_URL is set) rather than the ``app`` fixture's,
because that one is built with ``create_all`` and has no migration history — `init-db` there
would try to create tables that exist. So the CLI runs through this app's own CLI runner.
"""
from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from booking.models.db import db
from booking.models.migrate import upgrade_database
from tests.fixtures.app import make_app


@pytest.fixture
def migrated_app(empty_database_url):
    """An app whose database is empty until a test migrates it."""
    application = make_app(empty_database_url)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_migrations_build_the_schema_the_models_describe(migrated_app):
    upgrade_database()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "models and migrations differ (regenerate the migration):\n" + \
        "\n".join(map(str, differences))


def test_init_db_twice_leaves_one_schema_at_the_newest_revision(migrated_app):
    runner = migrated_app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    tables = set(inspect(db.engine).get_table_names())
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output
    assert set(inspect(db.engine).get_table_names()) == tables
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    versions = db.session.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1


def test_load_demo_twice_creates_nothing_new_and_counters_agree(migrated_app):
    runner = migrated_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    first = runner.invoke(args=["load-demo"])
    assert first.exit_code == 0, first.output
    created = int(re.search(r"(\d+)", first.output).group(1))
    counts = _row_counts()
    assert created > 0 and counts["slot"] >= created
    assert counts["venue"] == 2
    db.session.rollback()

    second = runner.invoke(args=["load-demo"])
    assert second.exit_code == 0, second.output
    assert int(re.search(r"(\d+)", second.output).group(1)) == 0
    assert _row_counts() == counts
    db.session.rollback()

    check = runner.invoke(args=["check-integrity"])
    assert check.exit_code == 0, check.output
