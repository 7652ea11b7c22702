"""Feedback on completed visits.

One rating per booking (overall and lecturer, 1-5) and a short comment staff may hide; the
programme, lecturer and venue are copied so the figures outlive the booking's retention.

Revision ID: ad3401ce1fc8
Revises: ac87a2f34ef4
Create Date: 2026-12-03 08:33:56.370543
"""
from alembic import op
import sqlalchemy as sa
import booking.models.db


revision = 'ad3401ce1fc8'
down_revision = 'ac87a2f34ef4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('lecturer_name', sa.String(length=100), nullable=False),
    sa.Column('overall', sa.Integer(), nullable=False),
    sa.Column('lecturer_rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_at', booking.models.db.UTCDateTime(), nullable=False),
    sa.Column('purged_at', booking.models.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('lecturer_rating IS NULL OR lecturer_rating BETWEEN 1 AND 5', name=op.f('ck_feedback_lecturer_rating_range')),
    sa.CheckConstraint('overall BETWEEN 1 AND 5', name=op.f('ck_feedback_overall_range')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_feedback_booking_id_booking')),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_feedback_venue_id_venue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_feedback_booking_id'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_venue_id'), ['venue_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_venue_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_created_at'))

    op.drop_table('feedback')
