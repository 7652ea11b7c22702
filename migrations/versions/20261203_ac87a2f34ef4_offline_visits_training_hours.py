"""Offline visits and training hours on slots.

Visits staff record without an online booking (counted in the statistics), and the 学时 a
slot carries from its course so booking statistics can total person-hours.

Revision ID: ac87a2f34ef4
Revises: 785a78ba1593
Create Date: 2026-12-03 08:00:39.358533
"""
from alembic import op
import sqlalchemy as sa
import booking.models.db


revision = 'ac87a2f34ef4'
down_revision = '785a78ba1593'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offline_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('organisation_name', sa.String(length=120), nullable=False),
    sa.Column('organisation_kind', sa.Enum('party_organisation', 'school', 'enterprise', 'institution', 'government', 'community', 'other', name='organisationkind', native_enum=False, length=24), nullable=False),
    sa.Column('programme', sa.String(length=60), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=True),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('training_hours', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('lecturer_name', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('import_batch', sa.String(length=32), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', booking.models.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('people > 0', name=op.f('ck_offline_visit_people_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_offline_visit_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'], name=op.f('fk_offline_visit_venue_id_venue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offline_visit'))
    )
    with op.batch_alter_table('offline_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offline_visit_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_offline_visit_import_batch'), ['import_batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_offline_visit_venue_id'), ['venue_id'], unique=False)

    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training_hours', sa.Numeric(precision=4, scale=1), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_column('training_hours')

    with op.batch_alter_table('offline_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offline_visit_venue_id'))
        batch_op.drop_index(batch_op.f('ix_offline_visit_import_batch'))
        batch_op.drop_index(batch_op.f('ix_offline_visit_day'))

    op.drop_table('offline_visit')
