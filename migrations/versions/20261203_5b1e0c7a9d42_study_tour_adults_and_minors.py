"""Study tours: a booking's (and a waiting-list entry's) adults and minors.

Revision ID: 5b1e0c7a9d42
Revises: 5b1e7c0d9a42
Create Date: 2026-12-03 10:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e0c7a9d42'
down_revision = '5b1e7c0d9a42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('booking', 'waitlist_entry'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('adults', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('minors', sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ('waitlist_entry', 'booking'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('minors')
            batch_op.drop_column('adults')
