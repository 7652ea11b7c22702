"""Staff session version: signing out ends every copy of a session cookie.

Revision ID: 290c708e7e85
Revises: ad3401ce1fc8
Create Date: 2026-12-03 08:31:07.285066
"""
from alembic import op
import sqlalchemy as sa


revision = '290c708e7e85'
down_revision = 'ad3401ce1fc8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
