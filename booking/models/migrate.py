"""Creating and migrating the schema through Alembic, from the first table on."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from booking.models.db import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
#: New revisions are named ``20261203_<rev>_<slug>.py``, so ``migrations/versions`` lists them
#: in the order they were written. (``%%`` because Config interpolates ``%(...)s`` itself.)
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.attributes["connection"] = connection
    return config


def upgrade_database() -> None:
    """Bring the schema to the newest revision. Safe to run any number of times."""
    with db.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def make_migration(message: str) -> None:
    with db.engine.begin() as connection:
        command.revision(_alembic_config(connection), message=message, autogenerate=True)


def database_is_empty() -> bool:
    return not inspect(db.engine).has_table("venue")


def head_revisions() -> tuple[str, ...]:
    """The newest revision(s) the code's migrations define."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revision(s) the database is at (empty when it was never migrated)."""
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
