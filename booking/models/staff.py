"""Staff accounts and the audit log of their changes."""
from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from booking.clock import utcnow
from booking.models.db import UTCDateTime, db
from booking.models.venues import enum_column


class Role(enum.Enum):
    ADMIN = "admin"   # everything, users and settings
    STAFF = "staff"   # bookings, schedule, roster, check-in
    GUIDE = "guide"   # lecturers and guides: their own sessions and rosters


class StaffUser(UserMixin, db.Model):
    """A museum employee who logs in. Passwords are stored only as salted hashes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised by signing out (and by an admin's "sign out everywhere"): every session cookie
    #: issued before it stops working, even a copy taken before the sign-out.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The TOTP second factor's base32 secret (None or "" when the user has none). Stored as is (no
    #: key to encrypt it with apart from SECRET_KEY itself); shown only while enrolling.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The time step of the last code accepted: a code is good once (no replay).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret)

    def has_role(self, *roles: Role) -> bool:
        return self.role is Role.ADMIN or self.role in roles

    @property
    def session_fingerprint(self) -> str:
        """Changes with the password and the session version, so a reset or a sign-out ends
        every session signed in before it."""
        seed = f"{self.password_hash}:{self.session_version or 0}"
        return hashlib.sha256(seed.encode()).hexdigest()[:16]

    def get_id(self) -> str:  # what Flask-Login keeps in the session cookie
        return f"{self.id}:{self.session_fingerprint}"


class AuditEntry(db.Model):
    """One staff change: who, when, what, and the object's state before and after (JSON)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[StaffUser | None] = relationship()
