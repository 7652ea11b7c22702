"""Helpers every staff template can use: navigation links, labels, local times, audit diffs.

Registered as Jinja globals (and the ``shanghai`` filter) by :mod:`booking.web.staff.pages`.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import current_app, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from booking.clock import MUSEUM_TZ, local
from booking.models import AuditEntry, Role
from booking.web.staff.forms import ROLE_LABELS

_MISSING = object()


def staff_link(*endpoints: str, **values) -> str | None:
    """The URL of the first endpoint that exists and that the current user may open, or None.

    Lets the staff navigation name pages other modules add later, and hide links a role
    cannot use (read from the view's ``@role_required``).
    """
    for endpoint in endpoints:
        view = current_app.view_functions.get(endpoint)
        if view is None:
            continue
        roles = getattr(view, "required_roles", None)
        if roles is None or not current_user.is_authenticated or \
                not current_user.has_role(*roles):
            return None
        try:
            return url_for(endpoint, **values)
        except BuildError:  # needs arguments the navigation cannot supply
            return None
    return None


def role_label(role: Role) -> str:
    return str(ROLE_LABELS.get(role, role.value))


def shanghai_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as wall-clock time in Asia/Shanghai."""
    return local(value, MUSEUM_TZ).strftime(fmt) if value else ""


def audit_changes(entry: AuditEntry, limit: int = 80) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field the change touched, values shortened."""
    def load(text: str) -> dict:
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            return {"": text}
        return value if isinstance(value, dict) else {"": value}

    def show(value) -> str:
        if value is _MISSING:
            return "—"
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return text if len(text) <= limit else text[:limit - 1] + "…"

    before, after = load(entry.before), load(entry.after)
    keys = sorted(set(before) | set(after))
    return [(key, show(before.get(key, _MISSING)), show(after.get(key, _MISSING)))
            for key in keys if before.get(key, _MISSING) != after.get(key, _MISSING)]

