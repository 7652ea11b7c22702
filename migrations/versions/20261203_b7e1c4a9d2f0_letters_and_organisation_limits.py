"""Introduction letters and per-organisation limits and notes.

Programmes (and the slots scheduled for them) say whether a group must send an introduction
letter (介绍信); a booking keeps the uploaded letter's random file name, type, size and upload
time. Organisations get their own booking limits (None: the venue's) and staff notes.

Revision ID: b7e1c4a9d2f0
Revises: 290c708e7e85
Create Date: 2026-12-03 10:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import booking.models.db


revision = 'b7e1c4a9d2f0'
down_revision = '290c708e7e85'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_letter', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_letter', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letter_file', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('letter_type', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('letter_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('letter_uploaded_at', booking.models.db.UTCDateTime(),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_booking_letter_file'), ['letter_file'])
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limit_upcoming', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('limit_seats_per_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('staff_notes', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('staff_notes')
        batch_op.drop_column('limit_seats_per_day')
        batch_op.drop_column('limit_upcoming')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_booking_letter_file'), type_='unique')
        batch_op.drop_column('letter_uploaded_at')
        batch_op.drop_column('letter_size')
        batch_op.drop_column('letter_type')
        batch_op.drop_column('letter_file')
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_column('requires_letter')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('requires_letter')
