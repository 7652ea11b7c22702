"""Introduction letters (介绍信): what may be uploaded, and what a booking records of it.

Party organisations bring a letter from their unit; a programme that asks for one makes its
sessions' slots ``requires_letter``. The group uploads a PDF, JPG or PNG; the type is read
from the file's first bytes (its magic number), never from its name or the browser's
Content-Type, and the size is capped (``LETTER_MAX_BYTES``). The booking keeps a random file
name, the type, size and upload time; the file itself is written and removed by the use case
(:mod:`booking.usecases.letters`), after the database has decided.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.errors import BookingError
from booking.models import Booking, Slot


@dataclass(frozen=True)
class LetterType:
    """One accepted kind of file: its media type, file suffix and name shown to staff."""

    code: str
    media_type: str
    suffix: str
    label: str


LETTER_TYPES = {
    "pdf": LetterType("pdf", "application/pdf", ".pdf", "PDF"),
    "jpeg": LetterType("jpeg", "image/jpeg", ".jpg", "JPG"),
    "png": LetterType("png", "image/png", ".png", "PNG"),
}
MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
#: A stored letter's name: 32 random hex digits and the type's suffix, nothing a user typed.
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|jpg|png)$")


def _refuse(message) -> BookingError:
    return BookingError("letter_file", message, status=422, field="letter")


def sniff_letter_type(data: bytes) -> LetterType | None:
    """The letter's type read from its first bytes, or None when it is none of ours."""
    for magic, code in MAGIC:
        if data.startswith(magic):
            return LETTER_TYPES[code]
    return None


def check_letter(data: bytes, max_bytes: int) -> LetterType:
    """The type of an uploaded letter; refuses an empty, oversized or unrecognised file.

    ``data`` may be cut at ``max_bytes + 1``: the face never reads more than that.
    """
    if not data:
        raise _refuse(_l("上传的介绍信文件是空的，请重新选择文件。"))
    if len(data) > max_bytes:
        raise _refuse(_l("介绍信文件过大（上限 %(mb)s MB），请压缩或降低扫描分辨率后再上传。",
                         mb=f"{max_bytes / 1024 / 1024:g}"))
    kind = sniff_letter_type(data)
    if kind is None:
        raise _refuse(_l("介绍信只接受 PDF、JPG 或 PNG 文件；这个文件不是其中任何一种。"))
    return kind


def new_letter_name(kind: LetterType) -> str:
    return secrets.token_hex(16) + kind.suffix


def letter_type_of(booking: Booking) -> LetterType | None:
    return LETTER_TYPES.get(booking.letter_type or "")


def ensure_letter_wanted(booking: Booking) -> None:
    """A letter may be sent for an open booking whose programme asks for one."""
    if not booking.slot.requires_letter and not booking.letter_file:
        raise _refuse(_l("该项目不需要介绍信。"))
    if not booking.is_active:
        raise _refuse(_l("该预约已结束或已取消，不能再上传介绍信。"))


def attach_letter(session: Session, booking: Booking, stored_name: str, kind: LetterType,
                  size: int, now: datetime) -> str | None:
    """Record the stored letter on ``booking``; returns the name of the letter it replaces."""
    replaced = booking.letter_file
    booking.letter_file, booking.letter_type = stored_name, kind.code
    booking.letter_size, booking.letter_uploaded_at = size, now
    session.flush()
    return replaced


def purge_old_letters(session: Session, ended_before: datetime) -> list[str]:
    """Blank the letter of every booking whose session ended before ``ended_before``;
    returns the stored names whose files are to go once this is committed."""
    bookings = session.scalars(
        select(Booking).join(Slot, Booking.slot_id == Slot.id)
        .where(Slot.ends_at < ended_before, Booking.letter_file.is_not(None))).all()
    names = [booking.letter_file for booking in bookings]
    for booking in bookings:
        booking.letter_file = booking.letter_type = None
        booking.letter_size = booking.letter_uploaded_at = None
    session.flush()
    return names
