"""The audit log: every state change made by staff, with before and after."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from booking.models import AuditEntry, StaffUser


def _dump(state: dict[str, Any] | None) -> str:
    return json.dumps(state, ensure_ascii=False, sort_keys=True, default=str) if state else ""


def record_change(session: Session, user: StaffUser | None, action: str, obj: Any,
                  before: dict[str, Any] | None = None,
                  after: dict[str, Any] | None = None) -> AuditEntry:
    """Log ``action`` (e.g. "booking.approve") on ``obj`` in the caller's transaction."""
    entry = AuditEntry(user_id=user.id if user is not None and user.is_authenticated else None,
                       action=action, object_type=type(obj).__name__,
                       object_id=str(getattr(obj, "id", "") or ""),
                       before=_dump(before), after=_dump(after))
    session.add(entry)
    return entry
