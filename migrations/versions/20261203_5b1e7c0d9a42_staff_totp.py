"""Staff TOTP second factor: the secret and the last accepted time step.

Revision ID: 5b1e7c0d9a42
Revises: b7e1c4a9d2f0
Create Date: 2026-12-03 10:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e7c0d9a42'
down_revision = 'b7e1c4a9d2f0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
