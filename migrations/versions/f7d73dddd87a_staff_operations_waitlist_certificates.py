"""Staff operations, waiting list, certificates, outbox.

Columns added after the initial schema: the reminder mark on bookings, the latest flag that
keeps one current certificate per attendee and session, the mail lease for concurrent senders,
and the second secret of a waiting-list offer.

Revision ID: f7d73dddd87a
Revises: 42e58860d940
Create Date: 2026-11-28 22:34:37.966411
"""
from alembic import op
import sqlalchemy as sa
import booking.models.db


revision = 'f7d73dddd87a'
down_revision = '42e58860d940'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_queued_at', booking.models.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latest', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('session_ends_at', booking.models.db.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_certificate_latest_per_attendee_session', ['attendee_id', 'session_id', 'latest'])

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('locked_until', booking.models.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=False, server_default=''))
    # The server defaults only fill rows queued before this revision; the app sets both.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)
        batch_op.alter_column('claimed_by', server_default=None)

    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_waitlist_entry_offer_token_hash'), ['offer_token_hash'])



def downgrade() -> None:
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_waitlist_entry_offer_token_hash'), type_='unique')
        batch_op.drop_column('offer_token_hash')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('kind')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint('uq_certificate_latest_per_attendee_session', type_='unique')
        batch_op.drop_column('session_ends_at')
        batch_op.drop_column('latest')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('reminder_queued_at')

