"""SMS channel of the outbox, notification choice.

The sms_message table (the outbox's text messages), each booking's and waiting-list entry's
choice of channel (existing rows get "both": SMS reaches groups that gave no e-mail), and the
booking an e-mail is about, so staff see a booking's messages on its page.

Revision ID: eaf9eb92f064
Revises: f7d73dddd87a
Create Date: 2026-12-03 08:00:34.903037
"""
from alembic import op
import sqlalchemy as sa
import booking.models.db


revision = 'eaf9eb92f064'
down_revision = 'f7d73dddd87a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.models.db.UTCDateTime(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('template_params', sa.Text(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('waitlist_entry_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', booking.models.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', booking.models.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_message_id', sa.String(length=100), nullable=False),
    sa.Column('locked_until', booking.models.db.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_sms_message_booking_id_booking')),
    sa.ForeignKeyConstraint(['waitlist_entry_id'], ['waitlist_entry.id'], name=op.f('fk_sms_message_waitlist_entry_id_waitlist_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_message'))
    )
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_message_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_message_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_message_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_message_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_by', sa.String(length=8), server_default='both', nullable=False))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_booking_id'), ['booking_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_booking_id_booking'), 'booking', ['booking_id'], ['id'])

    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_by', sa.String(length=8), server_default='both', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_column('notify_by')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_booking_id_booking'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_booking_id'))
        batch_op.drop_column('booking_id')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('notify_by')

    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_message_sent_at'))
        batch_op.drop_index(batch_op.f('ix_sms_message_phone'))
        batch_op.drop_index(batch_op.f('ix_sms_message_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_sms_message_booking_id'))

    op.drop_table('sms_message')
