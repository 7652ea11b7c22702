"""The one domain error that rule functions raise. Views flash it; the API returns it as JSON."""
from __future__ import annotations


class BookingError(Exception):
    """A rule said no. ``code`` is stable for machines, ``message`` is for people (translatable).

    ``status`` is the HTTP status the API should use; ``field`` names the form field at
    fault, when there is one, so that a view can show the message beside it.
    """

    def __init__(self, code: str, message, *, status: int = 409, field: str | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class NotFound(BookingError):
    def __init__(self, message, code: str = "not_found"):
        super().__init__(code, message, status=404)
