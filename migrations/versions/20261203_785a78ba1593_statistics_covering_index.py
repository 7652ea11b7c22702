"""Covering index for the statistics of served bookings.

The statistics read a date range's served bookings per slot and organisation; with every
column they need in one index, that read touches the index alone, so a year's report costs
what its bookings cost, not the width of the booking rows.

Revision ID: 785a78ba1593
Revises: c2d2c96206fe
Create Date: 2026-12-03 08:36:12.873922
"""
from alembic import op


revision = '785a78ba1593'
down_revision = 'c2d2c96206fe'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_served', ['slot_id', 'organisation_id', 'state',
                                                     'arrived_count', 'party_size'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_served')
