"""Use cases: one function per change a person makes, owning the whole of it.

A use case runs the rule, its hooks (the waiting-list offer of freed seats, the calendar
SEQUENCE bump, the audit entry) and queues the mail it owes, in the caller's transaction.
Every face (page, API handler, CLI command) that makes that change calls the same function,
so no face can forget a side effect. Use cases flush, never commit: the request's (or the
command's) one commit point in :mod:`booking.usecases.transaction` does, and a
:class:`~booking.errors.BookingError` out of a use case has already rolled its writes back.
"""
