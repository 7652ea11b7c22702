"""Door passes and working-day corrections.

Every booking gets an opaque pass code (the QR on its confirmation; existing bookings are
given one here); staff may correct the national working-day calendar day by day; a venue
remembers when its staff digest of pending bookings was last queued, and may limit the open
bookings one organisation holds.

Revision ID: c2d2c96206fe
Revises: eaf9eb92f064
Create Date: 2026-12-03 08:15:49.381429
"""
import secrets

from alembic import op
import sqlalchemy as sa
import booking.models.db

# As booking.rules.tokens (copied: a migration must not change when the code does).
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _pass_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


revision = 'c2d2c96206fe'
down_revision = 'eaf9eb92f064'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working_day', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('updated_at', booking.models.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_correction')),
    sa.UniqueConstraint('day', name=op.f('uq_calendar_correction_day'))
    )
    with op.batch_alter_table('venue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_digest_at', booking.models.db.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('max_open_bookings_per_organisation', sa.Integer(),
                                      nullable=True))
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_code', sa.String(length=32), nullable=True))

    bookings = sa.table('booking', sa.column('id', sa.Integer), sa.column('pass_code', sa.String))
    connection = op.get_bind()
    for (booking_id,) in connection.execute(sa.select(bookings.c.id)).all():
        connection.execute(bookings.update().where(bookings.c.id == booking_id)
                           .values(pass_code=_pass_code()))

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_booking_pass_code'), ['pass_code'])


def downgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_booking_pass_code'), type_='unique')
        batch_op.drop_column('pass_code')

    with op.batch_alter_table('venue', schema=None) as batch_op:
        batch_op.drop_column('max_open_bookings_per_organisation')
        batch_op.drop_column('pending_digest_at')
    op.drop_table('calendar_correction')
