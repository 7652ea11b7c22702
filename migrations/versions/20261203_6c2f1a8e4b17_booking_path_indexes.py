"""Indexes for the booking path: organisation.suspended_until, booking.contact_phone.

The booking path reads its organisation and every one suspended today in one OR query, and
counts a contact's bookings by organisation or phone; without an index on each side of the
OR, both scanned a whole table (organisations; active bookings), so a booking grew slower as
history grew.

Revision ID: 6c2f1a8e4b17
Revises: 5b1e0c7d9a21
Create Date: 2026-12-03 14:00:00
"""
from alembic import op


revision = '6c2f1a8e4b17'
down_revision = '5b1e0c7d9a21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_organisation_suspended_until', 'organisation', ['suspended_until'])
    op.create_index('ix_booking_contact_phone', 'booking', ['contact_phone'])


def downgrade() -> None:
    op.drop_index('ix_booking_contact_phone', table_name='booking')
    op.drop_index('ix_organisation_suspended_until', table_name='organisation')
