"""English content: equipment, modules, issuer, closure reasons and certificate facts.

Revision ID: 5b1e0c7d9a21
Revises: 5b1e0c7a9d42
Create Date: 2026-12-03 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e0c7d9a21'
down_revision = '5b1e0c7a9d42'
branch_labels = None
depends_on = None

# (table, column, type): every new column is NOT NULL; rows that exist get '' (so they keep
# falling back to the Chinese text), then the server default goes, as in the models.
COLUMNS = (
    ('course', 'equipment_en', sa.Text()),
    ('slot', 'modules_text_en', sa.Text()),
    ('slot', 'equipment_en', sa.Text()),
    ('slot', 'cancel_reason_en', sa.String(length=300)),
    ('venue', 'issuing_unit_en', sa.String(length=100)),
    ('venue_day', 'reason_en', sa.String(length=200)),
    ('certificate', 'programme_en', sa.String(length=200)),
    ('certificate', 'venue_name_en', sa.String(length=100)),
    ('certificate', 'issuing_unit_en', sa.String(length=100)),
)


def upgrade() -> None:
    for table in dict.fromkeys(table for table, _, _ in COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for owner, column, type_ in COLUMNS:
                if owner == table:
                    batch_op.add_column(sa.Column(column, type_, server_default='',
                                                  nullable=False))
        with op.batch_alter_table(table, schema=None) as batch_op:
            for owner, column, type_ in COLUMNS:
                if owner == table:
                    batch_op.alter_column(column, existing_type=type_, server_default=None)


def downgrade() -> None:
    for table in reversed(list(dict.fromkeys(table for table, _, _ in COLUMNS))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for owner, column, _ in reversed(COLUMNS):
                if owner == table:
                    batch_op.drop_column(column)
