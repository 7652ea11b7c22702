"""Alembic environment. Run through the app: `flask --app run init-db` (upgrade) or
`flask --app run make-migration "message"` (autogenerate), which pass the connection in."""
from alembic import context

import booking.models  # noqa: F401  (register the tables)
import courses.models  # noqa: F401
from booking.models.db import db

config = context.config
target_metadata = db.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
