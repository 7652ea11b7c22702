"""Introduction letter files: written before the commit, removed only after it.

A letter is written to ``LETTER_DIR`` under a random name while the booking's transaction is
still open. The database decides what happens to the files:

- committed: the letters it replaced (or purged) are deleted;
- rolled back: the letters written for it are deleted, the old ones stay.

So a rolled-back booking leaves no orphan file, and a rolled-back purge or replacement deletes
nothing. The bookkeeping rides on the session (``session.info``) and SQLAlchemy's
transaction events, so it holds for the request's commit point and for CLI jobs alike.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from booking.clock import utcnow
from booking.models import Booking
from booking.rules import letters

log = logging.getLogger(__name__)

WRITTEN = "letters_written"    # files to remove if the transaction does not commit
DISCARDED = "letters_discarded"  # files to remove once it has committed


def letter_dir() -> Path:
    return Path(current_app.config["LETTER_DIR"])


def max_letter_bytes() -> int:
    return int(current_app.config["LETTER_MAX_BYTES"])


def letter_max_mb() -> str:
    """The cap as people read it: "5" for 5 MB."""
    return f"{max_letter_bytes() / 1024 / 1024:g}"


def letter_path(stored_name: str) -> Path:
    """The file of a stored letter; refuses anything but a name the app made."""
    if not letters.STORED_NAME.match(stored_name or ""):
        raise ValueError("not a stored letter name")
    return letter_dir() / stored_name


def _remove(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not remove introduction letter %s", path, exc_info=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(WRITTEN, None)  # kept: the booking that names them is saved
    _remove(session.info.pop(DISCARDED, []))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    # Still listed here, the outermost transaction ended without a commit: nothing refers
    # to the new files, and the old ones are still the booking's.
    _remove(session.info.pop(WRITTEN, []))
    session.info.pop(DISCARDED, None)


def _write(data: bytes, kind: letters.LetterType, session: Session) -> str:
    directory = letter_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = letters.new_letter_name(kind)
    path = directory / name
    session.info.setdefault(WRITTEN, []).append(str(path))
    # O_EXCL: a random name that somehow exists is never overwritten.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return name


def discard_after_commit(session: Session, stored_names: list[str]) -> None:
    """Delete these letters' files once (and only if) the transaction commits."""
    session.info.setdefault(DISCARDED, []).extend(
        str(letter_path(name)) for name in stored_names if name)


def store_letter(session: Session, booking: Booking, data: bytes) -> None:
    """Check and keep an uploaded letter for ``booking``; the one it replaces goes after the
    commit. Raises BookingError (nothing written) on a bad file."""
    kind = letters.check_letter(data, max_letter_bytes())
    letters.ensure_letter_wanted(booking)
    name = _write(data, kind, session)
    replaced = letters.attach_letter(session, booking, name, kind, len(data), utcnow())
    discard_after_commit(session, [replaced] if replaced else [])

